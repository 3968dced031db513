// runStudy: the Table-1 comparison of initialisations. Results are written atomically after every run, so an
// interrupted study loses at most the run in progress. Its options and their checks: study-options.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { Dataset } from '../data/embedded';
import { writeFileAtomic } from '../io/atomic';
import { TransfusionError, checkInteger } from '../errors';
import { makeDirectory } from '../io/mkdir';
import { listModels, type ModelInfo } from '../models';
import { drawFilterPanels } from './filter-panels';
import { provenance } from '../provenance';
import { tensorboardSink } from '../io/tensorboard';
import { versions, getThreads } from '../runtime';
import { initLabel, needsPretrained, parseInit, type Initialisation } from '../init/init';
import { architectureFor, inputSizeFor, modelOptionsFor, transferSource } from './architecture';
import { analysisOf } from './catalog';
import { defaultConcurrency, runConcurrently } from './concurrency';
import { cachedPretrain, defaultCacheDir, pretrain, userWeights, type PretrainRecord } from './pretrain';
import { analyseRepresentations } from './representations';
import { checkPretrainedPaths, checkShard, readResults, RESULTS_SCHEMA, sameStudy, type RunRecord, type StudyEvent, type StudyResults } from './results';
import { runOne } from './run';
import { checkpointPath, DEFAULT_CHECKPOINT_EVERY, lockRunDir } from './rundir';
import { refuseExistingStudy } from './outdir';
import { checkDivisible, checkLayout, checkStudyArguments, type StudyOptions } from './study-options';
import { armsOf, DEFAULT_REPRESENTATIONS, validateSpec, type StudySpec } from './spec';
import { studyData } from './study-data';
import { positivesPerOutput, taskLabels } from './task';

/** One training run of a study, as its place in the study's order gives it. */
interface RunTask {
  arm: { model: string; init: Initialisation };
  info: ModelInfo;
  size: number;
  /** The model whose pretrained weights the run starts from (undefined: none). */
  source?: string;
  init: string;
  seed: number;
  /** Its place in the whole study, 1-based. */
  slot: number;
  /** Its place in this shard's runs, 1-based (events' `index`). */
  index: number;
}

const runKey = (model: string, init: string, seed: number) => JSON.stringify([model, init, seed]);

const positives = (d: Dataset) => d.targets().reduce((a, b) => a + b, 0);

/**
 * Runs a study: pretrains (or loads) the weights the arms draw on, trains every arm with every seed on the task, runs
 * Section 4's analysis where the experiment has one, and writes results.json into the run directory after every run
 * (and Figure 5's filter PNGs); with `report` ({@link studyReport}), report.md beside it and, at the end, report.html,
 * the CSVs and the figures.
 * @param specIn - The study (see {@link StudySpec}): a preset ({@link preset}), an experiment's spec
 *   ({@link experimentSpec}) or a study file's ({@link loadStudyConfig}). Not modified.
 * @param opts - See {@link StudyOptions}; `outDir` is required.
 * @returns The results, as results.json records them.
 * @throws ERR_INVALID_ARG for a bad spec or option, or a resume whose spec, shard or ranks differ from the record;
 *   ERR_RUN_EXISTS when outDir holds a study and neither `resume` nor `overwrite` is given; ERR_LOCKED when another
 *   process writes outDir; ERR_BAD_DATA for a damaged results.json on resume; ERR_IO when a file cannot be written;
 *   what {@link train} throws (ERR_DIVERGED, ERR_DISTRIBUTED, ...); ABORT_ERR when `signal` aborts.
 * @example
 * ```ts
 * const results = await runStudy(preset('tiny'), {
 *   outDir: 'runs/tiny',
 *   onProgress: (e) => e.kind === 'run-end' && console.log(e.index, '/', e.total, e.record.model, e.record.auc),
 * });
 * console.log(results.runs.length); // 8: two models x two initialisations x two seeds
 * ```
 */
