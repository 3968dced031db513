// A study's runs stop early (--patience), end with their best evaluation's weights and keep them (--save-weights
// best|final), as a user asks of `run` (issue 31): each kept file loads into the model and gives the AUC recorded.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { createModel, evaluate, generateRetina, runStudy, experimentSpec } from '../../src';
import { tempDir } from '../helpers/tmp';

const bin = path.resolve(__dirname, '../../bin/transfusion-native.js');
const dir = tempDir('early-stopping');
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, TRANSFUSION_THREADS: '2' } });

describe('early stopping and kept weights in a study', () => {
  it('run --patience --save-weights best: runs stop by the rule, keep their best weights, and the files give the AUC recorded', async () => {
    const out = path.join(dir, 'best');
    const r = cli('run', '--preset', 'tiny', '--models', 'cbr-tiny', '--steps', '60', '--lr', '0.02', '--patience', '2', '--save-weights', 'best', '--out', out, '--cache-dir', path.join(dir, 'cache'), '--quiet');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(results.spec.train).toMatchObject({ patience: 2, keepBest: true });
    expect(results.spec.train.evalEvery).toBeGreaterThan(0);
    expect(results.spec.saveWeights).toBe('best');
    const val = await generateRetina({ count: results.spec.task.valSize, size: results.spec.task.imageSize, seed: results.spec.task.seed + 1 });
    for (const run of results.runs) {
      const aucs = run.curve.map((p: { auc: number }) => p.auc);
      const best = Math.max(...aucs);
      expect(run.bestStep).toBe(run.curve[aucs.indexOf(best)].step);
      expect(run.auc).toBe(best);
      // Stopped early exactly when two evaluations in a row after the best were not better.
      const after = aucs.length - 1 - aucs.indexOf(best);
      expect(Boolean(run.stoppedEarly)).toBe(after >= 2);
      if (run.stoppedEarly) expect(run.steps).toBe(run.curve.at(-1).step);
      expect(run.weights).toBe(`weights/cbr-tiny-${run.init}-s${run.seed}.pt`);
      const m = createModel('cbr-tiny', { numClasses: 1 });
      await m.loadWeights(path.join(out, run.weights));
      const again = await evaluate(m, val);
      m.dispose();
      expect(again.meanAuc).toBeCloseTo(run.auc, 5);
    }
    val.dispose();
    expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toContain('best evaluation');
  }, 300_000);

  it('refuses weights kept as "best" without keepBest, and patience without evaluations, by name', async () => {
    const spec = { ...experimentSpec('table1', 'tiny'), models: ['cbr-tiny'] };
    await expect(runStudy({ ...spec, saveWeights: 'best' }, { outDir: path.join(dir, 'never') })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringContaining('`saveWeights`') });
    await expect(runStudy({ ...spec, train: { ...spec.train, evalEvery: 0, patience: 3 } }, { outDir: path.join(dir, 'never') })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringContaining('train.patience') });
    expect(cli('run', '--preset', 'tiny', '--save-weights', 'last', '--out', path.join(dir, 'never')).stderr).toContain('Expected `--save-weights` to be one of "best", "final"');
    expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
  });
});
