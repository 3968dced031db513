// runStudy: the Table-1 comparison of initialisations. Results are written atomically after every run, so an
// interrupted study loses at most the run in progress.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { generateNatural, type Dataset } from '../data/embedded';
import { writeFileAtomic } from '../io/atomic';
import { TransfusionError, checkInteger } from '../errors';
import { stepsToAuc } from '../metrics';
import { createModel, listModels, type ModelInfo } from '../models';
import { renderReport } from '../report/markdown';
import { writeReport } from '../report/write';
import { versions, getThreads } from '../runtime';
import { applyInit, initLabel, modelForInit, needsPretrained, parseInit, type InitReport, type InitSchedule } from '../schedules/init';
import type { ProcessGroup } from '../distributed';
import { train, type TrainEvent } from '../train';
import { inputSizeFor, modelOptionsFor, transferSource } from './architecture';
import { cachedPretrain, defaultCacheDir, pretrain, userWeights, type PretrainRecord } from './pretrain';
import { analysisOf } from './catalog';
import { analyseRepresentations, DEFAULT_REPRESENTATIONS, snapshotPath, type RepresentationResults } from './representations';
import { armsOf, trainOptionsOf, validateSpec, type Init, type StudySpec } from './spec';
import { drawTask, positivesPerOutput, taskLabels } from './task';
import { loadData, type DataSpec } from '../data/files/load';

export const RESULTS_SCHEMA = 'transfusion-native/results@1';


export interface RunRecord {
  model: string;
  init: Init;
  seed: number;
  /** Final validation AUC-ROC (referable DR), or its mean over the findings (chest). */
  auc: number;
  /** chest: final validation AUC-ROC per finding (null where the validation set has one class only). */
  aucs?: Record<string, number | null>;
  /** The first evaluated step with validation AUC >= the study's threshold, or null if none reached it. */
  stepsToThreshold: number | null;
  steps: number;
  finalLoss: number;
  wallSeconds: number;
  imagesPerSecond: number;
  curve: { step: number; auc: number | null }[];
  imageSize: number;
  /** What the initialisation did (tensors loaded or drawn, which stayed fresh, whose weights it drew on). */
  load?: InitReport;
  /** The step a checkpoint brought this run to after an interruption (absent: trained in one go). */
  resumedFrom?: number;
  /** Weights at initialisation and after training, relative to the run directory (Section 4 experiments). */
  snapshots?: { init: string; final: string };
}

export interface StudyResults {
  schema: typeof RESULTS_SCHEMA;
  spec: StudySpec;
  environment: { torch: string; napi: number; node: string; threads: number; platform: string };
  startedAt: string;
  finishedAt?: string;
  models: { name: string; displayName: string; params: { numel: number; paper: number }; imageSize: number }[];
  task: {
    /** Output names: ["referable DR"], or the five findings. */
    labels: string[];
    trainPositives: number;
    trainSize: number;
    valPositives: number;
    valSize: number;
    trainPositivesPerLabel?: number[];
    valPositivesPerLabel?: number[];
  };
  pretraining: PretrainRecord[];
  runs: RunRecord[];
  /** Section 4's analysis of the runs' snapshots, once every run has finished. */
  representations?: RepresentationResults;
  /** This directory holds one shard of the study (absent: the whole study, or shards merged). */
  shard?: Shard;
  /** Trained data-parallel over this many ranks. */
  distributed?: { worldSize: number; backend: string; syncBatchNorm: boolean };
  /** The shard directories this one was merged from. */
  mergedFrom?: string[];
  /** A user's dataset: where, its format, the items each split offered, and images left out (--on-bad-image skip). */
  data?: { path: string; format: string; available: { train: number; val: number }; skipped: { where: string; reason: string }[] };
}

export type StudyEvent =
  | { type: 'study-start'; total: number; outDir: string }
  | { type: 'data'; what: string; seconds: number }
  | { type: 'pretrain-start'; model: string; from: 'file' | 'cache' | 'pretraining' }
  | { type: 'pretrain-end'; record: PretrainRecord }
  | { type: 'run-start'; index: number; total: number; model: string; init: Init; seed: number }
  | { type: 'train'; index: number; phase: 'pretrain' | 'run'; model: string; event: TrainEvent }
  | { type: 'run-end'; index: number; total: number; record: RunRecord }
  | { type: 'analysis'; what: string }
  /** report.html and figures/ written (or, in warnings, why not: results.json is complete either way). */
  | { type: 'report'; files: string[]; warnings: string[] }
  | { type: 'study-end'; outDir: string; seconds: number };

