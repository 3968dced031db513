// A study described in a file (`run --config study.json`): an experiment at a preset, with any of the spec's fields
// overridden. The file is checked against a JSON Schema first, so a typo or a wrong type is an error that names the
// file and the field ("study.json: /train/steps must be integer"), then the merged spec goes through validateSpec.
import * as path from 'node:path';
import Ajv, { type ErrorObject, type JSONSchemaType, type ValidateFunction } from 'ajv';

import { TransfusionError } from '../errors';
import { displayPath, readRegularFile } from '../io/paths';
import { LIMITS } from '../limits';
import { closestName } from '../options';
import { DATA_FORMATS, DATA_TARGETS } from '../data/files/formats';
import { EXPERIMENT_NAMES, type RepresentationSettings, type StudySpec, type TrainingSpec } from './spec';
import { experimentSpec } from './catalog';
import { PRESETS } from './presets';
import { TASK_SOURCES, type TaskSpec } from './task';
import type { DataSpec } from '../data/files/load';
import type { ScheduleSpec } from '../schedules/lr';
import type { UncertaintyPolicy } from '../data/embedded';
import type { AugmentOptions } from '../../bindings/native';

/**
 * What a study file may hold: every field of the spec, each optional, nested objects field by field, plus the preset
 * the overrides start from. Derived from StudySpec, so a field added to the spec needs its schema below to compile.
 */
export type StudyConfig = Partial<Omit<StudySpec, 'task' | 'train' | 'pretrain' | 'representations'>> & {
  $schema?: string;
  /** The scale the overrides start from (default quick). */
  preset?: string;
  task?: Partial<TaskSpec>;
  train?: TrainingConfig;
  pretrain?: TrainingConfig & Partial<Omit<StudySpec['pretrain'], keyof TrainingSpec>>;
  representations?: Partial<RepresentationSettings>;
};

type TrainingConfig = Partial<Omit<TrainingSpec, 'schedule'>> & { schedule?: Partial<ScheduleSpec> };

// The schema is typed against StudyConfig (Ajv's JSONSchemaType): a field added to the spec without its schema, or a
// schema whose type disagrees with the spec's, does not compile. Bounds come from LIMITS.
const optional = { nullable: true } as const;
const integer = (minimum = 0, maximum?: number) =>
  ({ type: 'integer', minimum, ...(maximum !== undefined ? { maximum } : {}), ...optional }) as const;
const bounded = <T extends 'integer' | 'number'>(limit: { min: number; max: number }, type: T) =>
  ({ type, minimum: limit.min, maximum: limit.max, ...optional }) as const;
const fraction = { type: 'number', minimum: 0, maximum: 1, ...optional } as const;
const text = { type: 'string', ...optional } as const;
const flag = { type: 'boolean', ...optional } as const;
const oneOf = <T extends string>(values: readonly T[]) => ({ type: 'string', enum: [...values], ...optional }) as const;
const policies: readonly UncertaintyPolicy[] = ['ignore', 'zeros', 'ones'];
const policy = { type: 'object', required: [], additionalProperties: { type: 'string', enum: policies }, ...optional } as const;
const imageSize = bounded(LIMITS.imageSize, 'integer');
const setSize = bounded(LIMITS.setSize, 'integer');

const dataSpec = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    path: { type: 'string', minLength: 1 },
    format: oneOf(DATA_FORMATS),
    imageDir: text,
    policy,
    frontalOnly: flag,
    valFraction: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, ...optional },
    equalize: oneOf(['none', 'normalise', 'clahe'] as const),
    onBadImage: oneOf(['fail', 'skip'] as const),
    target: oneOf(DATA_TARGETS),
  },
} as const;

const schedule = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kind: oneOf(['constant', 'cosine', 'step'] as const),
    lr: bounded(LIMITS.lr, 'number'),
    warmupSteps: integer(),
    finalFraction: fraction,
    milestones: { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 }, ...optional },
    gamma: { type: 'number', minimum: 0, ...optional },
  },
  ...optional,
} as const;

const augment = {
  type: 'object',
  additionalProperties: false,
  properties: {
    rotate: { type: 'number', minimum: 0, maximum: 180, ...optional },
    translate: { type: 'number', minimum: 0, maximum: 0.5, ...optional },
    scale: { type: 'number', minimum: 0, maximum: 0.5, ...optional },
    flip: flag,
  },
  ...optional,
} as const;

const training = {
  steps: bounded(LIMITS.steps, 'integer'),
  batchSize: bounded(LIMITS.batchSize, 'integer'),
  optimizer: oneOf(['sgd', 'adam'] as const),
  schedule,
  weightDecay: bounded(LIMITS.weightDecay, 'number'),
  momentum: bounded(LIMITS.momentum, 'number'),
  evalEvery: bounded(LIMITS.evalEvery, 'integer'),
  channelsLast: flag,
  precision: oneOf(['fp32', 'tf32', 'bf16'] as const),
  augment,
};