export async function runStudy(specIn: StudySpec, opts: StudyOptions): Promise<StudyResults> {
  checkStudyArguments(specIn, opts);
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
  makeDirectory(opts.outDir, 'the run directory');
  const prior = opts.resume ? readResults(opts.outDir) : undefined;
  if (prior && !sameStudy(prior.spec, spec))
    throw new TransfusionError('ERR_INVALID_ARG', `The spec differs from the one ${opts.outDir}/results.json records (only its device may change): resume with resumeSpec(outDir)`);
  if (prior && opts.shard && JSON.stringify(prior.shard) !== JSON.stringify(opts.shard))
    throw new TransfusionError('ERR_INVALID_ARG', `${opts.outDir} holds ${prior.shard ? `shard ${prior.shard.index}/${prior.shard.count}` : 'the whole study'}, not shard ${opts.shard.index}/${opts.shard.count}`);
  const layout = checkLayout(prior, opts);
  const release = lockRunDir(opts.outDir);
  try {
    // Checked under the lock, so no other process can finish a study here between the check and the first save.
    if (!opts.resume && !opts.overwrite) refuseExistingStudy(opts.outDir);
    // TensorBoard: rank 0's events, one event file per run under opts.tensorboard (rank 0 alone writes, as results).
    const board = opts.tensorboard ? tensorboardSink(opts.tensorboard) : undefined;
    const onProgress = board ? (e: StudyEvent) => (board.onEvent(e), opts.onProgress?.(e)) : opts.onProgress;
    try {
      return await studyIn(spec, { ...opts, ...layout, onProgress }, prior, t0);
    } finally {
      board?.close();
    }
  } finally {
    release();
  }
}

