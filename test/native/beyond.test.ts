// Issue 30's experiments end to end at the tiny preset: interpolation, criticality and knn as studies, their records
// and report tables.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import sharp from 'sharp';

import { createModel, experimentSpec, runStudy, type StudySpec, studyReport } from '../../src';
import { pretrainingCheckpoints } from '../../src/experiments/catalog';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('beyond');
const cacheDir = path.join(dir, 'cache');
const spec = (experiment: string): StudySpec => ({ ...experimentSpec(experiment, 'tiny'), models: ['cbr-tiny'], seeds: [0, 1] });
const report = (out: string) => fs.readFileSync(path.join(out, 'report.md'), 'utf8');

describe('beyond the paper, as experiments of run', () => {
  it('interpolation: every pair kind, 11 points, the barriers, and a table', async () => {
    const out = path.join(dir, 'interpolation');
    const r = await runStudy(spec('interpolation'), { report: studyReport, outDir: out, cacheDir });
    const records = r.representations!.interpolation!;
    expect(records.map((x) => x.pairs)).toEqual(['transfer-transfer', 'random-random', 'transfer-random', 'transfer-random']);
    for (const x of records) {
      expect(x.points.map((p) => p.alpha)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
      expect(x.bnImages).toBe(128);  // the tiny preset's 2 BatchNorm minibatches of 64 (representations.interpolationBnBatches)
      expect(x.barrier.loss).toBeGreaterThanOrEqual(0);
      expect(x.barrier.auc).toBeGreaterThanOrEqual(0);
    }
    expect(fs.existsSync(path.join(out, 'figures', 'beyond-interpolation.svg'))).toBe(true);
    expect(report(out)).toMatch(/\| cbr-tiny \| transfer-transfer \| \d\.\d{3} ± \d\.\d{3} \(n=1\) \|/);
  }, 300_000);

  it('criticality: every stage of every run reset both ways, and a table', async () => {
    const out = path.join(dir, 'criticality');
    const r = await runStudy(spec('criticality'), { report: studyReport, outDir: out, cacheDir });
    const records = r.representations!.criticality!;
    expect(records.map((x) => `${x.init}${x.seed}`).sort()).toEqual(['random0', 'random1', 'transfer0', 'transfer1']);
    for (const x of records) {
      expect(x.auc).toBeCloseTo(r.runs.find((run) => run.init === x.init && run.seed === x.seed)!.auc!, 6);
      expect(x.stages.map((s) => s.stage)).toEqual(['layer1', 'layer2', 'layer3', 'layer4', 'head']);
      // Module criticality on the training loss: every stage searched, each score the (alpha / sigma)^2 d^2 of its point.
      expect(x.evaluations).toBeGreaterThanOrEqual(x.stages.length);
      // The tiny preset's search: 2 draws a point, the loss on 64 of the 256 training images (representations.criticality*).
      expect([x.samples, x.lossImages]).toEqual([2, 64]);
      for (const s of x.stages)
        if (s.criticality !== null) expect(s.criticality).toBeCloseTo((s.criticalAlpha! / s.criticalSigma!) ** 2 * s.distance ** 2, 6);
    }
    expect(report(out)).toContain('log10(1 + criticality)');
    expect(fs.existsSync(path.join(out, 'figures', 'beyond-criticality.svg'))).toBe(true);
    expect(report(out)).toMatch(/\| cbr-tiny \| layer1 \| \d\.\d{3} ± \d\.\d{3} \(n=2\) \|/);
  }, 300_000);

  it('knn: each stage at initialisation and trained, random and transfer, and a table', async () => {
    const out = path.join(dir, 'knn');
    const r = await runStudy(spec('knn'), { report: studyReport, outDir: out, cacheDir });
    const records = r.representations!.knn!;
    expect(records).toHaveLength(8);
    for (const x of records) for (const s of x.stages) expect(s.auc === null || (s.auc >= 0 && s.auc <= 1)).toBe(true);
    expect(fs.existsSync(path.join(out, 'figures', 'beyond-knn.svg'))).toBe(true);
    // Random init at initialisation and transfer at initialisation differ below the head: the pretrained features.
    expect(report(out)).toMatch(/\| cbr-tiny \| layer4 \| \d\.\d{3} ± \d\.\d{3} \(n=2\) \| \d\.\d{3} ± \d\.\d{3} \(n=2\) \|/);
  }, 300_000);

  it('checkpoints: transfer from pretraining steps 0, a geometric series and the end, each file the weights at that step', async () => {
    const out = path.join(dir, 'checkpoints');
    const base = { ...experimentSpec('checkpoints', 'tiny'), seeds: [0] };
    const steps = pretrainingCheckpoints(base.pretrain.steps);
    expect(steps[0]).toBe(0);
    expect(steps.every((s, i) => i === 0 || s > steps[i - 1])).toBe(true);
    const spec = { ...base, arms: base.arms!.filter((a) => a.model === 'cbr-small'), models: ['cbr-small'] };
    const r = await runStudy(spec, { report: studyReport, outDir: out, cacheDir });
    expect(r.runs.map((x) => x.init)).toEqual(['random', ...steps.map((s) => `checkpoint:${s}`), 'transfer']);
    const record = r.pretraining.find((p) => p.model === 'cbr-small')!;
    expect(record.checkpoints).toEqual(steps);
    // Step 0 is the pretraining model as initialised (its seed), before any step.
    const fresh = createModel('cbr-small', { seed: r.spec.pretrain.seed, numClasses: r.spec.pretrain.classes, padding: r.spec.padding });
    const zero = createModel('cbr-small', { numClasses: r.spec.pretrain.classes, padding: r.spec.padding });
    await zero.loadWeights(record.weights.replace(/\.pt$/, '-step0.pt'));
    expect(Array.from(zero.getParameter('layer1.conv.weight').data)).toEqual(Array.from(fresh.getParameter('layer1.conv.weight').data));
    // The last kept step differs from the end's weights (training went on).
    const late = createModel('cbr-small', { numClasses: r.spec.pretrain.classes, padding: r.spec.padding }), final = createModel('cbr-small', { numClasses: r.spec.pretrain.classes, padding: r.spec.padding });
    await late.loadWeights(record.weights.replace(/\.pt$/, `-step${steps.at(-1)}.pt`));
    await final.loadWeights(record.weights);
    expect(Array.from(late.getParameter('layer1.conv.weight').data)).not.toEqual(Array.from(final.getParameter('layer1.conv.weight').data));
    [fresh, zero, late, final].forEach((m) => m.dispose());
    expect(r.runs.find((x) => x.init === `checkpoint:${steps[1]}`)!.load).toMatchObject({ init: `checkpoint:${steps[1]}`, from: 'cbr-small' });
    expect(fs.existsSync(path.join(out, 'figures', 'beyond-checkpoints.svg'))).toBe(true);
    expect(report(out)).toContain(`| cbr-small | checkpoint:${steps[1]} |`);
    // A second study finds the checkpoints in the cache and pretrains nothing.
    const again = await runStudy(spec, { report: studyReport, outDir: path.join(dir, 'checkpoints-again'), cacheDir });
    expect(again.pretraining.find((p) => p.model === 'cbr-small')).toMatchObject({ cached: true, checkpoints: steps });
    await expect(runStudy({ ...spec, arms: [{ model: 'cbr-small', init: `checkpoint:${spec.pretrain.steps + 1}` }] }, { report: studyReport, outDir: path.join(dir, 'never'), cacheDir })).rejects.toThrow('a pretraining step from 0 to');
  }, 300_000);

  // The user's images (`--data`, an image folder): two classes are a binary task and every analysis runs on it; three
  // are a multiclass task, which k-NN (a vote per output) leaves out by name instead of failing after training.
  it('runs on the user\'s data: interpolation and knn on a two-class folder; knn leaves a multiclass one out, named', async () => {
    const folder = async (classes: string[]) => {
      const data = path.join(dir, `folder-${classes.length}`);
      for (const [c, name] of classes.entries())
        for (let i = 0; i < 16; i++) {
          fs.mkdirSync(path.join(data, name), { recursive: true });
          const pixels = Buffer.from(Array.from({ length: 24 * 24 * 3 }, (_, k) => (k * (c + 3) + i * 17 + (k % 3 === c ? 120 : 0)) % 256));
          await sharp(pixels, { raw: { width: 24, height: 24, channels: 3 } }).png().toFile(path.join(data, name, `${i}.png`));
        }
      return data;
    };
    const bin = path.resolve(__dirname, '../../bin/transfusion-native.js');
    const run = (experiment: string, data: string, out: string) =>
      spawnSync(process.execPath, [bin, 'run', experiment, '--preset', 'tiny', '--models', 'cbr-tiny', '--seed', '0', '--data', data, '--format', 'folder', '--out', out, '--cache-dir', cacheDir, '--quiet'],
        { encoding: 'utf8', env: { ...process.env, TRANSFUSION_THREADS: '2' } });
    const two = await folder(['normal', 'disease']);
    for (const experiment of ['interpolation', 'knn']) {
      const out = path.join(dir, `data-${experiment}`);
      const r = run(experiment, two, out);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
      expect(results.data.format).toBe('folder');
      expect(results.representations[experiment].length).toBeGreaterThan(0);
    }
    const out = path.join(dir, 'data-knn-multiclass');
    const r = run('knn', await folder(['a', 'b', 'c']), out);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(report(out)).toContain('- Left out: cbr-tiny every stage: k-NN evaluation scores binary and multi-label tasks, and this task is multiclass.');
  }, 300_000);
});
