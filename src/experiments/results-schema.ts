// The JSON Schema of results.json, checked whenever a run directory's results are read (resume, report, merge): a
// corrupt or crafted file is an error naming the file and the field, never a TypeError deep in a report. Paths the
// file holds (weight snapshots, figures) must be relative and stay inside the run directory.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';

import { TransfusionError } from '../errors';
import { displayPath } from '../io/paths';
import { METRICS } from '../similarity/similarity';
import { STUDY_CONFIG_SCHEMA } from './config';

const str = { type: 'string' } as const;
const num = { type: 'number' } as const;
const int = { type: 'integer' } as const;
const count = { type: 'integer', minimum: 0 } as const;
const flag = { type: 'boolean' } as const;
const numOrNull = { type: ['number', 'null'] } as const;
const intOrNull = { type: ['integer', 'null'] } as const;
const list = (items: object, maxItems = 1_000_000) => ({ type: 'array', items, maxItems }) as const;
const record = (properties: Record<string, object>, required: string[] = Object.keys(properties)) => ({ type: 'object', properties, required }) as const;
/** Section 4's analyses, and a reproduction's studies, by name (representations.ts and reproduce-plan.ts hold them as types). */
const ANALYSIS_NAMES = ['similarity', 'layers', 'init-vs-final', 'filters', 'interpolation', 'criticality', 'knn'];
const PART_NAMES = ['retina', 'section5', 'chexpert', 'small-data', 'checkpoints'];
/** Text a report prints: no control characters (an escape sequence would reach the terminal and the page). */
const PRINTABLE = '^[^\\u0000-\\u001f\\u007f-\\u009f]+$';
const printable = { type: 'string', pattern: PRINTABLE } as const;
/** A path relative to the run directory that does not climb out of it (resolveInside checks links where it is read). */
const inside = { type: 'string', minLength: 1, not: { pattern: '^[\\\\/]|^[A-Za-z]:|(^|[\\\\/])\\.\\.([\\\\/]|$)|\\u0000' } } as const;

