import { checkInteger, invalidArg } from './errors';
import { checkOptions, optionKeys } from './options';
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

/**
 * AUC-PR of `scores` against 0/1 `labels` as average precision, the way scikit-learn's average_precision_score computes
 * it: over the distinct scores from high to low, the precision at each times the recall it adds (step-wise, no
 * interpolation; tied scores are one threshold).
 * @param scores - One score per item, higher meaning more likely positive.
 * @param labels - One 0/1 label per item.
 * @returns The average precision, 0-1.
 * @throws ERR_INVALID_ARG for unequal lengths, non-finite scores, labels other than 0/1, or no positive label.
 */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (!isNumberArray(scores)) throw invalidArg('scores', 'an array of numbers', scores);
  if (!isNumberArray(labels)) throw invalidArg('labels', 'an array of 0/1 numbers', labels);
  return callNative(() => addon().averagePrecision(Float64Array.from(scores), Float64Array.from(labels)));
}

/** How {@link bootstrapAucInterval} resamples. */
export interface BootstrapOptions {
  /** Resamples drawn (default 1000). */
  resamples?: number;
  /** Seed of the draws (default 0): the same seed, the same interval. */
  seed?: number;
  /** Coverage of the interval (default 0.95). */
  level?: number;
}
const BOOTSTRAP_OPTION_KEYS = optionKeys<BootstrapOptions>()(['resamples', 'seed', 'level']);

/**
 * A bootstrap percentile interval of the AUC-ROC: the items resampled with replacement (not stratified), the AUC of
 * each resample, and the quantiles (1 - level) / 2 and (1 + level) / 2 of those, linearly interpolated as
 * numpy.percentile does. A resample with one class only is skipped. The draws, for an independent check: one
 * splitmix64 stream seeded with `seed`, draw j picking item `next() % n`, resample r taking draws r*n to r*n + n - 1.
 * @param scores - One score per item, higher meaning more likely positive.
 * @param labels - One 0/1 label per item.
 * @param options - resamples, seed and level; default 1000, 0, 0.95.
 * @returns low and high (null when no resample had both classes) and the resamples kept.
 * @throws ERR_INVALID_ARG for unequal lengths, non-finite scores, labels other than 0/1, an unknown option, or
 *   resamples, seed or level out of range.
 */
export function bootstrapAucInterval(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: BootstrapOptions = {},
): { low: number | null; high: number | null; resamples: number } {
  if (!isNumberArray(scores)) throw invalidArg('scores', 'an array of numbers', scores);
  if (!isNumberArray(labels)) throw invalidArg('labels', 'an array of 0/1 numbers', labels);
  checkOptions('bootstrapAucInterval()', options, BOOTSTRAP_OPTION_KEYS, 'options');
  if (options.resamples !== undefined) checkInteger('resamples', options.resamples, 1, 1 << 20);
  if (options.seed !== undefined) checkInteger('seed', options.seed, 0, Number.MAX_SAFE_INTEGER);
  if (options.level !== undefined && !(typeof options.level === 'number' && options.level > 0 && options.level < 1))
    throw invalidArg('level', 'a number between 0 and 1 (exclusive)', options.level);
  return callNative(() => addon().bootstrapAucInterval(Float64Array.from(scores), Float64Array.from(labels), options));
}

/**
 * Cohen's kappa with quadratic weights between two ratings on the ordered scale 0..classes-1 (the Kaggle EyePACS
 * metric on DR grades 0-4): 1 - sum(w * observed) / sum(w * expected by chance), w = (i - j)^2 over the whole scale, as
 * scikit-learn's cohen_kappa_score(a, b, weights='quadratic', labels=range(classes)).
 * @param a - One level per item (e.g. the graders').
 * @param b - One level per item (e.g. the model's).
 * @param classes - Levels on the scale (default 5, DR grades 0-4).
 * @returns Kappa, at most 1; NaN when chance disagreement is 0 (both ratings put every item on one level).
 * @throws ERR_INVALID_ARG for unequal lengths, a rating that is not an integer 0..classes-1, or classes below 2.
 */
export function quadraticKappa(a: ArrayLike<number>, b: ArrayLike<number>, classes = 5): number {
  if (!isNumberArray(a)) throw invalidArg('a', 'an array of integer levels', a);
  if (!isNumberArray(b)) throw invalidArg('b', 'an array of integer levels', b);
  checkInteger('classes', classes, 2, 1 << 16);
  return callNative(() => addon().quadraticKappa(Float64Array.from(a), Float64Array.from(b), classes));
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