const TYPED_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://transfusion-native/study-config.json',
  title: 'transfusion-native study',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: text,
    experiment: oneOf(EXPERIMENT_NAMES),
    preset: { type: 'string', enum: Object.keys(PRESETS), ...optional },
    name: { type: 'string', minLength: 1, ...optional },
    why: text,
    threshold: fraction,
    models: { type: 'array', minItems: 1, items: { type: 'string' }, ...optional },
    inits: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^(random|transfer|meanvar|gabor|slim|transfusion:[A-Za-z0-9_]+)$' }, ...optional },
    arms: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', additionalProperties: false, required: ['model', 'init'], properties: { model: { type: 'string' }, init: { type: 'string' } } },
      ...optional,
    },
    seeds: { type: 'array', minItems: 1, items: { type: 'integer', minimum: 0 }, ...optional },
    device: { type: 'string', pattern: '^(cpu|cuda(:[0-9]+)?)$', ...optional },
    padding: oneOf(['same', 'valid'] as const),
    imageSizes: { type: 'object', required: [], additionalProperties: { type: 'integer', minimum: LIMITS.imageSize.min, maximum: LIMITS.imageSize.max }, ...optional },
    weights: { type: 'object', required: [], additionalProperties: { type: 'string' }, ...optional },
    task: {
      type: 'object',
      additionalProperties: false,
      properties: {
        source: oneOf(TASK_SOURCES),
        data: { ...dataSpec, ...optional },
        imageSize,
        trainSize: setSize,
        valSize: setSize,
        seed: integer(),
        uncertainRate: fraction,
        policy,
      },
      ...optional,
    },
    train: { type: 'object', additionalProperties: false, properties: training, ...optional },
    pretrain: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ...training,
        source: oneOf(['natural', 'files'] as const),
        data: { ...dataSpec, ...optional },
        classes: bounded(LIMITS.classes, 'integer'),
        imageSize,
        trainSize: setSize,
        valSize: setSize,
        seed: integer(),
      },
      ...optional,
    },
    representations: {
      type: 'object',
      additionalProperties: false,
      properties: { probeSize: integer(2), maxDatapoints: integer(), seed: integer() },
      ...optional,
    },
  },
} as const satisfies JSONSchemaType<StudyConfig> & Record<string, unknown>;

type WithoutNullable<T> = T extends readonly unknown[] ? T
  : T extends object ? { [K in keyof T as K extends 'nullable' ? never : K]: WithoutNullable<T[K]> } : T;

/** `nullable` is how JSONSchemaType marks an optional field; a study file may omit a field but not give it as null. */
function withoutNullable<T>(schema: T): WithoutNullable<T> {
  if (Array.isArray(schema) || schema === null || typeof schema !== 'object') return schema as WithoutNullable<T>;
  return Object.fromEntries(Object.entries(schema).filter(([k]) => k !== 'nullable').map(([k, v]) => [k, withoutNullable(v)])) as WithoutNullable<T>;
}

