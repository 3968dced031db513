// A study: models x initialisations x seeds on one task, with the pretraining that the transfer arm needs.
import * as fs from 'node:fs';

import type { ScheduleSpec } from '../schedules/lr';
import type { TrainOptions } from '../train';
import { checkInteger, checkOneOf, invalidArg } from '../errors';
import { listModels } from '../models';

export type Init = 'random' | 'transfer';
export const INITS: readonly Init[] = ['random', 'transfer'];

export interface TrainingSpec {
  steps: number;
  /** NHWC weights and inputs (a GPU setting). */
  channelsLast?: boolean;
  /** "bf16" autocast (a GPU setting). */
  precision?: 'fp32' | 'bf16';
  batchSize: number;
  optimizer: 'sgd' | 'adam';
  schedule: ScheduleSpec;
  weightDecay: number;
  momentum: number;
  evalEvery: number;
}

export interface StudySpec {
  /** The preset (or config) name, recorded in results. */
  name: string;
  /** Why this study's values are what they are (one line, shown in the report). */
  why: string;
  models: string[];
  inits: Init[];
  seeds: number[];
  device: string;
  padding: 'same' | 'valid';
  task: { source: 'retina'; imageSize: number; trainSize: number; valSize: number; seed: number };
  /** The user's pretrained weight files by model (e.g. { resnet50: 'resnet50-0676ba61.pth' }): used for transfer instead of embedded pretraining. */
  weights?: Record<string, string>;
  train: TrainingSpec;
  pretrain: { source: 'natural'; classes: number; imageSize: number; trainSize: number; valSize: number; seed: number } & TrainingSpec;
}

export function validateSpec(spec: StudySpec): StudySpec {
  const known = new Set(listModels().map((m) => m.name));
  if (!Array.isArray(spec.models) || spec.models.length === 0) throw invalidArg('models', 'a non-empty list of model names', spec.models);
  for (const m of spec.models)
    if (!known.has(String(m).toLowerCase())) throw invalidArg('models', `model names from: ${[...known].join(', ')}`, m);
  if (!Array.isArray(spec.inits) || spec.inits.length === 0) throw invalidArg('inits', 'a non-empty list', spec.inits);
  spec.inits.forEach((init) => checkOneOf('inits', init, INITS));
  if (!Array.isArray(spec.seeds) || spec.seeds.length === 0) throw invalidArg('seeds', 'a non-empty list of seeds', spec.seeds);
  spec.seeds.forEach((s) => checkInteger('seeds', s, 0));
  checkOneOf('device', spec.device.replace(/:\d+$/, ''), ['cpu', 'cuda'] as const);
  checkInteger('task.imageSize', spec.task.imageSize, 16, 1024);
  checkInteger('task.trainSize', spec.task.trainSize, 2);
  checkInteger('task.valSize', spec.task.valSize, 2);
  checkInteger('pretrain.classes', spec.pretrain.classes, 2, 30);
  for (const [where, t] of [['train', spec.train], ['pretrain', spec.pretrain]] as const) {
    checkInteger(`${where}.steps`, t.steps, 1);
    checkInteger(`${where}.batchSize`, t.batchSize, 1);
    checkInteger(`${where}.evalEvery`, t.evalEvery, 0);
  }
  for (const [model, file] of Object.entries(spec.weights ?? {})) {
    if (!known.has(model)) throw invalidArg('weights', `keyed by model names from: ${[...known].join(', ')}`, model);
    if (typeof file !== 'string' || !fs.existsSync(file)) throw invalidArg(`weights.${model}`, 'the path of an existing weight file', file);
  }
  if (spec.train.batchSize > spec.task.trainSize)
    throw invalidArg('train.batchSize', `at most task.trainSize (${spec.task.trainSize})`, spec.train.batchSize);
  return spec;
}

/** A spec's training settings as train() takes them. */
export function trainOptionsOf(t: TrainingSpec): TrainOptions {
  return {
    steps: t.steps, batchSize: t.batchSize, optimizer: t.optimizer, schedule: t.schedule, weightDecay: t.weightDecay,
    momentum: t.momentum, evalEvery: t.evalEvery, channelsLast: t.channelsLast, precision: t.precision,
  };
}
