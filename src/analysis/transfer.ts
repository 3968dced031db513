// What is transferred, and where: the follow-ups of the paper as library calls, composed from native pieces
// (native/core/analysis/transfer.cc) and evaluate().
//   interpolate        Neyshabur, Sedghi and Zhang (2020): loss and AUC along the straight line between two trained
//                      models, BatchNorm's statistics recomputed at each point; the barrier above the line
//   stageCriticality   each stage reset to its initial weights (re-initialisation) or re-drawn (re-randomisation)
//   knnEvaluate        Matsoukas et al. (2022): k-NN classification from each stage's pooled features
import type { KnnResult } from '../../bindings/native';
import type { Dataset } from '../data/embedded';
import { abortError, checkInteger, invalidArg } from '../errors';
import { awaitJob, callNative } from '../job';
import { modelNamed, type Model } from '../models';
import { checkHandle, checkOptions, optionKeys } from '../options';
import { addon } from '../runtime';
import { evaluate } from '../train';

export type { KnnResult } from '../../bindings/native';

/** 11 points from 0 to 1, as Neyshabur et al.'s interpolation plots. */
export const DEFAULT_ALPHAS: readonly number[] = Array.from({ length: 11 }, (_, i) => i / 10);

/** A fresh model of `m`'s architecture (name, classes, padding, device, auxiliary head), for scratch work. */
function sameArchitecture(m: Model, seed = 0): Model {
  const info = m.info();
  let auxLogits = false;
  if (info.name === 'inception_v3')
    try {
      m.getParameter('AuxLogits.fc.bias');
      auxLogits = true;
    } catch {
      auxLogits = false;
    }
  return modelNamed(info.name, { numClasses: info.numClasses, padding: info.padding, device: info.device, seed, ...(info.name === 'inception_v3' ? { auxLogits } : {}) });
}

/** How {@link interpolate} walks the line. */
export interface InterpolateOptions {
  /** Points along the line, each in [0, 1] (default {@link DEFAULT_ALPHAS}: 0, 0.1, ..., 1). */
  alphas?: readonly number[];
  /** Minibatches of training images BatchNorm's statistics are recomputed from at each point (default 8; 0 keeps
   * the interpolated running statistics). */
  bnBatches?: number;
  /** Images per minibatch, for the recomputation and the evaluation (default 64). */
  batchSize?: number;
  signal?: AbortSignal;
  /** Called after each point. */
  onProgress?: (e: { kind: 'point'; done: number; total: number }) => void;
}
const INTERPOLATE_KEYS = optionKeys<InterpolateOptions>()(['alphas', 'bnBatches', 'batchSize', 'signal', 'onProgress']);

/** One point on the line. */
export interface InterpolationPoint {
  alpha: number;
  /** Mean validation loss; null where not finite. */
  loss: number | null;
  /** Mean validation AUC; null where undefined. */
  auc: number | null;
}

/** The line between two models, and its barriers. */
export interface Interpolation {
  points: InterpolationPoint[];
  /** Training images BatchNorm's statistics were recomputed from at each point (0: none). */
  bnImages: number;
  /** loss: the largest rise of the loss above the straight line between the ends' losses; auc: the largest drop of
   * the AUC below the line between the ends' AUCs (Neyshabur et al.'s performance barrier); null without both ends. */
  barrier: { loss: number | null; auc: number | null };
}

/** The largest excess of `sign * (value - line)` over the points, where the line joins the ends' values. */
function barrierOf(points: InterpolationPoint[], key: 'loss' | 'auc', sign: 1 | -1): number | null {
  const first = points.find((p) => p.alpha === 0)?.[key], last = points.find((p) => p.alpha === 1)?.[key];
  if (first == null || last == null) return null;
  let most = 0;
  for (const p of points) {
    const v = p[key];
    if (v !== null) most = Math.max(most, sign * (v - ((1 - p.alpha) * first + p.alpha * last)));
  }
  return most;
}

