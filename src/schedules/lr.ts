// Learning-rate schedules: pure functions from settings to one learning rate per step (the native trainer takes the
// array as is, so any schedule a user writes in TS works unchanged).
import { checkInteger, checkNumber, checkOneOf, invalidArg } from '../errors';
import { LIMITS } from '../limits';
import { checkOptions, optionKeys } from '../options';

/** A learning-rate schedule, as {@link learningRates} and {@link TrainOptions.schedule} take it. */
export interface ScheduleSpec {
  /** "constant": lr throughout; "cosine": from lr down to lr x finalFraction; "step": lr times gamma at each milestone. */
  kind: 'constant' | 'cosine' | 'step';
  /** Peak learning rate, 0-100. */
  lr: number;
  /** Linear warm-up from lr/warmupSteps to lr over the first warmupSteps steps (default 0: none; at most the steps). */
  warmupSteps?: number;
  /** cosine: the final learning rate as a fraction of lr (default 0). */
  finalFraction?: number;
  /** step: multiply by `gamma` at each of these fractions of training (default [0.5, 0.75], gamma 0.1). */
  milestones?: number[];
  /** step: the factor applied at each milestone (default 0.1). */
  gamma?: number;
}

export const SCHEDULE_KEYS = optionKeys<ScheduleSpec>()(['kind', 'lr', 'warmupSteps', 'finalFraction', 'milestones', 'gamma']);

/**
 * Throws ERR_INVALID_ARG for a schedule that learningRates() would refuse, naming the field under `where` (e.g.
 * "train." gives `train.schedule.lr`): a study checks its schedules with it before any work starts.
 */
export function checkSchedule(spec: ScheduleSpec, steps: number, where = ''): void {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw invalidArg(`${where}schedule`, 'a schedule ({ kind, lr, ... })', spec);
  checkOptions(where ? `the study's \`${where}schedule\`` : 'learningRates()', spec, SCHEDULE_KEYS, `${where}schedule`);
  checkInteger(`${where}steps`, steps, LIMITS.steps.min);  // 0 or a fraction: "a positive integer"
  checkInteger(`${where}steps`, steps, LIMITS.steps.min, LIMITS.steps.max);
  checkOneOf(`${where}schedule.kind`, spec.kind, ['constant', 'cosine', 'step'] as const);
  checkNumber(`${where}schedule.lr`, spec.lr, LIMITS.lr.min, LIMITS.lr.max);
  checkInteger(`${where}schedule.warmupSteps`, spec.warmupSteps ?? 0, 0, steps);
}

/**
 * The learning rate of every step of a schedule: a pure function.
 * @param spec - The schedule (see {@link ScheduleSpec}).
 * @param steps - Steps of training, 1 to 10,000,000.
 * @returns One learning rate per step.
 * @throws ERR_INVALID_ARG for a bad kind, lr, warmupSteps or steps, or an unknown field.
 * @example
 * ```ts
 * learningRates({ kind: 'step', lr: 0.1, milestones: [0.5] }, 4); // [0.1, 0.1, 0.01, 0.01], to rounding
 * ```
 */
export function learningRates(spec: ScheduleSpec, steps: number): Float64Array {
  checkSchedule(spec, steps);
  const warmup = spec.warmupSteps ?? 0;
  const out = new Float64Array(steps);
  for (let i = 0; i < steps; i++) {
    let lr = spec.lr;
    if (spec.kind === 'cosine') {
      const floor = spec.lr * (spec.finalFraction ?? 0);
      const t = warmup >= steps ? 0 : Math.max(0, i - warmup) / (steps - warmup);
      lr = floor + (spec.lr - floor) * 0.5 * (1 + Math.cos(Math.PI * t));
    } else if (spec.kind === 'step') {
      const passed = (spec.milestones ?? [0.5, 0.75]).filter((m) => i >= m * steps).length;
      lr = spec.lr * Math.pow(spec.gamma ?? 0.1, passed);
    }
    out[i] = i < warmup ? (spec.lr * (i + 1)) / warmup : lr;
  }
  return out;
}
