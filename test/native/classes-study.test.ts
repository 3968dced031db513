// Issue 28: a user's image folder of three or more unordered classes is a task scored by AUC, each class against the
// rest (scikit-learn's roc_auc_score(multi_class="ovr"), the macro mean), not a run with no metric and a quadratic
// kappa that means nothing for unordered classes. results.json's per-class AUCs and their mean are those scikit-learn
// computes from the trained model's own predictions on the validation images (the run's final weights reloaded).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import sharp from 'sharp';

import { createModel, evaluate, type StudyResults } from '../../src';
import { readLabelled } from '../../src/data/files/formats';
import { loadData, splitByGroup } from '../../src/data/files/load';
import { PYTHON } from '../helpers/python';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('classes-study');
const bin = path.resolve(__dirname, '../../bin/transfusion-native.js');
const SIZE = 32;  // the tiny preset's image size: the PNGs are decoded without resampling
const CLASSES = ['cyst', 'normal', 'tumour'];
const PER_CLASS = 24;
const MEAN = [0.485, 0.456, 0.406], STD = [0.229, 0.224, 0.225];

/** An RGB image whose colour balance follows its class, blurred by a brightness of its own, HWC uint8. */
function pixels(i: number, c: number): Buffer {
  return Buffer.from(Array.from({ length: SIZE * SIZE * 3 }, (_, k) => ((k % 3 === c ? 6 : 0) + ((i * 37) % 61) + ((k * 13 + i * 71) % 97)) % 256));
}

type Case = { kind: 'auc'; scores: number[]; labels: number[] } | { kind: 'ovr'; scores: number[][]; labels: number[] };
function sklearn(cases: Case[]): number[] {
  const p = spawnSync(PYTHON, [path.join(__dirname, '..', 'fixtures', 'metrics_reference.py')], { input: JSON.stringify(cases), encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`${PYTHON} test/fixtures/metrics_reference.py failed: ${p.stderr}\nThese tests need scikit-learn: apt-get install python3-sklearn`);
  return JSON.parse(p.stdout) as number[];
}

/** The softmax of each row in float64, then float32, as the addon scores a class. */
const softmax = (row: number[]) => {
  const m = Math.max(...row), e = row.map((v) => Math.exp(v - m)), z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => Math.fround(v / z));
};

