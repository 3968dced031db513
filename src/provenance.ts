// What produced a results.json (issue 31): the package and its commit, the command line, the machine (CPU, memory,
// GPU where one was used) and LibTorch's version and build. Read once per study; nothing here changes a result.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { packageRoot } from '../bindings/native';
import { addon } from './runtime';

/** A study's provenance, as results.json records it. */
export interface Provenance {
  /** This package's version (package.json). */
  package: string;
  /** The git commit of the package's checkout, where it is one (null for an installed package). */
  commit: string | null;
  /** The process's command line: the program's name, then its arguments as given. */
  command: string[];
  cpu: { model: string; cores: number; memoryBytes: number };
  /** The GPU's name when the study runs on CUDA (nvidia-smi's), else null. */
  gpu: string | null;
  /** LibTorch: its version and the settings of its build (at::show_config()'s "Build settings": BLAS_INFO, USE_CUDA,
   * CXX_FLAGS, ...). */
  torch: { version: string; build: Record<string, string> };
}

/**
 * The commit HEAD names in `dir`'s .git (a detached HEAD, a loose ref or a packed one), read without git. A linked
 * worktree's `.git` is a file naming its own folder (`gitdir: ...`), whose `commondir` names where the refs are.
 */
export function gitCommit(dir: string): string | null {
  try {
    let git = path.join(dir, '.git'), refs = git;
    if (fs.statSync(git).isFile()) {
      const linked = /^gitdir: (.+)$/m.exec(fs.readFileSync(git, 'utf8'))?.[1].trim();
      if (!linked) return null;
      git = refs = path.resolve(dir, linked);
      const common = path.join(git, 'commondir');
      if (fs.existsSync(common)) refs = path.resolve(git, fs.readFileSync(common, 'utf8').trim());
    }
    const head = fs.readFileSync(path.join(git, 'HEAD'), 'utf8').trim();
    if (/^[0-9a-f]{40,64}$/.test(head)) return head;
    const ref = /^ref: (refs\/[^\s]+)$/.exec(head)?.[1];
    if (!ref) return null;
    git = refs;
    const loose = path.join(git, ref);
    if (fs.existsSync(loose)) return fs.readFileSync(loose, 'utf8').trim() || null;
    const packed = fs.readFileSync(path.join(git, 'packed-refs'), 'utf8');
    return packed.split('\n').find((l) => l.endsWith(` ${ref}`))?.split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

/** at::show_config()'s "Build settings: KEY=value, ..." line as an object. */
export function buildSettings(config: string): Record<string, string> {
  const line = config.split('\n').find((l) => l.includes('Build settings:'));
  const out: Record<string, string> = {};
  if (!line) return out;
  for (const m of line.slice(line.indexOf(':') + 1).matchAll(/([A-Z][A-Z0-9_]*)=(.*?)(?=, [A-Z][A-Z0-9_]*=|,?\s*$)/g)) out[m[1]] = m[2].trim();
  return out;
}

function gpuName(device: string): string | null {
  if (!device.startsWith('cuda')) return null;
  const index = Number(device.split(':')[1] ?? 0);
  try {
    const names = execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    return names.trim().split('\n')[index]?.trim() || null;
  } catch {
    return null;  // no nvidia-smi: the name is unknown, the device is still recorded in the spec
  }
}

/** @internal This package's version, from its package.json (the folder whose package.json is ours, read there). */
export function packageVersion(): string {
  return String(JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version ?? '');
}

/**
 * This process's provenance for a study on `device`.
 * @returns A fresh {@link Provenance}.
 */
export function provenance(device: string): Provenance {
  const dir = packageRoot();
  const version = packageVersion();
  const v = addon().version();
  const cpus = os.cpus();
  return {
    package: version,
    commit: gitCommit(dir),
    command: [path.basename(process.argv[0] ?? 'node'), ...process.argv.slice(1)],
    cpu: { model: cpus[0]?.model.trim() ?? 'unknown', cores: cpus.length, memoryBytes: os.totalmem() },
    gpu: gpuName(device),
    torch: { version: v.torch, build: buildSettings(v.config) },
  };
}
