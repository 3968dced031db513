// The process-wide native runtime: the addon, loaded once, with LibTorch's thread count set deliberately
// (Debian's LibTorch defaults to 1 thread; we default to the cores available).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';

import { loadAddon, type NativeAddon } from '../bindings/native';
import { invalidArg } from './errors';

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
  if (fromEnv !== undefined) return checkThreads('TRANSFUSION_THREADS', Number(fromEnv));
  return os.availableParallelism();
}

/**
 * A thread count checked against this machine's cores: more intra-op threads than cores spin against each other (256
 * threads on 2 cores made five small forwards take 40 s instead of 0.6 s), so the bound is the cores available.
 * @returns The count.
 * @throws ERR_INVALID_ARG naming `name` and the bound.
 */
export function checkThreads(name: string, value: unknown): number {
  const cores = os.availableParallelism();
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > cores)
    throw invalidArg(name, `an integer in [1, ${cores}] (this machine's ${cores} core(s): more threads than cores only slow LibTorch down)`, value);
  return value;
}

/**
 * Sets LibTorch's intra-op thread count for this process (by default the cores available, or TRANSFUSION_THREADS).
 * @param count - Threads, 1 to the cores available (os.availableParallelism()).
 * @throws ERR_INVALID_ARG for a count outside that range, naming the bound.
 */
export function setThreads(count: number): void {
  addon().setThreads(checkThreads('threads', count));
}

/**
 * LibTorch's intra-op thread count for this process.
 * @returns The threads LibTorch uses now.
 * @throws ERR_ADDON_NOT_BUILT when the native addon is missing.
 */
export function getThreads(): number {
  return addon().getThreads();
}

/**
 * Handles neither disposed nor garbage-collected: a leak test is `expect(liveHandles()).toBe(before)`.
 * @returns The count of live model, dataset and process-group handles.
 * @throws ERR_ADDON_NOT_BUILT when the native addon is missing.
 */
export function liveHandles(): number {
  return addon().liveHandles();
}

/**
 * Whether this LibTorch sees a usable CUDA device (so `device: "cuda"` works).
 * @returns true when a CUDA device is available.
 * @throws ERR_ADDON_NOT_BUILT when the native addon is missing.
 */
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

/** The allocators a Python user preloads for speed, in the order tried: Debian's libjemalloc2, then gperftools'. */
// jemalloc keeping the pages it frees (no decay, so no page faults to take them back) and without its background
// thread: measured here (2 vCPUs, CBR-Tiny's training step, images/s) 169 against glibc's 150-156, where jemalloc's
// defaults gave 111 and the CPU tuning guide's (background_thread:true, oversize_threshold:1) was no better: a
// background thread is one more on two cores. tcmalloc as it comes.
const TUNED_ALLOCATORS = [
  { allocator: 'jemalloc', library: 'libjemalloc.so.2', env: { MALLOC_CONF: 'background_thread:false,dirty_decay_ms:-1,muzzy_decay_ms:-1' } },
  { allocator: 'tcmalloc', library: 'libtcmalloc_minimal.so.4', env: {} },
  { allocator: 'tcmalloc', library: 'libtcmalloc.so.4', env: {} },
];
const LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'];

/**
 * @internal The tuned Python peer's environment: the peer's (peerEnvironment) with jemalloc or tcmalloc preloaded, as a
 * Python user who tunes PyTorch on the CPU runs it; undefined where neither is installed.
 */
export function tunedPeerEnvironment(): { allocator: string; library: string; env: NodeJS.ProcessEnv } | undefined {
  for (const { allocator, library, env } of TUNED_ALLOCATORS)
    for (const dir of LIBRARY_DIRS) {
      const file = path.join(dir, library);
      if (fs.existsSync(file)) {
        const preload = [process.env.LD_PRELOAD, file].filter(Boolean).join(' ');
        return { allocator, library: file, env: { ...peerEnvironment(), ...env, LD_PRELOAD: preload } };
      }
    }
  return undefined;
}

/**
 * The versions this process runs on, as results.json records them.
 * @returns torch: LibTorch's version; cxxStandard: the C++ standard the addon was compiled as (20 wherever the
 *   compiler has it, which LibTorch 2.14 and later require; 17 otherwise); napi: the N-API version; oneDnnMaxIsa: the cap the addon set on oneDNN's CPU
 *   kernels (null: none); cpuAllocator: "reusing" when LibTorch's CPU tensors come from the addon's allocator (large
 *   blocks kept for reuse while native jobs run, freed 3 s after), "libtorch" with TRANSFUSION_CPU_CACHE=0; node:
 *   Node's version, e.g. "v20.19.0".
 * @throws ERR_ADDON_NOT_BUILT when the native addon is missing.
 */
export function versions(): { torch: string; cxxStandard: number; napi: number; oneDnnMaxIsa: string | null; cpuAllocator: 'reusing' | 'libtorch'; node: string } {
  const { config: _config, ...version } = addon().version();  // the build's settings are provenance's (provenance.ts)
  return { ...version, node: process.version };
}