/**
 * Validation loss and AUC along theta(alpha) = (1 - alpha) theta_a + alpha theta_b (Neyshabur, Sedghi and Zhang 2020,
 * "What is being transferred in transfer learning?"), with BatchNorm's running statistics recomputed at each point
 * from the first `bnBatches` minibatches of the training set (in order, no augmentation), and the barrier: how far the
 * loss rises above (the AUC falls below) the straight line between the ends. Models fine-tuned from the same
 * pretrained weights stay in one basin (no barrier); models trained from random initialisation do not.
 * @param a - A trained model (alpha = 0).
 * @param b - Another of the same architecture (alpha = 1).
 * @param data - `train` for the BatchNorm statistics, `val` for the loss and AUC.
 * @param options - Points, BatchNorm minibatches, batch size, signal, progress ({@link InterpolateOptions}).
 * @returns Every point's loss and AUC, the images BatchNorm saw, and the barriers.
 * @throws ERR_INVALID_ARG for models of other architectures, a point outside [0, 1] or a bad option; ERR_BUSY when a
 *   model is training; ERR_DISPOSED; ABORT_ERR.
 * @example
 * ```ts
 * const line = await interpolate(transferSeed0, transferSeed1, { train, val });
 * line.barrier.loss;  // ~0 within one basin
 * ```
 */
export async function interpolate(a: Model, b: Model, data: { train: Dataset; val: Dataset }, options: InterpolateOptions = {}): Promise<Interpolation> {
  checkHandle('interpolate()', 'a', a, 'Model', 'createModel()');
  checkHandle('interpolate()', 'b', b, 'Model', 'createModel()');
  checkHandle('interpolate()', 'data.train', data?.train, 'Dataset', 'generateRetina() or createDataset()');
  checkHandle('interpolate()', 'data.val', data?.val, 'Dataset', 'generateRetina() or createDataset()');
  checkOptions('interpolate()', options, INTERPOLATE_KEYS);
  const alphas = [...(options.alphas ?? DEFAULT_ALPHAS)];
  if (!alphas.length || alphas.some((x) => typeof x !== 'number' || !(x >= 0 && x <= 1)))
    throw invalidArg('alphas', 'a non-empty list of numbers in [0, 1]', options.alphas);
  const bnBatches = checkInteger('bnBatches', options.bnBatches ?? 8, 0);
  const batchSize = checkInteger('batchSize', options.batchSize ?? 64, 1);
  const scratch = sameArchitecture(a);
  try {
    const points: InterpolationPoint[] = [];
    let bnImages = 0;
    for (const [k, alpha] of alphas.entries()) {
      if (options.signal?.aborted) throw abortError(options.signal);
      callNative(() => addon().interpolateWeights(scratch.native, a.native, b.native, alpha));
      if (bnBatches > 0) bnImages = await awaitJob(() => addon().recomputeBatchNorm(scratch.native, data.train.native, { batches: bnBatches, batchSize }), options.signal);
      const m = await evaluate(scratch, data.val, { batchSize, signal: options.signal });
      points.push({ alpha, loss: m.loss, auc: m.meanAuc ?? null });
      options.onProgress?.({ kind: 'point', done: k + 1, total: alphas.length });
    }
    return { points, bnImages, barrier: { loss: barrierOf(points, 'loss', 1), auc: barrierOf(points, 'auc', -1) } };
  } finally {
    scratch.dispose();
  }
}

/** How {@link stageCriticality} resets stages. */
export interface CriticalityOptions {
  /** Stages to reset one at a time (default: every stage, the classifier included). */
  stages?: string[];
  /** Seed of the re-randomised weights and of the perturbations (default 1000: another draw than any study seed's). */
  seed?: number;
  /** The points of the path from the stage's initial to its trained weights tried, ascending (default 0, 0.1, ..., 1:
   * Chatterji et al.'s alpha grid), by both the noise-free path and module criticality. */
  alphas?: readonly number[];
  /** The noise-free path: how far below the trained AUC still counts as kept (default 0.01). */
  tolerance?: number;
  /** Module criticality: the standard deviations of the Gaussian perturbations tried, ascending (default 10 points
   * geometric from 1e-4 to 1e-1; see {@link DEFAULT_SIGMAS}). */
  sigmas?: readonly number[];
  /** Module criticality: perturbations drawn per (alpha, sigma) point, their mean loss compared (default 10, as
   * Chatterji et al.'s num_samples_per_iteration). */
  samples?: number;
  /** Module criticality: a point keeps the loss when its mean perturbed loss is at most `rtol` times the trained
   * model's (default 1.01, as Chatterji et al.'s relative_error_condition). */
  rtol?: number;
  /** Module criticality: the set whose loss it reads (default: the validation set given; Chatterji et al. use the
   * training set, as the studies do). */
  lossData?: Dataset;
  /** Skip module criticality (the perturbation search), keeping the resets and the noise-free path. */
  noCriticality?: boolean;
  batchSize?: number;
  signal?: AbortSignal;
  /** Called after each stage. */
  onProgress?: (e: { kind: 'stage'; stage: string; done: number; total: number }) => void;
}
const CRITICALITY_KEYS = optionKeys<CriticalityOptions>()(['stages', 'seed', 'alphas', 'tolerance', 'sigmas', 'samples', 'rtol', 'lossData', 'noCriticality', 'batchSize', 'signal', 'onProgress']);

