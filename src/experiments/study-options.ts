// runStudy's options (StudyOptions) and the checks made on them before a study reads, draws or writes anything.
import type { ProcessGroup } from '../distributed';
import { TransfusionError, checkInteger, invalidArg } from '../errors';
import { checkPathText } from '../io/paths';
import { checkHandle, optionKeys, requireOptions } from '../options';
import type { Shard, StudyEvent, StudyResults } from './results';
import { checkSpecFields } from './spec-fields';

/** Where and how {@link runStudy} runs a study: `outDir` is required, every other field optional. */
export interface StudyOptions {
  /** The run directory: results.json (and, with `report`, the report) land here. */
  outDir: string;
  /** Where pretrained weights are cached (default $TRANSFUSION_CACHE, else ~/.cache/transfusion-native). */
  cacheDir?: string;
  /** Aborting it stops the study between training steps (ABORT_ERR); resume it later with `resume`. */
  signal?: AbortSignal;
  /** Called once per {@link StudyEvent}, in order, on the main thread. */
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
  /**
   * Start afresh in an outDir that already holds a study (its results.json is replaced). Without it such a directory
   * is refused (ERR_RUN_EXISTS, naming the study there), so nothing a user made is overwritten silently.
   */
  overwrite?: boolean;
  /**
   * Training runs (and pretrainings) in flight at once on the CPU, 1-64 (default: the process's thread count,
   * {@link getThreads}, up to 64, each run at one thread: the faster on 2 cores, as measured there; 1 with a `group` or
   * on a GPU). Beside others each run trains at an equal share of the threads (at least 1), alone at all of them; a
   * run's numbers depend on its thread count, never on what runs beside it. results.json keeps the study's order
   * whatever finishes first.
   */
  concurrency?: number;
  /**
   * Save every run's weights at initialisation and after training (snapshots/) even when the experiment has no
   * Section 4 analysis of its own: `reproduce` runs the analyses over Table 1's models afterwards.
   */
  keepSnapshots?: boolean;
  /**
   * Write TensorBoard scalar event files under this folder: one per run (MODEL/INIT/sSEED/events.out.tfevents.*), with
   * train/loss and train/lr per step and val/auc (val/top1 for a multiclass task) and val/loss per evaluation.
   */
  tensorboard?: string;
  /**
   * Who writes the study's report: report.md beside results.json at every save, then report.html, the CSVs and the
   * figures at the end. The library's runStudy passes the report module's {@link studyReport} unless given another;
   * without one a study writes results.json (and Figure 5's filter PNGs) alone.
   */
  report?: StudyReport;
}

/** How a study's report is written as the study goes (see {@link StudyOptions.report}). */
export interface StudyReport {
  /** report.md for the results so far: written beside results.json at every save. */
  markdown(results: StudyResults): string;
  /** The whole report when the study ends (report.md, report.html, the CSVs, figures/): the files written and any
   * drawing warnings. A failure costs the study nothing: results.json is complete and `report DIR` draws it again. */
  write(outDir: string, results: StudyResults): Promise<{ files: string[]; warnings: string[] }>;
}

export const STUDY_OPTION_KEYS = optionKeys<StudyOptions>()([
  'outDir', 'cacheDir', 'signal', 'onProgress', 'resume', 'checkpointEvery', 'shard', 'group', 'syncBatchNorm', 'overwrite', 'concurrency', 'keepSnapshots', 'tensorboard', 'report',
]);

/** runStudy's arguments, checked before anything is read, drawn or written. */
export function checkStudyArguments(spec: unknown, opts: unknown): StudyOptions {
  checkSpecFields(spec, 'runStudy()');
  const o = requireOptions<StudyOptions>('runStudy()', opts, STUDY_OPTION_KEYS);
  checkPathText('outDir', o.outDir);
  if (o.cacheDir !== undefined) checkPathText('cacheDir', o.cacheDir);
  if (o.tensorboard !== undefined) checkPathText('tensorboard', o.tensorboard);
  if (o.group !== undefined) checkHandle('runStudy()', 'group', o.group, 'ProcessGroup', 'initProcessGroup()');
  if (o.concurrency !== undefined) checkInteger('concurrency', o.concurrency, 1, 64);
  checkStudyReport('report', o.report);
  if (o.resume && o.overwrite)
    throw new TransfusionError('ERR_INVALID_ARG', '`resume` continues the study in outDir and `overwrite` replaces it: give one of them');
  return o;
}

/** Refuses a `name` option that is given but is not a StudyReport ({ markdown, write }). */
export function checkStudyReport(name: string, report: unknown): void {
  const r = report as Partial<StudyReport> | undefined;
  if (report !== undefined && (typeof r?.markdown !== 'function' || typeof r?.write !== 'function'))
    throw invalidArg(name, 'a StudyReport ({ markdown, write }), e.g. studyReport', report);
}

/** A resumed study keeps the data-parallel layout it was recorded with (its BatchNorm mode from the record). */
export function checkLayout(prior: StudyResults | undefined, opts: StudyOptions): { syncBatchNorm?: boolean } {
  if (!prior) return {};
  const was = prior.distributed?.worldSize ?? 1, now = opts.group?.size ?? 1;
  if (was !== now)
    throw new TransfusionError('ERR_INVALID_ARG', `${opts.outDir} was trained over ${was} rank(s), not ${now}: resume it the same way${was > 1 ? ` (launch --nproc ${was} -- run --resume ...)` : ''}`);
  return prior.distributed ? { syncBatchNorm: prior.distributed.syncBatchNorm } : {};
}

/** Each rank trains an equal slice of a batch. */
export function checkDivisible(batchSize: number, ranks: number): void {
  if (batchSize % ranks !== 0)
    throw new TransfusionError('ERR_INVALID_ARG', `Expected train.batchSize (${batchSize}) to be a multiple of the number of ranks (${ranks}): each rank trains an equal slice`);
}

