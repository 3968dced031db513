// The process-wide native runtime: the addon, loaded once, with LibTorch's thread count set deliberately
// (Debian's LibTorch defaults to 1 thread; we default to the cores available).
import * as os from 'node:os';

import { loadAddon, type NativeAddon } from '../bindings/native';
import { checkInteger } from './errors';

let configured = false;

export function addon(): NativeAddon {
  const native = loadAddon();
  if (!configured) {
    configured = true;
    native.setThreads(defaultThreads());
  }
  return native;
}

export function defaultThreads(): number {
  const fromEnv = process.env.TRANSFUSION_THREADS;
  if (fromEnv !== undefined) return checkInteger('TRANSFUSION_THREADS', Number(fromEnv), 1, 1024);
  return os.availableParallelism();
}

/** LibTorch's intra-op thread count for this process. */
export function setThreads(count: number): void {
  addon().setThreads(checkInteger('threads', count, 1, 1024));
}

export function getThreads(): number {
  return addon().getThreads();
}

/** Handles neither disposed nor garbage-collected: a leak test is `expect(liveHandles()).toBe(before)`. */
export function liveHandles(): number {
  return addon().liveHandles();
}

export function cudaAvailable(): boolean {
  return addon().cudaAvailable();
}

/**
 * The environment for a peer process (PyTorch from Python, in the bench and the tests) that should compute as the
 * addon does: this process's, with the addon's cap on oneDNN's CPU kernels where it set one.
 */
export function peerEnvironment(): NodeJS.ProcessEnv {
  const cap = addon().version().oneDnnMaxIsa;
  return { ...process.env, ...(cap ? { ONEDNN_MAX_CPU_ISA: cap } : {}) };
}

export function versions(): { torch: string; napi: number; oneDnnMaxIsa: string | null; node: string } {
  return { ...addon().version(), node: process.version };
}
