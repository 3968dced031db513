// Training and evaluation: the schedule and the data are chosen here, the steps run natively off the event loop.
import type { ComputeOptions, CurvePoint, Metrics, NativeTrainOptions, NativeTrainResult, TrainEvent } from '../bindings/native';
import type { Dataset } from './data/embedded';
import type { ProcessGroup } from './distributed';
import { checkInteger, checkNumber, checkOneOf } from './errors';
import { awaitJob } from './job';
import type { Model } from './models';
import { addon } from './runtime';
import { learningRates, type ScheduleSpec } from './schedules/lr';

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

export async function train(
  model: Model,
  data: { train: Dataset; val: Dataset },
  options: TrainOptions,
  opts: JobOptions<TrainEvent> = {},
): Promise<TrainResult> {
  const steps = checkInteger('steps', options.steps, 1);
  if (options.batchSize !== undefined) checkInteger('batchSize', options.batchSize, 1);
  if (options.optimizer !== undefined) checkOneOf('optimizer', options.optimizer, ['sgd', 'adam'] as const);
  if (options.momentum !== undefined) checkNumber('momentum', options.momentum, 0, 1);
  if (options.weightDecay !== undefined) checkNumber('weightDecay', options.weightDecay, 0, 1);
  const lrs = Array.isArray(options.schedule) || options.schedule instanceof Float64Array
    ? Float64Array.from(options.schedule)
    : learningRates(options.schedule, steps);
  if (lrs.length !== steps) checkInteger('schedule.length (must equal steps)', lrs.length, steps, steps);
  const { schedule: _schedule, steps: _steps, group, ...rest } = options;
  const result = await awaitJob(
    () => addon().train(model.native, data.train.native, data.val.native, { ...rest, ...(group ? { group: group.native } : {}), learningRates: lrs }, opts.onProgress),
    opts.signal,
  );
  return { ...result, losses: Array.from(result.losses) };
}

export async function evaluate(
  model: Model,
  data: Dataset,
  opts: { batchSize?: number; signal?: AbortSignal } & ComputeOptions = {},
): Promise<Metrics> {
  const { signal, batchSize = 128, ...compute } = opts;
  checkInteger('batchSize', batchSize, 1);
  return awaitJob(() => addon().evaluate(model.native, data.native, { batchSize, ...compute }), signal);
}
