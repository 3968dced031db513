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
import { inputSizeFor } from './architecture';
import { analysisOf } from './catalog';
import { runConcurrently, runsInFlight, threadsPerRun } from './concurrency';
import { evalBatchKey, evalBatchesFor } from './eval-batch';
import { defaultCacheDir } from './pretrain';
import { analyseRepresentations } from './representations';
import { checkPretrainedPaths, checkShard, readResults, RESULTS_SCHEMA, sameStudy, type Shard, type StudyEvent, type StudyResults } from './results';
import { runOne } from './run';
import { checkpointPath, DEFAULT_CHECKPOINT_EVERY, lockRunDir } from './rundir';
import { refuseExistingStudy } from './outdir';
import { checkDivisible, checkLayout, checkStudyArguments, type StudyOptions } from './study-options';
import { DEFAULT_REPRESENTATIONS, validateSpec, type StudySpec } from './spec';
import { planRuns, studyArms, type Arm, type RunTask } from './study-plan';
import { PretrainSources } from './study-sources';
import { studyData } from './study-data';
import { positivesPerOutput, taskLabels } from './task';

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
  const arms = studyArms(spec);
  const shard = opts.shard ?? prior?.shard;
  if (shard) checkShard(shard);
  const registry = new Map(listModels().map((m) => [m.name, m] as const));
  const infoOf = (model: string) => registry.get(model)!;
  const { todo, slotOf } = planRuns(spec, arms, infoOf, shard);
  const total = todo.length;
  const checkpointEvery = checkInteger('checkpointEvery', opts.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY, 0);
  const analysis = analysisOf(spec.experiment);
  if (analysis) spec.representations ??= { ...DEFAULT_REPRESENTATIONS };
  emit({ kind: 'study-start', total, outDir: opts.outDir });

  const data = studyData(spec, { cacheDir, signal: opts.signal, emit });
  try {
    const labels = taskLabels(spec.task);
    const base = await data.taskAt(spec.task.imageSize);
    const results = firstRecord(spec, arms, infoOf, labels, base, { prior, t0, cacheDir, shard, files: data.files(), opts });
    const writer = !opts.group || opts.group.rank === 0;
    const save = () => {
      if (!writer) return;
      writeFileAtomic(path.join(opts.outDir, 'results.json'), JSON.stringify(results, null, 2));
      if (opts.report) writeFileAtomic(path.join(opts.outDir, 'report.md'), opts.report.markdown(results));
    };
    save();

    const concurrency = opts.group || spec.device !== 'cpu' ? 1 : runsInFlight(opts.concurrency, todo.length, getThreads());
    // Alone, a run uses the process's threads (as it always has); beside others, an equal share of them.
    const threads = threadsPerRun(concurrency, getThreads());
    results.environment.concurrency = concurrency;
    if (threads) results.environment.threadsPerRun = threads;
    // Each model's validation batch, timed on this machine before any run trains (nothing else running beside it).
    const priorRun = (t: RunTask) => prior?.runs.find((r) => r.model === t.info.name && r.init === t.init && r.seed === t.seed);
    const left = todo.filter((t) => !priorRun(t));
    const evalBatches = spec.device !== 'cpu' || opts.group ? new Map<string, number>()
      : await evalBatchesFor(left, {
          numClasses: labels.length, threads: threads ?? getThreads(), channelsLast: spec.train.channelsLast, cacheDir, signal: opts.signal,
          images: async (size) => (await data.taskAt(size)).val.count,
          onChoice: (info, size, c) => emit({ kind: 'eval-batch', model: info.name, size, ...c }),
        });
    if (evalBatches.size) results.environment.evalBatches = { ...results.environment.evalBatches, ...Object.fromEntries(evalBatches) };

    const sources: PretrainSources = new PretrainSources({
      spec, arms, infoOf, cacheDir, naturalAt: data.naturalAt, emit, signal: opts.signal, threads: () => threads,
      known: () => results.pretraining,
      layout: opts.group ? { group: opts.group, syncBatchNorm: opts.syncBatchNorm } : {},
      onReady: (record) => {
        results.pretraining.push(record);
        results.pretraining.sort((a, b) => sources.rank(a.model) - sources.rank(b.model));  // the study's order, whatever finished first
        save();
      },
    });

    const runTask = async (t: RunTask): Promise<void> => {
      const { arm, info, size, seed, index } = t;
      const done = priorRun(t);
      if (done) {
        emit({ kind: 'run-end', index, total, record: done });  // resumed: kept as recorded, not run again
        return;
      }
      const pretrained = t.source ? await sources.weightsOf(t.source, index) : undefined;
      const sets = await data.taskAt(size);
      emit({ kind: 'run-start', index, total, model: info.name, init: t.init, seed });
      const checkpoint = checkpointPath(opts.outDir, info.name, t.init, seed);
      if (checkpointEvery > 0 && writer) fs.mkdirSync(path.dirname(checkpoint), { recursive: true });
      const record = await runOne(spec, info, size, arm.init, seed, { ...sets, labels }, pretrained, {
        snapshotsIn: (analysis || opts.keepSnapshots) && writer ? opts.outDir : undefined,
        weightsIn: spec.saveWeights && writer ? opts.outDir : undefined,
        ...(opts.group ? { group: opts.group, syncBatchNorm: opts.syncBatchNorm } : {}),
        checkpoint: { checkpointPath: checkpoint, checkpointEvery, resume: Boolean(opts.resume) },
        ...(threads ? { threads } : {}),
        evalBatchSize: evalBatches.get(evalBatchKey(info.name, size)),
        signal: opts.signal,
        onProgress: (event) => emit({ kind: 'train', index, phase: 'run', model: info.name, event }),
      });
      results.runs.push(record);
      results.runs.sort((a, b) => slotOf(a) - slotOf(b));  // the study's order, whatever finished first
      save();
      if (writer) fs.rmSync(checkpoint, { force: true });  // its record is saved: the checkpoint has done its work
      emit({ kind: 'run-end', index, total, record });
    };
    // A worker leaves a run whose weights another is pretraining now, and takes a later one, rather than wait.
    await runConcurrently(todo, concurrency, runTask, (t) => sources.available(t.source));
    if (analysis && !shard && writer) {
      const { results: analysed, filterPanels } = await analyseRepresentations(analysis, {
        spec,
        outDir: opts.outDir,
        runs: results.runs,
        infoOf,
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

/** results.json as a study starts it: the spec, where and how it runs, its models and task, and a resumed study's
 * pretrainings and finished runs (nothing recorded is ever dropped). */
function firstRecord(
  spec: StudySpec,
  arms: Arm[],
  infoOf: (model: string) => ModelInfo,
  labels: string[],
  base: { train: Dataset; val: Dataset },
  o: { prior: StudyResults | undefined; t0: number; cacheDir: string; shard: Shard | undefined; files: StudyResults['data']; opts: StudyOptions },
): StudyResults {
  const { prior, opts } = o;
  const counted = base.train.info().task !== 'multiclass';
  return {
    schema: RESULTS_SCHEMA,
    spec,
    environment: { ...versions(), threads: getThreads(), platform: `${process.platform}-${process.arch}` },
    provenance: provenance(spec.device),
    startedAt: prior?.startedAt ?? new Date(o.t0).toISOString(),
    models: [...new Set(arms.map((a) => a.model))].map((m) => {
      const info = infoOf(m);
      return { name: info.name, displayName: info.displayName, params: info.params, imageSize: inputSizeFor(info, spec.task.imageSize, spec.imageSizes) };
    }),
    task: {
      labels,
      trainPositives: counted ? positives(base.train) : 0, trainSize: base.train.count, valPositives: counted ? positives(base.val) : 0, valSize: base.val.count,
      ...(counted ? {} : { multiclass: true as const }),
      ...(counted && labels.length > 1 ? { trainPositivesPerLabel: positivesPerOutput(base.train, labels.length), valPositivesPerLabel: positivesPerOutput(base.val, labels.length) } : {}),
    },
    pretraining: prior ? checkPretrainedPaths(prior, opts.outDir, o.cacheDir).filter((r) => fs.existsSync(r.weights)) : [],
    runs: prior ? [...prior.runs] : [],
    ...(o.files ? { data: o.files } : {}),
    ...(o.shard ? { shard: o.shard } : {}),
    ...(opts.group ? { distributed: { worldSize: opts.group.size, backend: 'gloo', syncBatchNorm: Boolean(opts.syncBatchNorm) } } : {}),
  };
}

