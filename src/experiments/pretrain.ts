// "Pretrained" weights for the transfer arm: pretrain on the embedded natural-image source, save, and cache per
// model, source and settings, so a second study skips pretraining (and says so).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type { Dataset } from '../data/embedded';
import { writeFileAtomic } from '../io/atomic';
import { makeDirectory } from '../io/mkdir';
import type { ProcessGroup } from '../distributed';
import { modelNamed, type ModelOptions } from '../models';
import { train, type JobOptions, type TrainEvent } from '../train';
import { checkpointFile } from '../init/init';
import { trainOptionsOf, type StudySpec } from './spec';

/** The pretrained weights a study drew on for one source model, as results.json records them. */
export interface PretrainRecord {
  /** The source model's registry name. */
  model: string;
  /** "natural" (the embedded source, pretrained here or cached) or "file" (the user's weights). */
  source: string;
  /** Classes of the pretraining source (null for a file). */
  classes: number | null;
  /** Accuracy on the pretraining source's held-out set: where Table 1 reports ImageNet top-5 (null for a file). */
  top1: number | null;
  /** Top-5 accuracy on the pretraining source's held-out set, 0-1 (null for a file). */
  top5: number | null;
  /** Pretraining steps (0 for a file). */
  steps: number;
  /** Pretraining wall-clock time in seconds (0 for a file). */
  wallSeconds: number;
  /** The weight file's path. */
  weights: string;
  /** True when the weights came from the cache and no pretraining ran in this study. */
  cached: boolean;
  /** Pretraining steps whose weights were kept beside the final ones (`<weights without .pt>-step<N>.pt`), for the
   * checkpoints experiment; absent where none were asked for. */
  checkpoints?: number[];
  /** Ranks the pretraining ran data-parallel over (a study with a group shares it out); absent for one process. */
  ranks?: number;
}

/** How a pretraining is laid out over a data-parallel group: part of what its weights depend on. */
export interface PretrainLayout {
  group?: ProcessGroup;
  syncBatchNorm?: boolean;
}

/**
 * Where pretrained weights are cached when no `cacheDir` is given: $TRANSFUSION_CACHE, else
 * $XDG_CACHE_HOME/transfusion-native, else ~/.cache/transfusion-native.
 * @returns The directory's path (it may not exist yet).
 */
export function defaultCacheDir(): string {
  if (process.env.TRANSFUSION_CACHE) return process.env.TRANSFUSION_CACHE;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'transfusion-native');
}

/**
 * Cache key: everything that changes the pretrained weights, the data-parallel layout included (a pretraining shared
 * over ranks sums its gradients in another order, and with per-rank BatchNorm normalises smaller batches).
 */
export function pretrainKey(model: string, spec: StudySpec, layout: PretrainLayout = {}): string {
  const size = spec.imageSizes?.[model];  // a per-model size changes the pretraining images too
  const ranks = layout.group?.size ?? 1;
  const shared = ranks > 1 ? { ranks, syncBatchNorm: Boolean(layout.syncBatchNorm) } : {};
  const identity = JSON.stringify({ model, padding: spec.padding, pretrain: spec.pretrain, format: 1, ...(size ? { size } : {}), ...shared });
  return `${model}-${createHash('sha256').update(identity).digest('hex').slice(0, 16)}`;
}

/** The cached pretraining of a model, if there is one with every checkpoint in `steps` beside it. */
export function cachedPretrain(model: string, spec: StudySpec, cacheDir: string, steps: number[] = [], layout: PretrainLayout = {}): PretrainRecord | undefined {
  const base = path.join(cacheDir, 'pretrained', pretrainKey(model, spec, layout));
  if (!fs.existsSync(`${base}.pt`) || !fs.existsSync(`${base}.json`)) return undefined;
  if (steps.some((s) => !fs.existsSync(checkpointFile(`${base}.pt`, s)))) return undefined;  // pretrain again, keeping them
  try {
    const record = JSON.parse(fs.readFileSync(`${base}.json`, 'utf8')) as PretrainRecord;
    return { ...record, weights: `${base}.pt`, cached: true, ...(steps.length ? { checkpoints: steps } : {}) };
  } catch {
    return undefined;  // a torn or foreign meta file: pretrain again and overwrite it
  }
}

/** The user's own pretrained weights for a model (e.g. torchvision's ImageNet file), as --weights model=PATH names. */
export function userWeights(model: string, file: string): PretrainRecord {
  return { model, source: 'file', classes: null, top1: null, top5: null, steps: 0, wallSeconds: 0, weights: path.resolve(file), cached: false };
}

export async function pretrain(
  model: string,
  spec: StudySpec,
  data: { train: Dataset; val: Dataset },
  cacheDir: string,
  options: ModelOptions,
  opts: JobOptions<TrainEvent>,
  threads?: number,
  checkpoints: number[] = [],
  layout: PretrainLayout = {},
): Promise<PretrainRecord> {
  const p = spec.pretrain;
  const net = modelNamed(model, { ...options, numClasses: p.classes, seed: p.seed, padding: spec.padding, device: spec.device });
  const dir = path.join(cacheDir, 'pretrained');
  makeDirectory(dir, 'the weight cache');
  const base = path.join(dir, pretrainKey(model, spec, layout));
  const { group } = layout;
  try {
    const result = await train(
      net,
      { train: data.train, val: data.val },  // a dataset read from files carries more (its format, skips): train() takes the two sets
      // threads: its share beside other runs; weightSteps: the checkpoints kept on the way (every one a full weight file)
      // group: data parallel, each rank a slice of every batch, so N ranks share one pretraining's work (rank 0 keeps
      // the checkpoints on the way; every rank ends with the same weights and writes them atomically, the same bytes)
      {
        ...trainOptionsOf(p), evalAtStart: false, seed: p.seed, ...(threads ? { threads } : {}), ...(checkpoints.length ? { weightSteps: checkpoints, weightsPrefix: base } : {}),
        ...(group ? { group, syncBatchNorm: Boolean(layout.syncBatchNorm) } : {}),
      },
      opts,
    );
    await net.saveWeights(`${base}.pt`, { signal: opts.signal });
    const record: PretrainRecord = {
      model,
      source: p.source,
      classes: p.classes,
      top1: result.final.top1 ?? null,
      top5: result.final.top5 ?? null,
      steps: result.steps,
      wallSeconds: result.wallSeconds,
      weights: `${base}.pt`,
      cached: false,
      ...(checkpoints.length ? { checkpoints } : {}),
      ...(group && group.size > 1 ? { ranks: group.size } : {}),
    };
    writeFileAtomic(`${base}.json`, JSON.stringify(record, null, 2));
    return record;
  } finally {
    net.dispose();
  }
}
