import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { createDataset, createModel, getThreads, train, type TensorData, type ModelName } from '../../src';
import { runFixture } from '../helpers/python';

const f32 = (file: string) => {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

/** max |a - b| relative to max |b|. */
function relativeError(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0, scale = 0;
  b.forEach((v, i) => {
    diff = Math.max(diff, Math.abs(a[i] - v));
    scale = Math.max(scale, Math.abs(v));
  });
  return diff / scale;
}

/**
 * torchvision's reference files for `model` (test/fixtures/torchvision_reference.py: seeded weights before and after one
 * SGD step, an input batch, its eval logits; DenseNet-121 also in its published layout), made once per model and size
 * for the whole file, with 5 classes; the folder and the input batch.
 */
const references = new Map<string, { dir: string; input: TensorData }>();
afterAll(() => references.forEach(({ dir }) => fs.rmSync(dir, { recursive: true, force: true })));
function reference(model: string, size: number, batch: number): { dir: string; input: TensorData } {
  const key = `${model}:${size}:${batch}`;
  if (!references.has(key)) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tn-${model}-${size}-`));
    runFixture('torchvision_reference.py', ['--model', model, '--out', dir, '--size', String(size), '--batch', String(batch), '--classes', '5', '--threads', String(getThreads())]);
    references.set(key, { dir, input: { data: f32(path.join(dir, 'input.f32')), shape: [batch, 3, size, size] } });
  }
  return references.get(key)!;
}

const cases = [
  { model: 'resnet50', size: 64 },
  { model: 'inception_v3', size: 299 },  // its auxiliary head trains only at 299 px
  { model: 'densenet121', size: 64 },
];

describe.each(cases)('$model against torchvision', ({ model, size }) => {
  const batch = 4, classes = 5;
  let dir: string, input: TensorData, meta: { loss: number; keys: number };
  beforeAll(() => {
    ({ dir, input } = reference(model, size, batch));
    meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  }, 120_000);

  const loaded = async (file: string) => {
    const m = createModel(model as ModelName, { numClasses: classes, dropout: 0 });
    const report = await m.loadWeights(path.join(dir, file));
    expect(report.loaded).toHaveLength(meta.keys);
    expect([report.missing, report.unexpected, report.mismatched]).toEqual([[], [], []]);
    return m;
  };

  it("loads torchvision's torch.save file by name and gives the same eval-mode logits (within 1e-4 relative)", async () => {
    const m = await loaded('before.pth');
    const out = await m.forward(input);
    expect(out.shape).toEqual([batch, classes]);
    expect(relativeError(out.data, f32(path.join(dir, 'eval.f32')))).toBeLessThan(1e-4);
    m.dispose();
  });

  it('takes the same SGD step from the same state', async () => {
    const m = await loaded('before.pth');
    const data = createDataset({ images: input, targets: f32(path.join(dir, 'targets.f32')), task: 'multilabel', outputs: classes });
    const r = await train(m, { train: data, val: data }, { steps: 1, batchSize: batch, optimizer: 'sgd', schedule: [0.01], momentum: 0.9, weightDecay: 1e-4 });
    expect(Math.abs(r.losses[0] - meta.loss) / meta.loss).toBeLessThan(1e-4);
    const reference = await loaded('after.pth');
    // Every updated parameter and BatchNorm statistic shows in the eval logits of the stepped models.
    const [ours, theirs] = await Promise.all([m.forward(input), reference.forward(input)]);
    expect(relativeError(ours.data, theirs.data)).toBeLessThan(1e-4);
    [m, reference, data].forEach((h) => h.dispose());
  });
});

describe("DenseNet-121 from torchvision's published layout (the model's key mapping)", () => {
  let dir: string, input: TensorData;
  beforeAll(() => ({ dir, input } = reference('densenet121', 64, 4)), 120_000);

  it('loads "denselayerM.norm.1.weight"-style keys strictly, keeps the BatchNorm counters the file lacks, and gives torchvision\'s logits', async () => {
    const m = createModel('densenet121', { numClasses: 5 });
    const report = await m.loadWeights(path.join(dir, 'legacy.pth'), { strict: true });
    expect(report.loaded).toHaveLength(606);  // 727 tensors less the 121 BatchNorm counters
    expect(report.loaded).toEqual(expect.arrayContaining(['features.denseblock1.denselayer1.norm1.weight', 'features.denseblock4.denselayer16.conv2.weight', 'features.transition3.conv.weight', 'classifier.bias']));
    expect(report.kept).toHaveLength(121);
    report.kept.forEach((k) => expect(k).toMatch(/\.num_batches_tracked$/));
    expect([report.missing, report.unexpected, report.mismatched]).toEqual([[], [], []]);
    expect(relativeError((await m.forward(input)).data, f32(path.join(dir, 'eval.f32')))).toBeLessThan(1e-4);
    // Mean Var reads the file through the same mapping.
    const drawn = await m.meanVarInit(path.join(dir, 'legacy.pth'));
    expect(drawn.drawn).toContain('features.denseblock2.denselayer3.conv1.weight');
    m.dispose();
  });

  it('names both tensors when a file holds one tensor under its old and its new name', async () => {
    const m = createModel('densenet121', { numClasses: 5 });
    await expect(m.loadWeights(path.join(dir, 'both.pth'))).rejects.toMatchObject({
      code: 'ERR_BAD_WEIGHTS',
      message: expect.stringContaining('tensors "features.denseblock1.denselayer1.norm1.weight" and "features.denseblock1.denselayer1.norm.1.weight" are both the model\'s "features.denseblock1.denselayer1.norm1.weight"'),
    });
    m.dispose();
  });

  it('transfuses by stage: up to denseblock2 takes the stem, two blocks and their transitions', async () => {
    const m = createModel('densenet121', { numClasses: 5 });
    const report = await m.loadWeights(path.join(dir, 'before.pth'), { upTo: 'denseblock2' });
    expect(report.loaded).toEqual(expect.arrayContaining(['features.conv0.weight', 'features.norm0.running_var', 'features.denseblock2.denselayer12.conv2.weight', 'features.transition2.conv.weight']));
    expect(report.loaded.some((k) => /^features\.(denseblock3|transition3|denseblock4|norm5)\.|^classifier\./.test(k))).toBe(false);
    expect(report.kept).toEqual(expect.arrayContaining(['features.transition3.norm.weight', 'features.norm5.weight', 'classifier.weight']));
    m.dispose();
  });
});

describe('Slim, and the compute settings, on torchvision ResNet-50 weights', () => {
  const batch = 4, size = 64;
  let dir: string, input: TensorData;
  beforeAll(() => ({ dir, input } = reference('resnet50', size, batch)), 120_000);

  it('loads ResNet-50 weights up to layer2 into Slim and keeps its halved layer3/layer4 as initialised', async () => {
    const resnet = createModel('resnet50', { numClasses: 5 });
    await resnet.loadWeights(path.join(dir, 'before.pth'));
    const slim = createModel('resnet50-slim', { numClasses: 5, seed: 1 });
    expect(slim.parameterCount()).toEqual({ numel: 7_140_421, paper: 7_140_421 });
    const report = await slim.loadWeights(path.join(dir, 'before.pth'), { upTo: 'layer2' });
    expect([report.missing, report.unexpected, report.mismatched]).toEqual([[], [], []]);
    expect(report.loaded).toEqual(expect.arrayContaining(['conv1.weight', 'bn1.running_var', 'layer1.0.conv1.weight', 'layer2.3.bn3.bias']));
    expect(report.loaded.some((k) => /^(layer3|layer4|fc)\./.test(k))).toBe(false);
    expect(report.kept).toEqual(expect.arrayContaining(['layer3.0.conv1.weight', 'layer4.2.bn3.weight', 'fc.weight']));
    const [a, b] = await Promise.all([resnet.forward(input, { stage: 'layer2' }), slim.forward(input, { stage: 'layer2' })]);
    expect(b.shape).toEqual([batch, 512, 8, 8]);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    expect((await slim.forward(input, { stage: 'layer4' })).shape).toEqual([batch, 1024, 2, 2]);
    await expect(slim.loadWeights(path.join(dir, 'before.pth'))).rejects.toMatchObject({ code: 'ERR_WEIGHTS_MISMATCH' });
    await expect(slim.loadWeights(path.join(dir, 'before.pth'), { upTo: 'layer9' })).rejects.toThrow(
      'Expected `upTo` to be a stage of this model (conv1, layer1, layer2, layer3, layer4, fc) but received "layer9"',
    );
    resnet.dispose();
    slim.dispose();
  });

  it('gives the same logits with channels-last, close ones with bf16 autocast, and trains with both', async () => {
    const m = createModel('resnet50', { numClasses: 5 });
    await m.loadWeights(path.join(dir, 'before.pth'));
    const reference = f32(path.join(dir, 'eval.f32'));
    expect(relativeError((await m.forward(input, { channelsLast: true })).data, reference)).toBeLessThan(1e-4);
    const bf16 = relativeError((await m.forward(input, { precision: 'bf16' })).data, reference);
    expect(bf16).toBeGreaterThan(0);  // it really ran in bfloat16
    expect(bf16).toBeLessThan(0.1);
    const data = createDataset({ images: input, targets: f32(path.join(dir, 'targets.f32')), task: 'multilabel', outputs: 5 });
    const r = await train(m, { train: data, val: data }, { steps: 2, batchSize: batch, schedule: [0.01, 0.01], channelsLast: true, precision: 'bf16' });
    r.losses.forEach((loss) => expect(Number.isFinite(loss)).toBe(true));
    expect(relativeError((await m.forward(input)).data, reference)).toBeGreaterThan(1e-3);  // the steps changed it
    m.dispose();
    data.dispose();
  });
});
