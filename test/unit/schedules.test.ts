import { learningRates } from '../../src/schedules/lr';

describe('learningRates', () => {
  it('is constant for a constant schedule', () => {
    expect(Array.from(learningRates({ kind: 'constant', lr: 0.1 }, 4))).toEqual([0.1, 0.1, 0.1, 0.1]);
  });

  it('warms up linearly, then follows a cosine to the floor', () => {
    const lrs = learningRates({ kind: 'cosine', lr: 1, warmupSteps: 4, finalFraction: 0.1 }, 104);
    expect(Array.from(lrs.slice(0, 4))).toEqual([0.25, 0.5, 0.75, 1]);
    expect(lrs[4]).toBeCloseTo(1, 12);
    expect(lrs[54]).toBeCloseTo(0.55, 12);  // halfway through the cosine: (1 + 0.1) / 2
    for (let i = 5; i < lrs.length; i++) expect(lrs[i]).toBeLessThanOrEqual(lrs[i - 1]);
    expect(lrs[103]).toBeGreaterThan(0.1);
  });

  it('drops by gamma at each milestone of a step schedule', () => {
    const lrs = learningRates({ kind: 'step', lr: 1, milestones: [0.5, 0.75], gamma: 0.1 }, 8);
    expect(Array.from(lrs).map((x) => +x.toFixed(6))).toEqual([1, 1, 1, 1, 0.1, 0.1, 0.01, 0.01]);
  });

  it('names a bad argument', () => {
    expect(() => learningRates({ kind: 'cosine', lr: 0.1 }, 0)).toThrow('Expected `steps` to be a positive integer but received 0');
    expect(() => learningRates({ kind: 'linear' as 'cosine', lr: 0.1 }, 3)).toThrow('Expected `schedule.kind` to be one of "constant", "cosine", "step" but received "linear"');
    expect(() => learningRates({ kind: 'cosine', lr: -1 }, 3)).toThrow('Expected `schedule.lr` to be a number in [0, 100] but received -1');
  });
});