const runRef = record({ init: str, seed: int });
/** A similarity record's metrics: every entry of the engine's table, by name (METRICS is held equal to it by a test). */
const METRIC_FIELDS = Object.fromEntries(METRICS.filter((m) => m !== 'ccaCoefficients').map((m) => [m, numOrNull]));
const runRecord = record(
  {
    model: str, init: str, seed: int, auc: numOrNull, aucs: { type: 'object', additionalProperties: numOrNull }, stepsToThreshold: intOrNull,
    auprc: numOrNull, auprcs: { type: 'object', additionalProperties: numOrNull }, aucCi: { ...list(numOrNull, 2), minItems: 2 }, kappa: numOrNull,
    steps: count, finalLoss: num, wallSeconds: num, imagesPerSecond: num, device: { type: 'string', pattern: '^(cpu|cuda(:[0-9]+)?)$' }, weights: { type: 'string', pattern: '^weights/[A-Za-z0-9_.-]+\\.pt$' }, stoppedEarly: flag, bestStep: count, curve: list(record({ step: count, auc: numOrNull })), imageSize: count,
    load: record({ init: str, loaded: count, drawn: count, fresh: list(str), from: str }, ['init']), resumedFrom: count,
    snapshots: record({ init: inside, final: inside }),
  },
  ['model', 'init', 'seed', 'auc', 'stepsToThreshold', 'steps', 'finalLoss', 'wallSeconds', 'imagesPerSecond', 'curve', 'imageSize'],
);
const representations = record(
  {
    analysis: { type: 'string', enum: ANALYSIS_NAMES },
    probe: { type: 'object' },
    records: list(record({ model: str, stage: str, compared: { type: 'string', enum: ['final', 'init', 'self'] }, a: runRef, b: runRef, ...METRIC_FIELDS, datapoints: count, neurons: count, reliable: flag }, ['model', 'stage', 'compared', 'a', 'b', 'meanCca', 'svccaMean', 'pwcca', 'linearCka', 'datapoints', 'neurons'])),
    fits: list(record({ model: str, stage: str, pairs: { type: 'string', enum: ['transfer-random', 'random-random', 'all'] }, n: count, r2: numOrNull, slope: numOrNull })),
    filters: list(record({ model: str, init: str, seed: int, parameter: str, relativeChange: num })),
    skipped: list(record({ model: str, stage: str, reason: str })),
    interpolation: list(record({ model: str, pairs: { type: 'string', enum: ['transfer-transfer', 'random-random', 'transfer-random'] }, a: runRef, b: runRef, points: list(record({ alpha: num, loss: numOrNull, auc: numOrNull }), 10_000), bnImages: count, barrier: record({ loss: numOrNull, auc: numOrNull }) })),
    // `distance` required: before it, `criticality` held what is now `pathAlpha`, and is refused rather than misread.
    criticality: list(record({ model: str, init: str, seed: int, auc: numOrNull, loss: numOrNull, evaluations: count, lossImages: count, samples: count, stages: list(record({ stage: str, reinitialised: numOrNull, rerandomised: numOrNull, pathAlpha: numOrNull, criticality: numOrNull, criticalAlpha: numOrNull, criticalSigma: numOrNull, distance: num }, ['stage', 'reinitialised', 'rerandomised', 'pathAlpha', 'criticality', 'distance']), 10_000) }, ['model', 'init', 'seed', 'auc', 'stages'])),
    knn: list(record({ model: str, init: str, seed: int, compared: { type: 'string', enum: ['init', 'final'] }, k: count, stages: list(record({ stage: str, auc: numOrNull }), 10_000) })),
    heatmaps: list(record({ model: str, a: runRef, b: runRef, layersA: list(printable, 10_000), layersB: list(printable, 10_000), values: list(list(numOrNull, 10_000), 10_000), batches: count, images: count })),
    figures: list(inside),
  },
  ['analysis', 'probe', 'records', 'fits', 'filters', 'skipped', 'figures'],
);
// The spec as a study file would give it, with every field a resolved StudySpec always has required (results.json
// holds the resolved spec: reports, resume and merge read these fields without defaults).
const { $schema: _schema, $id: _id, title: _title, ...studyFile } = STUDY_CONFIG_SCHEMA;
const props = studyFile.properties;
const schedule = { ...props.train.properties.schedule, required: ['kind', 'lr'] };
/** TrainingSpec's required fields (train and pretrain). */
const training = ['steps', 'batchSize', 'optimizer', 'schedule', 'weightDecay', 'momentum', 'evalEvery'];
const spec = {
  ...studyFile,
  required: ['name', 'experiment', 'threshold', 'why', 'models', 'inits', 'seeds', 'device', 'padding', 'task', 'train', 'pretrain'],
  properties: {
    ...props,
    seeds: list(count, 10_000),
    task: { ...props.task, required: ['source', 'imageSize', 'trainSize', 'valSize', 'seed'] },
    train: { ...props.train, required: training, properties: { ...props.train.properties, schedule } },
    pretrain: {
      ...props.pretrain,
      required: ['source', 'classes', 'imageSize', 'trainSize', 'valSize', 'seed', ...training],
      properties: { ...props.pretrain.properties, schedule },
    },
  },
} as const;

export const RESULTS_JSON_SCHEMA = record(
  {
    schema: str,
    spec,
    environment: record({ torch: str, napi: num, node: str, threads: num, platform: str, concurrency: count, threadsPerRun: count, cpuAllocator: { enum: ['reusing', 'libtorch'] }, evalBatches: { type: 'object', additionalProperties: { type: 'integer', minimum: 1 } } }, ['torch', 'napi', 'node', 'threads', 'platform']),
    provenance: record({
      package: str, commit: { type: ['string', 'null'] }, command: list(str, 10_000),
      cpu: record({ model: str, cores: count, memoryBytes: num }), gpu: { type: ['string', 'null'] },
      torch: record({ version: str, build: { type: 'object', additionalProperties: { type: 'string' } } }),
    }),
    startedAt: str,
    finishedAt: str,
    models: list(record({ name: str, displayName: str, params: record({ numel: count, paper: count }), imageSize: count }), 1000),
    task: record(
      { labels: list(str, 1000), trainPositives: num, trainSize: count, valPositives: num, valSize: count, trainPositivesPerLabel: list(num, 1000), valPositivesPerLabel: list(num, 1000), multiclass: flag },
      ['labels', 'trainPositives', 'trainSize', 'valPositives', 'valSize'],
    ),
    pretraining: list(record({ model: str, source: str, classes: intOrNull, top1: numOrNull, top5: numOrNull, steps: count, wallSeconds: num, weights: str, cached: flag, ranks: count }, ['model', 'source', 'weights']), 1000),
    // Reports spread a model's runs into argument lists: a bound far above any study keeps them within the stack.
    runs: list(runRecord, 50_000),
    representations,
    shard: record({ index: count, count: { type: 'integer', minimum: 1 } }),
    distributed: record({ worldSize: { type: 'integer', minimum: 1 }, backend: str, syncBatchNorm: flag }),
    mergedFrom: list(str, 10_000),
    data: record({ path: str, format: str, available: record({ train: count, val: count }), skipped: list(record({ where: str, reason: str })), dropped: list(record({ reason: str, count }), 1000), filesHash: { type: 'string', pattern: '^[0-9a-f]{64}$' } }, ['path', 'format', 'available', 'skipped']),
  },
  ['schema', 'spec', 'environment', 'startedAt', 'models', 'task', 'pretraining', 'runs'],
);

