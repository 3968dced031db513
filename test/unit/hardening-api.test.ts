// Issue 16, the library's half: every options object is checked by name, missing arguments are coded errors, steps and
// data sizes are bounded before anything is allocated, and run directories stay where they belong. None of these
// calls reaches the addon: each is refused first. (The CLI and runStudy's run-directory cases: test/native/.)
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as api from '../../src';
import { Dataset, Model, preset, type ActivationArray, type StudySpec } from '../../src';
import { loadStudyConfig } from '../../src/experiments/config';
import { defaultRunDir, refuseExistingStudy } from '../../src/experiments/outdir';
import { checkStudyMemory } from '../../src/experiments/spec';
import { makeDirectory } from '../../src/io/mkdir';
import { closestName, optionKeys } from '../../src/options';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('hardening-api');
// Handles that are never used: every call below is refused before it reaches the addon.
const stub = { dispose() {} } as never;  // a stand-in native handle (a bare {} is refused: ERR_ILLEGAL_CONSTRUCTOR)
const model = new Model(stub);
const data = new Dataset(stub);
const sets = { train: data, val: data };
const schedule = { kind: 'constant' as const, lr: 0.1 };
const act: ActivationArray = { data: new Float32Array(4), shape: [2, 2] };
const tiny = (): StudySpec => ({ ...preset('tiny'), models: ['cbr-tiny'] });
const anyArgs = (f: unknown) => f as (...args: unknown[]) => unknown;

