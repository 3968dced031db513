// Issue 29: the similarity metrics as one native table, and the metrics added to it, each against an independent
// reference and its defining properties.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { METRICS, similarity, similarityBatch, similarityMetrics, type ActivationArray } from '../../src';
import { PYTHON } from '../helpers/python';

/** Deterministic uniform values in [-1, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}
const random = (n: number, p: number, seed: number): ActivationArray => {
  const r = lcg(seed);
  return { data: Float64Array.from({ length: n * p }, r), shape: [n, p] };
};
const rows = (a: ActivationArray) => Array.from({ length: a.shape[0] }, (_, i) => Array.from(a.data.subarray(i * a.shape[1], (i + 1) * a.shape[1])));

/** X Q s + offset for a random orthogonal Q (Gram-Schmidt of random columns). */
function rotated(x: ActivationArray, scale: number, offset: number, seed: number): ActivationArray {
  const [n, p] = x.shape, r = lcg(seed);
  const q: number[][] = [];
  while (q.length < p) {
    const v = Array.from({ length: p }, r);
    for (const u of q) {
      const d = v.reduce((s, x, k) => s + x * u[k], 0);
      u.forEach((x, k) => (v[k] -= d * x));
    }
    const norm = Math.hypot(...v);
    q.push(v.map((x) => x / norm));
  }
  const out = new Float64Array(n * p);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let k = 0; k < p; k++) s += x.data[i * p + k] * q[j][k];
      out[i * p + j] = s * scale + offset;
    }
  return { data: out, shape: [n, p] };
}

