// `reproduce`: the whole paper as one resumable study. The plan's studies (reproduce-plan.ts) run into sub-directories
// of the reproduction's directory, each a run directory of its own (resumable, shardable, data-parallel as `run`'s);
// Section 4's analyses then run over the retina study's snapshots, the scorecard is scored, and one report is written.
// DIR/results.json records the request, the analyses and the scorecard, atomically after every step.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { TransfusionError, checkInteger, invalidArg } from '../errors';
import { writeFileAtomic } from '../io/atomic';
import { checkOptions, optionKeys, requireOptions } from '../options';
import { makeDirectory } from '../io/mkdir';
import { displayPath } from '../io/paths';
import { listModels } from '../models';
import { drawFilterPanels } from './filter-panels';
import { provenance } from '../provenance';
import { versions, getThreads } from '../runtime';
import type { ProcessGroup } from '../distributed';
import { checkStudyReport, type StudyOptions, type StudyReport } from './study-options';
import { mergeShards } from './merge';
import { defaultCacheDir } from './pretrain';
import { ANALYSES, analyseRepresentations } from './representations';
import { ANALYSIS_MODELS, REQUEST_KEYS, reproducePlan, type PartName, type ReproducePart, type ReproduceRequest } from './reproduce-plan';
import { readResults, type Shard, type StudyEvent, type StudyResults } from './results';
import { lockRunDir } from './rundir';
import { scoreFindings } from './scorecard';
import { runStudy } from './study';
import { validateSpec } from './spec';
import { studyData } from './study-data';
import { taskLabels } from './task';

import { RECORD, REPRODUCE_SCHEMA, checkNotLink, checkPartStudy, readReproduction, recordKind, type ReproduceResults } from './reproduce-record';
export { REPRODUCE_SCHEMA, readParts, readReproduction, recordKind, type ReproduceResults } from './reproduce-record';

/** What {@link reproduce} reports: each study's events, and the start of each study of the plan (`part`). */
export type ReproduceEvent = StudyEvent | { kind: 'part'; name: PartName; serves: string; index: number; total: number; outDir: string };

/** How {@link reproduce} runs: its directory, and the options each study of the plan gets (see {@link StudyOptions}). */
export interface ReproduceOptions {
  outDir: string;
  cacheDir?: string;
  resume?: boolean;
  overwrite?: boolean;
  shard?: Shard;
  group?: ProcessGroup;
  syncBatchNorm?: boolean;
  concurrency?: number;
  checkpointEvery?: number;
  signal?: AbortSignal;
  onProgress?: (e: ReproduceEvent) => void;
  /** Writes report.md, report.html and figures/ (the report module: kept apart so the runner does not load vega). */
  writeReport?: (outDir: string, results: ReproduceResults, parts: Map<PartName, StudyResults>) => Promise<{ files: string[]; warnings: string[] }>;
  /** Each study's own report in its folder, as runStudy's `report` (e.g. {@link studyReport}; default: none). */
  studyReport?: StudyReport;
}

const OPTION_KEYS = optionKeys<ReproduceOptions>()([
  'outDir', 'cacheDir', 'resume', 'overwrite', 'shard', 'group', 'syncBatchNorm', 'concurrency', 'checkpointEvery', 'signal', 'onProgress', 'writeReport', 'studyReport',
]);

/**
 * Runs the whole paper: the plan's studies, Section 4's analyses over the retina study's models, the scorecard and the
 * report. Resumable at every step (`resume`): finished studies and analyses are kept, an unfinished study continues.
 * @returns The record, as DIR/results.json holds it (a shard's: its studies only).
 * @throws ERR_RUN_EXISTS when outDir holds a reproduction and neither resume nor overwrite is given; what
 *   {@link runStudy} throws.
 */
