import * as fs from 'node:fs';
import * as path from 'node:path';

import { preset, runStudy, type StudyResults } from '../../src';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('study');
const spec = () => ({ ...preset('tiny'), models: ['cbr-tiny'] });
const read = (out: string): StudyResults => JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));

describe('runStudy', () => {
  it('gives the same numbers for the same seeds on CPU', async () => {
    const cacheDir = path.join(dir, 'cache');
    const a = await runStudy(spec(), { outDir: path.join(dir, 'a'), cacheDir });
    const b = await runStudy(spec(), { outDir: path.join(dir, 'b'), cacheDir });
    expect(a.runs.map((r) => r.auc)).toEqual(b.runs.map((r) => r.auc));
    expect(a.runs.map((r) => r.finalLoss)).toEqual(b.runs.map((r) => r.finalLoss));
    expect(b.pretraining[0].cached).toBe(true);
    expect(read(path.join(dir, 'b')).runs).toHaveLength(4);
  });

  it('keeps every finished run when it is aborted, and marks the study unfinished', async () => {
    const out = path.join(dir, 'aborted');
    const controller = new AbortController();
    const run = runStudy(spec(), {
      outDir: out,
      cacheDir: path.join(dir, 'cache'),
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'run-end' && e.index === 2) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'ABORT_ERR' });
    const saved = read(out);
    expect(saved.runs).toHaveLength(2);
    expect(saved.finishedAt).toBeUndefined();
    expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toContain('_In progress: 2 run(s) finished so far._');
    expect(fs.readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('gives a model its own image size when the spec asks (the scaled input of ResNet-50)', async () => {
    const r = await runStudy({ ...spec(), inits: ['random'], seeds: [0], imageSizes: { 'cbr-tiny': 40 } }, { outDir: path.join(dir, 'sizes'), cacheDir: path.join(dir, 'cache') });
    expect(r.runs.map((x) => x.imageSize)).toEqual([40]);
    expect(r.models[0].imageSize).toBe(40);
  });

  it('names a bad spec before doing any work', async () => {
    await expect(runStudy({ ...spec(), models: ['cbr-huge'] }, { outDir: path.join(dir, 'bad') })).rejects.toThrow(
      'Expected `models` to be model names from: cbr-larget, cbr-largew, cbr-small, cbr-tiny, cbr-tiny-appendix, resnet50, resnet50-slim, inception_v3 but received "cbr-huge"',
    );
    await expect(runStudy({ ...spec(), seeds: [] }, { outDir: path.join(dir, 'bad') })).rejects.toThrow('Expected `seeds` to be a non-empty list of seeds');
    await expect(runStudy({ ...spec(), imageSizes: { 'cbr-tiny': 8 } }, { outDir: path.join(dir, 'bad') })).rejects.toThrow(
      'Expected `imageSizes.cbr-tiny` to be an integer in [16, 1024] but received 8',
    );
    await expect(runStudy({ ...spec(), arms: [{ model: 'cbr-small', init: 'transfusion:conv1' }] }, { outDir: path.join(dir, 'bad') })).rejects.toThrow(
      'Expected `init` to be a transfusion point among cbr-small\'s stages (layer1, layer2, layer3, layer4, head) but received "transfusion:conv1"',
    );
    await expect(runStudy({ ...spec(), arms: [{ model: 'cbr-small', init: 'slim' }] }, { outDir: path.join(dir, 'bad') })).rejects.toThrow(
      'Expected `init` to be used with resnet50 ("slim" is a ResNet-50 hybrid) but received "cbr-small slim"',
    );
    expect(fs.existsSync(path.join(dir, 'bad'))).toBe(false);
  });
});
