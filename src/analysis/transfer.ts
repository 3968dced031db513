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
import { createModel, type Model } from '../models';
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
  return createModel(info.name, { numClasses: info.numClasses, padding: info.padding, device: info.device, seed, ...(info.name === 'inception_v3' ? { auxLogits } : {}) });
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
  /** Seed of the re-randomised weights (default 1000: another draw than any study seed's). */
  seed?: number;
  /** Module criticality: the points of the path from the stage's initial to its trained weights tried, ascending
   * (default 0, 0.1, ..., 1), and how far below the trained AUC still counts as kept (default 0.01). */
  alphas?: readonly number[];
  tolerance?: number;
  batchSize?: number;
  signal?: AbortSignal;
  /** Called after each stage. */
  onProgress?: (e: { kind: 'stage'; stage: string; done: number; total: number }) => void;
}
const CRITICALITY_KEYS = optionKeys<CriticalityOptions>()(['stages', 'seed', 'alphas', 'tolerance', 'batchSize', 'signal', 'onProgress']);

/** Each stage's effect on the validation AUC when reset. */
export interface StageCriticality {
  /** The trained model's own AUC. */
  auc: number | null;
  stages: {
    stage: string;
    /** The AUC with this stage's weights (BatchNorm statistics included) back at their initial values. */
    reinitialised: number | null;
    /** The AUC with this stage re-drawn from the architecture's initialisation under another seed. */
    rerandomised: number | null;
    /** Module criticality (after Neyshabur et al.): the smallest alpha at which the stage's weights (1 - alpha)
     * theta_init + alpha theta_trained, the rest as trained, keep the AUC within `tolerance` of the trained AUC (0: the
     * initial weights already do; a critical stage needs alpha near 1); null without a trained AUC. */
    criticality: number | null;
  }[];
}

/**
 * Which stages matter (Zhang, Bengio and Singer's "Are all layers created equal?", as Neyshabur et al. use it): the
 * validation AUC after resetting one stage at a time of a trained model to its initial weights (re-initialisation),
 * and after re-drawing it (re-randomisation), the other stages kept as trained. A stage whose reset leaves the AUC is
 * robust; one whose reset ruins it is critical. Module criticality walks the stage back from its trained weights to
 * its initial ones (the rest as trained) and gives the smallest step along that path that keeps the AUC.
 * @param trained - The trained model.
 * @param initial - The same run at initialisation (e.g. its snapshot), same architecture.
 * @param val - The validation set.
 * @param options - Stages, the re-draw's seed, batch size, signal ({@link CriticalityOptions}).
 * @returns The trained AUC and, per stage, the AUC after each reset.
 * @throws ERR_INVALID_ARG for models of other architectures, an unknown stage or a bad option; ERR_BUSY; ERR_DISPOSED;
 *   ABORT_ERR.
 */
export async function stageCriticality(trained: Model, initial: Model, val: Dataset, options: CriticalityOptions = {}): Promise<StageCriticality> {
  checkHandle('stageCriticality()', 'trained', trained, 'Model', 'createModel()');
  checkHandle('stageCriticality()', 'initial', initial, 'Model', 'createModel()');
  checkHandle('stageCriticality()', 'val', val, 'Dataset', 'generateRetina() or createDataset()');
  checkOptions('stageCriticality()', options, CRITICALITY_KEYS);
  const all = trained.info().stages;
  const stages = options.stages ?? all;
  const batchSize = checkInteger('batchSize', options.batchSize ?? 64, 1);
  const alphas = [...(options.alphas ?? DEFAULT_ALPHAS)];
  if (!alphas.length || alphas.some((x, i) => typeof x !== 'number' || !(x >= 0 && x <= 1) || (i > 0 && x <= alphas[i - 1])))
    throw invalidArg('alphas', 'an ascending list of numbers in [0, 1]', options.alphas);
  const tolerance = options.tolerance ?? 0.01;
  if (typeof tolerance !== 'number' || !(tolerance >= 0 && tolerance <= 1)) throw invalidArg('tolerance', 'a number in [0, 1]', tolerance);
  const scratch = sameArchitecture(trained), fresh = sameArchitecture(trained, checkInteger('seed', options.seed ?? 1000, 0));
  const copy = (from: Model, which: string[]) => callNative(() => addon().copyStages(scratch.native, from.native, which));
  const aucOf = async () => (await evaluate(scratch, val, { batchSize, signal: options.signal })).meanAuc ?? null;
  try {
    copy(trained, all);
    callNative(() => addon().copyStages(scratch.native, initial.native, []));  // the architecture check, before any work
    const out: StageCriticality = { auc: await aucOf(), stages: [] };
    for (const stage of stages) {
      copy(initial, [stage]);
      const reinitialised = await aucOf();
      copy(fresh, [stage]);
      const rerandomised = await aucOf();
      // Along the path from the stage's initial weights to its trained ones, the others as trained: the first point
      // that keeps the AUC.
      let criticality: number | null = null;
      for (const alpha of out.auc === null ? [] : alphas) {
        callNative(() => addon().interpolateWeights(scratch.native, initial.native, trained.native, alpha));
        copy(trained, all.filter((s) => s !== stage));
        const auc = await aucOf();
        if (auc !== null && auc >= out.auc! - tolerance) {
          criticality = alpha;
          break;
        }
      }
      copy(trained, all);
      out.stages.push({ stage, reinitialised, rerandomised, criticality });
      options.onProgress?.({ kind: 'stage', stage, done: out.stages.length, total: stages.length });
    }
    return out;
  } finally {
    scratch.dispose();
    fresh.dispose();
  }
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
