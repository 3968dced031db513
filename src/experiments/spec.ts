// A study: arms (a model with an initialisation) x seeds on one task, with the pretraining the arms draw on.
// Table 1 is the arms models x {random, transfer}; Section 5's experiments list their arms explicitly.
import * as fs from 'node:fs';

import { checkSchedule, type ScheduleSpec } from '../schedules/lr';
import type { AugmentOptions } from '../../bindings/native';
import type { TrainOptions } from '../train';
import { TransfusionError, checkInteger, checkNumber, checkOneOf, invalidArg } from '../errors';
import { LIMITS, availableMemory, checkFitsMemory, imageBytes } from '../limits';
import { listModels } from '../models';
import { cudaAvailable, versions } from '../runtime';
import { parseInit } from '../init/init';
import { architectureFor, initFitsModel } from './architecture';
import { TASK_SOURCES, type TaskSpec } from './task';
import { detectFormat, readLabelled } from '../data/files/formats';
import type { DataSpec } from '../data/files/load';
import { checkDataSpec } from '../data/files/dataset';

/** An initialisation by name: "random", "transfer", "meanvar", "gabor", "slim" or "transfusion:<stage>". */
export type Init = string;

/** One arm of a study: a model trained from one initialisation (over every seed). */
export interface Arm {
  /** A registry name, e.g. "resnet50". */
  model: string;
  /** The initialisation, e.g. "transfer" (see {@link Init}). */
  init: Init;
}

/**
 * The study's arms: its explicit list, or every model with every initialisation.
 * @param spec - The study.
 * @returns Its arms, in order.
 */
export function armsOf(spec: StudySpec): Arm[] {
  return spec.arms ?? spec.models.flatMap((model) => spec.inits.map((init) => ({ model, init })));
}

/** A study's training settings, for its runs (`train`) and its pretraining (`pretrain`). */
export interface TrainingSpec {
  /** Optimizer steps, 1 to 10,000,000. */
  steps: number;
  /** NHWC weights and inputs (a GPU setting). */
  channelsLast?: boolean;
  /** "bf16" autocast (a GPU setting). */
  precision?: 'fp32' | 'tf32' | 'bf16';
  /** Images per step (over all ranks when data parallel). */
  batchSize: number;
  /** "sgd" or "adam". */
  optimizer: 'sgd' | 'adam';
  /** The learning-rate schedule over `steps`. */
  schedule: ScheduleSpec;
  /** L2 weight decay, 0-1. */
  weightDecay: number;
  /** SGD's momentum, 0-1 (unused by Adam). */
  momentum: number;
  /** Validate every N steps (0: only at the end); steps-to-threshold has this resolution. */
  evalEvery: number;
  /** Random affine augmentation of training images (none by default). */
  augment?: AugmentOptions;
  /** Early stopping: evaluations in a row without a better validation score before a run stops (absent or 0: off). */
  patience?: number;
  /** Each run ends with its best evaluation's weights, and its AUC is that evaluation's (absent: the last step's). */
  keepBest?: boolean;
}

/** The names of the paper's experiments, as {@link EXPERIMENTS} defines them. */
export const EXPERIMENT_NAMES = [
  'table1', 'chexpert', 'small-data', 'meanvar', 'transfusion', 'hybrids', 'similarity', 'layers', 'init-vs-final', 'filters',
  'interpolation', 'criticality', 'knn', 'checkpoints',
] as const;
/** An experiment's name: "table1", "chexpert", "small-data", "meanvar", "transfusion", "hybrids", "similarity", "layers", "init-vs-final", "filters", or beyond the paper "interpolation", "criticality", "knn", "checkpoints". */
export type Experiment = (typeof EXPERIMENT_NAMES)[number];

/** Section 4's analyses: the probe set and the datapoint budget. */
export interface RepresentationSettings {
  /** Probe images (drawn from the task, a seed of their own) every model is run over. */
  probeSize: number;
  /** Datapoints (conv positions) kept per stage; 0: max(20,000, 10 x channels). */
  maxDatapoints: number;
  /** Seed of the probe images and of the datapoint subsample. */
  seed: number;
  /** Interpolation: minibatches of 64 training images BatchNorm's statistics are recomputed from at each point
   * (default 8). */
  interpolationBnBatches?: number;
  /** Module criticality (the criticality analysis): perturbations drawn per grid point (default 3). */
  criticalitySamples?: number;
  /** Module criticality: training images its loss is measured on, spread evenly over the set (default 512). */
  criticalityImages?: number;
}

export const DEFAULT_REPRESENTATIONS: RepresentationSettings = { probeSize: 1024, maxDatapoints: 0, seed: 0 };

/**
 * A study: arms (a model with an initialisation) x seeds on one task, with the pretraining the arms draw on, as
 * {@link runStudy} runs it. Start from {@link preset} or {@link experimentSpec} and change what you need.
 */
