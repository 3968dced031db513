// Training and evaluation: the schedule and the data are chosen here, the steps run natively off the event loop.
import type { AugmentOptions, ComputeOptions, CurvePoint, Metrics, NativeTrainOptions, NativeTrainResult, TrainEvent } from '../bindings/native';
import type { Dataset } from './data/embedded';
import type { ProcessGroup } from './distributed';
import { abortError, checkInteger, checkNumber, checkOneOf, invalidArg, isTypedArray } from './errors';
import { awaitJob } from './job';
import { LIMITS } from './limits';
import type { Model } from './models';
import { checkHandle, checkOptions, optionKeys, requireOptions } from './options';
import { addon, checkThreads } from './runtime';
import { SCHEDULE_KEYS, learningRates, type ScheduleSpec } from './schedules/lr';

export type { CurvePoint, Metrics, TrainEvent };

/**
 * How {@link train} trains: `steps` and `schedule` are required; every other field has the default it states (the
 * optimizer, batch, validation, checkpoint, data-parallel and GPU settings).
 */
export interface TrainOptions extends Omit<NativeTrainOptions, 'learningRates' | 'group'> {
  /**
   * Data parallel over this group's ranks: every rank calls train with the same options; each step the batch order
   * draws batchSize images (the whole batch) and each rank trains on its batchSize / ranks slice, gradients averaged over
   * ranks in buckets.
   */
  group?: ProcessGroup;
  /** Optimizer steps to take, 1 to 10,000,000. */
  steps: number;
  /** A schedule, or an explicit learning rate per step (its length must equal `steps`). */
  schedule: ScheduleSpec | Float64Array | number[];
}

/** What {@link train} returns: the losses, the validation curve, the final metrics and how the run went. */
export interface TrainResult extends Omit<NativeTrainResult, 'losses'> {
  /** Training loss per step, on the batch of that step. */
  losses: number[];
  /** With `data.test`: the held-out test set's metrics, evaluated once after training on the weights the model ends
   * with (the best evaluation's under keepBest). */
  test?: Metrics;
}

/** The last argument of a long call: cancellation and progress. */
export interface JobOptions<E> {
  /** Aborting it cancels the call between steps; the promise rejects with ABORT_ERR. */
  signal?: AbortSignal;
  /** Called once per event, in order, on the main thread. */
  onProgress?: (event: E) => void;
}

export const TRAIN_OPTION_KEYS = optionKeys<TrainOptions>()([
  'steps', 'schedule', 'batchSize', 'optimizer', 'momentum', 'weightDecay', 'nesterov', 'beta1', 'beta2', 'seed', 'evalEvery', 'evalAtStart',
  'evalBatchSize', 'augment', 'checkpointPath', 'checkpointEvery', 'resume', 'weightSteps', 'weightsPrefix', 'group', 'syncBatchNorm', 'bucketMegabytes',
  'syncEvery', 'residentMegabytes', 'foreach', 'cudaGraph', 'bootstrapResamples', 'channelsLast', 'precision', 'threads',
  'patience', 'keepBest',
]);
export const AUGMENT_KEYS = optionKeys<AugmentOptions>()(['rotate', 'translate', 'scale', 'flip']);
export const JOB_OPTION_KEYS = optionKeys<JobOptions<TrainEvent>>()(['signal', 'onProgress']);
const EVALUATE_OPTION_KEYS = optionKeys<EvaluateOptions>()(['batchSize', 'threads', 'signal', 'channelsLast', 'precision']);
const DATASET_FROM = 'generateRetina(), generateChest(), generateNatural() or createDataset()';

/** train()'s and evaluate()'s arguments, checked before anything runs: each missing or misspelt one is named. */
function checkTrainArguments(model: unknown, data: unknown, options: unknown, opts: unknown): TrainOptions {
  checkHandle('train()', 'model', model, 'Model', 'createModel()');
  if (data === null || typeof data !== 'object') throw invalidArg('data', 'the training and validation sets, { train, val }, for train()', data);
  checkOptions("train()'s `data`", data, ['train', 'val', 'test'], 'data');
  checkHandle('train()', 'data.train', (data as { train?: unknown }).train, 'Dataset', DATASET_FROM);
  checkHandle('train()', 'data.val', (data as { val?: unknown }).val, 'Dataset', DATASET_FROM);
  if ((data as { test?: unknown }).test !== undefined) checkHandle('train()', 'data.test', (data as { test?: unknown }).test, 'Dataset', DATASET_FROM);
  const o = requireOptions<TrainOptions>('train()', options, TRAIN_OPTION_KEYS);
  checkOptions('train()', opts, JOB_OPTION_KEYS, 'opts');
  checkOptions("train()'s `augment`", o.augment, AUGMENT_KEYS, 'augment');
  const s = o.schedule as unknown;
  if (!Array.isArray(s) && !isTypedArray(s, ['Float64Array'])) {
    if (s === null || typeof s !== 'object') throw invalidArg('schedule', 'a schedule ({ kind, lr, ... }) or one learning rate per step', s);
    checkOptions("train()'s `schedule`", s, SCHEDULE_KEYS, 'schedule');
  }
  // Bounded before anything is allocated for them (one learning rate per step): 1e12 steps is named, not a RangeError.
  checkInteger('steps', o.steps, LIMITS.steps.min);
  checkInteger('steps', o.steps, LIMITS.steps.min, LIMITS.steps.max);
  return o;
}

