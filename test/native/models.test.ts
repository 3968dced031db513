import * as fs from 'node:fs';
import * as path from 'node:path';

import { spawnSync } from 'node:child_process';

import { createModel, listModels, liveHandles, MODEL_NAMES, PRESETS, TransfusionError, type ModelName } from '../../src';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('models');

describe('the CBR registry', () => {
  it("reproduces Table 1's parameter counts exactly under the paper's convention", () => {
    const paper = Object.fromEntries(listModels().map((m) => [m.name, m.params.paper]));
    expect(paper['cbr-larget']).toBe(8_532_480);
    expect(paper['cbr-largew']).toBe(8_432_128);
    expect(paper['cbr-small']).toBe(2_108_672);
    expect(paper['cbr-tiny']).toBe(1_076_480);
    expect(paper['cbr-tiny-appendix']).toBe(4_303_360);
  });

  it('reports the plain numel count too (BatchNorm affine, first conv, biased 5-way head)', () => {
    const larget = listModels().find((m) => m.name === 'cbr-larget')!;
    expect(larget.params.numel).toBe(8_539_173);
    expect(createModel('CBR-LargeT' as ModelName, { numClasses: 1 }).parameterCount().numel).toBe(8_539_173 - 4 * 512 - 4);
  });

  it('counts ResNet-50 and Inception-v3 as torchvision does', () => {
    const count = (name: string, options = {}) => {
      const m = createModel(name as ModelName, { numClasses: 1000, ...options });
      const n = m.parameterCount().numel;
      m.dispose();
      return n;
    };
    expect(count('resnet50')).toBe(25_557_032);
    expect(count('inception_v3')).toBe(27_161_264);
    expect(count('inception_v3', { auxLogits: false })).toBe(23_834_568);
    const paper = Object.fromEntries(listModels().map((m) => [m.name, m.params]));
    expect(paper['resnet50']).toEqual({ numel: 23_518_277, paper: 23_570_408 });  // 5-way head; Table 1's TF-slim count
    expect(paper['inception_v3'].paper).toBe(22_881_424);
    expect(count('densenet121')).toBe(7_978_856);
    expect(paper['densenet121']).toEqual({ numel: 6_958_981, paper: 6_958_981 });  // not in the paper: every parameter, 5-way head
  });

  it('names the stages of ResNet-50 and Inception-v3 as torchvision names their modules', () => {
    expect(createModel('resnet50').stages()).toEqual(['conv1', 'layer1', 'layer2', 'layer3', 'layer4', 'fc']);
    const inception = createModel('inception_v3', { auxLogits: false });
    expect(inception.stages()).toEqual([
      'Conv2d_1a_3x3', 'Conv2d_2a_3x3', 'Conv2d_2b_3x3', 'Conv2d_3b_1x1', 'Conv2d_4a_3x3',
      'Mixed_5b', 'Mixed_5c', 'Mixed_5d', 'Mixed_6a', 'Mixed_6b', 'Mixed_6c', 'Mixed_6d', 'Mixed_6e',
      'Mixed_7a', 'Mixed_7b', 'Mixed_7c', 'fc',
    ]);
    expect(inception.info().minInputSize).toBe(75);
    const densenet = createModel('densenet121');
    expect(densenet.stages()).toEqual(['conv0', 'denseblock1', 'denseblock2', 'denseblock3', 'denseblock4', 'classifier']);
    expect(densenet.info().minInputSize).toBe(29);
    expect(densenet.stageShapes(29)['denseblock3']).toEqual([1, 512, 1, 1]);
    expect(() => densenet.stageShapes(28)).toThrow('at least 29x29');
    densenet.dispose();
    expect(() => inception.stageShapes(74)).toThrow('Model "inception_v3" needs inputs of at least 75x75 but received 74x74');
    expect(inception.stageShapes(75).Mixed_7c).toEqual([1, 2048, 1, 1]);
    inception.dispose();
  });

  it('names stages layer1..layerL and head, with the shapes of each', () => {
    const m = createModel('cbr-larget');
    expect(m.stages()).toEqual(['layer1', 'layer2', 'layer3', 'layer4', 'layer5', 'head']);
    expect(m.stageShapes(64)).toEqual({
      layer1: [1, 32, 32, 32],
      layer2: [1, 64, 16, 16],
      layer3: [1, 128, 8, 8],
      layer4: [1, 256, 4, 4],
      layer5: [1, 512, 4, 4],  // no pool after the 5th block of CBR-LargeT
      head: [1, 1],
    });
    m.dispose();
  });

  it('needs 217 px for unpadded CBR-LargeT, as the notes work out', () => {
    const m = createModel('cbr-larget', { padding: 'valid' });
    expect(m.info().minInputSize).toBe(217);
    expect(m.stageShapes(217).layer5).toEqual([1, 512, 1, 1]);
    expect(() => m.stageShapes(216)).toThrow('Model "cbr-larget" needs inputs of at least 217x217 but received 216x216');
    m.dispose();
  });

  it('rejects an unknown model name with a stable code and the known names', () => {
    expect.assertions(3);
    try {
      createModel('resnet-9000' as ModelName);
    } catch (err) {
      expect(err).toBeInstanceOf(TransfusionError);
      expect((err as TransfusionError).code).toBe('ERR_UNKNOWN_MODEL');
      expect((err as Error).message).toBe('Unknown model "resnet-9000"; known models: cbr-larget, cbr-largew, cbr-small, cbr-tiny, cbr-tiny-appendix, resnet50, resnet50-slim, inception_v3, densenet121');
    }
  });

  it('names a bad option', () => {
    expect(() => createModel('cbr-tiny', { numClasses: -3 })).toThrow('Expected `numClasses` to be a positive integer but received -3');
    expect(() => createModel('cbr-tiny', { padding: 'full' as 'same' })).toThrow('Expected `padding` to be one of "same", "valid" but received "full"');
    expect(() => createModel('cbr-tiny', { device: 'tpu' as 'cpu' })).toThrow(/device/);
  });

  it('initialises deterministically from the seed', async () => {
    const a = createModel('cbr-tiny', { seed: 7 }), b = createModel('cbr-tiny', { seed: 7 }), c = createModel('cbr-tiny', { seed: 8 });
    const files = ['a', 'b', 'c'].map((n) => path.join(dir, `${n}.pt`));
    await Promise.all([a.saveWeights(files[0]), b.saveWeights(files[1]), c.saveWeights(files[2])]);
    const [fa, fb, fc] = files.map((f) => fs.readFileSync(f));
    expect(fa.equals(fb)).toBe(true);
    expect(fa.equals(fc)).toBe(false);
    [a, b, c].forEach((m) => m.dispose());
  });
});

