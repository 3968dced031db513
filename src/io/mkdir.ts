// Creating a directory and its missing parents in a bounded number of steps. Node's mkdirSync({ recursive: true })
// loops forever where mkdir says ENOENT although the parent exists (/proc/x: procfs refuses new entries that way):
// it retries the parent, which exists, then the child again, without end.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { TransfusionError } from '../errors';
import { checkPathText, displayPath } from './paths';

const REASONS: Record<string, string> = {
  ENOENT: 'its parent does not accept new entries',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  ENOTDIR: 'a parent is a file, not a directory',
};

/**
 * Makes `dir` and its missing parents, one mkdir per missing level (each tried once), and returns its absolute path.
 * Throws ERR_IO naming `what` and the directory ("Cannot create the run directory /proc/x: its parent does not accept
 * new entries (ENOENT)") when a level cannot be made or an existing one is not a directory.
 */
export function makeDirectory(dir: string, what = 'the directory'): string {
  const full = path.resolve(checkPathText(what, dir));
  const fail = (err: NodeJS.ErrnoException | string) => {
    const why = typeof err === 'string' ? err : `${REASONS[err.code ?? ''] ?? err.message}${err.code ? ` (${err.code})` : ''}`;
    return new TransfusionError('ERR_IO', `Cannot create ${what} ${displayPath(full)}: ${why}`);
  };
  // The levels from the deepest that exists down to `full`.
  const missing: string[] = [];
  for (let at = full; ; at = path.dirname(at)) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(at);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fail(err as NodeJS.ErrnoException);
    }
    if (st) {
      if (!st.isDirectory()) throw fail(`${displayPath(at)} is not a directory`);
      break;
    }
    missing.unshift(at);
    if (path.dirname(at) === at) break;  // the root itself is missing: mkdir will say why
  }
  for (const level of missing) {
    try {
      fs.mkdirSync(level);
    } catch (err) {
      // Made meanwhile by another process: fine if it is a directory.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && fs.statSync(level).isDirectory()) continue;
      throw fail(err as NodeJS.ErrnoException);
    }
  }
  return full;
}