export async function reproduce(requestIn: ReproduceRequest | undefined, opts: ReproduceOptions): Promise<ReproduceResults> {
  requireOptions<ReproduceOptions>('reproduce()', opts, OPTION_KEYS);
  checkOptions<ReproduceRequest>('reproduce()', requestIn, REQUEST_KEYS, 'request');
  checkRunOptions(opts);
  const emit = opts.onProgress ?? (() => {});
  const writer = !opts.group || opts.group.rank === 0;
  const prior = opts.resume ? readReproduction(opts.outDir) : undefined;
  if (prior && opts.shard && JSON.stringify(prior.shard) !== JSON.stringify(opts.shard))
    throw new TransfusionError('ERR_INVALID_ARG', `${displayPath(opts.outDir)} holds ${prior.shard ? `shard ${prior.shard.index}/${prior.shard.count}` : 'the whole reproduction'}, not shard ${opts.shard.index}/${opts.shard.count}`);
  const request = prior?.request ?? requestIn;
  if (!request) throw new TransfusionError('ERR_INVALID_ARG', 'Expected a reproduction request (a preset), or resume with a directory that records one');
  const shard = opts.shard ?? prior?.shard;
  const plan = reproducePlan(request);
  // Every study is checked whole (models, data, memory) before any directory is made or anything trains: the user's
  // data down to their labels, so a folder that cannot be read leaves no record behind to refuse the corrected command.
  for (const part of plan) {
    validateSpec(structuredClone(part.spec));
    if (part.spec.task.source === 'files') taskLabels(part.spec.task);
  }
  if (prior) {
    const names = prior.parts.map((p) => p.name).join(',');
    if (names !== plan.map((p) => p.name).join(','))
      throw new TransfusionError('ERR_BAD_DATA', `${displayPath(path.join(opts.outDir, RECORD))} field parts lists ${names || 'no study'}, not its request's plan (${plan.map((p) => p.name).join(', ')})`);
  }
  let release = () => {};
  if (writer) {
    makeDirectory(opts.outDir, 'the reproduction directory');
    release = lockRunDir(opts.outDir);
  }
  try {
    if (writer && !opts.resume) {
      // Nothing a user made is replaced: --overwrite replaces a reproduction, never a study or a file of the user's.
      const kind = recordKind(opts.outDir);
      if (kind === 'other')
        throw new TransfusionError('ERR_RUN_EXISTS', `${displayPath(opts.outDir)} holds a results.json that is not a reproduction's (a study's, or a file of yours): choose another --out`);
      if (kind === 'reproduction' && !opts.overwrite)
        throw new TransfusionError(
          'ERR_RUN_EXISTS',
          `${displayPath(opts.outDir)} already holds a reproduction; continue it with \`transfusion-native reproduce --resume ${displayPath(opts.outDir)}\`, choose another --out, or replace it with --overwrite`,
        );
      // A part folder may hold only the reproduction's own study (replaced by --overwrite), never a user's.
      for (const part of plan) {
        const dir = path.join(opts.outDir, part.name);
        checkNotLink(dir);
        if (!fs.existsSync(path.join(dir, RECORD))) continue;
        const ours = kind === 'reproduction' && (() => {
          try {
            const name = readResults(dir).spec.name;
            return name.startsWith('reproduce-') && name.endsWith(`-${part.name}`);
          } catch {
            return false;
          }
        })();
        if (!ours) throw new TransfusionError('ERR_RUN_EXISTS', `${displayPath(dir)} holds a study that is not this reproduction's: choose another --out`);
      }
    }
    const record: ReproduceResults = prior ?? {
      schema: REPRODUCE_SCHEMA,
      request,
      startedAt: new Date().toISOString(),
      environment: { ...versions(), threads: getThreads(), platform: `${process.platform}-${process.arch}` },
      provenance: provenance(plan[0].spec.device),
      parts: plan.map((p) => ({ name: p.name, serves: p.serves, finished: false, runs: 0 })),
      analyses: {},
      scorecard: [],
      ...(shard ? { shard } : {}),
    };
    const save = () => writer && writeFileAtomic(path.join(opts.outDir, RECORD), JSON.stringify(record, null, 2));
    save();
    const results = new Map<PartName, StudyResults>();
    for (const [i, part] of plan.entries()) {
      const dir = path.join(opts.outDir, part.name);
      emit({ kind: 'part', name: part.name, serves: part.serves, index: i + 1, total: plan.length, outDir: dir });
      const entry = record.parts.find((p) => p.name === part.name)!;
      results.set(part.name, await runPart(part, dir, entry.finished, opts, shard, request));
      const r = results.get(part.name)!;
      Object.assign(entry, summary(r));
      save();
      // Section 4 needs the retina study alone: its analyses run (and are saved) before the other studies train.
      if (part.name === 'retina' && writer && !shard) await analyse(part, record, r, opts, save);
    }
    if (!writer || shard) return record;
    record.scorecard = scoreFindings(results, record.analyses);
    record.finishedAt = new Date().toISOString();
    save();
    if (opts.writeReport) {
      try {
        emit({ kind: 'report', ...(await opts.writeReport(opts.outDir, record, results)) });
      } catch (err) {
        emit({ kind: 'report', files: [], warnings: [`report.html and figures/ were not written: ${(err as Error).message}; results.json is complete, and \`transfusion-native reproduce --resume ${displayPath(opts.outDir)}\` draws them again`] });
      }
    }
    return record;
  } finally {
    release();
  }
}

