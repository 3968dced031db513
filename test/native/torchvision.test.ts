import * as fs from 'node:fs';
import * as path from 'node:path';

import { createDataset, createModel, getThreads, train, type TensorData } from '../../src';
import { runFixture } from '../helpers/python';
import { tempDir } from '../helpers/tmp';

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

const cases = [
  { model: 'resnet50', size: 64 },
  { model: 'inception_v3', size: 299 },  // its auxiliary head trains only at 299 px
];

describe.each(cases)('$model against torchvision', ({ model, size }) => {
  const dir = tempDir(model);
  const batch = 4, classes = 5;
  let input: TensorData, meta: { loss: number; keys: number };
  beforeAll(() => {
    runFixture('torchvision_reference.py', [
      '--model', model, '--out', dir, '--size', String(size), '--batch', String(batch), '--classes', String(classes),
      '--threads', String(getThreads()),
    ]);
    input = { data: f32(path.join(dir, 'input.f32')), shape: [batch, 3, size, size] };
    meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  }, 120_000);

  const loaded = async (file: string) => {
    const m = createModel(model, { numClasses: classes, dropout: 0 });
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
