// How long a reproduction will take, from a probe on this machine: a few training steps of each model at each input
// size the plan uses, then each study's runs (and each source model's pretraining, once: the cache serves the rest)
// counted at those rates. Validation is counted as a forward pass, a third of a training step per image.
import { taskLabels } from './task';
import { cudaAvailable, getThreads } from '../runtime';
import { initLabel, needsPretrained, parseInit } from '../init/init';
import { listModels } from '../models';
import { checkOptions, optionKeys } from '../options';
import { invalidArg } from '../errors';
import { measureTrainingRate } from '../train-rate';
import { architectureFor, inputSizeFor, transferSource } from './architecture';
import type { PartName, ReproducePart } from './reproduce-plan';
import { armsOf } from './spec';

/** One study's estimated time: its runs' training and validation, and the pretraining it is the first to need. */
export interface StageEstimate {
  part: PartName;
  serves: string;
  runs: number;
  /** Pretraining first needed by this study. */
  pretrainSeconds: number;
  trainSeconds: number;
  evalSeconds: number;
}

/** A reproduction's estimated time, with the rates measured. */
export interface PlanEstimate {
  /** Where the probe ran ("cuda" or "cpu"), at how many threads, with what batch; and the device the plan asks for. */
  device: string;
  requested: string;
  threads: number;
  probeBatch: number;
  rates: { model: string; size: number; imagesPerSecond: number }[];
  stages: StageEstimate[];
  seconds: number;
}

/** How {@link estimatePlan} probes: timed steps per model and size (default 3), and a callback per rate measured. */
export interface EstimateOptions {
  steps?: number;
  onRate?: (model: string, size: number, rate: number) => void;
}
const ESTIMATE_KEYS = optionKeys<EstimateOptions>()(['steps', 'onRate']);

/**
 * Measures each model of the plan at each of its input sizes (`steps` timed steps after one warm-up, at the plan's
 * batch on CUDA or at most 16 on the CPU) and estimates every study's time from it.
 * @returns The rates and each study's estimate.
 * @throws ERR_INVALID_ARG for a plan that is not reproducePlan()'s or an unknown option; ERR_BAD_DATA when the user's
 *   data cannot be read; what training a probe step throws.
 */
export async function estimatePlan(plan: ReproducePart[], opts: EstimateOptions = {}): Promise<PlanEstimate> {
  checkOptions<EstimateOptions>('estimatePlan()', opts, ESTIMATE_KEYS);
  if (!Array.isArray(plan) || !plan.length || plan.some((p) => typeof p?.spec !== 'object' || p.spec === null))
    throw invalidArg('plan', 'the studies of reproducePlan(), a non-empty list of { name, spec }', plan);
  // The user's data are read as a study would read them (their labels), so an estimate never passes over data that
  // the run itself would refuse.
  for (const part of plan) if (part.spec.task.source === 'files') taskLabels(part.spec.task);
  const registry = new Map(listModels().map((m) => [m.name, m] as const));
  const wanted = plan[0].spec.device;
  const device = wanted.startsWith('cuda') && !cudaAvailable() ? 'cpu' : wanted;
  const batch = device === 'cpu' ? Math.min(16, plan[0].spec.train.batchSize) : plan[0].spec.train.batchSize;
  const rates = new Map<string, PlanEstimate['rates'][number]>();  // by "model@size", in the order measured
  const rate = async (model: string, size: number) => {
    const key = `${model}@${size}`;
    if (!rates.has(key)) {
      const imagesPerSecond = await measureTrainingRate(model, size, { device, batch, steps: opts.steps ?? 3, warmup: 1, ...(device !== 'cpu' ? { precision: plan[0].spec.train.precision ?? 'bf16', channelsLast: plan[0].spec.train.channelsLast ?? true } : {}) });
      rates.set(key, { model, size, imagesPerSecond });
      opts.onRate?.(model, size, imagesPerSecond);
    }
    return rates.get(key)!.imagesPerSecond;
  };
  const pretrained = new Set<string>();
  const stages: StageEstimate[] = [];
  for (const part of plan) {
    const s = part.spec;
    const stage: StageEstimate = { part: part.name, serves: part.serves, runs: 0, pretrainSeconds: 0, trainSeconds: 0, evalSeconds: 0 };
    for (const arm of armsOf(s)) {
      const init = parseInit(arm.init);
      const model = architectureFor(arm.model.toLowerCase(), init);
      const size = inputSizeFor(registry.get(model)!, s.task.imageSize, s.imageSizes);
      const r = await rate(model, size);
      const evals = s.train.evalEvery > 0 ? Math.floor(s.train.steps / s.train.evalEvery) + 1 : 1;
      stage.runs += s.seeds.length;
      stage.trainSeconds += (s.seeds.length * s.train.steps * s.train.batchSize) / r;
      stage.evalSeconds += (s.seeds.length * evals * s.task.valSize) / (3 * r);
      const source = transferSource(model).model;
      if ((needsPretrained(init) || initLabel(init) === 'gabor') && !pretrained.has(source) && !s.weights?.[source]) {
        pretrained.add(source);
        const at = inputSizeFor(registry.get(source)!, s.pretrain.imageSize, s.imageSizes);
        stage.pretrainSeconds += (s.pretrain.steps * s.pretrain.batchSize) / (await rate(source, at));
      }
    }
    stages.push(stage);
  }
  const seconds = stages.reduce((t, x) => t + x.pretrainSeconds + x.trainSeconds + x.evalSeconds, 0);
  return { device, requested: wanted, threads: getThreads(), probeBatch: batch, rates: [...rates.values()], stages, seconds };
}

const clock = (seconds: number) => {
  const m = Math.round(seconds / 60);
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min`;
};

/**
 * The estimate as lines for the terminal.
 * @returns One line of rates, one per study, and the total.
 * @throws ERR_INVALID_ARG when e is not what estimatePlan() returns.
 */
export function describeEstimate(e: PlanEstimate): string[] {
  if (typeof e !== 'object' || e === null || !Array.isArray(e.rates) || !Array.isArray(e.stages)) throw invalidArg('estimate', 'what estimatePlan() returns', e);
  return [
    `estimate from a probe on ${e.device}${e.device !== e.requested ? ` (the plan asks for ${e.requested}, which this machine lacks: these are CPU times)` : ''} (${e.threads} thread(s), batch ${e.probeBatch}): ${e.rates.map((r) => `${r.model} ${r.size} px ${r.imagesPerSecond.toFixed(1)} images/s`).join(', ')}`,
    ...e.stages.map((s) => `  ${s.part} (${s.serves}): ${s.runs} runs, ${clock(s.trainSeconds + s.evalSeconds)}${s.pretrainSeconds ? ` + pretraining ${clock(s.pretrainSeconds)}` : ''}`),
    `  total: about ${clock(e.seconds)} of training (Section 4's analyses and the report come on top)`,
  ];
}
