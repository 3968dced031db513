// Issue 30's library calls: interpolation between two models, stage criticality, k-NN evaluation per stage.
import { auc, createDataset, createModel, evaluate, generateRetina, interpolate, knnEvaluate, stageCriticality, train, type Dataset, type Model, type ModelName } from '../../src';
import { addon } from '../../src/runtime';
import { spreadImages } from '../../src/experiments/transfer-analyses';

describe('what is transferred: the library calls', () => {
  let trainSet: Dataset, val: Dataset;
  const models: Model[] = [];
  const made = (seed: number, name = 'cbr-tiny') => {
    const m = createModel(name as ModelName, { seed, numClasses: 1 });
    models.push(m);
    return m;
  };
  const trained = async (seed: number) => {
    const m = made(seed);
    await train(m, { train: trainSet, val }, { steps: 6, batchSize: 16, optimizer: 'sgd', schedule: { kind: 'constant', lr: 0.05 }, seed });
    return m;
  };
  beforeAll(async () => {
    [trainSet, val] = await Promise.all([generateRetina({ count: 96, size: 32, seed: 1 }), generateRetina({ count: 64, size: 32, seed: 2 })]);
  });
  afterAll(() => [...models, trainSet, val].forEach((h) => h.dispose()));

  it('interpolates: the ends are the models themselves, a model against its copy is flat, and weights mix linearly', async () => {
    const a = await trained(1), b = await trained(2);
    const plain = await interpolate(a, b, { train: trainSet, val }, { bnBatches: 0 });
    expect(plain.points.map((p) => p.alpha)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(plain.bnImages).toBe(0);
    const [ea, eb] = [await evaluate(a, val), await evaluate(b, val)];
    expect(plain.points[0]).toEqual({ alpha: 0, loss: ea.loss, auc: ea.meanAuc });
    expect(plain.points[10]).toEqual({ alpha: 1, loss: eb.loss, auc: eb.meanAuc });
    expect(plain.barrier.loss).toBeGreaterThanOrEqual(0);
    // The barrier is the largest rise above the line between the ends, read from the points themselves.
    const line = (p: { alpha: number }) => (1 - p.alpha) * ea.loss! + p.alpha * eb.loss!;
    expect(plain.barrier.loss).toBeCloseTo(Math.max(0, ...plain.points.map((p) => p.loss! - line(p))), 12);

    // BatchNorm recomputed at every point from the same training minibatches: a model and its copy give a flat line.
    const copy = made(1);
    addon().copyStages(copy.native, a.native, a.info().stages);
    const flat = await interpolate(a, copy, { train: trainSet, val }, { bnBatches: 2, batchSize: 16, alphas: [0, 0.3, 0.5, 1] });
    expect(flat.bnImages).toBe(32);
    for (const p of flat.points) expect(p).toEqual({ ...flat.points[0], alpha: p.alpha });
    expect(flat.barrier).toEqual({ loss: 0, auc: 0 });

    // Halfway, every floating-point parameter and buffer is the mean of the two models'.
    const half = made(9);
    addon().interpolateWeights(half.native, a.native, b.native, 0.5);
    for (const name of ['layer1.conv.weight', 'layer1.bn.running_var', 'head.bias']) {
      const [x, y, h] = [a, b, half].map((m) => m.getParameter(name).data);
      h.forEach((v, i) => expect(v).toBeCloseTo(0.5 * x[i] + 0.5 * y[i], 6));
    }
    await expect(interpolate(a, made(3, 'cbr-small'), { train: trainSet, val })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringContaining('same architecture') });
    await expect(interpolate(a, b, { train: trainSet, val }, { alphas: [0, 1.5] })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
  }, 120_000);

  it('resets each stage: one that never moved changes nothing, and re-drawing differs from re-initialising', async () => {
    const initial = made(4);
    // "Trained" here: the initial weights with only the classifier moved, so every conv stage never moved.
    const moved = made(4);
    const head = moved.getParameter('head.weight');
    moved.setParameter('head.weight', { data: head.data.map((v, i) => v + (i % 2 ? 0.3 : -0.3)), shape: head.shape });
    const seen: string[] = [];
    const r = await stageCriticality(moved, initial, val, { stages: ['layer1', 'layer4', 'head'], onProgress: (e) => seen.push(`${e.stage} ${e.done}/${e.total}`) });
    expect(seen).toEqual(['layer1 1/3', 'layer4 2/3', 'head 3/3']);
    expect(r.stages.map((s) => s.stage)).toEqual(['layer1', 'layer4', 'head']);
    expect(r.stages[0].reinitialised).toBe(r.auc);
    expect(r.stages[1].reinitialised).toBe(r.auc);
    expect(r.stages[2].reinitialised).toBe((await evaluate(initial, val)).meanAuc);
    expect(r.stages[1].rerandomised).not.toBe(r.auc);
    // The noise-free path: a stage that never moved keeps the AUC at its initial weights (alpha 0); any stage keeps it
    // at its trained weights (alpha 1), so every stage has one. Module criticality: a stage that never moved travelled
    // no distance and scores 0.
    for (const s of r.stages.slice(0, 2)) expect(s).toMatchObject({ pathAlpha: 0, distance: 0, criticality: 0, criticalAlpha: 0 });
    for (const s of r.stages) expect(s.pathAlpha).toBeGreaterThanOrEqual(0);
    expect(r.stages[2].distance).toBeCloseTo(0.3 * Math.sqrt(head.data.length), 5);
    expect(r.loss).toBe((await evaluate(moved, val)).loss);
    await expect(stageCriticality(moved, initial, val, { alphas: [0.5, 0.2] })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
    // The model handed in is left as it was.
    expect(Array.from(moved.getParameter('head.weight').data)).toEqual(Array.from(head.data.map((v, i) => v + (i % 2 ? 0.3 : -0.3))));
    await expect(stageCriticality(moved, initial, val, { stages: ['conv9'] })).rejects.toThrow('has no stage "conv9"');
  }, 120_000);

  it('module criticality: perturbations are seeded and sized, and the grid is searched in order of its score', async () => {
    // perturbStages: sigma 0 changes nothing; one seed gives one draw; the noise's spread is sigma; only the stage.
    const base = made(6), a = made(6), b = made(6);
    const values = (m: Model, name = 'layer2.conv.weight') => Array.from(m.getParameter(name).data);
    expect(addon().perturbStages(a.native, ['layer2'], 0, 5)).toBeGreaterThan(0);
    expect(values(a)).toEqual(values(base));
    addon().perturbStages(a.native, ['layer2'], 0.01, 5);
    addon().perturbStages(b.native, ['layer2'], 0.01, 5);
    expect(values(a)).toEqual(values(b));
    const before = values(base);
    const noise = values(a).map((v, i) => v - before[i]);
    const rms = Math.sqrt(noise.reduce((t, x) => t + x * x, 0) / noise.length);
    expect(rms).toBeGreaterThan(0.009);
    expect(rms).toBeLessThan(0.011);
    expect(values(a, 'layer1.conv.weight')).toEqual(values(base, 'layer1.conv.weight'));
    expect(values(a, 'layer2.bn.running_var')).toEqual(values(base, 'layer2.bn.running_var'));  // buffers untouched
    // The distance: every parameter of the stage (the conv's weight, BatchNorm's weight and bias).
    const squared = ['layer2.conv.weight', 'layer2.bn.weight', 'layer2.bn.bias'].reduce((t, name) => {
      const x = values(a, name), y = values(base, name);
      return t + x.reduce((u, v, i) => u + (v - y[i]) ** 2, 0);
    }, 0);
    expect(addon().stageDistance(a.native, base.native, ['layer2'])).toBeCloseTo(squared, 6);
    expect(() => addon().perturbStages(a.native, ['conv9'], 0.1, 1)).toThrow('has no stage "conv9"');
    expect(() => addon().perturbStages(a.native, ['layer2'], -1, 1)).toThrow('sigma');

    // With noise of 1e-6 (none, in effect) and of 10 (ruin), the search is the noise-free walk along the path: every
    // sigma = 10 point scores below every alpha > 0 at 1e-6, and fails; so the first point kept is the first alpha
    // whose weights, noise-free, keep the loss within rtol, found here by walking the path with the addon directly.
    const initial = made(7), final = made(7);
    await train(final, { train: trainSet, val }, { steps: 60, batchSize: 16, optimizer: 'sgd', schedule: { kind: 'constant', lr: 0.02 }, seed: 7 });
    const alphas = [0, 0.25, 0.5, 0.75, 1], rtol = 1.01, end = (await evaluate(final, trainSet)).loss!;
    const walk = made(8);
    const firstKept = async (stage: string) => {
      for (const alpha of alphas) {
        addon().interpolateWeights(walk.native, initial.native, final.native, alpha);
        addon().copyStages(walk.native, final.native, final.info().stages.filter((s) => s !== stage));
        if ((await evaluate(walk, trainSet)).loss! <= rtol * end) return alpha;
      }
      return -1;
    };
    // The stage checked: the first whose initial weights do not keep the training loss.
    let stage = '', expected = 0;
    for (const s of final.info().stages) if (!stage && (expected = await firstKept(s)) > 0) stage = s;
    const r = await stageCriticality(final, initial, val, { stages: [stage], alphas, sigmas: [1e-6, 10], samples: 1, rtol, lossData: trainSet });
    expect(r.loss).toBe(end);
    const d = addon().stageDistance(final.native, initial.native, [stage]);
    expect(expected).toBeGreaterThan(0);
    expect(r.stages[0]).toMatchObject({ criticalAlpha: expected, criticalSigma: 1e-6 });
    expect(r.stages[0].criticality! / ((expected / 1e-6) ** 2 * d)).toBeCloseTo(1, 10);
    // Evaluated: alpha 0 at 1e-6 (failed; 10 then skipped), every alpha > 0 at 10, and the path up to `expected`.
    expect(r.evaluations).toBe(1 + (alphas.length - 1) + alphas.indexOf(expected));
    await expect(stageCriticality(final, initial, val, { sigmas: [0.1, 0.01] })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringContaining('sigmas') });
    await expect(stageCriticality(final, initial, val, { rtol: 0.5 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringContaining('rtol') });
  }, 120_000);

  it('module criticality in studies reads its loss on images spread evenly through the training set', () => {
    const d = createDataset({ images: { data: Float32Array.from({ length: 10 * 3 * 2 * 2 }, (_, i) => Math.floor(i / 12)), shape: [10, 3, 2, 2] }, targets: Float32Array.from([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]), task: 'binary' });
    const s = spreadImages(d, 5)!;
    expect(s.count).toBe(5);
    expect(Array.from(s.targets())).toEqual([0, 0, 0, 1, 1]);
    expect(Array.from(s.images().data.filter((_, i) => i % 12 === 0))).toEqual([0, 2, 4, 6, 8]);
    expect(spreadImages(d, 10)).toBeUndefined();
    [s, d].forEach((x) => x.dispose());
  });

  it('k-NN per stage equals the same vote written here from the stage outputs', async () => {
    const m = await trained(5);
    const k = 10, temperature = 0.1;
    const r = await knnEvaluate(m, trainSet, val, { k, temperature, stages: ['layer2', 'head'] });
    expect(r).toMatchObject({ k, bank: 96, queries: 64 });
    const pooled = async (d: Dataset, stage: string) => {
      const t = await m.forward(d.images(), { stage });
      const [n, c] = t.shape, per = t.data.length / n / c;
      return Array.from({ length: n }, (_, i) => {
        const v = Array.from({ length: c }, (_, j) => {
          let s = 0;
          for (let q = 0; q < per; q++) s += t.data[(i * c + j) * per + q];
          return s / per;
        });
        const norm = Math.hypot(...v);
        return v.map((x) => x / norm);
      });
    };
    const labels = trainSet.targets(), truth = val.targets();
    for (const [s, stage] of ['layer2', 'head'].entries()) {
      const [bank, queries] = [await pooled(trainSet, stage), await pooled(val, stage)];
      const scores = queries.map((q) => {
        const sims = bank.map((b, i) => ({ sim: b.reduce((acc, x, j) => acc + x * q[j], 0), i })).sort((x, y) => y.sim - x.sim).slice(0, k);
        const w = sims.map((x) => Math.exp(x.sim / temperature));
        return sims.reduce((acc, x, j) => acc + w[j] * labels[x.i], 0) / w.reduce((acc, x) => acc + x, 0);
      });
      expect(r.stages[s].stage).toBe(stage);
      expect(r.stages[s].meanAuc).toBeCloseTo(auc(scores, Array.from(truth)), 4);
    }
    await expect(knnEvaluate(m, trainSet, val, { k: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
  }, 120_000);
});