// What an editor shows beside each field of a study file. Training, schedule, augmentation and dataset fields read
// the same under `train` and `pretrain` (and `task.data` / `pretrain.data`), so they are described once.
const HELP: Record<string, string> = {
  $schema: 'The schema this file follows (e.g. the file `transfusion-native schema --out` wrote)',
  experiment: "Which of the paper's comparisons: table1 (default), chexpert, small-data, meanvar, transfusion, hybrids, similarity, layers, init-vs-final, filters",
  preset: 'The scale the overrides start from: quick (default), tiny or paper',
  name: 'The study\'s name, recorded in results and used for the run directory under runs/ (default: the file\'s name)',
  why: 'One line on why the study\'s values are what they are, shown in the report',
  threshold: 'Validation AUC that counts as converged, for steps-to-threshold (the paper\'s Figure 7 uses 0.91)',
  models: 'Model names from `transfusion-native models` (e.g. cbr-small, resnet50); with `inits`, every model with every initialisation',
  inits: 'Initialisations: random, transfer, meanvar, gabor, slim (ResNet-50 only), transfusion:<stage>',
  arms: 'An explicit list of {model, init} pairs, instead of every model with every initialisation',
  seeds: 'Seeds: each arm is trained once per seed',
  device: 'cpu, cuda or cuda:N',
  padding: "Convolution padding of the CBR models: same or valid",
  imageSizes: 'Input size per model (e.g. {"resnet50": 96}), overriding task.imageSize and the pretraining size',
  weights: 'Your pretrained weight files by model (.pt/.pth or .safetensors, e.g. torchvision\'s), used for transfer instead of embedded pretraining; relative to this file',
  task: 'The downstream task: embedded retina (default) or chest, or your dataset',
  'task.source': 'retina (the embedded RETINA-like fundus task), chest (the embedded CheXpert-like task) or files (task.data)',
  'task.imageSize': 'Input side in pixels (16-1024)',
  'task.trainSize': 'Training images (embedded: drawn; files: at most this many kept, stratified)',
  'task.valSize': 'Validation images (embedded: drawn; files: at most this many kept, stratified)',
  'task.seed': 'Seed of the drawn (or sampled) data',
  'task.uncertainRate': 'chest: fraction of training labels that are uncertain (0-1)',
  'task.policy': 'chest: what uncertain labels become per finding: ignore, zeros or ones',
  train: 'Training on the task',
  pretrain: 'Pretraining, the source of the transfer weights (natural: the embedded natural-image source; files: your labelled images)',
  'pretrain.source': 'natural (embedded, `classes` classes) or files (pretrain.data: an image folder or Fashion-MNIST)',
  'pretrain.classes': 'Classes of the embedded natural-image source (2-30)',
  'pretrain.imageSize': 'Pretraining input side in pixels (16-1024)',
  'pretrain.trainSize': 'Pretraining images',
  'pretrain.valSize': 'Pretraining validation images',
  'pretrain.seed': 'Seed of the pretraining data',
  representations: "Section 4's analyses: the probe set and datapoint budget",
  'representations.probeSize': 'Probe images every model is run over',
  'representations.maxDatapoints': 'Datapoints (conv positions) kept per stage; 0: max(20,000, 10 x channels)',
  'representations.seed': 'Seed of the probe images',
  '*.steps': 'Training steps per run',
  '*.batchSize': 'Images per step',
  '*.optimizer': 'sgd or adam',
  '*.schedule': 'The learning-rate schedule',
  '*.weightDecay': 'L2 weight decay (0-1)',
  '*.momentum': 'SGD momentum (0-1)',
  '*.evalEvery': 'Steps between validation evaluations (0: only at the end)',
  '*.channelsLast': 'NHWC weights and inputs (a GPU setting)',
  '*.precision': 'fp32, tf32 or bf16 (autocast; GPU settings)',
  '*.augment': 'Random affine augmentation of training images (none by default)',
  '*.schedule.kind': 'constant, cosine or step',
  '*.schedule.lr': 'Peak learning rate',
  '*.schedule.warmupSteps': 'Linear warm-up steps from lr/warmupSteps to lr',
  '*.schedule.finalFraction': 'cosine: the final learning rate as a fraction of lr (default 0)',
  '*.schedule.milestones': 'step: fractions of training at which the rate is multiplied by gamma (default [0.5, 0.75])',
  '*.schedule.gamma': 'step: the factor at each milestone (default 0.1)',
  '*.augment.rotate': 'Rotation up to +-degrees (0-180)',
  '*.augment.translate': 'Shift up to +-this fraction of the side (0-0.5)',
  '*.augment.scale': 'Zoom within 1 +- scale (0-0.5)',
  '*.augment.flip': 'Horizontal flips with probability 1/2',
  '*.data': 'A dataset on disk: { path, format? }',
  '*.data.path': 'The dataset: a folder or file, as the format expects; relative to this file',
  '*.data.format': 'eyepacs, chexpert, medmnist, folder, fashion-mnist, nih-chestxray14, mimic-cxr, rsna-pneumonia, aptos2019, messidor2 or idrid (detected from the path when absent)',
  '*.data.imageDir': 'EyePACS: the folder of images when not train/ beside the CSV; relative to this file',
  '*.data.policy': 'CheXpert and MIMIC-CXR: what uncertain labels become per finding: ignore, zeros or ones',
  '*.data.frontalOnly': 'CheXpert and MIMIC-CXR: frontal images only (default true)',
  '*.data.valFraction': 'Fraction of patients held out for validation where the format has no split of its own (NIH\'s lists, MIMIC-CXR\'s split.csv, IDRiD\'s testing set; default 0.2)',
  '*.data.equalize': 'none, normalise or clahe: contrast equalisation of each image',
  '*.data.onBadImage': 'fail (default) or skip an image that cannot be decoded',
  '*.data.target': 'Graded retinal data (eyepacs, aptos2019, messidor2, idrid, RetinaMNIST): referable (default; one output, grade >= 2) or grade (five classes 0-4, scored by quadratic kappa and by the AUC of P(grade >= 2))',
};

