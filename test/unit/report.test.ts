import { renderReport } from '../../src/report/markdown';
import { PRESETS } from '../../src/experiments/presets';
import { RESULTS_SCHEMA, type StudyResults } from '../../src/experiments/results';
import { meanStd } from '../../src/metrics';

const results = (): StudyResults => ({
  schema: RESULTS_SCHEMA,
  spec: { ...PRESETS.tiny, models: ['cbr-small'], seeds: [0, 1, 2] },
  environment: { torch: '1.13.0', napi: 8, node: 'v20', threads: 2, platform: 'linux-x64' },
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:01:00.000Z',
  models: [{ name: 'cbr-small', displayName: 'CBR-Small', params: { numel: 2114341, paper: 2108672 }, imageSize: 32 }],
  task: { labels: ['referable DR'], trainPositives: 100, trainSize: 256, valPositives: 60, valSize: 128 },
  pretraining: [{ model: 'cbr-small', source: 'natural', classes: 20, top1: 0.5, top5: 0.9, steps: 8, wallSeconds: 1, weights: 'w.pt', cached: true }],
  runs: [0.8, 0.9, 0.85].flatMap((auc, seed) => [
    { model: 'cbr-small', init: 'random', seed, imageSize: 32, auc, stepsToThreshold: [10, 20, null][seed], steps: 8, finalLoss: 0.5, wallSeconds: 1, imagesPerSecond: 100, curve: [] },
    { model: 'cbr-small', init: 'transfer', seed, imageSize: 32, auc: auc - 0.1, stepsToThreshold: null, steps: 8, finalLoss: 0.5, wallSeconds: 1, imagesPerSecond: 100, curve: [] },
  ]),
});

describe('meanStd', () => {
  it('uses the sample standard deviation', () => {
    const { mean, std, n } = meanStd([0.8, 0.9, 0.85]);
    expect(mean).toBeCloseTo(0.85, 12);
    expect(std).toBeCloseTo(0.05, 12);
    expect(n).toBe(3);
  });
});

describe('renderReport', () => {
  it('writes Table 1 with AUC mean ± std per model and init, both parameter counts and pretraining accuracy', () => {
    const md = renderReport(results());
    expect(md).toContain('| Model | Random init AUC | Transfer AUC | Parameters (paper) | Parameters (numel) | Pretraining top-1 / top-5 |');
    expect(md).toContain('| CBR-Small | 85.00 ± 5.00 (n=3) | 75.00 ± 5.00 (n=3) | 2,108,672 | 2,114,341 | 50.00 / 90.00 (cached) |');
    expect(md.match(/\| cbr-small \| (random|transfer) \| \d \| 32 \|/g)).toHaveLength(6);
    expect(md).not.toContain('In progress');
  });

  it('shows no spread for an arm of one seed (issue 31: "± 0.00 (n=1)" claimed one)', () => {
    const r = results();
    r.runs = r.runs.filter((x) => x.seed === 0);
    expect(renderReport(r)).toContain('| CBR-Small | 80.00 ± — (n=1) | 70.00 ± — (n=1) |');
  });

  it('titles the small-data study as Table 3, with its training size', () => {
    const r = results();
    r.spec = { ...r.spec, experiment: 'small-data' };
    expect(renderReport(r)).toContain('## Table 3: random initialisation against transfer with 256 training images');
  });

  it('writes the convergence table: steps to the threshold over the runs that reached it', () => {
    const md = renderReport(results());
    expect(md).toContain('## Convergence: steps to validation AUC ≥ 91.00%');
    expect(md).toContain('| cbr-small | random | 15.0 ± 7.1 | 2/3 | 85.00 ± 5.00 (n=3) |');
    expect(md).toContain('| cbr-small | transfer | never | 0/3 | 75.00 ± 5.00 (n=3) |');
  });

  it('marks an unfinished study', () => {
    expect(renderReport({ ...results(), finishedAt: undefined })).toContain('_In progress: 6 run(s) finished so far._');
  });
});
