import * as path from 'node:path';

import { createModel, type Model, type TensorData, type ModelName } from '../../src';
import { gaborBank } from '../../src/init/gabor';
import { applyInit } from '../../src/init/init';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('init');
const same = (a: TensorData, b: TensorData) => a.data.length === b.data.length && a.data.every((v, i) => v === b.data[i]);
const stats = (x: Float32Array) => {
  const n = x.length;
  const mean = x.reduce((a, b) => a + b, 0) / n;
  return { n, mean, std: Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / n) };
};
const correlation = (a: Float32Array, b: Float32Array) => {
  const sa = stats(a), sb = stats(b);
  let c = 0;
  a.forEach((v, i) => (c += (v - sa.mean) * (b[i] - sb.mean)));
  return c / (a.length * sa.std * sb.std);
};

async function source(name: string, seed: number, edit?: (m: Model) => void): Promise<{ weights: string; model: string }> {
  const m = createModel(name as ModelName, { seed, numClasses: 20 });
  edit?.(m);
  const weights = path.join(dir, `${name}-${seed}.safetensors`);
  await m.saveWeights(weights);
  m.dispose();
  return { weights, model: name };
}

describe('initialisation schedules', () => {
  it('transfusion copies the stages up to the point exactly and leaves the rest as initialised', async () => {
    const src = await source('resnet50', 1);
    const pretrained = createModel('resnet50', { seed: 1, numClasses: 20 });
    const fresh = createModel('resnet50', { seed: 2 });
    const target = createModel('resnet50', { seed: 2 });
    const report = await applyInit(target, { kind: 'transfusion', upTo: 'layer1' }, src, 2);
    expect(report.loaded).toBe(6 + 3 * 18 + 6);  // conv1 + bn1, layer1
    for (const key of ['conv1.weight', 'bn1.running_var', 'layer1.2.conv3.weight'])
      expect(same(target.getParameter(key), pretrained.getParameter(key))).toBe(true);
    for (const key of ['layer2.0.conv1.weight', 'layer4.2.conv3.weight', 'fc.weight']) {
      expect(same(target.getParameter(key), pretrained.getParameter(key))).toBe(false);
      expect(same(target.getParameter(key), fresh.getParameter(key))).toBe(true);
    }
    [pretrained, fresh, target].forEach((m) => m.dispose());
  });

  it("Mean Var keeps each layer's mean and variance but none of its values", async () => {
    // A source whose layer2 conv has a distinctive mean and spread.
    const src = await source('cbr-small', 3, (m) => {
      const w = m.getParameter('layer2.conv.weight');
      m.setParameter('layer2.conv.weight', { data: w.data.map((v) => 0.05 + 0.4 * v), shape: w.shape });
    });
    const srcModel = createModel('cbr-small', { seed: 3, numClasses: 20 });
    await srcModel.loadWeights(src.weights);
    const target = createModel('cbr-small', { seed: 4 });
    const head = target.getParameter('head.weight');
    const report = await applyInit(target, { kind: 'meanvar' }, src, 4);
    expect(report.drawn).toBe(4 + 2 * 4);  // 4 conv weights, 4 BatchNorm weight/bias pairs
    expect(report.fresh).toEqual(['head.weight', 'head.bias']);
    for (const key of ['layer1.conv.weight', 'layer2.conv.weight', 'layer4.conv.weight']) {
      const a = target.getParameter(key).data, b = srcModel.getParameter(key).data;
      const sa = stats(a), sb = stats(b);
      expect(Math.abs(sa.mean - sb.mean)).toBeLessThan((4 * sb.std) / Math.sqrt(sa.n));
      expect(Math.abs(sa.std / sb.std - 1)).toBeLessThan(0.05);
      expect(Math.abs(correlation(a, b))).toBeLessThan(4 / Math.sqrt(sa.n));
    }
    expect(stats(target.getParameter('layer2.conv.weight').data).mean).toBeCloseTo(0.05, 2);
    expect(Array.from(target.getParameter('layer3.bn.running_var').data).every((v) => v === 1)).toBe(true);
    expect(same(target.getParameter('head.weight'), head)).toBe(true);
    [srcModel, target].forEach((m) => m.dispose());
  });

  it("Mean Var's BatchNorm setting: 'default' resets affine parameters instead of drawing them", async () => {
    const src = await source('cbr-tiny', 5, (m) => m.setParameter('layer1.bn.weight', { data: new Float32Array(32).fill(3), shape: [32] }));
    const drawn = createModel('cbr-tiny', { seed: 6 });
    await drawn.meanVarInit(src.weights, { seed: 6 });
    expect(Array.from(drawn.getParameter('layer1.bn.weight').data).every((v) => v === 3)).toBe(true);  // N(3, 0)
    const reset = createModel('cbr-tiny', { seed: 6 });
    const report = await reset.meanVarInit(src.weights, { seed: 6, batchNorm: 'default' });
    expect(report.reset).toContain('layer1.bn.weight');
    expect(Array.from(reset.getParameter('layer1.bn.weight').data).every((v) => v === 1)).toBe(true);
    [drawn, reset].forEach((m) => m.dispose());
  });

  it('shuffle keeps each pretrained tensor\'s values at permuted positions, the head fresh, by the seed', async () => {
    const src = await source('cbr-tiny', 5, () => undefined);
    const pretrained = createModel('cbr-tiny', { seed: 5, numClasses: 20 });
    await pretrained.loadWeights(src.weights);
    const shuffled = createModel('cbr-tiny', { seed: 6 }), again = createModel('cbr-tiny', { seed: 6 });
    const head = shuffled.getParameter('head.weight');
    const report = await applyInit(shuffled, { kind: 'shuffle' }, src, 6);
    await applyInit(again, { kind: 'shuffle' }, src, 6);
    expect(report).toMatchObject({ init: 'shuffle', drawn: 12, from: 'cbr-tiny' });
    for (const key of ['layer1.conv.weight', 'layer4.conv.weight']) {
      const [mine, theirs] = [shuffled.getParameter(key).data, pretrained.getParameter(key).data];
      expect(Array.from(mine).sort((a, b) => a - b)).toEqual(Array.from(theirs).sort((a, b) => a - b));  // the same values
      expect(same(shuffled.getParameter(key), pretrained.getParameter(key))).toBe(false);  // elsewhere
      expect(same(shuffled.getParameter(key), again.getParameter(key))).toBe(true);  // as the seed says
    }
    expect(same(shuffled.getParameter('head.weight'), head)).toBe(true);
    await expect(shuffled.meanVarInit(src.weights, { draw: 'sorted' as 'shuffle' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
    [pretrained, shuffled, again].forEach((m) => m.dispose());
  });

  it("Gabor sets conv1 to the filter bank, scaled to the pretrained conv1's statistics when there is one", async () => {
    const target = createModel('cbr-largew', { seed: 7 });
    const key = target.info().inputConv;
    expect(key).toBe('layer1.conv.weight');
    const untouched = target.getParameter('layer2.conv.weight');
    const report = await applyInit(target, { kind: 'gabor', gabor: { orientations: 4 } }, undefined, 7);
    expect(report.gabor).toMatchObject({ filters: 64, scaledToPretrained: false });
    const expected = gaborBank({ orientations: 4 }, [64, 3, 7, 7]);
    expect(Array.from(target.getParameter(key).data)).toEqual(Array.from(expected.data));
    expect(same(target.getParameter('layer2.conv.weight'), untouched)).toBe(true);

    const src = await source('cbr-largew', 8, (m) => {
      const w = m.getParameter(key);
      m.setParameter(key, { data: w.data.map((v) => 0.02 + 3 * v), shape: w.shape });
    });
    const scaled = createModel('cbr-largew', { seed: 7 });
    const r = await applyInit(scaled, { kind: 'gabor' }, src, 7);
    const srcModel = createModel('cbr-largew', { seed: 8, numClasses: 20 });
    await srcModel.loadWeights(src.weights);
    const want = stats(srcModel.getParameter(key).data), got = stats(scaled.getParameter(key).data);
    expect(r.gabor?.scaledToPretrained).toBe(true);
    expect(got.mean).toBeCloseTo(want.mean, 5);
    expect(got.std / want.std).toBeCloseTo(1, 4);
    [target, scaled, srcModel].forEach((m) => m.dispose());
  });

  it('names what is missing', async () => {
    const m = createModel('cbr-tiny');
    await expect(applyInit(m, { kind: 'transfer' }, undefined, 0)).rejects.toThrow('Expected `source` to be pretrained weights for the "transfer" initialisation');
    expect(() => m.getParameter('layer9.conv.weight')).toThrow('Model "cbr-tiny" has no parameter or buffer "layer9.conv.weight"');
    expect(() => m.setParameter('layer1.conv.weight', { data: new Float32Array(3), shape: [3] })).toThrow(/has shape \[32, 3, 5, 5\] but the value has shape \[3\]/);
    m.dispose();
  });
});
