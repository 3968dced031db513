// The bounds of every training setting, in one table: the study file's JSON Schema, validateSpec, the command line
// and learningRates() all read them, so a value is accepted or refused the same way wherever it is given, before any
// data are drawn or models pretrained.
import * as os from 'node:os';

import { TransfusionError } from './errors';

export const LIMITS = {
  steps: { min: 1, max: 10_000_000 },
  batchSize: { min: 1, max: 1 << 20 },
  evalEvery: { min: 0, max: 1 << 30 },
  lr: { min: 0, max: 100 },
  weightDecay: { min: 0, max: 1 },
  momentum: { min: 0, max: 1 },
  imageSize: { min: 16, max: 1024 },
  classes: { min: 2, max: 30 },
  setSize: { min: 2, max: 10_000_000 },
} as const;

/** Bytes of `count` float32 images of `channels` x `size` x `size`, as the native datasets hold them. */
export function imageBytes(count: number, size: number, channels = 3): number {
  return count * size * size * channels * 4;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(bytes < 10 * 2 ** 30 ? 2 : 1)} GiB`;

/**
 * The memory this process can still take: the kernel's MemAvailable (os.freemem()), and the cgroup's limit when one is
 * set (process.constrainedMemory()), whichever is less. A study checked against the machine's whole memory grew past a
 * container's limit before it was refused.
 */
export function availableMemory(): number {
  const limit = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  return Math.min(os.freemem(), limit && limit > 0 ? limit : Infinity);
}

/**
 * Refuses, before any work, a setting whose data would not fit in the memory available (availableMemory()): ERR_INVALID_ARG
 * naming `field` and what it asked for, e.g. "`task.trainSize` (16700000) asks for 297.9 GiB of images (...)".
 */
export function checkFitsMemory(field: string, value: number, bytes: number, what: string, totalBytes: number): void {
  if (bytes <= totalBytes) return;
  throw new TransfusionError(
    'ERR_INVALID_ARG',
    `\`${field}\` (${value}) asks for ${gib(bytes)} of ${what}, more than the ${gib(totalBytes)} of memory available to this process: lower \`${field}\``,
  );
}
