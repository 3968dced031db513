// The contract every registered model keeps (as timm's tests loop over its registry): whatever listModels() returns
// builds, runs forward to (N, classes) and to each stage's advertised shape, saves and loads back bit for bit, and
// takes another model's weights with a new classifier.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { createModel, listModels, type TensorData, type ModelName } from '../../src';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tn-contract-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const input = (n: number, size: number): TensorData => ({
  data: Float32Array.from({ length: n * 3 * size * size }, (_, i) => Math.sin(i * 0.37)),
  shape: [n, 3, size, size],
});

describe.each(listModels().map((m) => [m.name, m] as const))('%s', (name, info) => {
  const size = Math.max(info.minInputSize, 32);

  it('runs forward to (N, classes) and to every stage\'s advertised shape', async () => {
    const m = createModel(name as ModelName, { numClasses: 3, seed: 1 });
    try {
      const x = input(2, size);
      expect((await m.forward(x)).shape).toEqual([2, 3]);
      const shapes = m.stageShapes(size);
      expect(Object.keys(shapes)).toEqual(m.stages());
      for (const stage of m.stages()) {
        expect(shapes[stage][0]).toBe(1);
        expect((await m.forward(x, { stage })).shape).toEqual([2, ...shapes[stage].slice(1)]);  // stageShapes gives one image's (1, ...)
      }
    } finally {
      m.dispose();
    }
  });

  it('saves and loads back bit for bit, and takes the weights with a new classifier', async () => {
    const [a, b, c] = [createModel(name as ModelName, { numClasses: 3, seed: 1 }), createModel(name as ModelName, { numClasses: 3, seed: 2 }), createModel(name as ModelName, { numClasses: 7, seed: 3 })];
    try {
      const file = path.join(dir, `${name}.safetensors`), again = path.join(dir, `${name}-again.safetensors`);
      await a.saveWeights(file);
      const report = await b.loadWeights(file, { strict: true });
      expect(report.missing).toEqual([]);
      await b.saveWeights(again);
      expect(fs.readFileSync(again).equals(fs.readFileSync(file))).toBe(true);
      const swapped = await c.loadWeights(file, { head: 'replace' });
      expect(swapped.reinitialised.length).toBeGreaterThan(0);
      const head = c.stages()[c.stages().length - 1];
      expect(swapped.reinitialised.some((k) => k.startsWith(`${head}.`))).toBe(true);
      expect(swapped.loaded.length).toBeGreaterThan(swapped.reinitialised.length);
      const conv = c.info().inputConv;
      expect(c.getParameter(conv).data).toEqual(a.getParameter(conv).data);
      expect((await c.forward(input(1, size))).shape).toEqual([1, 7]);
    } finally {
      [a, b, c].forEach((m) => m.dispose());
    }
  });
});