/**
 * A schema's check, compiled on first use: undefined when a document fits, else its first five faults, described
 * ("field runs[3].auc must be number,null; ...").
 */
function faultsOf(schema: object): (doc: unknown) => string | undefined {
  let validate: ValidateFunction | undefined;
  return (doc) => {
    validate ??= new Ajv({ allErrors: true, strict: false }).compile(schema);
    return validate(doc) ? undefined : (validate.errors ?? []).slice(0, 5).map(describe).join('; ');
  };
}
const resultsFaults = faultsOf(RESULTS_JSON_SCHEMA);

/** "/runs/3/auc" -> "runs[3].auc" */
const fieldOf = (pointer: string) =>
  pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((at, p) => (/^\d+$/.test(p) ? `${at}[${p}]` : at ? `${at}.${p}` : p), '');

function describe(e: ErrorObject): string {
  const field = fieldOf(e.instancePath);
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    return `field ${displayPath(field ? `${field}.${missing}` : missing)} is missing`;
  }
  if (e.keyword === 'not' && e.schemaPath.endsWith('/not')) return `field ${displayPath(field)} must be a path inside the run directory`;
  if (e.keyword === 'pattern' && (e.params as { pattern: string }).pattern === PRINTABLE) return `field ${displayPath(field)} must be text with no control character`;
  if (e.keyword === 'additionalProperties') return `field ${displayPath(field || '(top level)')} has an unknown field "${displayPath((e.params as { additionalProperty: string }).additionalProperty)}"`;
  return `field ${displayPath(field || '(top level)')} ${e.message}`;
}

/** Refuses (ERR_BAD_DATA, naming `file` and the first fields at fault) results that do not have results.json's shape. */
export function checkResultsShape(parsed: unknown, file: string): void {
  const faults = resultsFaults(parsed);
  if (faults) throw new TransfusionError('ERR_BAD_DATA', `${displayPath(file)} is not a results.json this library wrote: ${faults}`);
  checkDistinctRuns((parsed as { runs: RunKey[] }).runs, file);
}

/** What the scorecard reads of a study's results. */
const SCORED_STUDY_SCHEMA = record(
  { runs: list(record({ model: str, init: str, seed: int, auc: numOrNull, stepsToThreshold: intOrNull }, ['model', 'init', 'seed', 'auc']), 50_000), pretraining: list({ type: 'object' }, 1000), spec: record({ train: { type: 'object' } }) },
  ['runs', 'spec'],
);
const scoredStudyFaults = faultsOf(SCORED_STUDY_SCHEMA);

/** A reproduction's Section 4 analyses: each a study's representations record, by analysis. */
const ANALYSES_SCHEMA = { type: 'object', propertyNames: { enum: ANALYSIS_NAMES }, additionalProperties: representations } as const;

/**
 * The JSON Schema of a reproduction's DIR/results.json (src/experiments/reproduce.ts): the request, its studies (named
 * from the plan's four, never a path), the analyses (each a study's representations record) and the scorecard.
 */