/** The error `call` throws or rejects with. */
async function errorOf(call: () => unknown): Promise<{ code?: string; message: string }> {
  try {
    await call();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected an error');
}

describe('a misspelt option is named, with the closest valid name', () => {
  it.each([
    ['train()', () => api.train(model, sets, { steps: 10, schedule, optimiser: 'adam' } as never), 'Unknown option `optimiser` for train(); did you mean `optimizer`?'],
    ['train()', () => api.train(model, sets, { steps: 10, schedule, batchsize: 8 } as never), 'Unknown option `batchsize` for train(); did you mean `batchSize`?'],
    ['train()', () => api.train(model, sets, { steps: 10, schedule: { ...schedule, warmup: 5 } } as never), "Unknown option `warmup` for train()'s `schedule`; did you mean `warmupSteps`?"],
    ['train()', () => api.train(model, sets, { steps: 10, schedule, augment: { flipp: true } } as never), "Unknown option `flipp` for train()'s `augment`; did you mean `flip`?"],
    ['createModel()', () => api.createModel('cbr-tiny', { numclasses: 2 } as never), 'Unknown option `numclasses` for createModel(); did you mean `numClasses`?'],
    ['generateRetina()', () => api.generateRetina({ count: 4, sise: 32 } as never), 'Unknown option `sise` for generateRetina(); did you mean `size`?'],
    ['similarity()', () => api.similarity(act, act, { subSample: 100 } as never), 'Unknown option `subSample` for similarity(); did you mean `subsample`?'],
    ['learningRates()', () => api.learningRates({ ...schedule, gama: 0.5 } as never, 10), 'Unknown option `gama` for learningRates(); did you mean `gamma`?'],
    ['runStudy()', () => api.runStudy({ ...tiny(), train: { ...tiny().train, stepz: 5 } } as never, { outDir: path.join(dir, 'never') }), "Unknown field `train.stepz` for runStudy()'s spec; did you mean `train.steps`?"],
    ['runStudy()', () => api.runStudy(tiny(), { outDir: path.join(dir, 'never'), overwrites: true } as never), 'Unknown option `overwrites` for runStudy(); did you mean `overwrite`?'],
  ])('%s', async (_fn, call, message) => {
    expect(await errorOf(call)).toMatchObject({ code: 'ERR_INVALID_ARG', message });
    expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
  });

  it('in a study file too (run --config): the field and its closest name', () => {
    const file = path.join(dir, 'stepz.json');
    fs.writeFileSync(file, JSON.stringify({ preset: 'tiny', train: { stepz: 3 } }));
    expect(() => loadStudyConfig(file)).toThrow(`${file} does not describe a study:\n  /train: unknown field "stepz"; did you mean "steps"?`);
  });

  it('suggests only a near name, and otherwise lists the valid ones', async () => {
    expect(closestName('optimiser', ['optimizer', 'steps'])).toBe('optimizer');
    expect(closestName('colour', ['steps', 'seed'])).toBeUndefined();
    expect((await errorOf(() => api.generateRetina({ count: 4, colour: 'red' } as never))).message).toBe(
      'Unknown option `colour` for generateRetina(); expected one of `count`, `size`, `seed`, `gradeWeights`',
    );
  });

  it('keeps each key list complete at compile time', () => {
    interface Two { a?: number; b: string }
    expect(optionKeys<Two>()(['a', 'b'])).toEqual(['a', 'b']);
    // @ts-expect-error `b` is missing from the list: it does not compile
    optionKeys<Two>()(['a']);
    // @ts-expect-error `c` is not a key of Two
    optionKeys<Two>()(['a', 'b', 'c']);
  });
});

describe('a missing or wrong argument is a coded error, not a TypeError from inside', () => {
  it.each([
    ['train(undefined, ...)', () => anyArgs(api.train)(undefined, sets, { steps: 1, schedule }), 'Expected `model` to be a Model (from createModel()) for train() but received undefined'],
    ['train(model)', () => anyArgs(api.train)(model), 'Expected `data` to be the training and validation sets, { train, val }, for train() but received undefined'],
    ['train(model, { train })', () => anyArgs(api.train)(model, { train: data }, { steps: 1, schedule }), 'Expected `data.val` to be a Dataset (from generateRetina(), generateChest(), generateNatural() or createDataset()) for train() but received undefined'],
    ['train(model, data)', () => anyArgs(api.train)(model, sets), 'Expected `options` to be an options object for train() but received undefined'],
    ['train(..., { steps })', () => anyArgs(api.train)(model, sets, { steps: 10 }), 'Expected `schedule` to be a schedule ({ kind, lr, ... }) or one learning rate per step but received undefined'],
    ['similarity()', () => anyArgs(api.similarity)(), 'Expected `a.data` to be a Float32Array or Float64Array but received undefined'],
    ['evaluate(model)', () => anyArgs(api.evaluate)(model), 'Expected `data` to be a Dataset (from generateRetina(), generateChest(), generateNatural() or createDataset()) for evaluate() but received undefined'],
    ['compareModels(model)', () => anyArgs(api.compareModels)(model), 'Expected `b` to be a Model (from createModel()) for compareModels() but received undefined'],
    ['generateRetina()', () => anyArgs(api.generateRetina)(), 'Expected `options` to be an options object for generateRetina() but received undefined'],
    ['createDataset({ task })', () => anyArgs(api.createDataset)({ task: 'binary' }), 'Expected `images` to be an (N, 3, H, W) tensor, { data, shape }, for createDataset() but received undefined'],
    ['runStudy(spec)', () => anyArgs(api.runStudy)(tiny()), 'Expected `options` to be an options object for runStudy() but received undefined'],
    ['runStudy()', () => anyArgs(api.runStudy)(), 'Expected `spec` to be a study spec (from preset(), experimentSpec() or loadStudyConfig()) for runStudy() but received undefined'],
    ['loadWeights()', () => anyArgs(model.loadWeights.bind(model))(), 'Expected `file` to be the path of a weight file for Model.loadWeights() but received undefined'],
    ['applyInit(model, "random")', () => anyArgs(api.applyInit)(model, 'random', undefined, 0), 'Expected `initialisation` to be an Initialisation ({ kind: "random" | "transfer" | "checkpoint" | "transfusion" | "meanvar" | "shuffle" | "gabor" | "slim", ... }) for applyInit() but received "random"'],
    ['train(..., { train: {} })', () => anyArgs(api.train)(model, { train: {}, val: data }, { steps: 1, schedule }), 'Expected `data.train` to be a Dataset (from generateRetina(), generateChest(), generateNatural() or createDataset()) for train() but received an object'],
    ['createModel(name, null)', () => anyArgs(api.createModel)('cbr-tiny', null), 'Expected `options` to be an options object for createModel() but received null'],
  ])('%s', async (_what, call, message) => {
    const err = await errorOf(call);
    expect(err).toMatchObject({ code: 'ERR_INVALID_ARG', message });
    expect(err).toBeInstanceOf(api.TransfusionError);
  });
});

describe('sizes are bounded before anything is allocated for them', () => {
  it('steps: 1e12 is named against LIMITS, not "Invalid typed array length"', async () => {
    const message = 'Expected `steps` to be an integer in [1, 10000000] but received 1000000000000';
    expect(await errorOf(() => api.train(model, sets, { steps: 1e12, schedule }))).toMatchObject({ code: 'ERR_INVALID_ARG', message });
    expect(await errorOf(() => api.learningRates(schedule, 1e12))).toMatchObject({ code: 'ERR_INVALID_ARG', message });
    expect(await errorOf(() => api.generateRetina({ count: 1e12 }))).toMatchObject({ code: 'ERR_INVALID_ARG', message: 'Expected `count` to be an integer in [1, 10000000] but received 1000000000000' });
  });

  it("a study's drawn data are checked against the machine's memory, naming the field", () => {
    const spec = tiny();
    spec.task = { ...spec.task, trainSize: 10_000_000, imageSize: 1024 };
    expect(() => checkStudyMemory(spec)).toThrow(
      /^`task\.trainSize` \(10000000\) asks for [\d.]+ GiB of images \(the study's drawn data: task at 1024 px, pretraining at 32 px, float32 RGB\), more than the [\d.]+ GiB of memory available to this process: lower `task\.trainSize`$/,
    );
    // 1 GiB of memory: the tiny preset's drawn images of 32 px fit, 100,000 for pretraining do not.
    expect(() => checkStudyMemory(tiny(), 2 ** 30)).not.toThrow();
    expect(() => checkStudyMemory({ ...tiny(), pretrain: { ...tiny().pretrain, trainSize: 100_000 } }, 2 ** 30)).toThrow(
      "`pretrain.trainSize` (100000) asks for 1.15 GiB of images (the study's drawn data: task at 32 px, pretraining at 32 px, float32 RGB), more than the 1.00 GiB of memory available to this process: lower `pretrain.trainSize`",
    );
  });
});

describe('run directories', () => {
  it("a study's name gives a directory inside runs/, and a name with path separators is refused by name", () => {
    const when = new Date('2026-12-01T10:00:00Z');
    expect(defaultRunDir('quick', when)).toBe(path.resolve('runs', 'quick-2026-12-01T10-00-00'));
    for (const name of ['../../escape', 'a/b', '..\\up', ''])
      expect(() => defaultRunDir(name, when)).toThrow(
        `Expected the study's \`name\` to be a name without path separators (it names the run directory under runs/) but received ${JSON.stringify(name)}; rename the study, or choose its directory with --out`,
      );
  });

  it('a directory that cannot be made is ERR_IO naming it, at once (mkdir -p looped forever on /proc/x)', () => {
    const t = Date.now();
    expect(() => makeDirectory('/proc/x', 'the run directory')).toThrow(
      expect.objectContaining({ code: 'ERR_IO', message: 'Cannot create the run directory /proc/x: its parent does not accept new entries (ENOENT)' }),
    );
    expect(Date.now() - t).toBeLessThan(1000);
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, '');
    expect(() => makeDirectory(path.join(file, 'sub', 'deeper'), 'the run directory')).toThrow(`Cannot create the run directory ${file}/sub/deeper: a parent is a file, not a directory (ENOTDIR)`);
    expect(makeDirectory(path.join(dir, 'x', 'y', 'z'))).toBe(path.join(dir, 'x', 'y', 'z'));
    expect(fs.statSync(path.join(dir, 'x', 'y', 'z')).isDirectory()).toBe(true);
  });

  it('a directory holding a study is named with what is there and how to go on', () => {
    const out = path.join(dir, 'held');
    fs.mkdirSync(out);
    expect(() => refuseExistingStudy(out)).not.toThrow();  // empty: free
    fs.writeFileSync(path.join(out, 'results.json'), JSON.stringify({ spec: { name: 'tiny', experiment: 'table1' }, startedAt: '2026-12-01T10:00:00.000Z', runs: [{}, {}] }));
    expect(() => refuseExistingStudy(out)).toThrow(
      expect.objectContaining({
        code: 'ERR_RUN_EXISTS',
        message: `${out} already holds the study "tiny" (experiment "table1", started "2026-12-01T10:00:00.000Z", not finished, 2 run(s) recorded); continue it with \`transfusion-native run --resume ${out}\` (runStudy: resume: true), choose another directory (--out / outDir), or replace it with --overwrite (runStudy: overwrite: true)`,
      }),
    );
    fs.writeFileSync(path.join(out, 'results.json'), '{ torn');
    expect(() => refuseExistingStudy(out)).toThrow(`${out} already holds a results.json that cannot be read; continue it with`);
  });
});

// Every exported function, and every Model method, is listed here: those that take an options object are fed an
// unknown key and must name it; a new export must be added to one list or the other, so none skips the check unseen.
describe('every exported function that takes options refuses an unknown key', () => {
  const bogus = { bogusOption: 1 };
  const takesOptions: Record<string, (() => unknown)[]> = {
    createModel: [() => api.createModel('cbr-tiny', bogus as never)],
    readTensor: [() => api.readTensor('w.pt', 'conv1.weight', bogus as never)],
    generateRetina: [() => api.generateRetina({ count: 2, ...bogus } as never), () => api.generateRetina({ count: 2 }, bogus as never)],
    generateNatural: [() => api.generateNatural({ count: 2, ...bogus } as never), () => api.generateNatural({ count: 2 }, bogus as never)],
    generateChest: [() => api.generateChest({ count: 2, ...bogus } as never), () => api.generateChest({ count: 2 }, bogus as never)],
    createDataset: [() => api.createDataset({ images: { data: new Float32Array(0), shape: [0, 3, 1, 1] }, targets: new Float32Array(0), task: 'binary', ...bogus } as never)],
    initProcessGroup: [() => api.initProcessGroup({ rank: 0, worldSize: 1, ...bogus } as never), () => api.initProcessGroup({ rank: 0, worldSize: 1 }, bogus as never)],
    train: [() => api.train(model, sets, { steps: 1, schedule, ...bogus } as never), () => api.train(model, sets, { steps: 1, schedule }, bogus as never)],
    evaluate: [() => api.evaluate(model, data, bogus as never)],
    learningRates: [() => api.learningRates({ ...schedule, ...bogus } as never, 10)],
    gaborBank: [() => api.gaborBank(bogus as never, [8, 3, 7, 7])],
    applyInit: [() => api.applyInit(model, { kind: 'random', ...bogus } as never, undefined, 0), () => api.applyInit(model, { kind: 'random' }, undefined, 0, bogus as never)],
    runStudy: [() => api.runStudy({ ...tiny(), ...bogus } as never, { outDir: path.join(dir, 'never') }), () => api.runStudy(tiny(), { outDir: path.join(dir, 'never'), ...bogus } as never)],
    similarity: [() => api.similarity(act, act, bogus as never)],
    similarityBatch: [() => api.similarityBatch([act, act], [[0, 1]], bogus as never)],
    compareModels: [() => api.compareModels(model, model, data, bogus as never)],
    compareModelSet: [() => api.compareModelSet([model, model], data, [[0, 1]], bogus as never)],
    minibatchCka: [() => api.minibatchCka(model, model, data, bogus as never)],
    interpolate: [() => api.interpolate(model, model, { train: data, val: data }, bogus as never)],
    stageCriticality: [() => api.stageCriticality(model, model, data, bogus as never)],
    knnEvaluate: [() => api.knnEvaluate(model, data, data, bogus as never)],
    readNpy: [() => api.readNpy('a.npy', bogus as never)],
    bootstrapAucInterval: [() => api.bootstrapAucInterval([0.1, 0.9], [0, 1], bogus as never)],
    readDicom: [() => api.readDicom('a.dcm', bogus as never)],
    loadDataset: [() => api.loadDataset({ path: dir, ...bogus } as never, { size: 16 }), () => api.loadDataset({ path: dir }, { size: 16, ...bogus } as never)],
    reproduce: [() => api.reproduce({ preset: 'tiny', ...bogus } as never, { outDir: path.join(dir, 'never') }), () => api.reproduce({ preset: 'tiny' }, { outDir: path.join(dir, 'never'), ...bogus } as never)],
    reproducePlan: [() => api.reproducePlan({ preset: 'tiny', ...bogus } as never)],
    estimatePlan: [() => api.estimatePlan(api.reproducePlan({ preset: 'tiny' }), bogus as never)],
  };
  // Why each of these has no options object to check.
  const noOptions: Record<string, string> = {
    TransfusionError: 'a class', Model: 'a class (its methods are below)', Dataset: 'a class without options', ProcessGroup: 'made by initProcessGroup',
    listModels: 'no arguments', weightFormatOf: 'a path', chestFindings: 'no arguments', defaultUncertaintyPolicy: 'no arguments',
    distributedFromEnv: 'an environment, each variable checked by name', auc: 'arrays', meanStd: 'an array', stepsToAuc: 'a curve and a number',
    gaborKernel: 'one filter record from gaborBank', parseInit: 'a string', initLabel: 'an Initialisation, checked by applyInit', experimentSpec: 'names',
    loadStudyConfig: 'a file, checked against the study schema', resumeSpec: 'a path', readResults: 'a path, its file checked against the results schema',
    checkpointPath: 'strings and a number', preset: 'a name', validateSpec: 'a spec: its values checked here, its fields by runStudy()', armsOf: 'a validated spec',
    defaultCacheDir: 'no arguments', renderReport: 'results read and checked by readResults', writeReport: 'results read and checked by readResults',
    pickMetrics: 'a result and metric names', setThreads: 'a number', getThreads: 'no arguments', liveHandles: 'no arguments', reusedMemoryBytes: 'no arguments', similarityMetrics: 'no arguments',
    cudaAvailable: 'no arguments', versions: 'no arguments',
    averagePrecision: 'arrays', quadraticKappa: 'arrays and a number', isDicomFile: 'a path',
    readReproduction: 'a path, its record checked by schema', mergeReproductions: 'paths', scoreFindings: 'results read by readResults and readReproduction',
    describeEstimate: 'an estimate from estimatePlan', writePaperReport: 'records read by readReproduction', renderPaperReport: 'records read by readReproduction',
  };

  it('lists every exported function', () => {
    const functions = Object.entries(api).filter(([, v]) => typeof v === 'function').map(([k]) => k).sort();
    expect(functions).toEqual([...Object.keys(takesOptions), ...Object.keys(noOptions)].sort());
  });

  it.each(Object.keys(takesOptions))('%s', async (name) => {
    for (const call of takesOptions[name]) {
      const err = await errorOf(call);
      expect(err).toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(/^Unknown (option|field) `bogusOption` for /) });
    }
  });

  it('and every Model method that takes options', async () => {
    const methods: Record<string, (() => unknown)[]> = {
      forward: [() => model.forward({ data: new Float32Array(3), shape: [1, 3, 1, 1] }, bogus as never)],
      saveWeights: [() => model.saveWeights(path.join(dir, 'w.pt'), bogus as never)],
      loadWeights: [() => model.loadWeights('w.pt', bogus as never), () => model.loadWeights('w.pt', {}, bogus as never)],
      meanVarInit: [() => model.meanVarInit('w.pt', bogus as never), () => model.meanVarInit('w.pt', {}, bogus as never)],
      forwardFlops: [() => model.forwardFlops(32, 32, bogus as never)],
    };
    const without = ['constructor', 'info', 'name', 'stages', 'parameterCount', 'stageShapes', 'getParameter', 'setParameter', 'dispose', 'disposed'];
    expect(Object.getOwnPropertyNames(Model.prototype).sort()).toEqual([...Object.keys(methods), ...without].sort());
    for (const [name, calls] of Object.entries(methods))
      for (const call of calls) expect([name, await errorOf(call)]).toEqual([name, expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(/^Unknown option `bogusOption` for Model\./) })]);
  });
});