export interface StudySpec {
  /** The preset (or config) name, recorded in results. */
  name: string;
  /** Which of the paper's comparisons this is (it shapes the report). */
  experiment: Experiment;
  /** Validation AUC for steps-to-threshold (the paper's Figure 7 uses 0.91). */
  threshold: number;
  /** Explicit arms; when absent, every model with every init. */
  arms?: Arm[];
  /** Per-model image sizes overriding task.imageSize (and the pretraining size), e.g. { resnet50: 96 }. */
  imageSizes?: Record<string, number>;
  /** Why this study's values are what they are (one line, shown in the report). */
  why: string;
  /** Registry names of the models (see {@link listModels}). */
  models: string[];
  /** Initialisations every model is trained from (when `arms` is absent). */
  inits: Init[];
  /** Seeds, non-negative integers: each arm is trained once per seed. */
  seeds: number[];
  /** "cpu", "cuda" or "cuda:N". */
  device: string;
  /** The CBR convolutions' padding (see {@link ModelOptions}). */
  padding: 'same' | 'valid';
  /** The downstream task the arms are trained on. */
  task: TaskSpec;
  /** The user's pretrained weight files by model (e.g. { resnet50: 'resnet50-0676ba61.pth' }): used for transfer instead of embedded pretraining. */
  weights?: Record<string, string>;
  /** Keep each run's trained weights as weights/MODEL-INIT-sSEED.pt in the run directory: "final" (the last step's) or
   * "best" (the best evaluation's: with train.keepBest). Absent: none kept beyond what the analyses need. */
  saveWeights?: 'best' | 'final';
  /** The training of each run. */
  train: TrainingSpec;
  /** Section 4's analyses: the probe set and datapoint budget (default DEFAULT_REPRESENTATIONS). */
  representations?: RepresentationSettings;
  /**
   * natural: the embedded natural-image source with `classes` classes; files: a user's labelled images (`data`, e.g. an
   * ImageNet-style folder or Fashion-MNIST), whose class count replaces `classes`.
   */
  pretrain: { source: 'natural' | 'files'; data?: DataSpec; classes: number; imageSize: number; trainSize: number; valSize: number; seed: number } & TrainingSpec;
}

/**
 * Checks a study before anything runs: models, initialisations and transfusion points, seeds, device, task, training
 * and pretraining settings, image sizes, weight files, and that the drawn images fit in this machine's memory.
 * @param spec - The study; a `pretrain` from files gets its `classes` from the dataset.
 * @returns The same spec.
 * @throws ERR_INVALID_ARG naming the first field that is missing, unknown or out of range, or the study's memory need;
 *   ERR_BAD_DATA or ERR_IO when a pretraining dataset from files cannot be read.
 */
