import * as fs from 'node:fs';
import * as path from 'node:path';

import { createModel, readTensor } from '../../src';
import { runFixture } from '../helpers/python';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('weights');
const file = (name: string) => path.join(dir, name);
const bytes = (name: string) => fs.readFileSync(file(name));

describe('weight files', () => {
  beforeAll(async () => {
    const m = createModel('cbr-tiny', { seed: 3 });
    await m.saveWeights(file('ours.pt'));
    await m.saveWeights(file('ours.safetensors'));
    m.dispose();
  });

  it('writes .pt files as torch.save does, which torch.load reads with weights_only, and safetensors that a hand parser reads, with the same tensors', () => {
    const r = JSON.parse(runFixture('weight_files.py', ['read', file('ours.pt'), file('ours.safetensors')]));
    // Only the globals torch.save(OrderedDict of tensors) itself writes (BatchNorm's step count is a LongStorage), so
    // PyTorch 2.6's default loader takes it.
    const globals = ['collections OrderedDict', 'torch FloatStorage', 'torch LongStorage', 'torch._utils _rebuild_tensor_v2'];
    expect(r).toEqual({ keys: 26, equal: true, type: 'OrderedDict', globals, torchSaveGlobals: globals, crcOk: true, aligned: true });
  });

  it.each(['ours.pt', 'ours.safetensors'])('round-trips %s bit-exactly', async (name) => {
    const m = createModel('cbr-tiny', { seed: 99 });
    const report = await m.loadWeights(file(name));
    expect(report.loaded).toHaveLength(26);
    const again = name.replace('ours', 'again');
    await m.saveWeights(file(again));
    expect(bytes(again).equals(bytes(name))).toBe(true);
    m.dispose();
  });

  it("reads PyTorch's own files: torch.save of an OrderedDict, a wrapped checkpoint, and safetensors written elsewhere", async () => {
    runFixture('weight_files.py', ['write', file('ours.pt'), dir]);
    for (const name of ['python.pth', 'wrapped.pth', 'manual.safetensors']) {
      const m = createModel('cbr-tiny', { seed: 7 });
      const report = await m.loadWeights(file(name));
      expect([report.loaded.length, report.missing, report.unexpected, report.mismatched]).toEqual([26, [], [], []]);
      await m.saveWeights(file(`from-${name}.safetensors`));
      expect(bytes(`from-${name}.safetensors`).equals(bytes('ours.safetensors'))).toBe(true);
      m.dispose();
    }
  });

  it('reads an expanded (stride-0) view and a transposed one as torch.load does (issue 28: the first was refused)', async () => {
    // Written by the previous test's fixture run.
    const w = await readTensor(file('expanded.pt'), 'w');
    expect([w.shape, Array.from(w.data)]).toEqual([[32], new Array(32).fill(0.25)]);
    const m = await readTensor(file('expanded.pt'), 'm');
    expect([m.shape, Array.from(m.data)]).toEqual([[3, 2], [0, 3, 1, 4, 2, 5]]);
  });

  it('names the user\'s path and the reason when the folder to save into does not exist (issue 31)', async () => {
    const m = createModel('cbr-tiny');
    const target = file('missing-dir/w.pt');
    await expect(m.saveWeights(target)).rejects.toMatchObject({ code: 'ERR_IO', message: `Cannot write ${target}: its folder ${file('missing-dir')} does not exist (ENOENT)` });
    m.dispose();
  });

  it('fails clearly on bad files, naming the file and the key', async () => {
    const m = createModel('cbr-tiny');
    fs.writeFileSync(file('noise.bin'), Buffer.from('this is neither a zip nor safetensors'));
    await expect(m.loadWeights(file('noise.bin'))).rejects.toMatchObject({ code: 'ERR_BAD_WEIGHTS', message: expect.stringContaining(file('noise.bin')) });

    const pt = bytes('python.pth');
    fs.writeFileSync(file('truncated.pth'), pt.subarray(0, pt.length >> 1));
    await expect(m.loadWeights(file('truncated.pth'))).rejects.toMatchObject({
      code: 'ERR_BAD_WEIGHTS',
      message: expect.stringMatching(/truncated\.pth.*truncated/),
    });

    const st = bytes('ours.safetensors');
    fs.writeFileSync(file('truncated.safetensors'), st.subarray(0, st.length - 100));
    await expect(m.loadWeights(file('truncated.safetensors'))).rejects.toMatchObject({
      code: 'ERR_BAD_WEIGHTS',
      message: expect.stringMatching(/truncated\.safetensors.*tensor ".+" lies beyond the end of the file/),
    });

    await expect(m.loadWeights(file('wrong-dtype.safetensors'))).rejects.toMatchObject({
      code: 'ERR_WEIGHTS_MISMATCH',
      message: expect.stringContaining('layer1.conv.weight (dtype Long in the file, Float in the model)'),
    });
    const lenient = await m.loadWeights(file('wrong-dtype.safetensors'), { strict: false });
    expect(lenient.mismatched).toEqual(['layer1.conv.weight (dtype Long in the file, Float in the model)']);
    expect(lenient.loaded).toHaveLength(25);
    m.dispose();
  });
});