export interface StudyOptions {
  /** The run directory: results.json and report.md land here. */
  outDir: string;
  /** Where pretrained weights are cached (default $TRANSFUSION_CACHE, else ~/.cache/transfusion-native). */
  cacheDir?: string;
  signal?: AbortSignal;
  onProgress?: (event: StudyEvent) => void;
  /**
   * Continue the study already in outDir (its results.json): finished runs are kept as they are, not repeated; the
   * run that was in progress continues from its last checkpoint. The spec must be the one results.json records
   * (resumeSpec reads it).
   */
  resume?: boolean;
  /** Write the run in progress's whole training state every N steps (default 100; 0: never). */
  checkpointEvery?: number;
  /**
   * Run only shard `index` (0-based) of `count`: every count-th training run of the study, for job arrays. The shards'
   * run directories merge into the whole study with mergeShards (`report --merge`). Section 4's analysis waits for it.
   */
  shard?: Shard;
  /**
   * Data-parallel: every rank of the group calls runStudy with the same spec and options; each training run's batch
   * (train.batchSize, which the ranks must divide) is split over the ranks. Rank 0 alone writes the run directory and
   * the checkpoints; on resume every rank reads them, so the ranks need the run directory on a shared file system.
   */
  group?: ProcessGroup;
  /** With a group: BatchNorm statistics over the whole batch, so results match a single process (default: per rank). */
  syncBatchNorm?: boolean;
}

/** A resumed study keeps the data-parallel layout it was recorded with (its BatchNorm mode from the record). */
function checkLayout(prior: StudyResults | undefined, opts: StudyOptions): { syncBatchNorm?: boolean } {
  if (!prior) return {};
  const was = prior.distributed?.worldSize ?? 1, now = opts.group?.size ?? 1;
  if (was !== now)
    throw new TransfusionError('ERR_INVALID_ARG', `${opts.outDir} was trained over ${was} rank(s), not ${now}: resume it the same way${was > 1 ? ` (launch --nproc ${was} -- run --resume ...)` : ''}`);
  return prior.distributed ? { syncBatchNorm: prior.distributed.syncBatchNorm } : {};
}

function checkDivisible(batchSize: number, ranks: number): void {
  if (batchSize % ranks !== 0)
    throw new TransfusionError('ERR_INVALID_ARG', `Expected train.batchSize (${batchSize}) to be a multiple of the number of ranks (${ranks}): each rank trains an equal slice`);
}

export interface Shard {
  index: number;
  count: number;
}

export function checkShard(shard: Shard): Shard {
  checkInteger('shard.count', shard.count, 1);
  checkInteger('shard.index', shard.index, 0, shard.count - 1);
  return shard;
}

export const DEFAULT_CHECKPOINT_EVERY = 100;

/** Where a run's checkpoint lives while it trains (removed once its record is saved). */
export function checkpointPath(outDir: string, model: string, init: string, seed: number): string {
  return path.join(outDir, 'checkpoints', `${model}-${init.replace(/[^\w.-]+/g, '_')}-seed${seed}.pt`);
}

/** The spec of the study in a run directory, for resuming it. */
export function resumeSpec(outDir: string): StudySpec {
  return readResults(outDir).spec;
}

/** results.json of a run directory, checked to be one this library wrote. */
export function readResults(outDir: string): StudyResults {
  const file = path.join(outDir, 'results.json');
  if (!fs.existsSync(file)) throw new TransfusionError('ERR_INVALID_ARG', `${outDir} holds no results.json to resume or report`);
  let parsed: StudyResults;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as StudyResults;
  } catch (err) {
    throw new TransfusionError('ERR_BAD_DATA', `${file} is not valid JSON (${(err as Error).message})`);
  }
  if (parsed.schema !== RESULTS_SCHEMA) throw new TransfusionError('ERR_BAD_DATA', `${file} has schema "${parsed.schema}", not "${RESULTS_SCHEMA}"`);
  return parsed;
}

