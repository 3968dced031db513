// Minibatch CKA over every layer (issue 29): layers: 'all' against PyTorch's forward hooks and numpy's unbiased HSIC.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { createDataset, createModel, getThreads, minibatchCka } from '../../src';
import { runFixture } from '../helpers/python';
import { tempDir } from '../helpers/tmp';

const LAYERS = ['conv1', 'layer1.0.conv1', 'layer2.1.conv2', 'layer3.0', 'layer4.2', 'fc'];

describe("minibatchCka with layers: 'all'", () => {
  const dir = tempDir('layer-cka');
  const count = 16, batch = 8, size = 32;
  let reference: { layers: string[]; values: number[][] };
  beforeAll(() => {
    runFixture('layer_cka_reference.py', ['--out', dir, '--count', String(count), '--batch', String(batch), '--size', String(size), '--layers', LAYERS.join(','), '--threads', String(getThreads())]);
    reference = JSON.parse(fs.readFileSync(path.join(dir, 'cka.json'), 'utf8'));
  }, 120_000);

  it('lists every block and conv output of ResNet-50 and agrees with forward hooks in PyTorch and numpy', async () => {
    const load = async (file: string) => {
      const m = createModel('resnet50', { numClasses: 5 });
      const report = await m.loadWeights(path.join(dir, file));
      expect([report.missing, report.unexpected, report.mismatched]).toEqual([[], [], []]);
      return m;
    };
    const a = await load('a.pth'), b = await load('b.pth');
    const bytes = fs.readFileSync(path.join(dir, 'input.f32'));
    const images = { data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), shape: [count, 3, size, size] };
    const data = createDataset({ images, targets: new Float32Array(count), task: 'binary' });
    try {
      // conv1, three layers per bottleneck (its first two convs and its output) over 3 + 4 + 6 + 3 blocks, fc.
      const layers = a.info().layers;
      expect(layers).toHaveLength(1 + 3 * 16 + 1);
      expect(layers.slice(0, 5)).toEqual(['conv1', 'layer1.0.conv1', 'layer1.0.conv2', 'layer1.0', 'layer1.1.conv1']);
      expect(layers.at(-1)).toBe('fc');
      expect(createModel('cbr-tiny').info().layers).toEqual(createModel('cbr-tiny').info().stages);

      const h = await minibatchCka(a, b, data, { layers: 'all', stagesA: LAYERS, stagesB: LAYERS, batchSize: batch });
      expect(h).toMatchObject({ stagesA: LAYERS, stagesB: LAYERS, batches: 2, images: count });
      for (let i = 0; i < LAYERS.length; ++i)
        for (let j = 0; j < LAYERS.length; ++j) expect(h.values[i][j]).toBeCloseTo(reference.values[i][j], 4);

      // A stage's output is its last block's: the same row either way.
      const stage = await minibatchCka(a, b, data, { stagesA: ['layer4'], stagesB: ['conv1', 'fc'], batchSize: batch });
      const block = await minibatchCka(a, b, data, { layers: 'all', stagesA: ['layer4.2'], stagesB: ['conv1', 'fc'], batchSize: batch });
      expect(block.values[0][0]).toBeCloseTo(stage.values[0][0]!, 10);
      expect(block.values[0][1]).toBeCloseTo(stage.values[0][1]!, 10);

      // Every layer by default: the whole 50 x 50 heatmap.
      const all = await minibatchCka(a, b, data, { layers: 'all', batchSize: count });
      expect(all.stagesA).toEqual(layers);
      expect(all.values).toHaveLength(50);
      expect(all.values.every((row) => row.length === 50 && row.every((v) => v === null || (v >= -1 && v <= 1)))).toBe(true);

      await expect(minibatchCka(a, b, data, { layers: 'all', stagesA: ['layer1'] })).rejects.toThrow('Model "resnet50" (a) has no layer "layer1"');
      await expect(minibatchCka(a, b, data, { stagesA: ['layer1.0'] })).rejects.toThrow('Model "resnet50" (a) has no stage "layer1.0"');
      await expect(minibatchCka(a, b, data, { layers: 'every' as 'all' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringContaining('`layers`') });
    } finally {
      [a, b, data].forEach((x) => x.dispose());
    }
  }, 300_000);
});