describe('a folder of three unordered classes', () => {
  const data = path.join(dir, 'folder');
  const item = (n: number) => ({ c: n % CLASSES.length, i: Math.floor(n / CLASSES.length) });

  beforeAll(async () => {
    for (let n = 0; n < CLASSES.length * PER_CLASS; n++) {
      const { c, i } = item(n);
      fs.mkdirSync(path.join(data, CLASSES[c]), { recursive: true });
      await sharp(pixels(i, c), { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toFile(path.join(data, CLASSES[c], `${String(i).padStart(3, '0')}.png`));
    }
  });

  it('is scored by each class\'s AUC against the rest, as scikit-learn computes them from the model\'s predictions', async () => {
    const out = path.join(dir, 'run');
    const r = spawnSync(process.execPath, [bin, 'run', 'filters', '--preset', 'tiny', '--models', 'cbr-tiny', '--seed', '0', '--data', data,
      '--out', out, '--cache-dir', path.join(dir, 'cache'), '--quiet'], { encoding: 'utf8', env: { ...process.env, TRANSFUSION_THREADS: '2' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as StudyResults;
    expect(results.task).toMatchObject({ labels: CLASSES, multiclass: true });
    const report = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(report).toContain('3 classes (cyst, normal, tumour); AUC: the mean over classes of each class\'s AUC against the rest');
    expect(report).not.toMatch(/n\/a ± n\/a|Kappa/);

    // The validation images as the loader chose them: the seeded split of the folder, in its order.
    const set = readLabelled('folder', data, {});
    const val = splitByGroup(set, 0.2, results.spec.task.seed).val;
    expect(results.task.valSize).toBe(val.length);
    const labels = val.map((k) => set.targets[k]);
    expect(new Set(labels).size).toBe(3);
    const input = new Float32Array(val.length * 3 * SIZE * SIZE);
    val.forEach((k, n) => {
      const file = (set.inputs[k] as { file: string }).file;
      const hwc = pixels(Number(path.basename(file, '.png')), CLASSES.indexOf(path.basename(path.dirname(file))));
      for (let c = 0; c < 3; c++)
        for (let p = 0; p < SIZE * SIZE; p++) input[((n * 3 + c) * SIZE * SIZE) + p] = (hwc[p * 3 + c] / 255 - MEAN[c]) / STD[c];
    });

    expect(results.runs.length).toBe(2);  // random and transfer, one seed
    for (const run of results.runs) {
      expect(run).not.toHaveProperty('kappa');
      expect(Object.keys(run.aucs ?? {})).toEqual(CLASSES);
      const net = createModel('cbr-tiny', { numClasses: 3, padding: results.spec.padding });
      try {
        await net.loadWeights(path.join(out, run.snapshots!.final));
        const logits = await net.forward({ data: input, shape: [val.length, 3, SIZE, SIZE] });
        const scores = val.map((_, n) => softmax(Array.from(logits.data.subarray(n * 3, n * 3 + 3))));
        const [ovr, ...each] = sklearn([
          { kind: 'ovr', scores, labels },
          ...CLASSES.map((_, c) => ({ kind: 'auc' as const, scores: scores.map((s) => s[c]), labels: labels.map((l) => (l === c ? 1 : 0)) })),
        ]);
        CLASSES.forEach((c, k) => expect(run.aucs![c]).toBeCloseTo(each[k], 6));
        expect(run.auc).toBeCloseTo(ovr, 6);
        expect(ovr).toBeLessThan(1);  // a task learnt, not solved: the ranks the AUCs compare are not all one way
        expect(run.curve[run.curve.length - 1].auc).toBeCloseTo(ovr, 6);  // the curve (steps to threshold) is the same AUC
      } finally {
        net.dispose();
      }
    }
  }, 240000);

  it('names a class with no validation image; as a pretraining source the folder keeps top-1 and no per-class AUC', async () => {
    const sparse = path.join(dir, 'sparse');
    for (const [c, n] of [['a', 10], ['b', 10], ['rare', 1]] as const)
      for (let i = 0; i < n; i++) {
        fs.mkdirSync(path.join(sparse, c), { recursive: true });
        await sharp(pixels(i, 0), { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toFile(path.join(sparse, c, `${i}.png`));
      }
    const opts = { size: SIZE, seed: 0, cacheDir: path.join(dir, 'cache') };
    const onlyOneSide = await loadData({ path: sparse }, { ...opts, asTask: true }).then(
      (d) => { [d.train, d.val].forEach((x) => x.dispose()); return undefined; },
      (e: Error & { code?: string }) => e);
    expect(onlyOneSide).toMatchObject({ code: 'ERR_BAD_DATA' });
    expect(onlyOneSide!.message).toMatch(/sparse: the (train|val) split has no image of class\(es\) "rare" \(of \d+\): each class's one-vs-rest AUC needs it in both splits/);

    const source = await loadData({ path: data }, opts);
    const net = createModel('cbr-tiny', { numClasses: 3 });
    try {
      const m = await evaluate(net, source.val);
      expect(m).toMatchObject({ task: 'multiclass', top1: expect.any(Number) });
      expect(m.auc).toBeUndefined();
      const task = await loadData({ path: data }, { ...opts, asTask: true });
      const t = await evaluate(net, task.val);
      expect(t).toMatchObject({ task: 'multiclass', classAuc: true, top1: m.top1 });
      expect(t.auc).toHaveLength(3);
      expect(t.meanAuc).toBeCloseTo(t.auc!.reduce((a, b) => a! + b!, 0)! / 3, 12);
      expect(t).not.toHaveProperty('kappa');
      [task.train, task.val].forEach((x) => x.dispose());
    } finally {
      net.dispose();
      [source.train, source.val].forEach((x) => x.dispose());
    }
  }, 120000);
});