export const REPRODUCTION_JSON_SCHEMA = record(
  {
    schema: { const: 'transfusion-native/reproduce@1' },
    request: {
      ...record({ preset: { ...printable, maxLength: 64 }, models: list(printable, 64), seeds: list({ type: 'integer', minimum: 0, maximum: 1_000_000 }, 100), data: record({ path: printable }, ['path']) }, ['preset']),
      additionalProperties: false,
    },
    startedAt: str,
    finishedAt: str,
    environment: { type: 'object' },
    parts: {
      ...list(record({ name: { enum: PART_NAMES }, serves: str, finished: flag, runs: count, seconds: { type: 'number', minimum: 0 } }, ['name', 'serves', 'finished', 'runs']), PART_NAMES.length),
      minItems: 1,
    },
    analyses: ANALYSES_SCHEMA,
    scorecard: list(record({ id: str, where: str, claim: str, paper: str, ours: str, verdict: { enum: ['holds', 'not shown', 'contradicted'] }, rule: str }), 100),
    shard: record({ index: count, count: { type: 'integer', minimum: 1, maximum: 10_000 } }),
  },
  ['schema', 'request', 'startedAt', 'environment', 'parts', 'analyses', 'scorecard'],
);

const reproductionFaults = faultsOf(REPRODUCTION_JSON_SCHEMA);
const analysesFaults = faultsOf(ANALYSES_SCHEMA);

/** Refuses (ERR_BAD_DATA, naming `file` and the first fields at fault) a record without a reproduction's shape. */
export function checkReproductionShape(parsed: unknown, file: string): void {
  const faults = reproductionFaults(parsed);
  const fault = (what: string) => new TransfusionError('ERR_BAD_DATA', `${displayPath(file)} is not a reproduction record this library wrote: ${what}`);
  if (faults) throw fault(faults);
  const doc = parsed as { parts: { name: string }[]; shard?: { index: number; count: number }; request: { models?: string[]; seeds?: number[] } };
  const repeated = (list: unknown[] | undefined) => list !== undefined && new Set(list).size !== list.length;
  for (const [field, list] of [['parts', doc.parts.map((p) => p.name)], ['request.models', doc.request.models], ['request.seeds', doc.request.seeds]] as const)
    if (repeated(list)) throw fault(`field ${field} names an entry twice`);
  if (doc.shard && doc.shard.index >= doc.shard.count) throw fault('field shard.index must be below shard.count');
}

/**
 * The library's own callers of the reproduction functions (scoreFindings, the paper report) pass studies' results in
 * memory: a Map from study name to results.json's shape, each checked as a file would be (ERR_BAD_DATA naming it), and
 * the analyses as the record holds them.
 */
export function checkStudyParts(fn: string, parts: unknown, analyses?: unknown, scoring = false): void {
  if (!(parts instanceof Map)) throw new TransfusionError('ERR_INVALID_ARG', `Expected \`parts\` of ${fn} to be a Map from study name to its results but received ${parts === null ? 'null' : typeof parts}`);
  for (const [name, results] of parts) {
    if (!PART_NAMES.includes(name)) throw new TransfusionError('ERR_INVALID_ARG', `Expected the studies of ${fn} to be ${PART_NAMES.join(', ')} but received ${JSON.stringify(String(name))}`);
    if (!scoring) {
      checkResultsShape(results, `${fn}: the ${name} study's results`);
      continue;
    }
    // The scorecard reads runs, pretraining and the validation interval only (its tests give hand-made results).
    const faults = scoredStudyFaults(results);
    if (faults) throw new TransfusionError('ERR_BAD_DATA', `${fn}: the ${name} study's results are not a study's results: ${faults}`);
    checkDistinctRuns((results as { runs: RunKey[] }).runs, `${fn}: the ${name} study's results`);
  }
  if (analyses === undefined) return;
  const faults = analysesFaults(analyses);
  if (faults) throw new TransfusionError('ERR_INVALID_ARG', `Expected \`analyses\` of ${fn} to be a reproduction's analyses: ${faults}`);
}

type RunKey = { model: string; init: string; seed: number };
/** A run recorded twice (a model, initialisation and seed) would count as two seeds: a smaller spread than the data give. */
function checkDistinctRuns(runs: RunKey[], file: string): void {
  const seen = new Set<string>();
  for (const [i, r] of runs.entries()) {
    const key = `${r.model}|${r.init}|${r.seed}`;
    if (seen.has(key)) throw new TransfusionError('ERR_BAD_DATA', `${displayPath(file)}: runs[${i}] (${r.model} ${r.init} seed ${r.seed}) is recorded twice`);
    seen.add(key);
  }
}
