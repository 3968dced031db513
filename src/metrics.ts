import { invalidArg } from './errors';
import { callNative } from './job';
import { addon } from './runtime';

/**
 * AUC-ROC of `scores` against 0/1 `labels`, as the Mann-Whitney U statistic (a tied positive-negative pair counts one
 * half). Throws ERR_INVALID_ARG for unequal lengths, non-finite scores, labels other than 0/1, or a single class.
 * @param scores - One score per item, higher meaning more likely positive.
 * @param labels - One 0/1 label per item.
 * @returns The AUC-ROC, 0-1.
 * @throws ERR_INVALID_ARG as above.
 */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (!isNumberArray(scores)) throw invalidArg('scores', 'an array of numbers', scores);
  if (!isNumberArray(labels)) throw invalidArg('labels', 'an array of 0/1 numbers', labels);
  return callNative(() => addon().auc(Float64Array.from(scores), Float64Array.from(labels)));
}

function isNumberArray(x: unknown): x is ArrayLike<number> {
  return ArrayBuffer.isView(x) || (Array.isArray(x) && x.every((v) => typeof v === 'number'));
}

/** Mean and population standard deviation (n): the statistics of a weight tensor. */
export function populationStats(values: ArrayLike<number>): { mean: number; std: number } {
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(squares / n) };
}

/**
 * Mean and sample standard deviation (n - 1); std is 0 for one value.
 * @param values - The sample.
 * @returns mean, std and n, the sample's size; mean and std are NaN for an empty sample.
 */
export function meanStd(values: number[]): { mean: number; std: number; n: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, n };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance), n };
}

/**
 * The first step at which the validation AUC reached `threshold` (the paper's Figure 7 uses 0.91), or null if it never
 * did. Resolution is the evaluation interval of the curve.
 * @param curve - Validation points in step order, e.g. a {@link RunRecord}'s curve.
 * @param threshold - The AUC to reach, 0-1.
 * @returns The step, or null.
 */
export function stepsToAuc(curve: { step: number; auc: number | null }[], threshold: number): number | null {
  for (const point of curve) if (point.auc !== null && point.auc >= threshold) return point.step;
  return null;
}
