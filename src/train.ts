// Training and evaluation: the schedule and the data are chosen here, the steps run natively off the event loop.
import type { AugmentOptions, ComputeOptions, CurvePoint, Metrics, NativeTrainOptions, NativeTrainResult, TrainEvent } from '../bindings/native';
import type { Dataset } from './data/embedded';
import type { ProcessGroup } from './distributed';
import { checkInteger, checkNumber, checkOneOf, invalidArg, isTypedArray } from './errors';
import { awaitJob } from './job';
import { LIMITS } from './limits';
import type { Model } from './models';
import { checkHandle, checkOptions, optionKeys, requireOptions } from './options';
import { addon } from './runtime';
import { SCHEDULE_KEYS, learningRates, type ScheduleSpec } from './schedules/lr';

export type { CurvePoint, Metrics, TrainEvent };

export interface TrainOptions extends Omit<NativeTrainOptions, 'learningRates' | 'group'> {
  /** Data parallel over this group's ranks (see NativeTrainOptions.group). */
  group?: ProcessGroup;
  steps: number;
  /** A schedule, or an explicit learning rate per step (its length must equal `steps`). */
  schedule: ScheduleSpec | Float64Array | number[];
}

export interface TrainResult extends Omit<NativeTrainResult, 'losses'> {
  losses: number[];
}

export interface JobOptions<E> {
  signal?: AbortSignal;
  /** Called once per event, in order, on the main thread. */
  onProgress?: (event: E) => void;
}

export const TRAIN_OPTION_KEYS = optionKeys<TrainOptions>()([
  'steps', 'schedule', 'batchSize', 'optimizer', 'momentum', 'weightDecay', 'nesterov', 'beta1', 'beta2', 'seed', 'evalEvery',
  'evalBatchSize', 'augment', 'checkpointPath', 'checkpointEvery', 'resume', 'group', 'syncBatchNorm', 'bucketMegabytes',
  'syncEvery', 'residentMegabytes', 'foreach', 'cudaGraph', 'channelsLast', 'precision',
]);
export const AUGMENT_KEYS = optionKeys<AugmentOptions>()(['rotate', 'translate', 'scale', 'flip']);
export const JOB_OPTION_KEYS = optionKeys<JobOptions<TrainEvent>>()(['signal', 'onProgress']);
const EVALUATE_OPTION_KEYS = optionKeys<EvaluateOptions>()(['batchSize', 'signal', 'channelsLast', 'precision']);
const DATASET_FROM = 'generateRetina(), generateChest(), generateNatural() or createDataset()';

/** train()'s and evaluate()'s arguments, checked before anything runs: each missing or misspelt one is named. */
function checkTrainArguments(model: unknown, data: unknown, options: unknown, opts: unknown): TrainOptions {
  checkHandle('train()', 'model', model, 'Model', 'createModel()');
  if (data === null || typeof data !== 'object') throw invalidArg('data', 'the training and validation sets, { train, val }, for train()', data);
  checkOptions("train()'s `data`", data, ['train', 'val'], 'data');
  checkHandle('train()', 'data.train', (data as { train?: unknown }).train, 'Dataset', DATASET_FROM);
  checkHandle('train()', 'data.val', (data as { val?: unknown }).val, 'Dataset', DATASET_FROM);
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

export async function train(
  model: Model,
  data: { train: Dataset; val: Dataset },
  options: TrainOptions,
  opts: JobOptions<TrainEvent> = {},
): Promise<TrainResult> {
  checkTrainArguments(model, data, options, opts);
  const steps = options.steps;
  if (options.batchSize !== undefined) checkInteger('batchSize', options.batchSize, 1);
  if (options.optimizer !== undefined) checkOneOf('optimizer', options.optimizer, ['sgd', 'adam'] as const);
  if (options.momentum !== undefined) checkNumber('momentum', options.momentum, 0, 1);
  if (options.weightDecay !== undefined) checkNumber('weightDecay', options.weightDecay, 0, 1);
  const lrs = Array.isArray(options.schedule) || isTypedArray(options.schedule, ['Float64Array'])
    ? Float64Array.from(options.schedule as ArrayLike<number>)
    : learningRates(options.schedule as ScheduleSpec, steps);
  if (lrs.length !== steps) checkInteger('schedule.length (must equal steps)', lrs.length, steps, steps);
  const { schedule: _schedule, steps: _steps, group, ...rest } = options;
  const result = await awaitJob(
    () => addon().train(model.native, data.train.native, data.val.native, { ...rest, ...(group ? { group: group.native } : {}), learningRates: lrs }, opts.onProgress),
    opts.signal,
  );
  return { ...result, losses: Array.from(result.losses) };
}

export type EvaluateOptions = { batchSize?: number; signal?: AbortSignal } & ComputeOptions;

export async function evaluate(model: Model, data: Dataset, opts: EvaluateOptions = {}): Promise<Metrics> {
  checkHandle('evaluate()', 'model', model, 'Model', 'createModel()');
  checkHandle('evaluate()', 'data', data, 'Dataset', DATASET_FROM);
  checkOptions('evaluate()', opts, EVALUATE_OPTION_KEYS, 'opts');
  const { signal, batchSize = 128, ...compute } = opts;
  checkInteger('batchSize', batchSize, 1);
  return awaitJob(() => addon().evaluate(model.native, data.native, { batchSize, ...compute }), signal);
}