describe('weights in and out', () => {
  it('round-trips bit-exactly and reports what it loaded', async () => {
    const a = createModel('cbr-small', { seed: 1 }), b = createModel('cbr-small', { seed: 2 });
    const fa = path.join(dir, 'small-a.pt'), fb = path.join(dir, 'small-b.pt');
    await a.saveWeights(fa);
    const report = await b.loadWeights(fa);
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    expect(report.mismatched).toEqual([]);
    expect(report.loaded).toContain('layer1.conv.weight');
    expect(report.loaded).toContain('layer4.bn.running_var');
    expect(report.loaded).toContain('head.bias');
    await b.saveWeights(fb);
    expect(fs.readFileSync(fb).equals(fs.readFileSync(fa))).toBe(true);
    a.dispose();
    b.dispose();
  });

  it('replaces the classifier for a new number of classes, as transfer needs', async () => {
    const source = createModel('cbr-tiny', { numClasses: 20, seed: 3 });
    const file = path.join(dir, 'tiny20.pt');
    await source.saveWeights(file);
    const target = createModel('cbr-tiny', { numClasses: 1, seed: 4 });
    await expect(target.loadWeights(file)).rejects.toMatchObject({ code: 'ERR_WEIGHTS_MISMATCH', message: expect.stringContaining('head.weight') });
    const report = await target.loadWeights(file, { head: 'replace', seed: 5 });
    expect(report.reinitialised.sort()).toEqual(['head.bias', 'head.weight']);
    expect(report.loaded).not.toContain('head.weight');
    expect(report.missing).toEqual([]);
    expect(target.info().numClasses).toBe(1);
    source.dispose();
    target.dispose();
  });

  it('fails clearly on a file that is not a weight file', async () => {
    const bad = path.join(dir, 'bad.pt');
    fs.writeFileSync(bad, 'not a zip');
    const m = createModel('cbr-tiny');
    await expect(m.loadWeights(bad)).rejects.toMatchObject({ code: 'ERR_BAD_WEIGHTS', message: expect.stringContaining(bad) });
    await expect(m.loadWeights(path.join(dir, 'missing.pt'))).rejects.toMatchObject({ code: 'ERR_IO' });
    m.dispose();
  });
});