export function validateSpec(spec: StudySpec): StudySpec {
  // The name goes into the run directory's name and the report: no newline, ESC or other control character.
  if (typeof spec.name !== 'string' || spec.name.length === 0 || spec.name.length > 200 || /[\u0000-\u001f\u007f-\u009f]/.test(spec.name))
    throw invalidArg('name', 'a name of 1-200 printable characters (no newline, tab or escape)', spec.name);
  const known = new Set(listModels().map((m) => m.name));
  if (!Array.isArray(spec.models) || spec.models.length === 0) throw invalidArg('models', 'a non-empty list of model names', spec.models);
  for (const m of spec.models)
    if (!known.has(String(m).toLowerCase())) throw invalidArg('models', `model names from: ${[...known].join(', ')}`, m);
  // A repeated model, init or seed trains the same runs twice and counts them as independent: a smaller spread than
  // the data give (issue 28's third pass).
  checkDistinct('models', spec.models.map((m) => String(m).toLowerCase()));
  if (!Array.isArray(spec.inits) || spec.inits.length === 0) throw invalidArg('inits', 'a non-empty list', spec.inits);
  checkOneOf('experiment', spec.experiment, EXPERIMENT_NAMES);
  if (spec.representations) {
    checkInteger('representations.probeSize', spec.representations.probeSize, 2);
    checkInteger('representations.maxDatapoints', spec.representations.maxDatapoints, 0);
    checkInteger('representations.seed', spec.representations.seed, 0);
    if (spec.representations.interpolationBnBatches !== undefined) checkInteger('representations.interpolationBnBatches', spec.representations.interpolationBnBatches, 0, 10_000);
    if (spec.representations.criticalitySamples !== undefined) checkInteger('representations.criticalitySamples', spec.representations.criticalitySamples, 1, 100);
    if (spec.representations.criticalityImages !== undefined) checkInteger('representations.criticalityImages', spec.representations.criticalityImages, 1);
  }
  checkNumber('threshold', spec.threshold, 0, 1);
  const stagesOf = new Map(listModels().map((m) => [m.name, m.stages] as const));
  for (const arm of armsOf(spec)) {
    const init = parseInit(arm.init);
    const model = architectureFor(String(arm.model).toLowerCase(), init);
    if (!known.has(model)) throw invalidArg('arms', `model names from: ${[...known].join(', ')}`, arm.model);
    if (init.kind === 'transfusion' && !stagesOf.get(model)!.includes(init.upTo))
      throw invalidArg('init', `a transfusion point among ${model}'s stages (${stagesOf.get(model)!.join(', ')})`, arm.init);
    if (init.kind === 'checkpoint' && (spec.weights?.[model] !== undefined || init.step > spec.pretrain.steps))
      throw invalidArg('init', spec.weights?.[model] !== undefined ? `a pretraining checkpoint of embedded pretraining (the user's weights for ${model} have none)` : `a pretraining step from 0 to ${spec.pretrain.steps}`, arm.init);
    if (!initFitsModel(String(arm.model), init))
      throw invalidArg('init', 'used with resnet50 ("slim" is a ResNet-50 hybrid)', `${arm.model} ${arm.init}`);
  }
  if (!Array.isArray(spec.seeds) || spec.seeds.length === 0) throw invalidArg('seeds', 'a non-empty list of seeds', spec.seeds);
  if (spec.seeds.length > 1000) throw invalidArg('seeds', 'at most 1,000 seeds', `${spec.seeds.length} seeds`);
  spec.seeds.forEach((s) => checkInteger('seeds', s, 0));
  checkDistinct('seeds', spec.seeds);
  checkDistinct('inits', spec.inits.map(String));
  checkOneOf('device', spec.device.replace(/:\d+$/, ''), ['cpu', 'cuda'] as const);
  // Before the run directory exists: a CUDA study on a machine without CUDA used to fail at its first run, leaving a
  // directory that `--resume` could not finish either (issue 31).
  if (spec.device.startsWith('cuda') && !cudaAvailable())
    throw new TransfusionError('ERR_NO_CUDA', `The study asks for device "${spec.device}" but this machine has no CUDA device (LibTorch ${versions().torch}): run it where CUDA is, or with --device cpu`);
  checkOneOf('task.source', spec.task.source, TASK_SOURCES);
  if (spec.task.uncertainRate !== undefined) checkNumber('task.uncertainRate', spec.task.uncertainRate, 0, 1);
  checkInteger('task.imageSize', spec.task.imageSize, LIMITS.imageSize.min, LIMITS.imageSize.max);
  checkInteger('task.trainSize', spec.task.trainSize, LIMITS.setSize.min, LIMITS.setSize.max);
  checkInteger('task.valSize', spec.task.valSize, LIMITS.setSize.min, LIMITS.setSize.max);
  checkOneOf('pretrain.source', spec.pretrain.source, ['natural', 'files'] as const);
  for (const [where, source, data] of [['task', spec.task.source, spec.task.data], ['pretrain', spec.pretrain.source, spec.pretrain.data]] as const) {
    if (source !== 'files') continue;
    checkDataSpec(data, `${where}.data`, 'a study');
  }
  if (spec.pretrain.source === 'files') {
    const d = spec.pretrain.data!;
    const set = readLabelled(d.format ?? detectFormat(d.path), d.path, d);
    if (set.task !== 'multiclass') throw invalidArg('pretrain.data', 'a multiclass dataset (an image folder, Fashion-MNIST)', `${d.path} (${set.format}, ${set.task})`);
    spec.pretrain.classes = set.labels.length;
  } else checkInteger('pretrain.classes', spec.pretrain.classes, LIMITS.classes.min, LIMITS.classes.max);
  for (const [where, t] of [['train', spec.train], ['pretrain', spec.pretrain]] as const) {
    checkInteger(`${where}.steps`, t.steps, LIMITS.steps.min, LIMITS.steps.max);
    checkInteger(`${where}.batchSize`, t.batchSize, LIMITS.batchSize.min, LIMITS.batchSize.max);
    checkInteger(`${where}.evalEvery`, t.evalEvery, LIMITS.evalEvery.min, LIMITS.evalEvery.max);
    if (t.patience !== undefined) checkInteger(`${where}.patience`, t.patience, 0, LIMITS.steps.max);
    if (t.patience && !t.evalEvery) throw invalidArg(`${where}.evalEvery`, `a positive number of steps with ${where}.patience (early stopping reads the evaluations)`, t.evalEvery);
    if (t.keepBest !== undefined && typeof t.keepBest !== 'boolean') throw invalidArg(`${where}.keepBest`, 'true or false', t.keepBest);
    if (t.weightDecay !== undefined) checkNumber(`${where}.weightDecay`, t.weightDecay, LIMITS.weightDecay.min, LIMITS.weightDecay.max);
    if (t.momentum !== undefined) checkNumber(`${where}.momentum`, t.momentum, LIMITS.momentum.min, LIMITS.momentum.max);
    // The schedule is checked now, as training would read it, not after data are drawn or models pretrained.
    checkSchedule(t.schedule, t.steps, `${where}.`);
  }
  for (const [model, size] of Object.entries(spec.imageSizes ?? {})) {
    if (!known.has(model)) throw invalidArg('imageSizes', `keyed by model names from: ${[...known].join(', ')}`, model);
    checkInteger(`imageSizes.${model}`, size, LIMITS.imageSize.min, LIMITS.imageSize.max);
  }
  for (const [model, file] of Object.entries(spec.weights ?? {})) {
    if (!known.has(model)) throw invalidArg('weights', `keyed by model names from: ${[...known].join(', ')}`, model);
    if (typeof file !== 'string' || !fs.existsSync(file)) throw invalidArg(`weights.${model}`, 'the path of an existing weight file', file);
  }
  if (spec.saveWeights !== undefined) {
    checkOneOf('saveWeights', spec.saveWeights, ['best', 'final'] as const);
    if ((spec.saveWeights === 'best') !== Boolean(spec.train.keepBest))
      throw invalidArg('saveWeights', spec.saveWeights === 'best' ? '"final", or "best" with train.keepBest (the best evaluation\'s weights are kept only then)' : '"best" with train.keepBest (the run ends with the best evaluation\'s weights, not the last step\'s)', spec.saveWeights);
  }
  if (spec.train.batchSize > spec.task.trainSize)
    throw invalidArg('train.batchSize', `at most task.trainSize (${spec.task.trainSize})`, spec.train.batchSize);
  checkStudyMemory(spec);
  return spec;
}

