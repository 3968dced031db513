import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { getThreads, readNpy, similarity, similarityBatch, reusedMemoryBytes, type ActivationArray } from '../../src';
import { referenceCca } from '../helpers/cca-reference';
import { runFixture } from '../helpers/python';
import { tempDir } from '../helpers/tmp';

const REFERENCE = path.resolve(__dirname, '../reference/cca');
const cases = JSON.parse(fs.readFileSync(path.join(REFERENCE, 'cases.json'), 'utf8')).cases as {
  name: string; a: string; b: string; layout: string;
  expected: { cca_coefficients: number[]; mean_cca: number; svcca_mean: number; svcca_kept: [number, number]; pwcca: number; linear_cka: number };
}[];
const dir = tempDir('similarity');

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (1664525 * s + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}
function randomArray(rows: number, cols: number, seed: number, mix?: { from: ActivationArray; weight: number }): ActivationArray {
  const r = lcg(seed);
  const data = new Float64Array(rows * cols).map((_, i) => r() + (mix ? mix.weight * mix.from.data[((i % cols) % mix.from.shape[1]) + Math.floor(i / cols) * mix.from.shape[1]] : 0));
  return { data, shape: [rows, cols] };
}
const rows = (a: ActivationArray) => Array.from({ length: a.shape[0] }, (_, i) => Array.from(a.data.subarray(i * a.shape[1], (i + 1) * a.shape[1])));

/** Waits (up to 8 s) until the addon keeps no released blocks: 3 s after the last job or batch ends. */
async function cacheEmptied(): Promise<void> {
  const deadline = Date.now() + 8000;
  while (reusedMemoryBytes() > 0 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 250));
}

describe('the similarity engine against the reference cases (within 1e-6)', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const [a, b] = await Promise.all([readNpy(path.join(REFERENCE, c.a)), readNpy(path.join(REFERENCE, c.b))]);
    const r = await similarity(a, b, { layout: c.layout === 'NCHW' ? 'nchw' : 'datapoints-first' });
    const e = c.expected;
    // The reference file keeps google/svcca's snake_case names; the engine's results are camelCase.
    expect(r.ccaCoefficients).toHaveLength(e.cca_coefficients.length);
    r.ccaCoefficients.forEach((v, i) => expect(Math.abs(v - e.cca_coefficients[i])).toBeLessThan(1e-6));
    for (const [k, ref] of [['meanCca', 'mean_cca'], ['svccaMean', 'svcca_mean'], ['pwcca', 'pwcca'], ['linearCka', 'linear_cka']] as const)
      expect(Math.abs(r[k] - e[ref])).toBeLessThan(1e-6);
    expect(r.svccaKept).toEqual(e.svcca_kept);
  });

  it('drops constant neurons and says so, never a NaN', async () => {
    const c = cases.find((x) => x.name.startsWith('dead_neurons'))!;
    const [a, b] = await Promise.all([readNpy(path.join(REFERENCE, c.a)), readNpy(path.join(REFERENCE, c.b))]);
    const r = await similarity(a, b);
    expect(r.deadNeurons).toEqual([1, 1]);
    const { route, work: _work, ...numbers } = r;
    expect(route).toMatch(/^gram\//);
    const { reliable, ...values } = numbers;
    expect(typeof reliable).toBe('boolean');
    expect(Object.values(values).flat().every((v) => v === null || Number.isFinite(v))).toBe(true);
  });
});