/** Module criticality's default perturbation scales: 10 points geometric from 1e-4 to 1e-1. Chatterji et al.'s code
 * spaces 11 points linearly over [1e-16, 1] times a ratio; noise of standard deviation 0.1 or more ruins any conv stage
 * whose weights are of order 0.05, so that grid leaves only 1e-16 and scores of order 1e32. */
export const DEFAULT_SIGMAS: readonly number[] = Array.from({ length: 10 }, (_, i) => 1e-4 * 10 ** (i / 3));

/** One stage's reset results (see {@link StageCriticality}). */
export interface StageReset {
  stage: string;
  /** The AUC with this stage's weights (BatchNorm statistics included) back at their initial values. */
  reinitialised: number | null;
  /** The AUC with this stage re-drawn from the architecture's initialisation under another seed. */
  rerandomised: number | null;
  /** The noise-free path: the smallest alpha at which the stage's weights (1 - alpha) theta_init + alpha
   * theta_trained, the rest as trained, keep the AUC within `tolerance` of the trained AUC (0: the initial weights
   * already do; a stage that needs its training needs alpha near 1); null without a trained AUC or if none does. */
  pathAlpha: number | null;
  /** Module criticality (Chatterji, Neyshabur and Sedghi 2020, as Neyshabur et al. use it): the smallest
   * (alpha / sigma)^2 ||theta_trained - theta_init||_F^2 over the alpha and sigma grids such that the stage's weights at
   * alpha, plus Gaussian noise of standard deviation sigma, keep the mean loss of `samples` draws within `rtol` of the
   * trained loss; 0 when the initial weights do. Large: the stage sits in a narrow valley far from where it started.
   * null when no grid point keeps the loss (or there is no trained loss), or with noCriticality. */
  criticality: number | null;
  /** The (alpha, sigma) point that gives `criticality`. */
  criticalAlpha: number | null;
  criticalSigma: number | null;
  /** ||theta_trained - theta_init||_F over the stage's parameters. */
  distance: number;
}

/** Each stage's effect on the validation AUC when reset. */
export interface StageCriticality {
  /** The trained model's own validation AUC, and its loss on the set module criticality reads (`lossData`). */
  auc: number | null;
  loss: number | null;
  /** Evaluations of perturbed points module criticality made (every stage together). */
  evaluations: number;
  stages: StageReset[];
}

/**
 * Which stages matter (Zhang, Bengio and Singer's "Are all layers created equal?", as Neyshabur et al. use it): the
 * validation AUC after resetting one stage at a time of a trained model to its initial weights (re-initialisation),
 * and after re-drawing it (re-randomisation), the other stages kept as trained. A stage whose reset leaves the AUC is
 * robust; one whose reset ruins it is critical. Two walks back along the path from the stage's initial to its trained
 * weights (the rest as trained): the noise-free one gives the first point that keeps the AUC (`pathAlpha`); module
 * criticality (Chatterji et al. 2020) also asks how much Gaussian noise each point survives, and scores the stage by
 * (alpha / sigma)^2 times its squared distance travelled. Its (alpha, sigma) grid is searched in order of that score,
 * so the first point that keeps the loss is the minimum; a point is skipped when the same alpha already failed with
 * less noise (the loss assumed to grow with the noise), and a point's draws stop once their losses already exceed what
 * the mean allows. AUCs are measured on `val`; the loss on `options.lossData`.
 * @param trained - The trained model.
 * @param initial - The same run at initialisation (e.g. its snapshot), same architecture.
 * @param val - The validation set.
 * @param options - Stages, seeds, grids, batch size, signal ({@link CriticalityOptions}).
 * @returns The trained AUC and loss and, per stage, the AUC after each reset and the stage's criticality.
 * @throws ERR_INVALID_ARG for models of other architectures, an unknown stage or a bad option; ERR_BUSY; ERR_DISPOSED;
 *   ABORT_ERR.
 */
