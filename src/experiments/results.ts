// A study's results: the schema of results.json and its records, the events a study reports, and the reading of a run
// directory's results.json. Reports, merging and the CLI read results through this module, never through the study.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { TransfusionError, checkInteger } from '../errors';
import { displayPath, readRegularFile, resolveInside } from '../io/paths';
import type { InitReport } from '../init/init';
import type { Provenance } from '../provenance';
import type { TrainEvent } from '../train';
import type { PretrainRecord } from './pretrain';
import type { RepresentationResults } from './representations';
import type { Init, StudySpec } from './spec';
import { checkResultsShape } from './results-schema';

/** The `schema` every results.json this version writes carries; {@link readResults} refuses any other but results@1, which it upgrades. */
export const RESULTS_SCHEMA = 'transfusion-native/results@2';
/** The first version's schema: the same but for Section 4's similarity records, whose metrics were snake_case. */
const RESULTS_SCHEMA_V1 = 'transfusion-native/results@1';
const V1_METRIC_NAMES: Record<string, string> = { mean_cca: 'meanCca', svcca_mean: 'svccaMean', linear_cka: 'linearCka' };

/** A results@1 document as results@2: its similarity records' metric names in camelCase. */
function upgradeV1(doc: Record<string, unknown>): void {
  const records = (doc.representations as { records?: unknown } | undefined)?.records;
  if (Array.isArray(records))
    for (const r of records)
      if (r && typeof r === 'object')
        for (const [from, to] of Object.entries(V1_METRIC_NAMES))
          if (from in r) {
            (r as Record<string, unknown>)[to] = (r as Record<string, unknown>)[from];
            delete (r as Record<string, unknown>)[from];
          }
  doc.schema = RESULTS_SCHEMA;
}

/** One training run of a study, as results.json records it. */
export interface RunRecord {
  /** The registry name of the model trained. */
  model: string;
  /** Its initialisation, e.g. "transfer", "transfusion:layer2". */
  init: Init;
  /** The seed of its initialisation and batch order. */
  seed: number;
  /** Final validation AUC-ROC (referable DR; on the grade target scored by P(grade >= 2)), or its mean over the findings (chest). */
  auc: number;
  /** chest: final validation AUC-ROC per finding (null where the validation set has one class only). */
  aucs?: Record<string, number | null>;
  /** Final validation AUC-PR (average precision, as scikit-learn's), or its mean over the findings (absent in results written before it). */
  auprc?: number | null;
  /** chest: final validation AUC-PR per finding. */
  auprcs?: Record<string, number | null>;
  /** The bootstrap 95% percentile interval [low, high] of `auc` on the validation set (1000 row resamples seeded with the run's seed; see bootstrapAucInterval). */
  aucCi?: [number | null, number | null];
  /** The grade target (a multiclass task on ordered grades): quadratic-weighted kappa of the model's top (argmax) grade against the label. */
  kappa?: number | null;
  /** The first evaluated step with validation AUC >= the study's threshold, or null if none reached it. */
  stepsToThreshold: number | null;
  /** Steps trained. */
  steps: number;
  /** Training loss of the last step. */
  finalLoss: number;
  /** Wall-clock time of the training in seconds. */
  wallSeconds: number;
  /** Training throughput in images/s. */
  imagesPerSecond: number;
  /** The device it trained on: the spec's, or the one a resume moved the study to (absent before 0.2.0). */
  device?: string;
  /** spec.saveWeights: the run's weights, relative to the run directory (weights/MODEL-INIT-sSEED.pt). */
  weights?: string;
  /** The run stopped early (train.patience): `steps` says where. */
  stoppedEarly?: boolean;
  /** train.keepBest: the step of the evaluation whose weights (and AUC) the run ended with. */
  bestStep?: number;
  /** Validation AUC-ROC (mean over outputs) after each evaluated step. */
  curve: { step: number; auc: number | null }[];
  /** Input image side in pixels. */
  imageSize: number;
  /** What the initialisation did (tensors loaded or drawn, which stayed fresh, whose weights it drew on). */
  load?: InitReport;
  /** The step a checkpoint brought this run to after an interruption (absent: trained in one go). */
  resumedFrom?: number;
  /** Weights at initialisation and after training, relative to the run directory (Section 4 experiments). */
  snapshots?: { init: string; final: string };
}