function scipy(cases: { x: number[][]; y: number[][] }[]): number[] {
  const p = spawnSync(PYTHON, [path.join(__dirname, '..', 'fixtures', 'procrustes_reference.py')], { input: JSON.stringify(cases), encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`${PYTHON} test/fixtures/procrustes_reference.py failed: ${p.stderr}\nThese tests need SciPy: apt-get install python3-scipy`);
  return JSON.parse(p.stdout) as number[];
}

describe('the metric table', () => {
  it('lists every metric a result holds, once, with its direction, range, needs and reference', async () => {
    const table = similarityMetrics();
    expect(table.map((m) => m.name)).toEqual(METRICS.filter((m) => m !== 'ccaCoefficients'));
    for (const m of table) {
      expect(['similarity', 'distance']).toContain(m.direction);
      expect(m.range[0]).toBeLessThan(m.range[1]);
      expect(m.needs.length).toBeGreaterThan(0);
      expect(m.reference).toMatch(/\d{4}/);
    }
    expect(table.filter((m) => m.ccaFamily).map((m) => m.name)).toEqual(['meanCca', 'svccaMean', 'pwcca']);
    expect(table.filter((m) => !m.byDefault).map((m) => m.name)).toEqual(['rbfCka']);
    // A result carries every default metric of the table under its name, and the others only when named.
    const plain = await similarity(random(300, 6, 1), random(300, 9, 2));
    expect(Object.keys(plain).filter((k) => (METRICS as readonly string[]).includes(k)).sort()).toEqual(['ccaCoefficients', ...table.filter((m) => m.byDefault).map((m) => m.name)].sort());
    // Named, every one is computed, each inside its range.
    const r = await similarity(random(300, 6, 1), random(300, 9, 2), { metrics: METRICS });
    for (const m of table) {
      const v = r[m.name];
      expect(typeof v).toBe('number');
      expect(v!).toBeGreaterThanOrEqual(m.range[0] - 1e-12);
      expect(v!).toBeLessThanOrEqual(m.range[1] + 1e-12);
    }
  });
});

describe('asking for metrics by name', () => {
  it('computes those alone, with the same values as by default, and refuses a name not in the table', async () => {
    const a = random(400, 7, 21), b = random(400, 5, 22);
    const all = await similarity(a, b);
    const one = await similarity(a, b, { metrics: ['procrustes'] });
    expect(one.procrustes).toBe(all.procrustes);
    expect(Object.keys(one).filter((k) => (METRICS as readonly string[]).includes(k))).toEqual(['procrustes']);
    // Each input is prepared only as far as the metrics named read: Procrustes needs no X^T X (nor its factorisation).
    expect(all.work.products).toBe(3);
    expect(one.work.products).toBe(1);
    expect((await similarity(a, b, { metrics: ['linearCka'] })).linearCka).toBe(all.linearCka);
    const cca = await similarity(a, b, { metrics: ['ccaCoefficients', 'pwcca'] });
    expect(cca.ccaCoefficients).toEqual(all.ccaCoefficients);
    expect(cca.pwcca).toBe(all.pwcca);
    const [batched] = await similarityBatch([a, b], [[0, 1]], { metrics: ['linearCka'] });
    expect(batched.linearCka).toBe(all.linearCka);
    await expect(similarity(a, b, { metrics: ['cka' as 'linearCka'] })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringContaining('metrics') });
    await expect(similarity(a, b, { metrics: [] })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
  });
});

function numpyRbf(cases: { x: number[][]; y: number[][]; bandwidth: number }[]): number[] {
  const p = spawnSync(PYTHON, [path.join(__dirname, '..', 'fixtures', 'rbf_cka_reference.py')], { input: JSON.stringify(cases), encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`${PYTHON} test/fixtures/rbf_cka_reference.py failed: ${p.stderr}\nThese tests need numpy: apt-get install python3-numpy`);
  return JSON.parse(p.stdout) as number[];
}

describe('RBF CKA', () => {
  it("equals numpy's, written from Kornblith et al.'s formula, at several bandwidths and odd and even counts", async () => {
    const cases = [
      { x: random(60, 4, 31), y: random(60, 7, 32), bandwidth: 1 },
      { x: random(61, 5, 33), y: random(61, 3, 34), bandwidth: 0.4 },
      { x: random(50, 6, 35), y: rotated(random(50, 6, 35), 1, 0, 5), bandwidth: 0.8 },
    ];
    const expected = numpyRbf(cases.map((c) => ({ x: rows(c.x), y: rows(c.y), bandwidth: c.bandwidth })));
    for (const [i, c] of cases.entries()) {
      const r = await similarity(c.x, c.y, { metrics: ['rbfCka'], rbfBandwidth: c.bandwidth });
      expect(r.rbfCka).toBeCloseTo(expected[i], 10);
    }
  });

  it('is 1 under a rotation, an isotropic scaling and an offset, symmetric, and refused past its datapoint limit', async () => {
    const x = random(120, 5, 41), y = random(120, 8, 42);
    expect((await similarity(x, rotated(x, 3.5, -2, 7), { metrics: ['rbfCka'] })).rbfCka).toBeCloseTo(1, 10);
    const xy = await similarity(x, y, { metrics: ['rbfCka'] }), yx = await similarity(y, x, { metrics: ['rbfCka'] });
    expect(xy.rbfCka).toBeCloseTo(yx.rbfCka, 12);
    expect(xy.rbfCka).toBeLessThan(1);
    // One side's kernel is made once and read by every pair it is in.
    const batch = await similarityBatch([x, y, rotated(x, 1, 0, 9)], [[0, 1], [0, 2], [1, 2]], { metrics: ['rbfCka'] });
    expect(batch[0].rbfCka).toBeCloseTo(xy.rbfCka, 12);
    expect(batch[1].rbfCka).toBeCloseTo(1, 10);
    const big = random(8193, 2, 43);
    await expect(similarity(big, big, { metrics: ['rbfCka'] })).rejects.toThrow('rbfCka keeps an n x n kernel per side: at most 8192 datapoints, but this pair has 8193');
    await expect(similarity(x, y, { metrics: ['rbfCka'], rbfBandwidth: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringContaining('rbfBandwidth') });
  });
});

function netrepShape(cases: { x: number[][]; y: number[][]; alpha: number }[]): number[] {
  const p = spawnSync(PYTHON, [path.join(__dirname, '..', 'fixtures', 'shape_metric_reference.py')], { input: JSON.stringify(cases), encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`${PYTHON} test/fixtures/shape_metric_reference.py failed: ${p.stderr}\nThese tests need SciPy: apt-get install python3-scipy`);
  return JSON.parse(p.stdout) as number[];
}

describe("Williams et al.'s shape metric", () => {
  it('equals the partial-whitening angle written as netrep defines it, for alpha from 0 to 1 and unequal widths', async () => {
    const cases = [0, 0.25, 0.5, 0.9, 1].flatMap((alpha, k) => [
      { x: random(150, 5, 51 + k), y: random(150, 5, 61 + k), alpha },
      { x: random(150, 4, 71 + k), y: random(150, 7, 81 + k), alpha },
    ]);
    const expected = netrepShape(cases.map((c) => ({ x: rows(c.x), y: rows(c.y), alpha: c.alpha })));
    for (const [i, c] of cases.entries()) {
      const r = await similarity(c.x, c.y, { metrics: ['shapeMetric'], shapeAlpha: c.alpha });
      expect(r.shapeMetric).toBeCloseTo(expected[i], 9);
    }
  });

  it("is Procrustes' angle at alpha 1 and CCA's at alpha 0, 0 under a rotation, and symmetric", async () => {
    const x = random(300, 6, 91), y = random(300, 6, 92);
    const one = await similarity(x, y, { shapeAlpha: 1 });
    // sqrt(2 - 2 cos theta) is Procrustes' distance between unit-norm sides.
    expect(Math.sqrt(2 - 2 * Math.cos(one.shapeMetric))).toBeCloseTo(one.procrustes, 10);
    const zero = await similarity(x, y, { shapeAlpha: 0 });
    expect(Math.cos(zero.shapeMetric)).toBeCloseTo(zero.meanCca, 10);  // equal widths: sum rho / sqrt(6 * 6)
    // 0 under a rotation and an offset; between the ends it is not scale-free (d mixes 1 with lambda^-1/2, as netrep's).
    expect((await similarity(x, rotated(x, 1, 1, 3), { metrics: ['shapeMetric'] })).shapeMetric).toBeCloseTo(0, 5);
    expect((await similarity(x, rotated(x, 2, 1, 3), { metrics: ['shapeMetric'], shapeAlpha: 1 })).shapeMetric).toBeCloseTo(0, 5);
    const yx = await similarity(y, x);
    expect(yx.shapeMetric).toBeCloseTo((await similarity(x, y)).shapeMetric, 12);
    await expect(similarity(x, y, { shapeAlpha: 1.5 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringContaining('shapeAlpha') });
  });
});

describe('orthogonal Procrustes distance', () => {
  it('equals scipy.linalg.orthogonal_procrustes\'s, on equal and unequal widths', async () => {
    const pairs: [ActivationArray, ActivationArray][] = [
      [random(200, 6, 11), random(200, 6, 12)],
      [random(200, 5, 13), random(200, 9, 14)],
      [random(150, 12, 15), random(150, 3, 16)],
    ];
    // Related sides too (far from the distance of unrelated noise): Y = X A + noise.
    const x = random(250, 8, 17), noise = random(250, 8, 18);
    const y = rotated(x, 2, 0.5, 19);
    y.data.forEach((v, k) => (y.data[k] = v + 0.3 * noise.data[k]));
    pairs.push([x, y]);
    const expected = scipy(pairs.map(([a, b]) => ({ x: rows(a), y: rows(b) })));
    const ours = await Promise.all(pairs.map(([a, b]) => similarity(a, b)));
    ours.forEach((r, k) => expect(r.procrustes).toBeCloseTo(expected[k], 9));
    expect(expected[3]).toBeLessThan(expected[0] / 2);  // the related pair is the closer one
  });

  it('is 0 under a rotation, an isotropic scaling and an offset; symmetric; and keeps the triangle inequality', async () => {
    const x = random(300, 7, 21);
    const same = await similarity(x, rotated(x, 3.5, -2, 22));
    expect(same.procrustes).toBeLessThan(1e-6);
    const sides = [0, 1, 2, 3, 4, 5].map((k) => random(120, 4 + (k % 3), 30 + k));
    const pairs: [number, number][] = [];
    for (let i = 0; i < sides.length; i++) for (let j = 0; j < sides.length; j++) if (i !== j) pairs.push([i, j]);
    const batch = await similarityBatch(sides, pairs);
    const d = (i: number, j: number) => batch[pairs.findIndex(([a, b]) => a === i && b === j)].procrustes;
    for (let i = 0; i < sides.length; i++)
      for (let j = 0; j < sides.length; j++) {
        if (i === j) continue;
        expect(d(i, j)).toBeCloseTo(d(j, i), 12);
        for (let k = 0; k < sides.length; k++) if (k !== i && k !== j) expect(d(i, j)).toBeLessThanOrEqual(d(i, k) + d(k, j) + 1e-12);
      }
  });
});

describe('results that say when not to trust them', () => {
  it('flag a pair with fewer than 10 datapoints per live neuron, and give the ratio', async () => {
    const wide = await similarity(random(300, 40, 41), random(300, 20, 42));
    expect(wide).toMatchObject({ datapoints: 300, datapointsPerNeuron: 7.5, reliable: false });
    const tall = await similarity(random(400, 40, 43), random(400, 20, 44));
    expect(tall).toMatchObject({ datapointsPerNeuron: 10, reliable: true });
    // A constant neuron is not a neuron the datapoints have to cover.
    const x = random(95, 10, 45);
    for (let i = 0; i < 95; i++) x.data[i * 10 + 3] = 1;
    expect(await similarity(x, random(95, 9, 46))).toMatchObject({ deadNeurons: [1, 0], datapointsPerNeuron: 95 / 9, reliable: true });
  });

  it('compareModels leaves out a stage it was not asked for with too few datapoints, naming it, and refuses one asked for', async () => {
    const { createModel, generateRetina, compareModels } = await import('../../src');
    const data = await generateRetina({ count: 24, size: 32, seed: 1 });
    const a = createModel('cbr-largew', { seed: 1 }), b = createModel('cbr-largew', { seed: 2 });
    try {
      const all = await compareModels(a, b, data, { maxDatapoints: 3000, seed: 5 });
      expect(all.skipped.length).toBeGreaterThan(0);
      for (const s of all.skipped) expect(s.reason).toMatch(/CCA needs more datapoints than neurons, but "cbr-largew" \(models\[0\]\) at \w+ has \d+ datapoints for \d+ live neurons/);
      expect(all.map((r) => r.stage)).toEqual(expect.arrayContaining(['layer1']));
      expect(all.every((r) => typeof r.reliable === 'boolean' && r.datapointsPerNeuron > 1)).toBe(true);
      // One image of 16 px: the top stages are 1x1 maps whose neurons are all constant over one datapoint; left out
      // and named too, not an error for the whole call.
      const one = await generateRetina({ count: 1, size: 16, seed: 2 });
      try {
        const few = await compareModels(a, b, one);
        expect(few.skipped.map((x) => x.reason).join('\n')).toMatch(/is constant: no similarity is defined|CCA needs more datapoints than neurons/);
        expect(few.length + few.skipped.length).toBe(a.info().stages.length);
      } finally {
        one.dispose();
      }
      const named = all.skipped[0].stage;
      await expect(compareModels(a, b, data, { stages: [named], maxDatapoints: 3000, seed: 5 })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARG',
        message: expect.stringContaining(`at ${named} has`),
      });
    } finally {
      [a, b, data].forEach((h) => h.dispose());
    }
  });
});

describe('minibatch CKA over every stage of two models', () => {
  /** Kornblith et al.'s feature-space debiased linear CKA (their Demo's feature_space_linear_cka(debiased=True)). */
  function debiasedCka(x: number[][], y: number[][]): number {
    const n = x.length;
    const centred = (m: number[][]) => {
      const mean = m[0].map((_, j) => m.reduce((s, r) => s + r[j], 0) / n);
      return m.map((r) => r.map((v, j) => v - mean[j]));
    };
    const gram = (m: number[][]) => m.map((r) => m.map((s) => r.reduce((acc, v, j) => acc + v * s[j], 0)));
    const kx = gram(centred(x)), ky = gram(centred(y));
    const dot = (a: number[][], b: number[][]) => a.reduce((s, r, i) => s + r.reduce((t, v, j) => t + v * b[i][j], 0), 0);  // ||X^T Y||_F^2
    const rows = (k: number[][]) => k.map((r, i) => r[i]);
    const debias = (xty: number, rx: number[], ry: number[]) => {
      const nx = rx.reduce((s, v) => s + v, 0), ny = ry.reduce((s, v) => s + v, 0);
      return xty - (n / (n - 2)) * rx.reduce((s, v, i) => s + v * ry[i], 0) + (nx * ny) / ((n - 1) * (n - 2));
    };
    const rx = rows(kx), ry = rows(ky);
    return debias(dot(kx, ky), rx, ry) / Math.sqrt(debias(dot(kx, kx), rx, rx) * debias(dot(ky, ky), ry, ry));
  }

  it('equals the full data\'s debiased CKA with one batch, is 1 for a model and its copy, and averages over batches', async () => {
    const { createModel, generateRetina, minibatchCka } = await import('../../src');
    const data = await generateRetina({ count: 24, size: 32, seed: 3 });
    const a = createModel('cbr-tiny', { seed: 1 }), twin = createModel('cbr-tiny', { seed: 1 }), b = createModel('cbr-tiny', { seed: 2 });
    try {
      const whole = await minibatchCka(a, b, data, { batchSize: 24 });
      expect(whole).toMatchObject({ stagesA: a.info().stages, stagesB: b.info().stages, batches: 1, images: 24 });
      const images = data.images();
      const flat = async (m: typeof a, stage: string) => {
        const t = await m.forward(images, { stage });
        const p = t.data.length / 24;
        return Array.from({ length: 24 }, (_, i) => Array.from(t.data.subarray(i * p, (i + 1) * p)));
      };
      for (const [i, j] of [[0, 0], [1, 2], [2, 1]]) {
        const expected = debiasedCka(await flat(a, whole.stagesA[i]), await flat(b, whole.stagesB[j]));
        expect(whole.values[i][j]).toBeCloseTo(expected, 8);
      }
      const self = await minibatchCka(a, twin, data, { batchSize: 8, stagesA: ['layer1', 'layer2'], stagesB: ['layer1', 'layer2'] });
      expect(self).toMatchObject({ stagesA: ['layer1', 'layer2'], batches: 3, images: 24 });
      expect(self.values[0][0]).toBeCloseTo(1, 10);
      expect(self.values[1][1]).toBeCloseTo(1, 10);
      expect(self.values[0][1]).toBeLessThan(1);
      // A last batch under 4 images is left out: 24 in batches of 22 leaves 2, which are not used.
      expect(await minibatchCka(a, b, data, { batchSize: 22 })).toMatchObject({ batches: 1, images: 22 });
      await expect(minibatchCka(a, b, data, { batchSize: 3 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringContaining('Expected `batchSize` to be an integer in [4,') });
      await expect(minibatchCka(a, b, data, { stagesA: ['conv9'] })).rejects.toThrow('Model "cbr-tiny" (a) has no stage "conv9"');
      await expect(minibatchCka(a, a, data)).rejects.toThrow('a and b are the same model');
    } finally {
      [a, twin, b, data].forEach((h) => h.dispose());
    }
  });
});