export async function stageCriticality(trained: Model, initial: Model, val: Dataset, options: CriticalityOptions = {}): Promise<StageCriticality> {
  checkHandle('stageCriticality()', 'trained', trained, 'Model', 'createModel()');
  checkHandle('stageCriticality()', 'initial', initial, 'Model', 'createModel()');
  checkHandle('stageCriticality()', 'val', val, 'Dataset', 'generateRetina() or createDataset()');
  checkOptions('stageCriticality()', options, CRITICALITY_KEYS);
  if (options.lossData !== undefined) checkHandle('stageCriticality()', 'options.lossData', options.lossData, 'Dataset', 'generateRetina() or createDataset()');
  const lossData = options.lossData ?? val;
  const all = trained.info().stages;
  const stages = options.stages ?? all;
  const batchSize = checkInteger('batchSize', options.batchSize ?? 64, 1);
  const alphas = ascending('alphas', options.alphas ?? DEFAULT_ALPHAS, 0, 1);
  const sigmas = ascending('sigmas', options.sigmas ?? DEFAULT_SIGMAS, Number.MIN_VALUE, Infinity);
  const samples = checkInteger('samples', options.samples ?? 10, 1);
  const tolerance = options.tolerance ?? 0.01;
  if (typeof tolerance !== 'number' || !(tolerance >= 0 && tolerance <= 1)) throw invalidArg('tolerance', 'a number in [0, 1]', tolerance);
  const rtol = options.rtol ?? 1.01;
  if (typeof rtol !== 'number' || !(rtol >= 1 && Number.isFinite(rtol))) throw invalidArg('rtol', 'a finite number >= 1', rtol);
  const seed = checkInteger('seed', options.seed ?? 1000, 0);
  const scratch = sameArchitecture(trained), fresh = sameArchitecture(trained, seed);
  const copy = (from: Model, which: string[]) => callNative(() => addon().copyStages(scratch.native, from.native, which));
  const score = async (on = val) => evaluate(scratch, on, { batchSize, signal: options.signal });
  // The stage at alpha along its path from the initial weights, the other stages as trained.
  const atAlpha = (stage: string, alpha: number) => {
    callNative(() => addon().interpolateWeights(scratch.native, initial.native, trained.native, alpha));
    copy(trained, all.filter((s) => s !== stage));
  };
  try {
    copy(trained, all);
    callNative(() => addon().copyStages(scratch.native, initial.native, []));  // the architecture check, before any work
    const end = await score();  // the trained model, on val and (where it is another set) on lossData
    const out: StageCriticality = { auc: end.meanAuc ?? null, loss: (lossData === val ? end : await score(lossData)).loss, evaluations: 0, stages: [] };
    for (const stage of stages) {
      copy(initial, [stage]);
      const reinitialised = (await score()).meanAuc ?? null;
      copy(fresh, [stage]);
      const rerandomised = (await score()).meanAuc ?? null;
      let pathAlpha: number | null = null;
      for (const alpha of out.auc === null ? [] : alphas) {
        atAlpha(stage, alpha);
        const auc = (await score()).meanAuc ?? null;
        if (auc !== null && auc >= out.auc! - tolerance) {
          pathAlpha = alpha;
          break;
        }
      }
      const squared = callNative(() => addon().stageDistance(trained.native, initial.native, [stage]));
      const reset: StageReset = { stage, reinitialised, rerandomised, pathAlpha, criticality: null, criticalAlpha: null, criticalSigma: null, distance: Math.sqrt(squared) };
      if (!options.noCriticality && out.loss !== null) {
        const grid = alphas.flatMap((alpha) => sigmas.map((sigma) => ({ alpha, sigma, score: (alpha / sigma) ** 2 * squared })));
        grid.sort((a, b) => a.score - b.score || a.sigma - b.sigma);
        const failed = new Map<number, number>();  // per alpha, the smallest sigma that failed
        const bound = samples * rtol * out.loss;
        for (const point of grid) {
          if ((failed.get(point.alpha) ?? Infinity) <= point.sigma) continue;
          let total = 0;
          for (let k = 0; k < samples && total <= bound; k++) {  // losses are >= 0: past the bound, the mean fails
            atAlpha(stage, point.alpha);
            callNative(() => addon().perturbStages(scratch.native, [stage], point.sigma, (seed * 1000003 + out.evaluations) % 2 ** 52));
            out.evaluations++;
            total += (await score(lossData)).loss ?? Infinity;
          }
          if (total <= bound) {
            Object.assign(reset, { criticality: point.score, criticalAlpha: point.alpha, criticalSigma: point.sigma });
            break;
          }
          failed.set(point.alpha, point.sigma);
        }
      }
      copy(trained, all);
      out.stages.push(reset);
      options.onProgress?.({ kind: 'stage', stage, done: out.stages.length, total: stages.length });
    }
    return out;
  } finally {
    scratch.dispose();
    fresh.dispose();
  }
}