/** A study's record: the content of results.json, as {@link runStudy} returns it and {@link readResults} reads it. */
export interface StudyResults {
  /** Always {@link RESULTS_SCHEMA}. */
  schema: typeof RESULTS_SCHEMA;
  /** The study as it ran (validated, with the experiment's adjustments). */
  spec: StudySpec;
  /**
   * Versions, LibTorch's thread count and the platform (e.g. "linux-x64") of the process that ran it; `concurrency`:
   * training runs in flight at once; `threadsPerRun`: each one's threads, when more than one was in flight;
   * `cpuAllocator`: where LibTorch's CPU tensors came from (`versions()`; absent in files written before 0.2.0);
   * `evalBatches`: a CPU study's validation batch per "model size" (e.g. "cbr-tiny 32"), measured on the machine.
   */
  environment: { torch: string; napi: number; node: string; threads: number; platform: string; concurrency?: number; threadsPerRun?: number; cpuAllocator?: 'reusing' | 'libtorch'; evalBatches?: Record<string, number> };
  /** What produced the file: package version and commit, command line, CPU and memory, GPU, LibTorch's build (absent
   * in files written before 0.2.0). */
  provenance?: Provenance;
  /** When the study started, ISO 8601. */
  startedAt: string;
  /** When it finished, ISO 8601 (absent while it runs, or when interrupted). */
  finishedAt?: string;
  /** Each model of the study: names, parameter counts under both conventions, input size in pixels. */
  models: { name: string; displayName: string; params: { numel: number; paper: number }; imageSize: number }[];
  /** The task's sets: output names, sizes and positive labels (0 for a multiclass task). */
  task: {
    /** Output names: ["referable DR"], or the five findings. */
    labels: string[];
    /** Positive labels in the training set (masked ones not counted). */
    trainPositives: number;
    /** Images in the training set. */
    trainSize: number;
    /** Positive labels in the validation set. */
    valPositives: number;
    /** Images in the validation set. */
    valSize: number;
    /** Positive training labels per output (multilabel tasks only). */
    trainPositivesPerLabel?: number[];
    /** Positive validation labels per output (multilabel tasks only). */
    valPositivesPerLabel?: number[];
    /**
     * A multiclass task (one class per image): `labels` are its classes. Ordered DR grades (`--target grade`) score
     * referable DR; unordered classes score each class against the rest (a run's `aucs` per class, `auc` their mean).
     */
    multiclass?: true;
  };
  /** The pretrained weights the study drew on, one record per source model. */
  pretraining: PretrainRecord[];
  /** The finished training runs, in the order they finished. */
  runs: RunRecord[];
  /** Section 4's analysis of the runs' snapshots, once every run has finished. */
  representations?: RepresentationResults;
  /** This directory holds one shard of the study (absent: the whole study, or shards merged). */
  shard?: Shard;
  /** Trained data-parallel over this many ranks. */
  distributed?: { worldSize: number; backend: string; syncBatchNorm: boolean };
  /** The shard directories this one was merged from. */
  mergedFrom?: string[];
  /**
   * A user's dataset: where, its format, the items each split offered, images left out (--on-bad-image skip), and rows
   * the format's rules left out before the split, counted by reason (absent in results written before them).
   */
  /** The user's data (`task.source` "files"): `filesHash`, the SHA-256 of the list of files read (each path relative to
   * the dataset, and its size, in the order read), so two results can be told to come from the same files. */
  data?: { path: string; format: string; available: { train: number; val: number }; skipped: { where: string; reason: string }[]; dropped?: { reason: string; count: number }[]; filesHash?: string };
}

/**
 * A study's progress, told apart by `kind`: the study, data, pretraining, each run (`index` of `total`, 1-based), the
 * training events within it (`event`), the analysis and the report.
 */
export type StudyEvent =
  | { kind: 'study-start'; total: number; outDir: string }
  | { kind: 'data'; what: string; seconds: number }
  | { kind: 'pretrain-start'; model: string; from: 'file' | 'cache' | 'pretraining' }
  | { kind: 'pretrain-end'; record: PretrainRecord }
  | { kind: 'run-start'; index: number; total: number; model: string; init: Init; seed: number }
  | { kind: 'train'; index: number; phase: 'pretrain' | 'run'; model: string; event: TrainEvent }
  | { kind: 'run-end'; index: number; total: number; record: RunRecord }
  | { kind: 'analysis'; what: string }
  /** A CPU study's validation batch for a model at a size: measured now, or as this machine measured it before. */
  | { kind: 'eval-batch'; model: string; size: number; batch: number; measuredNow: boolean; microsecondsPerImage: Record<string, number> }
  /** report.html and figures/ written (or, in warnings, why not: results.json is complete either way). */
  | { kind: 'report'; files: string[]; warnings: string[] }
  | { kind: 'study-end'; outDir: string; seconds: number };

/** One shard of a study split over a job array: every `count`-th training run, starting at `index`. */
export interface Shard {
  /** This shard, 0 .. count - 1. */
  index: number;
  /** Shards in all, at least 1. */
  count: number;
}

