import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import {
  averagePrecision, bootstrapAucInterval, createDataset, createModel, evaluate, generateRetina, preset, quadraticKappa, runStudy, train,
  studyReport, type StudyResults,
} from '../../src';
import { readResults } from '../../src/experiments/results';
import { runsCsv } from '../../src/report/csv';
import { PYTHON } from '../helpers/python';
import { tempDir } from '../helpers/tmp';

// AUPRC, the bootstrap interval of the AUC and quadratic-weighted kappa against scikit-learn and numpy
// (test/fixtures/metrics_reference.py; Debian: apt-get install python3-sklearn).
type Case =
  | { kind: 'ap' | 'auc'; scores: number[]; labels: number[] }
  | { kind: 'kappa'; a: number[]; b: number[]; classes: number }
  | { kind: 'bootstrap'; scores: number[][]; labels: number[][]; mask: number[][] | null; resamples: number; seed: number; level?: number };
type Interval = { low: number | null; high: number | null; resamples: number };

function reference<T>(cases: Case[]): T[] {
  const p = spawnSync(PYTHON, [path.join(__dirname, '..', 'fixtures', 'metrics_reference.py')], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (p.status !== 0) throw new Error(`${PYTHON} test/fixtures/metrics_reference.py failed: ${p.stderr}\nThese tests need scikit-learn: apt-get install python3-sklearn`);
  return JSON.parse(p.stdout) as T[];
}

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (1664525 * s + 1013904223) >>> 0) / 2 ** 32);
}

/** n labels (both classes present) with scores that lean towards the positives; `grid` > 0 rounds scores to 1/grid (ties). */
function scored(rand: () => number, n: number, rate: number, grid: number) {
  const labels = Array.from({ length: n }, (_, i) => (i < 2 ? 1 - i : rand() < rate ? 1 : 0));
  const scores = labels.map((y) => {
    const s = rand() + 0.6 * y;
    return grid > 0 ? Math.round(s * grid) / grid : s;
  });
  return { scores, labels };
}

const argmax = (row: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
};
const rows = (data: Float32Array, k: number) => Array.from({ length: data.length / k }, (_, i) => data.subarray(i * k, i * k + k));

describe('averagePrecision against scikit-learn average_precision_score', () => {
  it('agrees on random and on heavily tied scores, rare and common positives', () => {
    const rand = lcg(7);
    const cases: { scores: number[]; labels: number[] }[] = [];
    for (const n of [5, 40, 300, 2000]) for (const rate of [0.05, 0.4]) for (const grid of [0, 4, 20]) cases.push(scored(rand, n, rate, grid));
    const expected = reference<number>(cases.map((c) => ({ kind: 'ap', ...c })));
    const diffs = cases.map((c, i) => Math.abs(averagePrecision(c.scores, c.labels) - expected[i]));
    expect(Math.max(...diffs)).toBeLessThan(1e-12);
  });

  it('gives the textbook value and names what it refuses', () => {
    expect(averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.8333333333333333, 14);
    expect(averagePrecision([1, 1, 1, 1], [0, 1, 0, 1])).toBe(0.5);  // one threshold: precision = prevalence
    expect(() => averagePrecision([0.1, 0.2], [0, 0])).toThrow('averagePrecision: needs at least one positive label (got 2 negative)');
    expect(() => averagePrecision([0.1, 0.2], [0, 2])).toThrow('averagePrecision: label 1 is 2.000000, expected 0 or 1');
    expect(() => averagePrecision([0.1], [0, 1])).toThrow('Expected `scores` and `labels` to have the same length but received 1 and 2');
  });
});

describe('quadraticKappa against scikit-learn cohen_kappa_score(weights="quadratic")', () => {
  it('agrees on random grade pairs, skewed ones and pairs where some grades never occur', () => {
    const rand = lcg(11);
    const grade = (w: number[]) => {
      let u = rand() * w.reduce((a, b) => a + b, 0);
      return w.findIndex((x) => (u -= x) < 0);
    };
    const cases: { a: number[]; b: number[]; classes: number }[] = [];
    for (const n of [10, 100, 1000]) {
      const a = Array.from({ length: n }, () => grade([0.73, 0.07, 0.15, 0.03, 0.02]));  // EyePACS-like
      cases.push({ a, b: a.map((g) => Math.max(0, Math.min(4, g + [-1, 0, 0, 0, 1][Math.floor(rand() * 5)]))), classes: 5 });
      cases.push({ a, b: Array.from({ length: n }, () => Math.floor(rand() * 5)), classes: 5 });
      cases.push({ a: a.map((g) => (g === 2 ? 3 : g)), b: a.map((g) => (g === 2 ? 1 : g)), classes: 5 });  // grade 2 absent
      cases.push({ a: a.map((g) => Math.min(g, 2)), b: a.map((g) => Math.min(g + 1, 2)), classes: 3 });
    }
    const expected = reference<number>(cases.map((c) => ({ kind: 'kappa', ...c })));
    const diffs = cases.map((c, i) => Math.abs(quadraticKappa(c.a, c.b, c.classes) - expected[i]));
    expect(Math.max(...diffs)).toBeLessThan(1e-12);
  });

  it('is 1 for agreement, NaN when chance disagreement is 0, and names what it refuses', () => {
    expect(quadraticKappa([0, 1, 2, 3, 4], [0, 1, 2, 3, 4])).toBe(1);
    expect(quadraticKappa([2, 2, 2], [2, 2, 2])).toBeNaN();
    expect(() => quadraticKappa([0, 5], [0, 1])).toThrow('Expected ratings to be integers 0-4 but rating 1 is 5.000000');
    expect(() => quadraticKappa([0, 1.5], [0, 1])).toThrow('Expected ratings to be integers 0-4');
    expect(() => quadraticKappa([0], [0, 1])).toThrow('Expected `a` and `b` to have the same length but received 1 and 2');
    expect(() => quadraticKappa([0], [0], 1)).toThrow('Expected `classes` to be an integer in [2, 65536] but received 1');
  });
});

