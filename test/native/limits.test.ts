// native/limits.json is the one table of bounds (issue 32): the TypeScript checks read it (src/limits.ts) and the
// addon's checks read the header CMake makes of it (core/limits.h). Each bound the addon checks is probed here through
// the addon itself, at the bound (accepted) and just past it (refused, naming the range), so the sides cannot drift.
import { loadAddon } from '../../bindings/native';
import TABLE from '../../native/limits.json';
import { createModel, generateRetina, train, type Dataset } from '../../src';
import { awaitJob } from '../../src/job';
import { LIMITS } from '../../src/limits';

const addon = loadAddon();

describe('the bounds table', () => {
  it('is what src/limits.ts exports', () => {
    expect(LIMITS).toEqual(TABLE);
  });

  it.each(['generateRetina', 'generateChest', 'generateNatural'] as const)('%s: the addon takes image sizes in LIMITS.imageSize', async (fn) => {
    const { min, max } = LIMITS.imageSize;
    for (const size of [min - 1, max + 1])
      expect(() => addon[fn]({ count: 1, size, seed: 0 })).toThrow(`Expected \`size\` to be an integer in [${min}, ${max}] but received ${size}`);
    for (const size of [min, max]) (await awaitJob(() => addon[fn]({ count: 1, size, seed: 0 }))).dispose();
  });

  it('generateNatural: the addon takes class counts in LIMITS.classes', async () => {
    const { min, max } = LIMITS.classes;
    for (const classes of [min - 1, max + 1])
      expect(() => addon.generateNatural({ count: 1, size: 16, seed: 0, classes })).toThrow(`Expected \`classes\` to be an integer in [${min}, ${max}] but received ${classes}`);
    for (const classes of [min, max]) (await awaitJob(() => addon.generateNatural({ count: 1, size: 16, seed: 0, classes }))).dispose();
  });

  it('train(): the addon takes batchSize, momentum, weightDecay, evalEvery and the number of steps in LIMITS', async () => {
    const data = await generateRetina({ count: 16, size: 16, seed: 1 });
    const model = createModel('cbr-tiny', { numClasses: 1 });
    const base = { steps: 1, batchSize: 8, schedule: { kind: 'constant' as const, lr: 1e-3 } };
    for (const [key, type] of [['batchSize', 'an integer'], ['momentum', 'a number'], ['weightDecay', 'a number'], ['evalEvery', 'an integer']] as const) {
      const { min, max } = LIMITS[key];
      const past = type === 'an integer' ? max + 1 : max * 1.5;
      // Past the bound, the addon itself refuses it (the TypeScript layer may check some first: the call goes direct).
      expect(() => addon.train(model.native, data.native, data.native, { ...base, learningRates: [1e-3], [key]: past })).toThrow(`Expected \`${key}\` to be ${type} in [${min}, ${max}]`);
    }
    // The per-step rates: as many as LIMITS.steps.max (a schedule's peak is bounded by LIMITS.lr at the edge; an
    // explicit per-step array may go past it, as the divergence test in train.test.ts does).
    expect(() => addon.train(model.native, data.native, data.native, { ...base, learningRates: new Float64Array(LIMITS.steps.max + 1) })).toThrow(`Expected \`learningRates\` to hold at most ${LIMITS.steps.max} steps`);
    expect((await train(model, { train: data, val: data }, { ...base, schedule: { kind: 'constant', lr: LIMITS.lr.max } })).steps).toBe(1);
    model.dispose();
    data.dispose();
  });

  describe('augmentation', () => {
    let data: Dataset;
    beforeAll(async () => {
      data = await generateRetina({ count: 16, size: 16, seed: 1 });
    });
    afterAll(() => data.dispose());

    it.each(['rotate', 'translate', 'scale'] as const)('train(): the addon takes augment.%s in LIMITS', async (key) => {
      const { min, max } = LIMITS[key];
      const model = createModel('cbr-tiny', { numClasses: 1 });
      const run = (value: number) => train(model, { train: data, val: data }, { steps: 1, batchSize: 8, schedule: { kind: 'constant', lr: 1e-3 }, augment: { [key]: value } });
      await expect(run(max * 1.01)).rejects.toThrow(`Expected \`${key}\` to be a number in [${min}, ${max}]`);
      await expect(run(max)).resolves.toMatchObject({ steps: 1 });
      model.dispose();
    });
  });
});
