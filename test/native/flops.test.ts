import { createModel, listModels, TransfusionError, type ModelName } from '../../src';
import { runFixture } from '../helpers/python';

// Every registered model at a small size (its minimum where that is larger: Inception-v3's 75 px), and Inception-v3 at
// 299 px with its auxiliary classifier built, which neither count includes: both count an eval-mode pass.
const cases = [
  ...listModels().map((m) => ({ name: m.name, size: Math.max(64, m.minInputSize), auxLogits: false })),
  { name: 'inception_v3', size: 299, auxLogits: true },
];

describe('Model.forwardFlops', () => {
  it("equals the bench's PyTorch peer's count (forward hooks on every conv and linear layer) for every registered model", async () => {
    const peer = JSON.parse(runFixture('forward_flops.py', cases.map((c) => `${c.name}:${c.size}`))) as Record<string, number>;
    const counted: Record<string, number> = {};
    for (const c of cases) {
      const model = createModel(c.name as ModelName, { numClasses: 1, ...(c.name === 'inception_v3' ? { auxLogits: c.auxLogits } : {}) });
      counted[`${c.name}:${c.size}`] = await model.forwardFlops(c.size);
      model.dispose();
    }
    expect(Object.keys(counted)).toEqual(expect.arrayContaining(['cbr-tiny:64', 'cbr-small:64', 'cbr-largew:64', 'cbr-larget:64', 'resnet50:64', 'resnet50-slim:64', 'inception_v3:75']));
    expect(counted).toEqual(peer);
  }, 120000);

  it("matches a hand count, and leaves the model's BatchNorm statistics as they were", async () => {
    const model = createModel('cbr-tiny', { numClasses: 1 });
    const before = ['layer1.bn.running_var', 'layer1.bn.num_batches_tracked'].map((k) => Array.from(model.getParameter(k).data));
    // 5x5 same-padded convs at 32, 16, 8 and 4 px (a 3x3/2 pool after each) and the 256 -> 1 head, 2 FLOPs a multiply-add.
    const conv = (cin: number, cout: number, side: number) => 2 * cout * side * side * cin * 25;
    expect(await model.forwardFlops(32)).toBe(conv(3, 32, 32) + conv(32, 64, 16) + conv(64, 128, 8) + conv(128, 256, 4) + 2 * 256);
    expect(await model.forwardFlops(32, 16)).toBe(conv(3, 32, 32) / 2 + conv(32, 64, 16) / 2 + conv(64, 128, 8) / 2 + conv(128, 256, 4) / 2 + 2 * 256);
    const after = ['layer1.bn.running_var', 'layer1.bn.num_batches_tracked'].map((k) => Array.from(model.getParameter(k).data));
    expect(after).toEqual(before);
    model.dispose();
  });

  it('names a size the model cannot take, and a disposed model', async () => {
    const model = createModel('inception_v3', { numClasses: 1, auxLogits: false });
    await expect(model.forwardFlops(32)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringContaining('needs inputs of at least 75x75 but received 32x32') });
    await expect(model.forwardFlops(1.5)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringContaining('`height`') });
    await expect(model.forwardFlops(75, 75, { signal: undefined, extra: 1 } as never)).rejects.toBeInstanceOf(TransfusionError);
    model.dispose();
    await expect(model.forwardFlops(75)).rejects.toMatchObject({ code: 'ERR_DISPOSED' });
  });
});
