// The validation batch of a study's CPU runs, chosen by measurement on the machine (issue 34). A model's metrics do not
// depend on the batch (test/native/eval-batch.test.ts holds them equal to the last digit at every candidate), only the
// time does, and which batch is fastest depends on the CPU, the model, the image size and the threads: on one AMD
// EPYC at one thread, 40 px and 400 images, CBR-LargeT evaluated in 0.88 s at 256 images a pass against 1.21 s at the
// old fixed 32, while CBR-LargeW was fastest at 32. Each (CPU, LibTorch, threads, model, size, memory format) is
// timed once and kept in the cache folder, beside the pretrained weights.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { createDataset, type Dataset } from '../data/embedded';
import { writeFileAtomic } from '../io/atomic';
import { modelNamed, type ModelInfo } from '../models';
import { versions } from '../runtime';
import { evaluate } from '../train';
import { modelOptionsFor } from './architecture';

/** Validation batches tried, smallest first (32: evaluate()'s CPU default). */
export const EVAL_BATCH_CANDIDATES: readonly number[] = [32, 64, 128, 256];
/** A candidate's images x pixels at most (256 images of 48 px): larger batches are not tried, for memory. */
const MAX_BATCH_PIXELS = 256 * 48 * 48;
const CACHE_FILE = 'eval-batch.json';
const CACHE_SCHEMA = 'transfusion-native/eval-batch@1';

/** A measured choice: the batch, and each candidate's time per image in microseconds. */
export interface EvalBatchChoice {
  batch: number;
  microsecondsPerImage: Record<string, number>;
}

/** What is measured: the model at its input size, with its outputs, on `threads` intra-op threads. */
export interface EvalBatchQuery {
  info: ModelInfo;
  size: number;
  numClasses: number;
  threads: number;
  /** The study's training.channelsLast (evaluation on the CPU runs channels-last unless it is false). */
  channelsLast?: boolean;
  /** Validation images: no candidate above max(32, this) is tried. */
  images: number;
  cacheDir: string;
  signal?: AbortSignal;
}

/** The candidates worth trying for a query: 32, and the larger ones within the validation set and the memory bound. */
export function evalBatchCandidates(size: number, images: number): number[] {
  return EVAL_BATCH_CANDIDATES.filter((b, i) => i === 0 || (b <= images && b * size * size <= MAX_BATCH_PIXELS));
}

/** A study's key for a model's batch at a size, in results.json's `environment.evalBatches` (e.g. "cbr-tiny 32"). */
export const evalBatchKey = (model: string, size: number): string => `${model} ${size}`;

function keyOf(q: EvalBatchQuery): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return [cpu, `LibTorch ${versions().torch}`, `${q.threads} thread(s)`, q.info.name, `${q.size} px`, q.channelsLast === false ? 'NCHW' : 'NHWC'].join(' | ');
}

function readCache(file: string): Record<string, EvalBatchChoice> {
  try {
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { schema?: unknown; choices?: Record<string, EvalBatchChoice> };
    return doc.schema === CACHE_SCHEMA && doc.choices && typeof doc.choices === 'object' ? doc.choices : {};
  } catch {
    return {};  // absent or unreadable: measured again, and the file rewritten whole
  }
}

/**
 * The validation batch for a study's CPU runs of one model: from the cache folder where this machine has measured
 * it, else measured now (each candidate's time per image on synthetic images: one untimed pass, then the best of two)
 * and kept there.
 * @returns The batch, each candidate's time per image, and whether it was measured now.
 */
export async function measuredEvalBatch(q: EvalBatchQuery): Promise<EvalBatchChoice & { measuredNow: boolean }> {
  const candidates = evalBatchCandidates(q.size, q.images);
  if (candidates.length === 1) return { batch: candidates[0], microsecondsPerImage: {}, measuredNow: false };
  const file = path.join(q.cacheDir, CACHE_FILE), key = keyOf(q);
  const known = readCache(file)[key];
  if (known && candidates.includes(known.batch) && candidates.every((b) => Number.isFinite(known.microsecondsPerImage?.[b])))
    return { ...known, measuredNow: false };
  const microsecondsPerImage = await timeCandidates(q, candidates);
  const batch = candidates.reduce((best, b) => (microsecondsPerImage[b] < microsecondsPerImage[best] ? b : best));
  const choice: EvalBatchChoice = { batch, microsecondsPerImage };
  fs.mkdirSync(q.cacheDir, { recursive: true });
  writeFileAtomic(file, JSON.stringify({ schema: CACHE_SCHEMA, choices: { ...readCache(file), [key]: choice } }, null, 2));
  return { ...choice, measuredNow: true };
}

/**
 * The validation batch of each (model, size) of a CPU study, by {@link measuredEvalBatch}, one at a time (nothing else
 * should run beside the timing), keyed "model size" (e.g. "cbr-tiny 32"); `onChoice` hears each.
 */
export async function evalBatchesFor(
  wanted: readonly { info: ModelInfo; size: number }[],
  q: Omit<EvalBatchQuery, 'info' | 'size' | 'images'> & { images: (size: number) => Promise<number>; onChoice?: (info: ModelInfo, size: number, c: EvalBatchChoice & { measuredNow: boolean }) => void },
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const { info, size } of wanted) {
    const key = evalBatchKey(info.name, size);
    if (out.has(key)) continue;
    const c = await measuredEvalBatch({ ...q, info, size, images: await q.images(size) });
    out.set(key, c.batch);
    q.onChoice?.(info, size, c);
  }
  return out;
}

async function timeCandidates(q: EvalBatchQuery, candidates: number[]): Promise<Record<string, number>> {
  const model = modelNamed(q.info.name, modelOptionsFor(q.info, q.size, { numClasses: q.numClasses, seed: 0 }));
  const out: Record<string, number> = {};
  try {
    for (const b of candidates) {
      const data = syntheticImages(b, q.size, q.numClasses);
      try {
        const options = { batchSize: b, threads: q.threads, signal: q.signal, ...(q.channelsLast !== undefined ? { channelsLast: q.channelsLast } : {}) };
        await evaluate(model, data, options);
        let best = Infinity;
        for (let k = 0; k < 2; k++) {
          const t0 = process.hrtime.bigint();
          await evaluate(model, data, options);
          best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e3);
        }
        out[b] = best / b;
      } finally {
        data.dispose();
      }
    }
  } finally {
    model.dispose();
  }
  return out;
}

/** `count` images of uniform noise (a fixed sequence) with alternating labels: what is timed, not what is learned. */
function syntheticImages(count: number, size: number, outputs: number): Dataset {
  const data = new Float32Array(count * 3 * size * size);
  let s = 12345;
  for (let i = 0; i < data.length; i++) data[i] = ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
  const targets = Float32Array.from({ length: count * outputs }, (_, i) => i % 2);
  return createDataset({ images: { data, shape: [count, 3, size, size] }, targets, task: outputs > 1 ? 'multilabel' : 'binary', outputs });
}