/** The run options' types, checked before anything is made (a bad one used to fail after the record was written). */
function checkRunOptions(opts: ReproduceOptions): void {
  if (typeof opts.outDir !== 'string' || !opts.outDir) throw invalidArg('outDir', 'a directory path', opts.outDir);
  if (opts.cacheDir !== undefined && (typeof opts.cacheDir !== 'string' || !opts.cacheDir)) throw invalidArg('cacheDir', 'a directory path', opts.cacheDir);
  if (opts.shard !== undefined) {
    checkInteger('shard.count', opts.shard?.count, 1, 10_000);
    checkInteger('shard.index', opts.shard.index, 0, opts.shard.count - 1);
  }
  if (opts.concurrency !== undefined) checkInteger('concurrency', opts.concurrency, 1, 64);
  if (opts.checkpointEvery !== undefined) checkInteger('checkpointEvery', opts.checkpointEvery, 0);
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) throw invalidArg('signal', 'an AbortSignal', opts.signal);
  for (const key of ['onProgress', 'writeReport'] as const)
    if (opts[key] !== undefined && typeof opts[key] !== 'function') throw invalidArg(key, 'a function', opts[key]);
  checkStudyReport('studyReport', opts.studyReport);
}

/** What the record keeps of a study: whether it finished, its runs, and their training time. */
const summary = (r: StudyResults) => ({ finished: Boolean(r.finishedAt), runs: r.runs.length, seconds: r.runs.reduce((s, x) => s + x.wallSeconds, 0) });