/**
 * Refuses a study whose drawn images would not fit in this machine's memory, before any are drawn: the task's train
 * and validation sets at every input size the study uses, the pretraining source's, and Section 4's probe, all
 * float32 RGB, as the native datasets hold them. The field named is the largest contributor. A user's dataset is
 * decoded into a file on disk (and trainSize only caps it), so it is not counted here.
 */
export function checkStudyMemory(spec: StudySpec, totalBytes = availableMemory()): void {
  const sizes = [...new Set([spec.task.imageSize, ...Object.values(spec.imageSizes ?? {})])];
  const drawn = spec.task.source !== 'files';
  const parts: [field: string, value: number, bytes: number][] = [
    ['task.trainSize', spec.task.trainSize, drawn ? sizes.reduce((sum, px) => sum + imageBytes(spec.task.trainSize, px), 0) : 0],
    ['task.valSize', spec.task.valSize, drawn ? sizes.reduce((sum, px) => sum + imageBytes(spec.task.valSize, px), 0) : 0],
    ['pretrain.trainSize', spec.pretrain.trainSize, spec.pretrain.source === 'natural' ? imageBytes(spec.pretrain.trainSize, spec.pretrain.imageSize) : 0],
    ['pretrain.valSize', spec.pretrain.valSize, spec.pretrain.source === 'natural' ? imageBytes(spec.pretrain.valSize, spec.pretrain.imageSize) : 0],
    ['representations.probeSize', spec.representations?.probeSize ?? 0, drawn ? sizes.reduce((sum, px) => sum + imageBytes(spec.representations?.probeSize ?? 0, px), 0) : 0],
  ];
  const total = parts.reduce((sum, [, , bytes]) => sum + bytes, 0);
  const [field, value] = parts.reduce((a, b) => (b[2] > a[2] ? b : a));
  const px = sizes.length > 1 ? `${sizes.join(', ')} px` : `${sizes[0]} px`;
  checkFitsMemory(field, value, total, `images (the study's drawn data: task at ${px}, pretraining at ${spec.pretrain.imageSize} px, float32 RGB)`, totalBytes);
}

/** A spec's training settings as train() takes them. */
export function trainOptionsOf(t: TrainingSpec): TrainOptions {
  return {
    steps: t.steps, batchSize: t.batchSize, optimizer: t.optimizer, schedule: t.schedule, weightDecay: t.weightDecay,
    momentum: t.momentum, evalEvery: t.evalEvery, evalAtStart: t.evalEvery > 0, channelsLast: t.channelsLast, precision: t.precision,
    ...(t.augment ? { augment: t.augment } : {}),
    ...(t.patience ? { patience: t.patience } : {}),
    ...(t.keepBest ? { keepBest: true } : {}),
  };
}

/** Refuses a list with a repeated entry, naming the entry. */
export function checkDistinct(name: string, list: readonly (string | number)[]): void {
  const seen = new Set<string | number>();
  for (const x of list) {
    if (seen.has(x)) throw invalidArg(name, 'distinct entries (a repeated one would count the same runs twice)', list.join(','));
    seen.add(x);
  }
}