describe('the similarity engine', () => {
  it('agrees with a plain TypeScript CCA (ml-matrix) on random inputs', async () => {
    // 5000 datapoints: the product over datapoints splits into blocks (one per thread) summed at the end.
    for (const [n, p, q, seed] of [[300, 12, 8, 1], [500, 20, 25, 2], [120, 5, 5, 3], [5000, 37, 21, 4]]) {
      const a = randomArray(n, p, seed);
      const b = randomArray(n, q, seed + 100, { from: a, weight: 0.8 });
      const r = await similarity(a, b);
      const ref = referenceCca(rows(a), rows(b));
      ref.coefficients.forEach((v, i) => expect(r.ccaCoefficients[i]).toBeCloseTo(v, 8));
      expect(r.meanCca).toBeCloseTo(ref.mean, 8);
      expect(r.linearCka).toBeCloseTo(ref.linearCka, 8);
      expect(r.route).toMatch(/^gram\/(avx512|avx2)(\/mc\d+)?$|^gram\/blas$/);
    }
  });

  it("gives the notes' CKA values for numpy seed 1337 (linear 0.55761, debiased 0.51346)", async () => {
    runFixture('cka_reference.py', [dir]);
    const r = await similarity(await readNpy(path.join(dir, 'x.npy')), await readNpy(path.join(dir, 'y.npy')));
    expect(r.linearCka).toBeCloseTo(0.55761, 5);
    expect(r.debiasedLinearCka).toBeCloseTo(0.51346, 5);
  });

  it('reads neurons-first arrays (svcca convention) to the same result', async () => {
    const a = randomArray(200, 6, 7), b = randomArray(200, 4, 8, { from: a, weight: 1 });
    const t = (x: ActivationArray): ActivationArray => {
      const [n, p] = x.shape;
      const data = new Float64Array(n * p);
      for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) data[j * n + i] = x.data[i * p + j];
      return { data, shape: [p, n] };
    };
    const [r1, r2] = await Promise.all([similarity(a, b), similarity(t(a), t(b), { layout: 'neurons-first' })]);
    r1.ccaCoefficients.forEach((v, i) => expect(r2.ccaCoefficients[i]).toBeCloseTo(v, 10));
  });

  it('batches pairs over shared inputs with the same results as one call each', async () => {
    const inputs = [randomArray(400, 10, 11), randomArray(400, 8, 12), randomArray(400, 6, 13)];
    const events: number[] = [];
    const batch = await similarityBatch(inputs, [[0, 1], [0, 2], [1, 2]], { onProgress: (e) => events.push(e.done) });
    expect(events).toEqual([1, 2, 3]);
    const single = await Promise.all([similarity(inputs[0], inputs[1]), similarity(inputs[0], inputs[2]), similarity(inputs[1], inputs[2])]);
    batch.forEach((r, k) => expect(r.meanCca).toBeCloseTo(single[k].meanCca, 12));
  });

  it('prepares an activation shared by many pairs once: 3 models x 2 layers, every pair of a layer, as pair by pair', async () => {
    // layers[l][m]: model m's activations at layer l (the same datapoints for every model).
    const layers = [0, 1].map((l) => [0, 1, 2].map((m) => randomArray(300, 6 + 2 * l, 100 + 10 * l + m)));
    const inputs = layers.flat();
    const pairs: [number, number][] = [];
    for (let l = 0; l < 2; l++) for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) pairs.push([3 * l + i, 3 * l + j]);
    const batch = await similarityBatch(inputs, pairs);
    expect(batch[0].work).toMatchObject({ prepared: 6, products: 6 + 6, gramFlops: expect.any(Number), seconds: expect.any(Number) });
    batch.forEach((r) => expect(r.work.prepared).toBe(6));
    const single = await Promise.all(pairs.map(([i, j]) => similarity(inputs[i], inputs[j])));
    expect(single[0].work).toMatchObject({ prepared: 2, products: 3 });
    batch.forEach((r, k) => {
      expect(r.meanCca).toBeCloseTo(single[k].meanCca, 12);
      expect(r.pwcca).toBeCloseTo(single[k].pwcca, 12);
      expect(r.linearCka).toBeCloseTo(single[k].linearCka, 12);
    });
    // The same arrays listed once per pair (as a loop over pairs would list them) are still prepared once each.
    const repeated = await similarityBatch(pairs.flatMap(([i, j]) => [inputs[i], { data: inputs[j].data, shape: [...inputs[j].shape] }]),
      pairs.map((_, k) => [2 * k, 2 * k + 1]));
    expect(repeated[0].work).toMatchObject({ prepared: 6, products: 12 });
    repeated.forEach((r, k) => expect(r.meanCca).toBe(batch[k].meanCca));
    // The Gram products' flops: 6 symmetric X^T X (n p (p + 1)) and 6 cross products (2 n p q).
    expect(batch[0].work.gramFlops).toBe(300 * (3 * 6 * 7 + 3 * 8 * 9) + 2 * 300 * (3 * 6 * 6 + 3 * 8 * 8));
  });

  it('says where the threads\' time went: every phase and each metric, summing to the wall time x the threads', async () => {
    const inputs = [0, 1, 2].map((m) => randomArray(2000, 40, 300 + m));
    const [r] = await similarityBatch(inputs, [[0, 1], [0, 2], [1, 2]], { metrics: ['meanCca', 'linearCka'] });
    const { phases, seconds, threads } = r.work;
    expect(threads).toBe(getThreads());
    expect(Object.keys(phases).sort()).toEqual(['centre', 'factorise', 'gram', 'idle', 'input', 'metric:linearCka', 'metric:meanCca']);
    Object.values(phases).forEach((s) => expect(s).toBeGreaterThanOrEqual(0));
    expect(phases.gram).toBe(r.work.gramThreadSeconds);
    const total = Object.values(phases).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(seconds * threads, 6);
    expect(phases.gram + phases.centre + phases.factorise).toBeGreaterThan(0);
    // Linear CKA alone needs no factorisation: nothing is charged to it.
    const [cka] = await similarityBatch(inputs, [[0, 1]], { metrics: ['linearCka'] });
    expect(Object.keys(cka.work.phases)).not.toContain('factorise');
  });

  it('keeps a batch\'s large blocks for a batch started within 3 s, with the same results, then gives them back', async () => {
    // 20,000 x 64 float32 inputs: 5 MB each as the addon copies them, 10 MB centred in float64 (blocks of >= 1 MB).
    const inputs = [0, 1, 2].map((k) => {
      const r = lcg(900 + k);
      return { data: Float32Array.from({ length: 20000 * 64 }, r), shape: [20000, 64] };
    });
    const pairs: [number, number][] = [[0, 1], [0, 2], [1, 2]];
    // The kept blocks are the process's: a test file run before this one in the same jest worker (a training job's
    // tensors) may have left some, given back 3 s after. Measure this batch's from none kept.
    await cacheEmptied();
    const first = await similarityBatch(inputs, pairs);
    const kept = reusedMemoryBytes();
    expect(kept).toBeGreaterThanOrEqual(3 * 20000 * 64 * 4);  // at least the three inputs' copies
    expect(kept).toBeLessThanOrEqual(2 ** 30);
    const second = await similarityBatch(inputs, pairs);  // on the kept blocks, which hold the first batch's data
    second.forEach((r, k) => {
      expect(r.meanCca).toBe(first[k].meanCca);
      expect(r.pwcca).toBe(first[k].pwcca);
      expect(r.debiasedLinearCka).toBe(first[k].debiasedLinearCka);
    });
    await cacheEmptied();
    expect(reusedMemoryBytes()).toBe(0);
  }, 30000);

  it('keeps an input for a pair far down the list, and names a bad input among many', async () => {
    const inputs = [0, 1, 2, 3, 4, 5].map((k) => randomArray(200, 5, 40 + k));
    const pairs: [number, number][] = [[0, 1], [2, 3], [4, 5], [1, 2], [3, 4], [5, 0]];
    const events: number[] = [];
    const batch = await similarityBatch(inputs, pairs, { onProgress: (e) => events.push(e.done) });
    expect(events).toEqual([1, 2, 3, 4, 5, 6]);
    expect(batch[0].work).toMatchObject({ prepared: 6, products: 12 });
    const single = await Promise.all(pairs.map(([i, j]) => similarity(inputs[i], inputs[j])));
    batch.forEach((r, k) => expect(r.meanCca).toBeCloseTo(single[k].meanCca, 12));
    const bad = { data: Float64Array.from(inputs[5].data), shape: [200, 5] };
    bad.data[7] = NaN;
    await expect(similarityBatch([...inputs.slice(0, 5), bad], pairs)).rejects.toThrow('The activations of input 5 contain NaN or Inf');
  });

  it('names empty activations (no neurons or no datapoints) with ERR_INVALID_ARG, in every entry point, never crashing', () => {
    // Each case in its own process: before the check, (200, 0) read past an empty variance vector (SIGSEGV).
    const child = `
      const { similarity, similarityBatch } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'dist', 'src'))});
      const [shape, layout, batch] = JSON.parse(process.argv[1]);
      const empty = { data: new Float32Array(0), shape };
      const full = { data: Float32Array.from({ length: 800 }, (_, i) => Math.sin(i)), shape: [200, 4] };
      (batch ? similarityBatch([empty, full], [[0, 1]]) : similarity(empty, empty, { layout }))
        .then(() => console.log('{}'), (e) => console.log(JSON.stringify({ code: e.code, message: e.message })));`;
    const cases: [number[], string, boolean, string][] = [
      [[200, 0], 'datapoints-first', false, '200 datapoints x 0 neurons'],
      [[0, 200], 'neurons-first', false, '200 datapoints x 0 neurons'],
      [[0, 4], 'datapoints-first', false, '0 datapoints x 4 neurons'],
      [[0, 0], 'datapoints-first', false, '0 datapoints x 0 neurons'],
      [[200, 0], 'datapoints-first', true, '200 datapoints x 0 neurons'],
    ];
    for (const [shape, layout, batch, size] of cases) {
      const r = spawnSync(process.execPath, ['-e', child, JSON.stringify([shape, layout, batch])], { encoding: 'utf8' });
      expect({ signal: r.signal, status: r.status, stderr: r.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
      expect(JSON.parse(r.stdout)).toEqual({ code: 'ERR_INVALID_ARG', message: `The activations of input 0 are empty (${size}): no similarity is defined` });
    }
  });

  it('reads float32 and float64 arrays of the same values to the same result', async () => {
    const a = randomArray(500, 12, 21), b = randomArray(500, 9, 22, { from: a, weight: 0.5 });
    const f32 = (x: ActivationArray): ActivationArray => ({ data: Float32Array.from(x.data), shape: x.shape });
    const wide = await similarity({ data: Float64Array.from(f32(a).data), shape: a.shape }, { data: Float64Array.from(f32(b).data), shape: b.shape });
    const narrow = await similarity(f32(a), f32(b));
    expect(narrow.meanCca).toBe(wide.meanCca);
    expect(narrow.ccaCoefficients).toEqual(wide.ccaCoefficients);
    expect(narrow.debiasedLinearCka).toBe(wide.debiasedLinearCka);
  });

  it('subsamples conv positions with a seed, the same positions on both sides, and reports how many', async () => {
    const c = cases.find((x) => x.layout === 'NCHW')!;
    const [a, b] = await Promise.all([readNpy(path.join(REFERENCE, c.a)), readNpy(path.join(REFERENCE, c.b))]);
    const [r1, r2, r3] = await Promise.all([
      similarity(a, b, { layout: 'nchw', subsample: 600, seed: 1 }),
      similarity(a, b, { layout: 'nchw', subsample: 600, seed: 1 }),
      similarity(a, b, { layout: 'nchw', subsample: 600, seed: 2 }),
    ]);
    expect(r1.datapoints).toBe(600);
    expect(r1.meanCca).toBe(r2.meanCca);
    expect(r1.meanCca).not.toBe(r3.meanCca);
    expect(Math.abs(r1.meanCca - c.expected.mean_cca)).toBeLessThan(0.05);  // a subsample estimates the full value
  });

  it('fails clearly on bad input', async () => {
    const a = randomArray(50, 4, 1);
    const nan = { data: Float64Array.from(a.data, (v, i) => (i === 7 ? NaN : v)), shape: a.shape };
    await expect(similarity(nan, a)).rejects.toThrow('The activations of input 0 contain NaN or Inf');
    // Finite but so large their variance overflows: named as such, not as constant neurons (issue 28).
    const huge = { data: Float64Array.from(a.data, (v) => v * 1e200), shape: a.shape };
    const overflow = { code: 'ERR_NUMERICS', message: 'The activations of input 1 are too large: their variance overflows float64 (values beyond ~1e154); rescale them' };
    await expect(similarity(a, huge)).rejects.toMatchObject(overflow);
    await expect(similarity(a, randomArray(60, 4, 2))).rejects.toThrow('The two activation sets must share their datapoints, but have 50 and 60');
    await expect(similarity(randomArray(10, 20, 3), randomArray(10, 4, 4))).rejects.toThrow(/CCA needs more datapoints than neurons, but input 0 has 10 datapoints for 20 live neurons/);
    await expect(similarity(a, { data: new Float64Array(5), shape: [50, 4] })).rejects.toThrow('The shape of input 1 [50, 4] needs 200 values but the data has 5');
    await expect(similarity(a, a, { layout: 'nchw' })).rejects.toThrow('Expected input 0 to be 4-D (N, C, H, W) for layout "nchw"');
  });

  it('reads .npy v1 files and names what it cannot read', async () => {
    const header = (descr: string, fortran: string, shape: string) => {
      let h = `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
      h += ' '.repeat(64 - ((10 + h.length + 1) % 64)) + '\n';
      const b = Buffer.alloc(10);
      b.write('\x93NUMPY', 0, 'latin1');
      b[6] = 1;
      b.writeUInt16LE(h.length, 8);
      return Buffer.concat([b, Buffer.from(h, 'latin1')]);
    };
    const ok = path.join(dir, 'ok.npy');
    fs.writeFileSync(ok, Buffer.concat([header('<f4', 'False', '(2, 3)'), Buffer.from(new Float32Array([1, 2, 3, 4, 5, 6]).buffer)]));
    const read = await readNpy(ok);
    expect([Object.prototype.toString.call(read.data), Array.from(read.data), read.shape]).toEqual(['[object Float32Array]', [1, 2, 3, 4, 5, 6], [2, 3]]);
    const bad = (name: string, bytes: Buffer) => {
      fs.writeFileSync(path.join(dir, name), bytes);
      return readNpy(path.join(dir, name));
    };
    await expect(bad('int.npy', Buffer.concat([header('<i8', 'False', '(2,)'), Buffer.alloc(16)]))).rejects.toThrow('dtype <i8 is not supported (activations are float32 or float64, little-endian)');
    // One message whatever the dtype and whichever check meets it first (issue 28: the two disagreed).
    for (const dtype of ['|i1', '<c8', '<u2', '|b1'])
      await expect(bad('d.npy', Buffer.concat([header(dtype, 'False', '(2,)'), Buffer.alloc(16)]))).rejects.toThrow(`dtype ${dtype} is not supported (activations are float32 or float64, little-endian)`);
    // Fortran order (np.save(x.T) writes it) is read into C order, as np.load presents it (issue 31): x = [[1,2,3],[4,5,6]]
    // stored column by column, and a 2x3x2 array likewise.
    const f2 = await bad('fortran.npy', Buffer.concat([header('<f8', 'True', '(2, 3)'), Buffer.from(new Float64Array([1, 4, 2, 5, 3, 6]).buffer)]));
    expect([Array.from(f2.data), f2.shape]).toEqual([[1, 2, 3, 4, 5, 6], [2, 3]]);
    const c3 = Array.from({ length: 12 }, (_, i) => i);  // C order: element [a][b][c] = 6a + 2b + c
    const fortran3 = [0, 1, 2].flatMap((c) => c < 2 ? [0, 1, 2].flatMap((b) => [0, 1].map((a) => 6 * a + 2 * b + c)) : []);  // a fastest, then b, then c
    const f3 = await bad('fortran3.npy', Buffer.concat([header('<f4', 'True', '(2, 3, 2)'), Buffer.from(new Float32Array(fortran3).buffer)]));
    expect(Array.from(f3.data)).toEqual(c3);
    await expect(bad('short.npy', Buffer.concat([header('<f8', 'False', '(4, 4)'), Buffer.alloc(32)]))).rejects.toThrow('holds 32 data bytes but its shape needs 128 (truncated?)');
    await expect(bad('text.npy', Buffer.from('hello'))).rejects.toMatchObject({ code: 'ERR_BAD_NPY', message: expect.stringContaining('text.npy') });
  });
});

describe('the cca command', () => {
  const bin = path.resolve(__dirname, '../../bin/transfusion-native.js');
  it('prints the metrics under the library\'s camelCase names as JSON', () => {
    const c = cases[0];
    const r = spawnSync(process.execPath, [bin, 'cca', path.join(REFERENCE, c.a), path.join(REFERENCE, c.b), '--json'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out).sort()).toEqual(['ccaCoefficients', 'linearCka', 'meanCca', 'pwcca', 'svccaMean']);
    expect(Math.abs(out.pwcca - c.expected.pwcca)).toBeLessThan(1e-6);
    const only = spawnSync(process.execPath, [bin, 'cca', path.join(REFERENCE, c.a), path.join(REFERENCE, c.b), '--json', '--metrics', 'linearCka'], { encoding: 'utf8' });
    expect(Object.keys(JSON.parse(only.stdout))).toEqual(['linearCka']);
    // Every metric the library has, the debiased CKA included.
    const debiased = spawnSync(process.execPath, [bin, 'cca', path.join(REFERENCE, c.a), path.join(REFERENCE, c.b), '--json', '--metrics', 'linearCka,debiasedLinearCka'], { encoding: 'utf8' });
    expect(debiased.stderr).toBe('');
    expect(Object.keys(JSON.parse(debiased.stdout))).toEqual(['linearCka', 'debiasedLinearCka']);
    expect(JSON.parse(debiased.stdout).debiasedLinearCka).toEqual(expect.any(Number));
    const bad = spawnSync(process.execPath, [bin, 'cca', path.join(REFERENCE, c.a), path.join(REFERENCE, c.b), '--layout', 'rows'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('Expected `--layout` to be one of "datapoints-first", "neurons-first", "nchw" but received "rows"');
  });
});

describe('compareModels', () => {
  it('finds a model identical to itself at every stage, and random inits different low down', async () => {
    const { createModel, generateRetina, compareModels } = await import('../../src');
    const data = await generateRetina({ count: 64, size: 32, seed: 1 });
    const a = createModel('cbr-small', { seed: 1 }), twin = createModel('cbr-small', { seed: 1 }), other = createModel('cbr-small', { seed: 2 });
    const stages = ['layer1', 'layer2', 'layer4'];
    const same = await compareModels(a, twin, data, { stages, maxDatapoints: 3000, seed: 5 });
    expect(same.map((r) => r.stage)).toEqual(stages);
    same.forEach((r) => expect(r.meanCca).toBeCloseTo(1, 6));
    expect(same[0].datapoints).toBeLessThanOrEqual(3000 + 64);  // the budget, rounded up per batch
    expect(same[0].neurons).toEqual([32, 32]);
    const diff = await compareModels(a, other, data, { stages: ['layer1'], maxDatapoints: 3000, seed: 5 });
    expect(diff[0].meanCca).toBeLessThan(0.99);
    const big = createModel('cbr-largew', { seed: 1 });
    await expect(compareModels(a, big, data, { stages: ['layer1'] })).rejects.toThrow(/Stage "layer1" has output \[64, 64, 16, 16\] in "cbr-largew" but \[64, 32, 16, 16\] in "cbr-small"/);
    await expect(compareModels(a, twin, data, { stages: ['conv1'] })).rejects.toThrow('Model "cbr-small" has no stage "conv1"');
    await expect(compareModels(a, a, data)).rejects.toThrow('models[0] and models[1] are the same model');
    [a, twin, other, big, data].forEach((h) => h.dispose());
  });

  it('compares a set of models pairwise with the same results as one call per pair', async () => {
    const { createModel, generateRetina, compareModels, compareModelSet } = await import('../../src');
    const data = await generateRetina({ count: 48, size: 32, seed: 2 });
    const models = [1, 2, 3].map((seed) => createModel('cbr-tiny', { seed }));
    const stages = ['layer1', 'layer3'];
    const options = { stages, maxDatapoints: 2000, seed: 9 };
    const set = await compareModelSet(models, data, [[0, 1], [1, 2], [0, 2]], options);
    expect(set.map((r) => `${r.stage} ${r.pair.join('-')}`)).toEqual(['layer1 0-1', 'layer1 1-2', 'layer1 0-2', 'layer3 0-1', 'layer3 1-2', 'layer3 0-2']);
    const single = await compareModels(models[1], models[2], data, options);
    expect(set[1].meanCca).toBeCloseTo(single[0].meanCca, 10);
    expect(set[4].pwcca).toBeCloseTo(single[1].pwcca, 10);
    await expect(compareModelSet(models, data, [[0, 3]], options)).rejects.toThrow('A pair refers to model 3 but there are 3');
    [...models, data].forEach((h) => h.dispose());
  });
});