/** `values` as an ascending list of numbers in [lo, hi], or ERR_INVALID_ARG naming `name`. */
function ascending(name: string, values: readonly number[], lo: number, hi: number): number[] {
  const list = Array.isArray(values) ? [...values] : [];
  if (!list.length || list.some((x, i) => typeof x !== 'number' || !(x >= lo && x <= hi) || (i > 0 && x <= list[i - 1])))
    throw invalidArg(name, `an ascending list of numbers in [${lo === Number.MIN_VALUE ? '>0' : lo}, ${hi}]`, values);
  return list;
}

/** How {@link knnEvaluate} classifies. */
export interface KnnOptions {
  /** Stages whose features vote (default: every stage). */
  stages?: string[];
  /** Neighbours (default 200, the InstDisc/MoCo k-NN monitor's). */
  k?: number;
  /** Temperature of the exp(similarity / T) weights (default 0.1, the monitor's). */
  temperature?: number;
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (e: unknown) => void;
}
const KNN_KEYS = optionKeys<KnnOptions>()(['stages', 'k', 'temperature', 'batchSize', 'signal', 'onProgress']);

/**
 * k-NN classification from each stage's features (Matsoukas et al. 2022, "What makes transfer learning work for
 * medical images"): every image's stage output pooled over its positions and L2-normalised; each query takes the k
 * most cosine-similar images of the memory bank (the training set), weighted exp(similarity / T), and an output's
 * score is their weighted share of positives; the AUC of those scores per output. What a stage's features hold for
 * the task without any training of a classifier on them.
 * @param model - The model whose features are read.
 * @param bank - The memory bank (training set), binary or multi-label.
 * @param queries - The images classified (validation set).
 * @param options - Stages, k, temperature, batch size, signal ({@link KnnOptions}).
 * @returns Per stage the AUC per output and their mean, with k and the set sizes.
 * @throws ERR_INVALID_ARG for a multiclass set, an unknown stage or a bad option; ERR_BUSY; ERR_DISPOSED; ABORT_ERR.
 */
export async function knnEvaluate(model: Model, bank: Dataset, queries: Dataset, options: KnnOptions = {}): Promise<KnnResult> {
  checkHandle('knnEvaluate()', 'model', model, 'Model', 'createModel()');
  checkHandle('knnEvaluate()', 'bank', bank, 'Dataset', 'generateRetina() or createDataset()');
  checkHandle('knnEvaluate()', 'queries', queries, 'Dataset', 'generateRetina() or createDataset()');
  checkOptions('knnEvaluate()', options, KNN_KEYS);
  const { signal, onProgress, ...native } = options;
  return awaitJob(() => addon().knnEvaluate(model.native, bank.native, queries.native, native, onProgress), signal);
}
