// A run directory's housekeeping: the lock that gives one process the right to write it, and where a training run's
// checkpoint lives while it trains.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';

import { TransfusionError } from '../errors';

/** Steps between a study's checkpoints of the run in progress when {@link StudyOptions.checkpointEvery} is not given. */
export const DEFAULT_CHECKPOINT_EVERY = 100;

/**
 * Where a run's checkpoint lives while it trains (removed once its record is saved).
 * @param outDir - The run directory.
 * @param model - The run's model.
 * @param init - The run's initialisation label, e.g. "transfusion:layer2" (characters other than letters, digits,
 *   "_", "." and "-" become "_").
 * @param seed - The run's seed.
 * @returns outDir/checkpoints/MODEL-INIT-seedN.pt
 */
export function checkpointPath(outDir: string, model: string, init: string, seed: number): string {
  return path.join(outDir, 'checkpoints', `${model}-${init.replace(/[^\w.-]+/g, '_')}-seed${seed}.pt`);
}

/** A run's files' shared name: MODEL-INIT-sSEED, the init made safe as a file name ("transfusion:layer1" ->
 * "transfusion_layer1"). */
const runStem = (model: string, init: string, seed: number) => `${model}-${init.replace(/[^A-Za-z0-9_-]/g, '_')}-s${seed}`;

/** The snapshot file of a run (relative to the run directory). */
export function snapshotPath(model: string, init: string, seed: number, which: 'init' | 'final'): string {
  return path.join('snapshots', `${runStem(model, init, seed)}-${which}.safetensors`);
}

/** Where --save-weights keeps a run's weights, relative to the run directory. */
export function weightsPath(model: string, init: string, seed: number): string {
  return path.join('weights', `${runStem(model, init, seed)}.pt`);
}

/** How often a holder refreshes its lock's heartbeat (the file's modification time). */
export const LOCK_HEARTBEAT_MS = 10_000;
/** A lock without a heartbeat for this long is stale, whichever host or process wrote it. */
export const LOCK_STALE_MS = 60_000;

/** The tokens of the locks this process holds: a lock naming this pid and another token is a previous life's. */
const held = new Set<string>();

interface Holder {
  pid?: number;
  host?: string;
  since?: string;
  token?: string;
}

/**
 * Holds a run directory for this process: a lock file created exclusively, naming the holder (host, pid, start time)
 * and refreshed every {@link LOCK_HEARTBEAT_MS} while held. A lock is taken over when it is stale: no heartbeat for
 * {@link LOCK_STALE_MS} (any host: a job requeued on another node, or killed as PID 1 in a container), or, on this host,
 * when its process is gone or a zombie, or when it names this very pid with a token this process never issued (a
 * container's PID 1 killed and restarted). Ages are read against a file written in the same directory now, so a shared
 * file system's clock, not this host's, decides. A live lock is ERR_LOCKED naming its holder. Returns the release.
 */
export function lockRunDir(outDir: string, opts: { heartbeatMs?: number } = {}): () => void {
  const lock = path.join(outDir, '.lock');
  const token = randomUUID();
  const mine = JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString(), token });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lock, mine, { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new TransfusionError('ERR_IO', `Cannot write the run directory ${outDir}: ${(err as Error).message}`);
      const { holder, age } = readLock(outDir, lock);
      const why = staleness(holder, age);
      if (why === undefined) {
        const left = Math.max(0, Math.ceil((LOCK_STALE_MS - age) / 1000));
        throw new TransfusionError(
          'ERR_LOCKED',
          `${outDir} is being written by process ${holder.pid} on ${holder.host} since ${holder.since ?? 'an unknown time'} (${lock}, last heartbeat ${Math.round(age / 1000)} s ago); ` +
            `wait for it: a lock without a heartbeat for ${LOCK_STALE_MS / 1000} s is taken over${holder.host !== os.hostname() ? ` (in ${left} s if that process is gone)` : ''}`,
        );
      }
      fs.rmSync(lock, { force: true });  // stale: taken over
      continue;
    }
    held.add(token);
    const beat = setInterval(() => {
      try {
        const now = new Date();
        fs.utimesSync(lock, now, now);
      } catch {
        // the directory went away: nothing to keep alive
      }
    }, opts.heartbeatMs ?? LOCK_HEARTBEAT_MS);
    beat.unref();
    return () => {
      clearInterval(beat);
      held.delete(token);
      fs.rmSync(lock, { force: true });
    };
  }
  throw new TransfusionError('ERR_LOCKED', `${outDir} was locked by another process while this one started`);
}

/** The lock's holder and the time since its last heartbeat, by the directory's own clock. */
function readLock(outDir: string, lock: string): { holder: Holder; age: number } {
  let holder: Holder = {};
  let mtime = 0;
  try {
    holder = JSON.parse(fs.readFileSync(lock, 'utf8'));
    mtime = fs.statSync(lock).mtimeMs;
  } catch {
    return { holder: {}, age: Infinity };  // unreadable or gone: stale
  }
  const probe = path.join(outDir, `.lock-clock-${process.pid}-${randomUUID()}`);
  let now = Date.now();
  try {
    fs.writeFileSync(probe, '');
    now = fs.statSync(probe).mtimeMs;
  } catch {
    // a directory we cannot write to fails on the lock itself
  } finally {
    fs.rmSync(probe, { force: true });
  }
  return { holder, age: Math.max(0, now - mtime) };
}

/** Why a lock is stale, or undefined when its holder may be alive. */
function staleness(holder: Holder, age: number): string | undefined {
  if (typeof holder.pid !== 'number' || typeof holder.host !== 'string') return 'unreadable';
  if (age > LOCK_STALE_MS) return 'no heartbeat';
  if (holder.host !== os.hostname()) return undefined;
  if (holder.pid === process.pid) return holder.token && held.has(holder.token) ? undefined : 'a previous process with this pid';
  return isAlive(holder.pid) ? undefined : 'its process is gone';
}

/** Whether a process of this host runs: signal 0 reaches it, and it is not a zombie waiting to be reaped. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;  // no /proc: signal 0 is all there is
  }
}