async function runPart(part: ReproducePart, dir: string, finished: boolean, opts: ReproduceOptions, shard: Shard | undefined, request: ReproduceRequest): Promise<StudyResults> {
  checkNotLink(dir);
  const exists = fs.existsSync(path.join(dir, RECORD));
  if (exists && opts.resume) {
    const prior = readResults(dir);
    checkPartStudy(dir, part.name, prior, request);
    if (finished) return prior;
  }
  return runStudy(part.spec, {
    outDir: dir,
    ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
    resume: Boolean(opts.resume && exists),
    ...(opts.overwrite && exists ? { overwrite: true } : {}),
    ...(shard ? { shard } : {}),
    ...(opts.group ? { group: opts.group, syncBatchNorm: opts.syncBatchNorm } : {}),
    ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
    ...(opts.checkpointEvery !== undefined ? { checkpointEvery: opts.checkpointEvery } : {}),
    keepSnapshots: part.name === 'retina',
    ...(opts.studyReport ? { report: opts.studyReport } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    onProgress: opts.onProgress,
  });
}

/** Section 4's analyses over the retina study's snapshots, each saved as it finishes (a resumed reproduction skips those done). */
async function analyse(part: ReproducePart, record: ReproduceResults, retina: StudyResults, opts: ReproduceOptions, save: () => void): Promise<void> {
  const dir = path.join(opts.outDir, part.name);
  const registry = new Map(listModels().map((m) => [m.name, m] as const));
  const data = studyData(retina.spec, { cacheDir: opts.cacheDir ?? defaultCacheDir(), signal: opts.signal, emit: opts.onProgress ?? (() => {}) });
  const present = [...new Set(retina.runs.map((r) => r.model))];
  try {
    for (const analysis of ANALYSES) {
      if (record.analyses[analysis]) continue;
      const wanted = ANALYSIS_MODELS[analysis];
      const models = wanted === 'all' ? present : wanted.filter((m) => present.includes(m));
      const runs = retina.runs.filter((r) => (models.length ? models : present).includes(r.model) && (r.init === 'random' || r.init === 'transfer'));
      const { results, filterPanels } = await analyseRepresentations(analysis, {
        spec: retina.spec,
        outDir: dir,
        runs,
        infoOf: (m) => registry.get(m)!,
        probeAt: data.probeAt,
        taskAt: data.taskAt,
        signal: opts.signal,
        onProgress: (what) => opts.onProgress?.({ kind: 'analysis', what }),
      });
      results.figures.push(...(await drawFilterPanels(opts.outDir, filterPanels)));
      record.analyses[analysis] = results;
      save();
    }
  } finally {
    data.dispose();
  }
}

/**
 * Merges the shard directories of a reproduction (`reproduce --shard i/N --out DIR-i`) into outDir, study by study,
 * and records it there unfinished: `reproduce --resume outDir` then runs the analyses and writes the report.
 * @returns The merged record.
 * @throws ERR_INVALID_ARG for no directories, shards of different reproductions, or missing or unfinished shards;
 *   ERR_RUN_EXISTS when outDir holds a reproduction.
 */
export function mergeReproductions(dirs: string[], outDir: string): ReproduceResults {
  if (!Array.isArray(dirs) || dirs.some((d) => typeof d !== 'string' || !d)) throw invalidArg('dirs', 'a list of shard directories', dirs);
  if (typeof outDir !== 'string' || !outDir) throw invalidArg('outDir', 'a directory path', outDir);
  if (!dirs.length) throw new TransfusionError('ERR_INVALID_ARG', 'Expected the directories of a reproduction\'s shards to merge');
  const records = dirs.map((d) => ({ dir: d, record: readReproduction(d) }));
  const first = records[0].record;
  for (const { dir, record } of records)
    if (JSON.stringify(record.request) !== JSON.stringify(first.request))
      throw new TransfusionError('ERR_INVALID_ARG', `${displayPath(dir)} is a shard of another reproduction than ${displayPath(records[0].dir)} (their requests differ)`);
  if (fs.existsSync(path.join(outDir, RECORD)))
    throw new TransfusionError('ERR_RUN_EXISTS', `${displayPath(outDir)} already holds a reproduction; merge into another --out`);
  for (const p of first.parts)
    if (fs.existsSync(path.join(outDir, p.name, RECORD)))
      throw new TransfusionError('ERR_RUN_EXISTS', `${displayPath(path.join(outDir, p.name))} holds a study; merge into another --out`);
  makeDirectory(outDir, 'the merged reproduction directory');
  const parts = first.parts.map((p) => {
    let merged: StudyResults;
    try {
      merged = mergeShards(records.map((r) => path.join(r.dir, p.name)), path.join(outDir, p.name));
    } catch (err) {
      // Which study, and which directories: "Shard(s) 1/2 of the study are missing" alone names neither.
      if (err instanceof TransfusionError) throw new TransfusionError(err.code, `The ${p.name} study (${p.serves}) of ${dirs.map(displayPath).join(', ')}: ${err.message}`);
      throw err;
    }
    return { name: p.name, serves: p.serves, ...summary(merged) };
  });
  // Each merged study is whole and finished, so resuming the reproduction goes on to the analyses.
  const record: ReproduceResults = { ...first, startedAt: records.map((r) => r.record.startedAt).sort()[0], parts, analyses: {}, scorecard: [] };
  delete record.shard;
  delete record.finishedAt;
  writeFileAtomic(path.join(outDir, RECORD), JSON.stringify(record, null, 2));
  return record;
}