describe('typed names (issue 31)', () => {
  it('MODEL_NAMES is the registry\'s list, and a misspelt model or preset name does not compile', () => {
    expect([...MODEL_NAMES]).toEqual(listModels().map((m) => m.name));
    const root = path.resolve(__dirname, '../..');
    const file = path.join(root, `.typed-names-${process.pid}.mts`);
    fs.writeFileSync(file, "import { createModel, preset } from 'transfusion-native';\ncreateModel('resnet50');\npreset('quick');\ncreateModel('resnet5O');\npreset('quik');\n");
    try {
      const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', file], { encoding: 'utf8' });
      const errors = tsc.stdout.split('\n').filter((l) => l.includes('error TS'));
      expect(errors).toHaveLength(2);
      expect(errors[0]).toMatch(/\(4,13\): error TS2345: Argument of type '"resnet5O"'/);
      expect(errors[1]).toMatch(/\(5,8\): error TS2345: Argument of type '"quik"'/);
    } finally {
      fs.rmSync(file, { force: true });
    }
    expect(Object.keys(PRESETS).sort()).toEqual(['laptop', 'paper', 'quick', 'tiny']);
  }, 60_000);
});

describe('handles', () => {
  it('return to the starting count after dispose, and refuse use after it', () => {
    const before = liveHandles();
    const models = [createModel('cbr-tiny'), createModel('cbr-small')];
    expect(liveHandles()).toBe(before + 2);
    models.forEach((m) => m.dispose());
    models[0].dispose();  // idempotent
    expect(liveHandles()).toBe(before);
    expect(() => models[0].info()).toThrow(expect.objectContaining({ code: 'ERR_DISPOSED', message: 'This model was disposed' }));
  });

  it('are freed at the end of a TypeScript `using` block (Symbol.dispose), models and datasets alike (issue 31)', () => {
    // Compiled by tsc as a dependent's code and run by Node itself (jest's sandbox lacks Node's Symbol.dispose).
    const root = path.resolve(__dirname, '../..');
    const out = path.join(root, `.using-${process.pid}`);
    const file = `${out}.mts`;
    fs.writeFileSync(file, [
      "import { createModel, generateRetina, liveHandles } from 'transfusion-native';",
      'const before = liveHandles();',
      'let inside = 0;',
      '{',
      "  using m = createModel('cbr-tiny');",
      '  using d = await generateRetina({ count: 4, size: 32, seed: 1 });',
      '  inside = liveHandles() - before;',
      '  void m.info(); void d.count;',
      '}',
      'console.log(JSON.stringify({ inside, after: liveHandles() - before }));',
    ].join('\n'));
    try {
      const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--rootDir', root, '--outDir', out, file], { encoding: 'utf8' });
      expect(tsc.stdout + tsc.stderr).toBe('');
      const compiled = path.join(out, path.basename(file).replace(/\.mts$/, '.mjs'));
      fs.copyFileSync(compiled, `${out}.mjs`);
      const run = spawnSync(process.execPath, [`${out}.mjs`], { cwd: root, encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual({ inside: 2, after: 0 });
    } finally {
      for (const f of [file, `${out}.mjs`, out]) fs.rmSync(f, { recursive: true, force: true });
    }
  }, 60_000);

  it('cannot be made with new from JS', () => {
    const m = createModel('cbr-tiny');
    const NativeModel = Object.getPrototypeOf(m.native).constructor;
    expect(() => new NativeModel()).toThrow(expect.objectContaining({ code: 'ERR_ILLEGAL_CONSTRUCTOR' }));
    m.dispose();
    // The library's classes too (issue 28): no object whose every method throws a TypeError.
    const { Model, Dataset, ProcessGroup } = require('../../src') as typeof import('../../src');
    const Made = [[Model, 'createModel()'], [Dataset, 'generateRetina()'], [ProcessGroup, 'initProcessGroup()']] as const;
    for (const [Class, factory] of Made)
      expect(() => new (Class as unknown as new (...a: unknown[]) => unknown)()).toThrow(expect.objectContaining({ code: 'ERR_ILLEGAL_CONSTRUCTOR', message: expect.stringContaining(factory) }));
  });
});
