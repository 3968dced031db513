import { auc } from '../../src';

// Independent reference: the fraction of (positive, negative) pairs ranked correctly, ties counting one half.
function pairwiseAuc(scores: number[], labels: number[]): number {
  let wins = 0, pairs = 0;
  scores.forEach((sp, i) => {
    if (labels[i] !== 1) return;
    scores.forEach((sn, j) => {
      if (labels[j] !== 0) return;
      pairs += 1;
      wins += sp > sn ? 1 : sp === sn ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (1664525 * s + 1013904223) >>> 0) / 2 ** 32);
}

describe('auc', () => {
  it('equals the Mann-Whitney statistic, ties counted one half', () => {
    const rand = lcg(42);
    for (let trial = 0; trial < 20; trial++) {
      const n = 10 + Math.floor(rand() * 200);
      // Scores on a coarse grid, so ties are frequent.
      const labels = Array.from({ length: n }, (_, i) => (i < 2 ? i : rand() < 0.4 ? 1 : 0));
      const scores = labels.map((y) => Math.round((rand() + 0.3 * y) * 8) / 8);
      expect(auc(scores, labels)).toBeCloseTo(pairwiseAuc(scores, labels), 12);
    }
  });

  it('gives the textbook values', () => {
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(auc([1, 1, 1, 1], [0, 1, 0, 1])).toBe(0.5);
    expect(auc(new Float32Array([3, 2, 1]), new Float32Array([1, 0, 0]))).toBe(1);
  });

  it('rejects inputs for which AUC is undefined', () => {
    expect(() => auc([0.1, 0.2], [1, 1])).toThrow('auc: needs at least one positive and one negative label (got 2 positive, 0 negative)');
    expect(() => auc([0.1, 0.2], [0, 2])).toThrow('auc: label 1 is 2.000000, expected 0 or 1');
    expect(() => auc([0.1, NaN], [0, 1])).toThrow('auc: score 1 is not finite');
    expect(() => auc([0.1], [0, 1])).toThrow('Expected `scores` and `labels` to have the same length but received 1 and 2');
    expect(() => auc('x' as unknown as number[], [0])).toThrow('Expected `scores` to be an array of numbers but received "x"');
  });
});