/** The schema with every field's description from HELP (a field without one is a programming error). */
function described<T>(schema: T, at = ''): T {
  const s = schema as { properties?: Record<string, unknown> };
  if (!s.properties) return schema;
  const properties = Object.fromEntries(Object.entries(s.properties).map(([key, sub]) => {
    const where = at ? `${at}.${key}` : key;
    const help = HELP[where] ?? HELP[`*.${where.split('.').slice(1).join('.')}`];
    if (help === undefined) throw new Error(`study schema: no description for ${where}`);
    return [key, { ...(described(sub, where) as object), description: help }];
  }));
  return { ...schema, properties };
}

/** The JSON Schema of a study file. Every field but `experiment` and `preset` overrides the preset's spec. */
export const STUDY_CONFIG_SCHEMA = described(withoutNullable(TYPED_SCHEMA));

let validator: ValidateFunction<StudyConfig> | undefined;  // typed by TYPED_SCHEMA; compiled without `nullable`

/** The fields the schema allows in the object at `instancePath` ("/train" -> steps, batchSize, ...). */
export function fieldsAt(instancePath: string): string[] {
  let node = STUDY_CONFIG_SCHEMA as { properties?: Record<string, unknown>; items?: unknown } | undefined;
  for (const segment of instancePath.split('/').slice(1))
    node = (/^\d+$/.test(segment) && node?.items ? node.items : node?.properties?.[segment]) as typeof node;
  return Object.keys(node?.properties ?? {});
}

function describe(e: ErrorObject): string {
  const at = e.instancePath || '(top level)';
  if (e.keyword === 'additionalProperties') {
    const field = (e.params as { additionalProperty: string }).additionalProperty;
    const near = closestName(field, fieldsAt(e.instancePath));
    return `${at}: unknown field "${field}"${near ? `; did you mean "${near}"?` : ''}`;
  }
  if (e.keyword === 'enum') return `${at} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${at} ${e.message}`;
}

/** The study schema's validator, compiled once. */
export const compiled = () => (validator ??= new Ajv({ allErrors: true, strict: false }).compile<StudyConfig>(STUDY_CONFIG_SCHEMA));

/** Objects merge field by field; anything else (arrays included) replaces. */
function merge<T>(base: T, over: unknown): T {
  if (over === null || typeof over !== 'object' || Array.isArray(over) || base === null || typeof base !== 'object' || Array.isArray(base)) return over as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? merge(out[k], v) : v;
  return out as T;
}

/**
 * Reads, checks and expands a study file into a spec (relative paths resolve against the file's folder).
 * @param file - A JSON study file (at most 16 MiB): `experiment` and `preset` (default "table1" at "quick"), and any
 *   of the spec's fields to override, as {@link STUDY_CONFIG_SCHEMA} describes.
 * @returns The spec, named after the file unless it sets `name`; {@link runStudy} validates it.
 * @throws ERR_INVALID_ARG when the file cannot be read, is not JSON, or does not match the schema (each field named),
 *   or names an unknown experiment or preset.
 */
export function loadStudyConfig(file: string): StudySpec {
  let text: string;
  try {
    // A FIFO or a device would block or grow without bound: a regular file of a study file's size only.
    text = readRegularFile(file, 'ERR_INVALID_ARG', 16 * 2 ** 20).toString('utf8');
  } catch (err) {
    throw new TransfusionError('ERR_INVALID_ARG', `Cannot read the study file ${displayPath(file)}: ${(err as Error).message}`);
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw new TransfusionError('ERR_INVALID_ARG', `${file} is not valid JSON: ${(err as Error).message}`);
  }
  const validate = compiled();
  if (!validate(config)) {
    const errors = (validate.errors ?? []).map(describe);
    throw new TransfusionError('ERR_INVALID_ARG', `${file} does not describe a study:\n  ${errors.join('\n  ')}`);
  }
  const { experiment = 'table1', preset = 'quick', $schema: _schema, ...o } = config;  // typed: StudyConfig
  const dir = path.dirname(path.resolve(file));
  const resolved = (p: string) => path.resolve(dir, p);
  if (o.task?.data?.path) o.task.data.path = resolved(o.task.data.path);
  if (o.task?.data?.imageDir) o.task.data.imageDir = resolved(o.task.data.imageDir);
  if (o.pretrain?.data?.path) o.pretrain.data.path = resolved(o.pretrain.data.path);
  if (o.weights) o.weights = Object.fromEntries(Object.entries(o.weights).map(([m, p]) => [m.toLowerCase(), resolved(p)]));
  const spec = merge(experimentSpec(experiment, preset), o);
  if (o.name === undefined) spec.name = path.basename(file, path.extname(file));
  if (o.models && !o.arms && spec.arms) spec.arms = spec.arms.filter((a) => o.models!.map((m) => m.toLowerCase()).includes(a.model));
  return spec;
}