async function studyIn(spec: StudySpec, opts: StudyOptions, prior: StudyResults | undefined, t0: number): Promise<StudyResults> {
  const emit = opts.onProgress ?? (() => {});
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const arms = armsOf(spec).map((a) => {
    const init = parseInit(a.init);
    return { model: architectureFor(a.model.toLowerCase(), init), init };
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
  emit({ kind: 'study-start', total, outDir: opts.outDir });

  const registry = new Map(listModels().map((m) => [m.name, m] as const));
  const data = studyData(spec, { cacheDir, signal: opts.signal, emit });

  try {
    const task = spec.task;
    const { taskAt, naturalAt } = data;
    const base = await taskAt(task.imageSize);
    const labels = taskLabels(task);
    const counted = base.train.info().task !== 'multiclass';
    const results: StudyResults = {
      schema: RESULTS_SCHEMA,
      spec,
      environment: { ...versions(), threads: getThreads(), platform: `${process.platform}-${process.arch}` },
      provenance: provenance(spec.device),
      startedAt: prior?.startedAt ?? new Date(t0).toISOString(),
      models: [...new Set(arms.map((a) => a.model))].map((m) => {
        const info = registry.get(m)!;
        return { name: info.name, displayName: info.displayName, params: info.params, imageSize: inputSizeFor(info, task.imageSize, spec.imageSizes) };
      }),
      task: {
        labels,
        trainPositives: counted ? positives(base.train) : 0, trainSize: base.train.count, valPositives: counted ? positives(base.val) : 0, valSize: base.val.count,
        ...(counted ? {} : { multiclass: true as const }),
        ...(counted && labels.length > 1 ? { trainPositivesPerLabel: positivesPerOutput(base.train, labels.length), valPositivesPerLabel: positivesPerOutput(base.val, labels.length) } : {}),
      },
      pretraining: prior ? checkPretrainedPaths(prior, opts.outDir, cacheDir).filter((r) => fs.existsSync(r.weights)) : [],
      // A resumed study's finished runs, from the first save on: nothing recorded is ever dropped.
      runs: prior ? [...prior.runs] : [],
      ...(data.files() ? { data: data.files() } : {}),
      ...(shard ? { shard } : {}),
      ...(opts.group ? { distributed: { worldSize: opts.group.size, backend: 'gloo', syncBatchNorm: Boolean(opts.syncBatchNorm) } } : {}),
    };
    const writer = !opts.group || opts.group.rank === 0;
    const save = () => {
      if (!writer) return;
      writeFileAtomic(path.join(opts.outDir, 'results.json'), JSON.stringify(results, null, 2));
      if (opts.report) writeFileAtomic(path.join(opts.outDir, 'report.md'), opts.report.markdown(results));
    };
    save();

    // The pretrained weights of each source model: the user's file, the cache, or embedded pretraining now. One
    // promise per model, so runs in flight at once that need the same weights share one pretraining.
    const sources = new Map<string, Promise<PretrainRecord>>();
    const pretrained = new Set<string>();  // the models whose weights are ready
    const sourceOrder = [...new Set(arms.map((a) => transferSource(a.model).model))];
    const rank = (m: string) => (sourceOrder.includes(m) ? sourceOrder.indexOf(m) : sourceOrder.length);
    const sourceFor = (model: string, index: number): Promise<PretrainRecord> => {
      const known = results.pretraining.find((r) => r.model === model);  // a resumed study's
      if (known) return Promise.resolve(known);
      if (!sources.has(model)) sources.set(model, pretrainSource(model, index));
      return sources.get(model)!;
    };
    // The pretraining steps whose weights the arms transfer from (the checkpoints experiment), per source model.
    const stepsFor = (model: string) => [...new Set(arms.filter((a) => a.init.kind === 'checkpoint' && transferSource(a.model).model === model).map((a) => (a.init as { step: number }).step))];
    const pretrainSource = async (model: string, index: number): Promise<PretrainRecord> => {
      let record: PretrainRecord | undefined = spec.weights?.[model] ? userWeights(model, spec.weights[model]) : cachedPretrain(model, spec, cacheDir, stepsFor(model));
      emit({ kind: 'pretrain-start', model, from: !record ? 'pretraining' : record.source === 'file' ? 'file' : 'cache' });
      if (!record) {
        const info = registry.get(model)!;
        const size = inputSizeFor(info, spec.pretrain.imageSize, spec.imageSizes);
        record = await pretrain(model, spec, await naturalAt(size), cacheDir, modelOptionsFor(info, size, {}), {
          signal: opts.signal,
          onProgress: (event) => emit({ kind: 'train', index, phase: 'pretrain', model, event }),
        }, threads, stepsFor(model));
      }
      pretrained.add(model);
      results.pretraining.push(record);
      results.pretraining.sort((a, b) => rank(a.model) - rank(b.model));  // the study's order, whatever finished first
      emit({ kind: 'pretrain-end', record });
      save();
      return record;
    };

    // Every training run of this shard, in the study's order; `slot` is its place in the whole study (1-based), which
    // decides the shard that takes it and where its record stands in results.json.
    const finished = (model: string, init: string, seed: number) => prior?.runs.find((r) => r.model === model && r.init === init && r.seed === seed);
    const slotOf = new Map<string, number>();
    const todo: RunTask[] = [];
    let slot = 0;
    for (const arm of arms) {
      const info = registry.get(arm.model)!;
      const plan = {
        arm,
        info,
        size: inputSizeFor(info, task.imageSize, spec.imageSizes),
        source: needsPretrained(arm.init) || (arm.init.kind === 'gabor' && pretrainedAnyway) ? transferSource(arm.model).model : undefined,
        init: initLabel(arm.init),
      };
      for (const seed of spec.seeds) {
        slot += 1;
        slotOf.set(runKey(arm.model, plan.init, seed), slot);
        if (inShard(slot)) todo.push({ ...plan, seed, slot, index: todo.length + 1 });
      }
    }
    const slotOfRecord = (r: RunRecord) => slotOf.get(runKey(r.model, r.init, r.seed)) ?? Infinity;
    const concurrency = opts.group || spec.device !== 'cpu' ? 1 : Math.min(opts.concurrency ?? defaultConcurrency(getThreads()), Math.max(1, todo.length));
    // Alone, a run uses the process's threads (as it always has); beside others, an equal share of them.
    const threads = concurrency > 1 ? Math.max(1, Math.floor(getThreads() / concurrency)) : undefined;
    results.environment.concurrency = concurrency;
    if (threads) results.environment.threadsPerRun = threads;

    const runTask = async (t: RunTask): Promise<void> => {
      const { arm, info, size, seed, index } = t;
      const done = finished(info.name, t.init, seed);
      if (done) {
        emit({ kind: 'run-end', index, total, record: done });  // resumed: kept as recorded, not run again
        return;
      }
      const pretrained = t.source ? await sourceFor(t.source, index) : undefined;
      const sets = await taskAt(size);
      emit({ kind: 'run-start', index, total, model: info.name, init: t.init, seed });
      const checkpoint = checkpointPath(opts.outDir, info.name, t.init, seed);
      if (checkpointEvery > 0 && writer) fs.mkdirSync(path.dirname(checkpoint), { recursive: true });
      const record = await runOne(spec, info, size, arm.init, seed, { ...sets, labels }, pretrained, {
        snapshotsIn: (analysis || opts.keepSnapshots) && writer ? opts.outDir : undefined,
        weightsIn: spec.saveWeights && writer ? opts.outDir : undefined,
        ...(opts.group ? { group: opts.group, syncBatchNorm: opts.syncBatchNorm } : {}),
        checkpoint: { checkpointPath: checkpoint, checkpointEvery, resume: Boolean(opts.resume) },
        ...(threads ? { threads } : {}),
        signal: opts.signal,
        onProgress: (event) => emit({ kind: 'train', index, phase: 'run', model: info.name, event }),
      });
      results.runs.push(record);
      results.runs.sort((a, b) => slotOfRecord(a) - slotOfRecord(b));  // the study's order, whatever finished first
      save();
      if (writer) fs.rmSync(checkpoint, { force: true });  // its record is saved: the checkpoint has done its work
      emit({ kind: 'run-end', index, total, record });
    };
    // A worker leaves a run whose weights another is pretraining now, and takes a later one, rather than wait.
    await runConcurrently(todo, concurrency, runTask, (t) => !t.source || !sources.has(t.source) || pretrained.has(t.source));
    if (analysis && !shard && writer) {
      const { results: analysed, filterPanels } = await analyseRepresentations(analysis, {
        spec,
        outDir: opts.outDir,
        runs: results.runs,
        infoOf: (m) => registry.get(m)!,
        probeAt: data.probeAt,
        taskAt: data.taskAt,
        signal: opts.signal,
        onProgress: (what) => emit({ kind: 'analysis', what }),
      });
      analysed.figures.push(...(await drawFilterPanels(opts.outDir, filterPanels)));
      results.representations = analysed;
    }
    results.finishedAt = new Date().toISOString();
    save();
    if (!writer) return results;
    fs.rmSync(path.join(opts.outDir, 'checkpoints'), { recursive: true, force: true });  // every run recorded: none is needed
    // The figures come last: a drawing problem must not cost a finished study its results (`report DIR` redraws).
    if (opts.report) {
      try {
        emit({ kind: 'report', ...(await opts.report.write(opts.outDir, results)) });
      } catch (err) {
        emit({ kind: 'report', files: [], warnings: [`report.html and figures/ were not written: ${(err as Error).message}; results.json is complete, and \`transfusion-native report ${opts.outDir}\` draws them again`] });
      }
    }
    emit({ kind: 'study-end', outDir: opts.outDir, seconds: (Date.now() - t0) / 1000 });
    return results;
  } finally {
    data.dispose();
  }
}