describe('bootstrapAucInterval against numpy and scikit-learn on the same resampled rows', () => {
  it('draws the documented rows and gives numpy.percentile of roc_auc_score over them', () => {
    const rand = lcg(3);
    const cases: { scores: number[]; labels: number[]; resamples: number; seed: number; level?: number }[] = [
      { ...scored(rand, 300, 0.3, 0), resamples: 500, seed: 0 },
      { ...scored(rand, 1000, 0.1, 10), resamples: 200, seed: 123456789012 },
      { ...scored(rand, 60, 0.5, 4), resamples: 300, seed: 5, level: 0.9 },
      { ...scored(rand, 8, 0.2, 0), resamples: 300, seed: 1 },  // small: some resamples hold one class and are skipped
    ];
    const expected = reference<Interval>(cases.map((c) => ({ kind: 'bootstrap', scores: [c.scores], labels: [c.labels], mask: null, resamples: c.resamples, seed: c.seed, level: c.level })));
    cases.forEach((c, i) => {
      const got = bootstrapAucInterval(c.scores, c.labels, { resamples: c.resamples, seed: c.seed, ...(c.level ? { level: c.level } : {}) });
      expect(got.resamples).toBe(expected[i].resamples);
      expect(got.low!).toBeCloseTo(expected[i].low!, 12);
      expect(got.high!).toBeCloseTo(expected[i].high!, 12);
    });
    expect(expected[3].resamples).toBeLessThan(300);
    expect(expected[0].low!).toBeLessThan(expected[0].high!);
  });

  it('names what it refuses', () => {
    expect(() => bootstrapAucInterval([0.1, 0.2], [0, 1], { resamples: 0 })).toThrow('Expected `resamples` to be an integer in [1, 1048576] but received 0');
    expect(() => bootstrapAucInterval([0.1, 0.2], [0, 1], { level: 1 })).toThrow('Expected `level` to be a number between 0 and 1 (exclusive) but received 1');
    expect(() => bootstrapAucInterval([0.1, 0.2], [0, 1], { seeds: 1 } as never)).toThrow('Unknown option `seeds` for bootstrapAucInterval(); did you mean `seed`?');
    expect(() => bootstrapAucInterval([0.1, NaN], [0, 1])).toThrow('bootstrapAucInterval: score 1 is not finite');
  });
});

