// A study described in a file (`run --config study.json`): an experiment at a preset, with any of the spec's fields
// overridden. The file is checked against a JSON Schema first, so a typo or a wrong type is an error that names the
// file and the field ("study.json: /train/steps must be integer"), then the merged spec goes through validateSpec.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject } from 'ajv';

import { TransfusionError } from '../errors';
import { LIMITS } from '../limits';
import { DATA_FORMATS } from '../data/files/formats';
import { EXPERIMENT_NAMES, type StudySpec } from './spec';
import { experimentSpec } from './catalog';
import { PRESETS } from './presets';
import { TASK_SOURCES } from './task';

const integer = (minimum = 0, maximum?: number) => ({ type: 'integer', minimum, ...(maximum !== undefined ? { maximum } : {}) });
const bounded = (limit: { min: number; max: number }, type: 'integer' | 'number' = 'integer') => ({ type, minimum: limit.min, maximum: limit.max });
const policy = { enum: ['ignore', 'zeros', 'ones'] };

const dataSpec = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    path: { type: 'string', minLength: 1 },
    format: { enum: [...DATA_FORMATS] },
    imageDir: { type: 'string' },
    policy: { type: 'object', additionalProperties: policy },
    frontalOnly: { type: 'boolean' },
    valFraction: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
    equalize: { enum: ['none', 'normalise', 'clahe'] },
    onBadImage: { enum: ['fail', 'skip'] },
  },
};

const schedule = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kind: { enum: ['constant', 'cosine', 'step'] },
    lr: bounded(LIMITS.lr, 'number'),
    warmupSteps: integer(),
    finalFraction: { type: 'number', minimum: 0, maximum: 1 },
    milestones: { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 } },
    gamma: { type: 'number', minimum: 0 },
  },
};

const training = {
  steps: bounded(LIMITS.steps),
  batchSize: bounded(LIMITS.batchSize),
  optimizer: { enum: ['sgd', 'adam'] },
  schedule,
  weightDecay: bounded(LIMITS.weightDecay, 'number'),
  momentum: bounded(LIMITS.momentum, 'number'),
  evalEvery: bounded(LIMITS.evalEvery),
  channelsLast: { type: 'boolean' },
  precision: { enum: ['fp32', 'tf32', 'bf16'] },
  augment: {
    type: 'object',
    additionalProperties: false,
    properties: { rotate: { type: 'number', minimum: 0, maximum: 180 }, translate: { type: 'number', minimum: 0, maximum: 0.5 }, scale: { type: 'number', minimum: 0, maximum: 0.5 }, flip: { type: 'boolean' } },
  },
};

/** The JSON Schema of a study file. Every field but `experiment` and `preset` overrides the preset's spec. */
export const STUDY_CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://transfusion-native/study-config.json',
  title: 'transfusion-native study',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    experiment: { enum: [...EXPERIMENT_NAMES], description: 'Which of the paper\'s comparisons (default table1)' },
    preset: { enum: Object.keys(PRESETS), description: 'The scale the overrides start from (default quick)' },
    name: { type: 'string', minLength: 1 },
    why: { type: 'string' },
    threshold: { type: 'number', minimum: 0, maximum: 1 },
    models: { type: 'array', minItems: 1, items: { type: 'string' } },
    inits: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^(random|transfer|meanvar|gabor|slim|transfusion:[A-Za-z0-9_]+)$' } },
    arms: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', additionalProperties: false, required: ['model', 'init'], properties: { model: { type: 'string' }, init: { type: 'string' } } },
    },
    seeds: { type: 'array', minItems: 1, items: integer() },
    device: { type: 'string', pattern: '^(cpu|cuda(:[0-9]+)?)$' },
    padding: { enum: ['same', 'valid'] },
    imageSizes: { type: 'object', additionalProperties: { type: 'integer', minimum: 16, maximum: 1024 } },
    weights: { type: 'object', additionalProperties: { type: 'string' } },
    task: {
      type: 'object',
      additionalProperties: false,
      properties: {
        source: { enum: [...TASK_SOURCES] },
        data: dataSpec,
        imageSize: { type: 'integer', minimum: 16, maximum: 1024 },
        trainSize: integer(2),
        valSize: integer(2),
        seed: integer(),
        uncertainRate: { type: 'number', minimum: 0, maximum: 1 },
        policy: { type: 'object', additionalProperties: policy },
      },
    },
    train: { type: 'object', additionalProperties: false, properties: training },
    pretrain: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ...training,
        source: { enum: ['natural', 'files'] },
        data: dataSpec,
        classes: { type: 'integer', minimum: 2, maximum: 30 },
        imageSize: { type: 'integer', minimum: 16, maximum: 1024 },
        trainSize: integer(2),
        valSize: integer(2),
        seed: integer(),
      },
    },
    representations: {
      type: 'object',
      additionalProperties: false,
      properties: { probeSize: integer(2), maxDatapoints: integer(), seed: integer() },
    },
  },
} as const;

let validator: ReturnType<Ajv['compile']> | undefined;

function describe(e: ErrorObject): string {
  const at = e.instancePath || '(top level)';
  if (e.keyword === 'additionalProperties') return `${at}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  if (e.keyword === 'enum') return `${at} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${at} ${e.message}`;
}

/** Objects merge field by field; anything else (arrays included) replaces. */
function merge<T>(base: T, over: unknown): T {
  if (over === null || typeof over !== 'object' || Array.isArray(over) || base === null || typeof base !== 'object' || Array.isArray(base)) return over as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? merge(out[k], v) : v;
  return out as T;
}

/** Reads, checks and expands a study file into a spec (relative paths resolve against the file's folder). */
export function loadStudyConfig(file: string): StudySpec {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new TransfusionError('ERR_INVALID_ARG', `Cannot read the study file ${file}: ${(err as Error).message}`);
  }
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw new TransfusionError('ERR_INVALID_ARG', `${file} is not valid JSON: ${(err as Error).message}`);
  }
  validator ??= new Ajv({ allErrors: true, strict: false }).compile(STUDY_CONFIG_SCHEMA);
  if (!validator(config)) {
    const errors = (validator.errors ?? []).map(describe);
    throw new TransfusionError('ERR_INVALID_ARG', `${file} does not describe a study:\n  ${errors.join('\n  ')}`);
  }
  const { experiment = 'table1', preset = 'quick', $schema: _schema, ...overrides } = config as { experiment?: string; preset?: string; $schema?: string };
  const dir = path.dirname(path.resolve(file));
  const resolved = (p: string) => path.resolve(dir, p);
  const o = overrides as Partial<StudySpec>;
  if (o.task?.data?.path) o.task.data.path = resolved(o.task.data.path);
  if (o.task?.data?.imageDir) o.task.data.imageDir = resolved(o.task.data.imageDir);
  if (o.pretrain?.data?.path) o.pretrain.data.path = resolved(o.pretrain.data.path);
  if (o.weights) o.weights = Object.fromEntries(Object.entries(o.weights).map(([m, p]) => [m.toLowerCase(), resolved(p)]));
  const spec = merge(experimentSpec(experiment, preset), overrides);
  if (o.name === undefined) spec.name = path.basename(file, path.extname(file));
  if (o.models && !o.arms && spec.arms) spec.arms = spec.arms.filter((a) => o.models!.map((m) => m.toLowerCase()).includes(a.model));
  return spec;
}
