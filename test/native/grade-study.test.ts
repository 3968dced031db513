// Issue 18's grade task: `run --data DIR --format aptos2019 --target grade` trains a 5-class head on the DR grade, and
// results.json's kappa, AUC (referable DR scored by P(grade >= 2)), AUPRC and AUC interval are those scikit-learn
// computes from the trained model's own predictions on the validation images (the run's final weights reloaded and
// run forward here, the images built from the same pixels the PNGs hold).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import sharp from 'sharp';

import { createModel, type StudyResults } from '../../src';
import { DR_GRADES, readLabelled } from '../../src/data/files/formats';
import { splitByGroup } from '../../src/data/files/load';
import { PYTHON } from '../helpers/python';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('grade-study');
const bin = path.resolve(__dirname, '../../bin/transfusion-native.js');
const SIZE = 32;  // the tiny preset's image size: the PNGs are decoded without resampling
const N = 80;
const MEAN = [0.485, 0.456, 0.406], STD = [0.229, 0.224, 0.225];

/** An RGB image whose brightness follows its grade, blurred by a brightness of its own (a task learnt, not solved), HWC uint8. */
function pixels(i: number, grade: number): Buffer {
  return Buffer.from(Array.from({ length: SIZE * SIZE * 3 }, (_, k) => (12 * grade + ((i * 37) % 41) + ((k * 13 + i * 71) % 97) + (k % 3) * 11) % 256));
}

type Case = { kind: 'ap' | 'auc'; scores: number[]; labels: number[] } | { kind: 'kappa'; a: number[]; b: number[]; classes: number }
  | { kind: 'bootstrap'; scores: number[][]; labels: number[][]; mask: null; resamples: number; seed: number };
function sklearn(cases: Case[]): unknown[] {
  const p = spawnSync(PYTHON, [path.join(__dirname, '..', 'fixtures', 'metrics_reference.py')], { input: JSON.stringify(cases), encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`${PYTHON} test/fixtures/metrics_reference.py failed: ${p.stderr}\nThese tests need scikit-learn: apt-get install python3-sklearn`);
  return JSON.parse(p.stdout) as unknown[];
}

describe('the grade target: a tiny APTOS study', () => {
  const data = path.join(dir, 'aptos2019');
  const ids = Array.from({ length: N }, (_, i) => (0xa0c1434d8d7 + i * 977).toString(16));
  const grade = (i: number) => (i * 3) % 5;

  beforeAll(async () => {
    fs.mkdirSync(path.join(data, 'train_images'), { recursive: true });
    fs.writeFileSync(path.join(data, 'train.csv'), ['id_code,diagnosis', ...ids.map((id, i) => `${id},${grade(i)}`)].join('\n') + '\n');
    for (const [i, id] of ids.entries())
      await sharp(pixels(i, grade(i)), { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toFile(path.join(data, 'train_images', `${id}.png`));
  });

  it('records quadratic kappa and the referable AUC, AUPRC and interval as scikit-learn computes them from the model\'s predictions', async () => {
    const out = path.join(dir, 'run');
    // The filters experiment keeps each run's final weights (snapshots), which this test reloads.
    const r = spawnSync(process.execPath, [bin, 'run', 'filters', '--preset', 'tiny', '--models', 'cbr-tiny', '--seed', '0', '--data', data, '--format', 'aptos2019',
      '--target', 'grade', '--out', out, '--cache-dir', path.join(dir, 'cache'), '--quiet'], { encoding: 'utf8', env: { ...process.env, TRANSFUSION_THREADS: '2' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as StudyResults;
    expect(results.spec.task.data?.target).toBe('grade');
    expect(results.task.labels).toEqual(DR_GRADES);

    // The validation images as the loader chose them: the seeded patient split, in order (valSize caps none).
    const set = readLabelled('aptos2019', data, { target: 'grade' });
    const val = splitByGroup(set, 0.2, results.spec.task.seed).val;
    expect(results.task.valSize).toBe(val.length);
    const input = new Float32Array(val.length * 3 * SIZE * SIZE);
    val.forEach((item, n) => {
      const hwc = pixels(item, grade(item));
      for (let c = 0; c < 3; c++)
        for (let p = 0; p < SIZE * SIZE; p++) input[((n * 3 + c) * SIZE * SIZE) + p] = (hwc[p * 3 + c] / 255 - MEAN[c]) / STD[c];
    });
    const labels = val.map((i) => grade(i));
    const referable = labels.map((g) => (g >= 2 ? 1 : 0));
    expect(new Set(referable).size).toBe(2);

    expect(results.runs.length).toBe(2);  // random and transfer, one seed
    for (const run of results.runs) {
      const net = createModel('cbr-tiny', { numClasses: 5, padding: results.spec.padding });
      try {
        await net.loadWeights(path.join(out, run.snapshots!.final));
        const logits = await net.forward({ data: input, shape: [val.length, 3, SIZE, SIZE] });
        expect(logits.shape).toEqual([val.length, 5]);
        const rows = val.map((_, n) => Array.from(logits.data.subarray(n * 5, n * 5 + 5)));
        const top = rows.map((row) => row.indexOf(Math.max(...row)));
        // P(grade >= 2): the softmax in float64, summed over grades 2-4, then float32, as the addon scores it.
        const scores = rows.map((row) => {
          const m = Math.max(...row), e = row.map((v) => Math.exp(v - m)), z = e.reduce((a, b) => a + b, 0);
          return Math.fround((e[2] + e[3] + e[4]) / z);
        });
        const [kappa, auc, ap, ci] = sklearn([
          { kind: 'kappa', a: top, b: labels, classes: 5 },
          { kind: 'auc', scores, labels: referable },
          { kind: 'ap', scores, labels: referable },
          { kind: 'bootstrap', scores: [scores], labels: [referable], mask: null, resamples: 1000, seed: run.seed },
        ]) as [number, number, number, { low: number; high: number }];
        expect(run.kappa).toBeCloseTo(kappa, 9);
        expect(run.auc).toBeCloseTo(auc, 6);
        expect(run.auprc).toBeCloseTo(ap, 6);
        expect(run.aucCi![0]).toBeCloseTo(ci.low, 6);
        expect(run.aucCi![1]).toBeCloseTo(ci.high, 6);
        expect(run.curve[run.curve.length - 1].auc).toBeCloseTo(auc, 6);  // the curve (steps to threshold) is the referable AUC too
      } finally {
        net.dispose();
      }
    }

    const report = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(report).toContain('the 5-level DR grade (5 classes; AUC: referable DR, grade ≥ 2, scored by P(grade ≥ 2)');
    expect(report).toMatch(/\| Model \| Init \| AUC \| AUPRC \| Mean 95% CI of AUC \| Kappa \|/);
    expect(report).toContain(`| ${results.runs[0].kappa!.toFixed(3)} |`);
    expect(fs.readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('<th>Kappa</th>');
  }, 600000);

  it('refuses --target without --data, and a target other than referable or grade', () => {
    const r = spawnSync(process.execPath, [bin, 'run', '--preset', 'tiny', '--target', 'grade', '--out', path.join(dir, 'never')], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('--target applies to graded retinal data given with --data');
    const s = spawnSync(process.execPath, [bin, 'run', '--preset', 'tiny', '--data', data, '--target', 'severity', '--out', path.join(dir, 'never')], { encoding: 'utf8' });
    expect(s.status).not.toBe(0);
    expect(s.stderr).toContain('--target');
    expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
  });
});
