// The bounds of every training setting, in one table, native/limits.json: the study file's JSON Schema, validateSpec,
// the command line, the generators and learningRates() read it here, and the addon's checks read it as the header
// CMake makes of it (core/limits.h), so a value is accepted or refused the same way wherever it is given, before any
// data are drawn or models pretrained.
import * as os from 'node:os';

import { TransfusionError } from './errors';
import TABLE from '../native/limits.json';

/** A setting's inclusive range. */
export interface Limit {
  readonly min: number;
  readonly max: number;
}

export const LIMITS: { readonly [K in keyof typeof TABLE]: Limit } = TABLE;

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