/**
 * Trains a model on a training set, validating on a validation set, off the event loop. The learning rate follows
 * the schedule; progress arrives one event per step and per validation, in order.
 * @param model - The model to train, in place.
 * @param data - The training and validation sets, of the same task and with the model's outputs, and optionally a
 *   held-out `test` set evaluated once at the end (`result.test`).
 * @param options - See {@link TrainOptions}; `steps` and `schedule` are required.
 * @param opts - `signal` cancels training between steps; `onProgress` receives each {@link TrainEvent}; default {}.
 * @returns The losses, the validation curve, the final metrics and the throughput.
 * @throws ERR_INVALID_ARG for a missing or bad argument, option or schedule (named), a batch larger than the training
 *   set, or sets of different tasks; ERR_BUSY while the model runs another job; ERR_DIVERGED when the loss stops
 *   being finite; ERR_BAD_DATA for a damaged or foreign checkpoint; ERR_IO when a checkpoint cannot be written;
 *   ERR_DISTRIBUTED when a rank fails; ERR_TORCH, ERR_OUT_OF_MEMORY; ABORT_ERR when `signal` aborts, with `partial`:
 *   the result so far (losses, curve, `steps` trained, `stopped: "aborted"`; a data-parallel run has none).
 * @example
 * ```ts
 * const [trainSet, valSet] = await Promise.all([
 *   generateRetina({ count: 512, size: 32, seed: 1 }),
 *   generateRetina({ count: 128, size: 32, seed: 2 }),
 * ]);
 * const model = createModel('cbr-tiny', { numClasses: 1 });
 * const result = await train(model, { train: trainSet, val: valSet }, {
 *   steps: 50, batchSize: 16, optimizer: 'adam', schedule: { kind: 'cosine', lr: 2e-3 }, evalEvery: 10,
 * }, { onProgress: (e) => e.kind === 'eval' && console.log(e.step, e.auc) });
 * console.log(result.final.meanAuc, result.imagesPerSecond);
 * ```
 */
export async function train(
  model: Model,
  data: { train: Dataset; val: Dataset; test?: Dataset },
  options: TrainOptions,
  opts: JobOptions<TrainEvent> = {},
): Promise<TrainResult> {
  checkTrainArguments(model, data, options, opts);
  const steps = options.steps;
  if (options.batchSize !== undefined) checkInteger('batchSize', options.batchSize, 1);
  if (options.optimizer !== undefined) checkOneOf('optimizer', options.optimizer, ['sgd', 'adam'] as const);
  if (options.momentum !== undefined) checkNumber('momentum', options.momentum, 0, 1);
  if (options.weightDecay !== undefined) checkNumber('weightDecay', options.weightDecay, 0, 1);
  if (options.threads !== undefined && options.threads !== 0) checkThreads('threads', options.threads);
  const lrs = Array.isArray(options.schedule) || isTypedArray(options.schedule, ['Float64Array'])
    ? Float64Array.from(options.schedule as ArrayLike<number>)
    : learningRates(options.schedule as ScheduleSpec, steps);
  if (lrs.length !== steps) checkInteger('schedule.length (must equal steps)', lrs.length, steps, steps);
  const { schedule: _schedule, steps: _steps, group, ...rest } = options;
  const result = await awaitJob(
    () => addon().train(model.native, data.train.native, data.val.native, { ...rest, ...(group ? { group: group.native } : {}), learningRates: lrs }, opts.onProgress),
    opts.signal,
  );
  const out: TrainResult = { ...result, losses: Array.from(result.losses) };
  // Aborted: rejected as any aborted call is, with what was done attached (the weights are the model's now).
  if (out.stopped === 'aborted') throw Object.assign(abortError(opts.signal), { partial: out });
  // The held-out test set: once, at the end, never seen by early stopping or keep-best.
  if (data.test)
    out.test = await evaluate(model, data.test, { signal: opts.signal, ...(options.evalBatchSize ? { batchSize: options.evalBatchSize } : {}), channelsLast: options.channelsLast, precision: options.precision });
  return out;
}

/**
 * How {@link evaluate} runs: `batchSize`, images per forward pass (default 32 on the CPU, 128 on CUDA); `threads`,
 * this evaluation's own intra-op threads (default: the process's, `getThreads()`), as a study's runs side by side
 * use; `signal`, to cancel it; and the {@link ComputeOptions}.
 */
export type EvaluateOptions = { batchSize?: number; threads?: number; signal?: AbortSignal } & ComputeOptions;

/**
 * A model's metrics on a dataset (eval mode, no gradients), off the event loop.
 * @param model - The model.
 * @param data - The dataset, with the model's outputs.
 * @param opts - See {@link EvaluateOptions}; default {} (batches of 32 on the CPU, 128 on CUDA).
 * @returns Loss, and AUC-ROC per output (binary, multilabel) or top-1 / top-5 accuracy (multiclass).
 * @throws ERR_INVALID_ARG for a missing model or dataset, a bad option or outputs that do not match; ERR_BUSY;
 *   ERR_TORCH; ABORT_ERR when `signal` aborts.
 * @example
 * ```ts
 * const metrics = await evaluate(model, valSet, { batchSize: 64 });
 * console.log(metrics.meanAuc, metrics.loss);
 * ```
 */
export async function evaluate(model: Model, data: Dataset, opts: EvaluateOptions = {}): Promise<Metrics> {
  checkHandle('evaluate()', 'model', model, 'Model', 'createModel()');
  checkHandle('evaluate()', 'data', data, 'Dataset', DATASET_FROM);
  checkOptions('evaluate()', opts, EVALUATE_OPTION_KEYS, 'opts');
  const { signal, batchSize, threads, ...compute } = opts;
  if (batchSize !== undefined) checkInteger('batchSize', batchSize, 1);
  if (threads !== undefined) checkThreads('threads', threads);
  return awaitJob(() => addon().evaluate(model.native, data.native, { ...(batchSize !== undefined ? { batchSize } : {}), ...(threads !== undefined ? { threads } : {}), ...compute }), signal);
}
