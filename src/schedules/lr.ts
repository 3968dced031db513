// Learning-rate schedules: pure functions from settings to one learning rate per step (the native trainer takes the
// array as is, so any schedule a user writes in TS works unchanged).
import { checkInteger, checkNumber, checkOneOf } from '../errors';
import { LIMITS } from '../limits';

export interface ScheduleSpec {
  kind: 'constant' | 'cosine' | 'step';
  /** Peak learning rate. */
  lr: number;
  /** Linear warm-up from lr/warmupSteps to lr over the first warmupSteps steps. */
  warmupSteps?: number;
  /** cosine: the final learning rate as a fraction of lr (default 0). */
  finalFraction?: number;
  /** step: multiply by `gamma` at each of these fractions of training (default [0.5, 0.75], gamma 0.1). */
  milestones?: number[];
  gamma?: number;
}

export function learningRates(spec: ScheduleSpec, steps: number): Float64Array {
  checkInteger('steps', steps, LIMITS.steps.min);  // 0 or a fraction: "a positive integer"
  checkInteger('steps', steps, LIMITS.steps.min, LIMITS.steps.max);
  checkOneOf('schedule.kind', spec.kind, ['constant', 'cosine', 'step'] as const);
  checkNumber('schedule.lr', spec.lr, LIMITS.lr.min, LIMITS.lr.max);
  const warmup = spec.warmupSteps ?? 0;
  checkInteger('schedule.warmupSteps', warmup, 0, steps);
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
