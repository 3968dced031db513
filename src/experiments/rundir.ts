// A run directory's housekeeping: the lock that gives one process the right to write it, and where a training run's
// checkpoint lives while it trains.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

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

/**
 * Holds a run directory for this process: a lock file created exclusively, naming the holder. A lock whose process is
 * gone is taken over; a live one is an error naming it. Returns the release.
 */
export function lockRunDir(outDir: string): () => void {
  const lock = path.join(outDir, '.lock');
  const mine = JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() });
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(lock, mine, { flag: 'wx' });
      return () => fs.rmSync(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') break;
        throw new TransfusionError('ERR_IO', `Cannot write the run directory ${outDir}: ${(err as Error).message}`);
      }
      let holder: { pid?: number; host?: string } = {};
      try {
        holder = JSON.parse(fs.readFileSync(lock, 'utf8'));
      } catch {
        // unreadable: treat as stale
      }
      const alive = holder.pid !== undefined && holder.host === os.hostname() && isAlive(holder.pid);
      if (alive || (holder.host !== undefined && holder.host !== os.hostname()))
        throw new TransfusionError('ERR_LOCKED', `${outDir} is being written by process ${holder.pid} on ${holder.host} (${lock}); wait for it, or remove the lock if that process is gone`);
      fs.rmSync(lock, { force: true });  // stale: its process is gone
    }
  }
  throw new TransfusionError('ERR_LOCKED', `${outDir} was locked by another process while this one started`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