/**
 * Holds a run directory for this process: a lock file created exclusively, naming the holder. A lock whose process is
 * gone is taken over; a live one is an error naming it. Returns the release.
 */
export function lockRunDir(outDir: string): () => void {
  const lock = path.join(outDir, '.lock');
  const mine = JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() });
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(lock, mine, { flag: 'wx' });
      return () => fs.rmSync(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') break;
        throw new TransfusionError('ERR_IO', `Cannot write the run directory ${outDir}: ${(err as Error).message}`);
      }
      let holder: { pid?: number; host?: string } = {};
      try {
        holder = JSON.parse(fs.readFileSync(lock, 'utf8'));
      } catch {
        // unreadable: treat as stale
      }
      const alive = holder.pid !== undefined && holder.host === os.hostname() && isAlive(holder.pid);
      if (alive || (holder.host !== undefined && holder.host !== os.hostname()))
        throw new TransfusionError('ERR_LOCKED', `${outDir} is being written by process ${holder.pid} on ${holder.host} (${lock}); wait for it, or remove the lock if that process is gone`);
      fs.rmSync(lock, { force: true });  // stale: its process is gone
    }
  }
  throw new TransfusionError('ERR_LOCKED', `${outDir} was locked by another process while this one started`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const positives = (d: Dataset) => d.targets().reduce((a, b) => a + b, 0);

export async function runStudy(specIn: StudySpec, opts: StudyOptions): Promise<StudyResults> {
  const spec = validateSpec(structuredClone(specIn));
  const t0 = Date.now();
  if (opts.group) {
    checkDivisible(spec.train.batchSize, opts.group.size);
    // Every rank runs the study's control flow and trains its slice of each batch; rank 0 alone writes.
    if (opts.group.rank !== 0) {
      const prior = opts.resume ? readResults(opts.outDir) : undefined;
      return studyIn(spec, { ...opts, ...checkLayout(prior, opts) }, prior, t0);
    }
  }
  try {
    fs.mkdirSync(opts.outDir, { recursive: true });
  } catch (err) {
    throw new TransfusionError('ERR_IO', `Cannot create the run directory ${opts.outDir}: ${(err as Error).message}`);
  }
  const prior = opts.resume ? readResults(opts.outDir) : undefined;
  if (prior && JSON.stringify(prior.spec) !== JSON.stringify(spec))
    throw new TransfusionError('ERR_INVALID_ARG', `The spec differs from the one ${opts.outDir}/results.json records: resume with resumeSpec(outDir)`);
  if (prior && opts.shard && JSON.stringify(prior.shard) !== JSON.stringify(opts.shard))
    throw new TransfusionError('ERR_INVALID_ARG', `${opts.outDir} holds ${prior.shard ? `shard ${prior.shard.index}/${prior.shard.count}` : 'the whole study'}, not shard ${opts.shard.index}/${opts.shard.count}`);
  const layout = checkLayout(prior, opts);
  const release = lockRunDir(opts.outDir);
  try {
    return await studyIn(spec, { ...opts, ...layout }, prior, t0);
  } finally {
    release();
  }
}

async function studyIn(spec: StudySpec, opts: StudyOptions, prior: StudyResults | undefined, t0: number): Promise<StudyResults> {
  const emit = opts.onProgress ?? (() => {});
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const arms = armsOf(spec).map((a) => {
    const init = parseInit(a.init);
    return { model: modelForInit(a.model.toLowerCase(), init), init };
  });
  const shard = opts.shard ?? prior?.shard;
  if (shard) checkShard(shard);
  // A shard takes every count-th run of the study, from its index: models and inits spread over the shards.
  const inShard = (slot: number) => !shard || (slot - 1) % shard.count === shard.index;
  const total = Array.from({ length: arms.length * spec.seeds.length }, (_, k) => k + 1).filter(inShard).length;
  const checkpointEvery = checkInteger('checkpointEvery', opts.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY, 0);
  const analysis = analysisOf(spec.experiment);
  if (analysis) spec.representations ??= { ...DEFAULT_REPRESENTATIONS };
  // Gabor conv1 is scaled to the pretrained conv1 when the study has pretrained weights anyway.
  const pretrainedAnyway = arms.some((a) => needsPretrained(a.init)) || Object.keys(spec.weights ?? {}).length > 0;
  emit({ type: 'study-start', total, outDir: opts.outDir });

  const registry = new Map(listModels().map((m) => [m.name, m] as const));
  const owned: Dataset[] = [];
  const timed = async <T extends Dataset>(what: string, make: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    const d = await make();
    owned.push(d);
    emit({ type: 'data', what, seconds: (Date.now() - t) / 1000 });
    return d;
  };

  try {
    const task = spec.task;
    // Train and validation sets per input size, drawn on first use (architectures that need larger inputs get their
    // own draw of the same task); the validation set uses the next seed.
    type Draw = (split: 'train' | 'val', count: number, size: number, seed: number) => Promise<Dataset>;
    const perSize = (source: string, draw: Draw, sizes: { train: number; val: number; seed: number }) => {
      const drawn = new Map<number, Promise<{ train: Dataset; val: Dataset }>>();
      return (size: number) => {
        if (!drawn.has(size))
          drawn.set(size, (async () => ({
            train: await timed(`${source} train ${size}px`, () => draw('train', sizes.train, size, sizes.seed)),
            val: await timed(`${source} val ${size}px`, () => draw('val', sizes.val, size, sizes.seed + 1)),
          }))());
        return drawn.get(size)!;
      };
    };
    // A user's dataset: read, split and decoded once per input size (trainSize / valSize cap what is kept).
    let loadedInfo: StudyResults['data'];
    const filesAt = (source: DataSpec, caps: { train: number; val: number; seed: number }) => {
      const loaded = new Map<number, Promise<{ train: Dataset; val: Dataset }>>();
      return (size: number) => {
        if (!loaded.has(size))
          loaded.set(size, (async () => {
            const t = Date.now();
            const d = await loadData(source, { size, trainSize: caps.train, valSize: caps.val, seed: caps.seed, cacheDir, signal: opts.signal });
            owned.push(d.train, d.val);
            emit({ type: 'data', what: `${d.format} ${source.path} at ${size}px (${d.train.count} train, ${d.val.count} val)`, seconds: (Date.now() - t) / 1000 });
            if (source === task.data) loadedInfo ??= { path: source.path, format: d.format, available: d.available, skipped: d.skipped };
            return d;
          })());
        return loaded.get(size)!;
      };
    };
    const caps = { train: task.trainSize, val: task.valSize, seed: task.seed };
    const taskAt = task.source === 'files' ? filesAt(task.data!, caps) : perSize(task.source, (split, count, size, seed) => drawTask(task, split, count, size, seed, opts), caps);
    const p = spec.pretrain;
    const naturalAt =
      p.source === 'files'
        ? filesAt(p.data!, { train: p.trainSize, val: p.valSize, seed: p.seed })
        : perSize('natural', (_split, count, size, seed) => generateNatural({ count, size, seed, classes: p.classes }, opts), {
            train: p.trainSize, val: p.valSize, seed: p.seed,
          });

    const base = await taskAt(task.imageSize);
    const labels = taskLabels(task);
    const counted = base.train.info().task !== 'multiclass';
    const results: StudyResults = {
      schema: RESULTS_SCHEMA,
      spec,
      environment: { ...versions(), threads: getThreads(), platform: `${process.platform}-${process.arch}` },
      startedAt: prior?.startedAt ?? new Date(t0).toISOString(),
      models: [...new Set(arms.map((a) => a.model))].map((m) => {
        const info = registry.get(m)!;
        return { name: info.name, displayName: info.displayName, params: info.params, imageSize: inputSizeFor(info, task.imageSize, spec.imageSizes) };
      }),
      task: {
        labels,
        trainPositives: counted ? positives(base.train) : 0, trainSize: base.train.count, valPositives: counted ? positives(base.val) : 0, valSize: base.val.count,
        ...(counted && labels.length > 1 ? { trainPositivesPerLabel: positivesPerOutput(base.train, labels.length), valPositivesPerLabel: positivesPerOutput(base.val, labels.length) } : {}),
      },
      pretraining: prior ? prior.pretraining.filter((r) => fs.existsSync(r.weights)) : [],
      // A resumed study's finished runs, from the first save on: nothing recorded is ever dropped.
      runs: prior ? [...prior.runs] : [],
      ...(loadedInfo ? { data: loadedInfo } : {}),
      ...(shard ? { shard } : {}),
      ...(opts.group ? { distributed: { worldSize: opts.group.size, backend: 'gloo', syncBatchNorm: Boolean(opts.syncBatchNorm) } } : {}),
    };
    const writer = !opts.group || opts.group.rank === 0;
    const save = () => {
      if (!writer) return;
      writeFileAtomic(path.join(opts.outDir, 'results.json'), JSON.stringify(results, null, 2));
      writeFileAtomic(path.join(opts.outDir, 'report.md'), renderReport(results));
    };
    save();

    // The pretrained weights of each source model: the user's file, the cache, or embedded pretraining now.
    const sources = new Map<string, PretrainRecord>();
    let index = 0;
    const sourceFor = async (model: string): Promise<PretrainRecord> => {
      const known = sources.get(model) ?? results.pretraining.find((r) => r.model === model);  // a resumed study's
      if (known) return known;
      let record: PretrainRecord | undefined = spec.weights?.[model] ? userWeights(model, spec.weights[model]) : cachedPretrain(model, spec, cacheDir);
      emit({ type: 'pretrain-start', model, from: !record ? 'pretraining' : record.source === 'file' ? 'file' : 'cache' });
      if (!record) {
        const info = registry.get(model)!;
        const size = inputSizeFor(info, spec.pretrain.imageSize, spec.imageSizes);
        record = await pretrain(model, spec, await naturalAt(size), cacheDir, modelOptionsFor(info, size, {}), {
          signal: opts.signal,
          onProgress: (event) => emit({ type: 'train', index, phase: 'pretrain', model, event }),
        });
      }
      sources.set(model, record);
      results.pretraining.push(record);
      emit({ type: 'pretrain-end', record });
      save();
      return record;
    };

    const finished = (model: string, init: string, seed: number) => prior?.runs.find((r) => r.model === model && r.init === init && r.seed === seed);
    let slot = 0;  // the run's place in the whole study (1-based): what a shard takes is decided by it
    for (const arm of arms) {
      const model = arm.model;
      const info = registry.get(model)!;
      const size = inputSizeFor(info, task.imageSize, spec.imageSizes);
      const sourceModel = transferSource(model).model;
      const useSource = needsPretrained(arm.init) || (arm.init.kind === 'gabor' && pretrainedAnyway);
      const init = initLabel(arm.init);
      const slots = spec.seeds.map((seed, k) => ({ seed, slot: slot + k + 1 }));
      slot += spec.seeds.length;
      const todo = slots.filter((x) => inShard(x.slot) && !finished(model, init, x.seed));
      const pretrained = useSource && todo.length ? await sourceFor(sourceModel) : undefined;
      const data = todo.length ? await taskAt(size) : undefined;
      for (const { seed, slot: at } of slots) {
        if (!inShard(at)) continue;
        index += 1;
        const done = finished(model, init, seed);
        if (done) {
          emit({ type: 'run-end', index, total, record: done });  // resumed: kept as recorded, not run again
          continue;
        }
        emit({ type: 'run-start', index, total, model, init, seed });
        const checkpoint = checkpointPath(opts.outDir, model, init, seed);
        if (checkpointEvery > 0 && writer) fs.mkdirSync(path.dirname(checkpoint), { recursive: true });
        const record = await runOne(spec, info, size, arm.init, seed, data!, pretrained, {
          snapshotsIn: analysis && writer ? opts.outDir : undefined,
          ...(opts.group ? { group: opts.group, syncBatchNorm: opts.syncBatchNorm } : {}),
          checkpoint: { checkpointPath: checkpoint, checkpointEvery, resume: Boolean(opts.resume) },
          signal: opts.signal,
          onProgress: (event) => emit({ type: 'train', index, phase: 'run', model, event }),
        });
        results.runs.push(record);
        save();
        if (writer) fs.rmSync(checkpoint, { force: true });  // its record is saved: the checkpoint has done its work
        emit({ type: 'run-end', index, total, record });
      }
    }
    if (analysis && !shard && writer) {
      // The probe: task images of their own seed, the same for every model at a size.
      const probes = new Map<number, Promise<Dataset>>();
      const probeAt = (size: number) => {
        if (!probes.has(size))
          probes.set(
            size,
            task.source === 'files'
              ? taskAt(size).then((d) => d.val)  // a user's data: its validation images are the probe
              : timed(`probe ${size}px`, () => drawTask(task, 'probe', spec.representations!.probeSize, size, task.seed + 7, opts)),
          );
        return probes.get(size)!;
      };
      results.representations = await analyseRepresentations(analysis, {
        spec,
        outDir: opts.outDir,
        runs: results.runs,
        infoOf: (m) => registry.get(m)!,
        probeAt,
        signal: opts.signal,
        onProgress: (what) => emit({ type: 'analysis', what }),
      });
    }
    results.finishedAt = new Date().toISOString();
    save();
    if (!writer) return results;
    fs.rmSync(path.join(opts.outDir, 'checkpoints'), { recursive: true, force: true });  // every run recorded: none is needed
    // The figures come last: a drawing problem must not cost a finished study its results (`report DIR` redraws).
    try {
      emit({ type: 'report', ...(await writeReport(opts.outDir, results)) });
    } catch (err) {
      emit({ type: 'report', files: [], warnings: [`report.html and figures/ were not written: ${(err as Error).message}; results.json is complete, and \`transfusion-native report ${opts.outDir}\` draws them again`] });
    }
    emit({ type: 'study-end', outDir: opts.outDir, seconds: (Date.now() - t0) / 1000 });
    return results;
  } finally {
    owned.forEach((d) => d.dispose());
  }
}

async function runOne(
  spec: StudySpec,
  info: ModelInfo,
  size: number,
  schedule: InitSchedule,
  seed: number,
  data: { train: Dataset; val: Dataset },
  pretrained: PretrainRecord | undefined,
  opts: {
    snapshotsIn?: string;
    checkpoint: { checkpointPath: string; checkpointEvery: number; resume: boolean };
    group?: ProcessGroup;
    syncBatchNorm?: boolean;
    signal?: AbortSignal;
    onProgress: (e: TrainEvent) => void;
  },
): Promise<RunRecord> {
  const model = info.name;
  const net = createModel(model, modelOptionsFor(info, size, { numClasses: taskLabels(spec.task).length, seed, padding: spec.padding, device: spec.device }));
  try {
    // Table 1's "transfer" for Slim means its hybrid: ResNet-50's weights up to layer2.
    const effective: InitSchedule = model === 'resnet50-slim' && schedule.kind === 'transfer' ? { kind: 'slim' } : schedule;
    const report = await applyInit(net, effective, pretrained && { weights: pretrained.weights, model: pretrained.model }, seed, opts);
    const label = initLabel(schedule);
    const snapshots = opts.snapshotsIn ? { init: snapshotPath(model, label, seed, 'init'), final: snapshotPath(model, label, seed, 'final') } : undefined;
    if (snapshots) {
      fs.mkdirSync(path.join(opts.snapshotsIn!, 'snapshots'), { recursive: true });
      await net.saveWeights(path.join(opts.snapshotsIn!, snapshots.init), { signal: opts.signal });
    }
    const perRank = opts.group ? { batchSize: spec.train.batchSize / opts.group.size, group: opts.group, syncBatchNorm: opts.syncBatchNorm } : {};
    const r = await train(net, data, { ...trainOptionsOf(spec.train), ...opts.checkpoint, ...perRank, seed }, opts);
    if (snapshots) await net.saveWeights(path.join(opts.snapshotsIn!, snapshots.final), { signal: opts.signal });
    const curve = r.curve.map((p) => ({ step: p.step, auc: p.meanAuc ?? null }));
    return {
      model,
      init: initLabel(schedule),
      seed,
      imageSize: size,
      auc: r.final.meanAuc ?? NaN,
      ...(r.final.auc && r.final.auc.length > 1 ? { aucs: Object.fromEntries(taskLabels(spec.task).map((l, i) => [l, r.final.auc![i] ?? null])) } : {}),
      stepsToThreshold: stepsToAuc(curve, spec.threshold),
      steps: r.steps,
      finalLoss: r.losses[r.losses.length - 1],
      wallSeconds: r.wallSeconds,
      imagesPerSecond: r.imagesPerSecond,
      curve,
      ...(schedule.kind === 'random' ? {} : { load: report }),
      ...(r.resumedFrom > 0 ? { resumedFrom: r.resumedFrom } : {}),
      ...(snapshots ? { snapshots } : {}),
    };
  } finally {
    net.dispose();
  }
}
