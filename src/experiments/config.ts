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
import { described } from './config-help';

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
    dicom: {
      type: 'object',
      additionalProperties: false,
      properties: {
        frame: integer(0, 65535),
        window: {
          anyOf: [
            { type: 'string', enum: ['auto'] },
            { type: 'object', additionalProperties: false, required: ['center', 'width'], properties: { center: { type: 'number' }, width: { type: 'number', exclusiveMinimum: 0 } } },
          ],
          ...optional,
        },
      },
      ...optional,
    },
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
    rotate: bounded(LIMITS.rotate, 'number'),
    translate: bounded(LIMITS.translate, 'number'),
    scale: bounded(LIMITS.scale, 'number'),
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
  patience: bounded({ min: 0, max: LIMITS.steps.max }, 'integer'),
  keepBest: flag,
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
    inits: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^(random|transfer|meanvar|shuffle|gabor|slim|transfusion:[A-Za-z0-9_]+|checkpoint:[0-9]+)$' }, ...optional },
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
    saveWeights: oneOf(['best', 'final'] as const),
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
      properties: { probeSize: integer(2), maxDatapoints: integer(), seed: integer(), interpolationBnBatches: integer(0, 10_000), criticalitySamples: integer(1, 100), criticalityImages: integer(1) },
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