export function checkShard(shard: Shard): Shard {
  checkInteger('shard.count', shard.count, 1);
  checkInteger('shard.index', shard.index, 0, shard.count - 1);
  return shard;
}

/**
 * The spec of the study in a run directory, for resuming it.
 * @param outDir - The run directory.
 * @param changes - What the resume changes ({@link ResumeChanges}): the device the remaining runs train on.
 * @returns The spec its results.json records.
 * @throws As {@link readResults}.
 */
export function resumeSpec(outDir: string, changes: ResumeChanges = {}): StudySpec {
  const spec = readResults(outDir).spec;
  return changes.device === undefined ? spec : { ...spec, device: changes.device };
}

/** What a resume may change without changing what the results mean: the device the remaining runs train on (each
 * run records its own). Threads are a process setting (setThreads), not the spec's. */
export interface ResumeChanges {
  device?: string;
}

/** Two specs the same but for what a resume may change ({@link ResumeChanges}). */
export const sameStudy = (a: StudySpec, b: StudySpec): boolean => JSON.stringify({ ...a, device: '' }) === JSON.stringify({ ...b, device: '' });

/** results.json's largest size: a study of thousands of runs with their curves takes a few MB. */
export const MAX_RESULTS_BYTES = 256 * 2 ** 20;

/**
 * results.json of a run directory, checked to be one this library wrote: a regular file of a bounded size, valid
 * JSON of results.json's shape (RESULTS_JSON_SCHEMA), every error naming the file and the field.
 * @param outDir - The run directory.
 * @returns The results it records.
 * @throws ERR_INVALID_ARG when the directory holds no results.json; ERR_BAD_DATA when it is not a regular file of at
 *   most 256 MiB, not JSON, of another schema or of another shape; ERR_IO when it cannot be read.
 */
export function readResults(outDir: string): StudyResults {
  const file = path.join(outDir, 'results.json');
  if (!fs.existsSync(file)) throw new TransfusionError('ERR_INVALID_ARG', `${displayPath(outDir)} holds no results.json to resume or report`);
  let parsed: StudyResults;
  try {
    parsed = JSON.parse(readRegularFile(file, 'ERR_BAD_DATA', MAX_RESULTS_BYTES).toString('utf8')) as StudyResults;
  } catch (err) {
    if (err instanceof TransfusionError) throw err;
    throw new TransfusionError('ERR_BAD_DATA', `${displayPath(file)} is not valid JSON (${(err as Error).message})`);
  }
  const schema = (parsed as { schema?: unknown } | null)?.schema;
  if (schema === RESULTS_SCHEMA_V1) upgradeV1(parsed as unknown as Record<string, unknown>);
  else if (schema !== RESULTS_SCHEMA)
    throw new TransfusionError('ERR_BAD_DATA', `${displayPath(file)} has schema ${displayPath(JSON.stringify(schema) ?? 'undefined')}, not "${RESULTS_SCHEMA}"`);
  checkResultsShape(parsed, file);
  return parsed;
}

/**
 * The pretraining records of a resumed study, whose weight files it will load: each must be the user's own file the
 * spec names (`weights`), or lie inside the pretrained-weights cache or the run directory. A results.json that points
 * elsewhere is refused (ERR_BAD_DATA, naming the file and the record), not followed.
 */
export function checkPretrainedPaths(prior: StudyResults, outDir: string, cacheDir: string): PretrainRecord[] {
  const file = path.join(outDir, 'results.json');
  return prior.pretraining.map((r, i) => {
    const what = `${file} pretraining[${i}].weights`;
    const own = prior.spec.weights?.[r.model];
    if (own !== undefined && path.resolve(r.weights) === path.resolve(own)) return r;
    for (const root of [path.join(cacheDir, 'pretrained'), outDir]) {
      try {
        resolveInside(root, path.resolve(r.weights), what, 'ERR_BAD_DATA');
        return r;
      } catch {
        // not under this root: try the next
      }
    }
    // Weights from another cache: most often the run was made with --cache-dir and resumed without it.
    const other = path.basename(path.dirname(r.weights)) === 'pretrained' ? path.dirname(path.dirname(r.weights)) : undefined;
    throw new TransfusionError(
      'ERR_BAD_DATA',
      `${displayPath(what)}: ${JSON.stringify(displayPath(r.weights))} is neither the spec's weights for ${displayPath(r.model)} nor inside the cache ${displayPath(path.join(cacheDir, 'pretrained'))} or the run directory` +
        (other !== undefined && path.resolve(other) !== path.resolve(cacheDir) ? `; if the run was made with --cache-dir ${displayPath(other)}, resume it with that` : ''),
    );
  });
}