describe('evaluate() and train() report AUPRC, the interval and kappa', () => {
  const images = (n: number, size: number, seed: number) => {
    const rand = lcg(seed);
    return { data: Float32Array.from({ length: n * 3 * size * size }, () => rand() - 0.5), shape: [n, 3, size, size] };
  };

  it('multilabel with masked labels: AUPRC per output over the known labels only, as scikit-learn on the logits', async () => {
    const n = 160, k = 3, rand = lcg(21);
    const targets = Float32Array.from({ length: n * k }, (_, i) => (i < 2 * k ? (i < k ? 1 : 0) : rand() < 0.35 ? 1 : 0));
    const mask = Float32Array.from({ length: n * k }, (_, i) => (i < 2 * k || rand() < 0.8 ? 1 : 0));
    const input = images(n, 32, 5);
    const data = createDataset({ images: input, targets, mask, task: 'multilabel', outputs: k });
    const model = createModel('cbr-tiny', { numClasses: k, seed: 3 });
    const m = await evaluate(model, data);
    const logits = (await model.forward(input)).data as Float32Array;
    const cases: Case[] = [];
    for (let o = 0; o < k; o++) {
      const known = Array.from({ length: n }, (_, i) => i).filter((i) => mask[i * k + o] !== 0);
      const c = { scores: known.map((i) => logits[i * k + o]), labels: known.map((i) => targets[i * k + o]) };
      cases.push({ kind: 'ap', ...c }, { kind: 'auc', ...c });
    }
    const expected = reference<number>(cases);
    expect(m.auprc).toHaveLength(k);
    for (let o = 0; o < k; o++) {
      expect(m.auprc![o]!).toBeCloseTo(expected[2 * o], 9);
      expect(m.auc![o]!).toBeCloseTo(expected[2 * o + 1], 9);
    }
    expect(m.meanAuprc!).toBeCloseTo((expected[0] + expected[2] + expected[4]) / 3, 9);
    expect(m.aucCi).toBeUndefined();  // evaluate() alone does not bootstrap
    [model, data].forEach((h) => h.dispose());
  });

  it('multiclass on 5 grades: kappa of the top class against the label, as scikit-learn', async () => {
    const n = 120, rand = lcg(9);
    const grades = Float32Array.from({ length: n }, () => Math.floor(rand() * 5));
    const input = images(n, 32, 6);
    const data = createDataset({ images: input, targets: grades, task: 'multiclass', outputs: 5 });
    const model = createModel('cbr-tiny', { numClasses: 5, seed: 4 });
    const m = await evaluate(model, data);
    const predicted = rows((await model.forward(input)).data as Float32Array, 5).map(argmax);
    const [expected] = reference<number | null>([{ kind: 'kappa', a: predicted, b: Array.from(grades), classes: 5 }]);
    if (expected === null) expect(m.kappa).toBeNull();
    else expect(m.kappa!).toBeCloseTo(expected, 12);
    expect(m.auprc).toBeUndefined();
    [model, data].forEach((h) => h.dispose());
  });

  it("training's final evaluation carries the 95% interval, the same as bootstrapAucInterval on the model's scores with the run's seed", async () => {
    const trainSet = await generateRetina({ count: 128, size: 32, seed: 1 });
    const rand = lcg(13), valImages = images(200, 32, 8);
    const val = createDataset({ images: valImages, targets: Float32Array.from({ length: 200 }, (_, i) => (i < 2 ? i : rand() < 0.4 ? 1 : 0)), task: 'binary' });
    const model = createModel('cbr-tiny', { numClasses: 1, seed: 0 });
    const r = await train(model, { train: trainSet, val }, { steps: 6, batchSize: 16, optimizer: 'adam', schedule: { kind: 'constant', lr: 2e-3 }, seed: 17, evalEvery: 3 });
    expect(r.curve[0].aucCi).toBeUndefined();  // curve points skip the bootstrap
    expect(r.final.aucCiResamples).toBe(1000);
    const logits = Array.from((await model.forward(valImages)).data);
    const labels = Array.from(val.targets());
    const own = bootstrapAucInterval(logits, labels, { resamples: 1000, seed: 17 });
    expect(r.final.aucCi![0]!).toBeCloseTo(own.low!, 9);
    expect(r.final.aucCi![1]!).toBeCloseTo(own.high!, 9);
    expect(r.final.aucCi![0]!).toBeLessThanOrEqual(r.final.meanAuc!);
    expect(r.final.aucCi![1]!).toBeGreaterThanOrEqual(r.final.meanAuc!);
    const [ap] = reference<number>([{ kind: 'ap', scores: logits, labels }]);
    expect(r.final.meanAuprc!).toBeCloseTo(ap, 9);
    const none = await train(model, { train: trainSet, val }, { steps: 1, batchSize: 16, schedule: [1e-4], bootstrapResamples: 0 });
    expect(none.final.aucCi).toBeUndefined();
    [model, trainSet, val].forEach((h) => h.dispose());
  });
});

describe('a study records the new metrics', () => {
  const dir = tempDir('metrics');
  it('results.json holds auprc and aucCi per run, read back through its schema; report.md and runs.csv show them', async () => {
    const out = path.join(dir, 'tiny');
    const spec = { ...preset('tiny'), models: ['cbr-tiny'], seeds: [0] };
    await runStudy(spec, { report: studyReport, outDir: out, cacheDir: path.join(dir, 'cache') });
    const saved = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as StudyResults;
    expect(saved.runs.length).toBeGreaterThan(0);
    for (const run of saved.runs) {
      expect(typeof run.auprc).toBe('number');
      expect(run.aucCi).toHaveLength(2);
      expect(run.aucCi![0]!).toBeLessThanOrEqual(run.auc);
      expect(run.aucCi![1]!).toBeGreaterThanOrEqual(run.auc);
      expect(run.kappa).toBeUndefined();  // a binary task
    }
    expect(readResults(out).runs[0].aucCi).toEqual(saved.runs[0].aucCi);
    const report = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(report).toContain('| Model | Init | Seed | Image px | AUC [95% CI] | AUPRC | Final loss | Steps | Seconds | Images/s |');
    expect(report).toContain('## AUPRC beside AUC per arm');
    expect(fs.readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('<th>AUC [95% CI]</th>');
    const csv = runsCsv(saved).split('\n');
    expect(csv[0].endsWith(',auprc,auc_ci_low,auc_ci_high,kappa')).toBe(true);
  });
});
