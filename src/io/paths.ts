// Paths that come from outside (study files, CSV rows, results.json, the command line): shown safely, kept inside
// their folder, and read only when they name a regular file of a bounded size.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { TransfusionError, type ErrorCode } from '../errors';

/** Each character `which` matches as \xNN. */
const escapeControls = (text: string, which: RegExp) => text.replace(which, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/**
 * A path as an error message may print it: control characters (terminal escape sequences, NUL, newlines) shown as
 * \xNN escapes, so a crafted file name cannot rewrite the user's terminal or forge lines of output.
 */
export function displayPath(p: string): string {
  // eslint-disable-next-line no-control-regex
  return escapeControls(p, /[\u0000-\u001f\u007f-\u009f]/g);
}

/**
 * Text for a terminal whose parts came from files (results.json, CSVs): control characters other than tab and newline
 * escaped as displayPath escapes them, so a crafted value cannot move the cursor, recolour or clear the screen.
 */
export function terminalSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return escapeControls(text, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g);
}

/** Refuses a path holding a NUL byte (C code would read it truncated) with ERR_INVALID_ARG naming `what`. */
export function checkPathText(what: string, p: unknown): string {
  if (typeof p !== 'string' || p.length === 0) throw new TransfusionError('ERR_INVALID_ARG', `Expected \`${what}\` to be a non-empty path`);
  if (p.includes('\0')) throw new TransfusionError('ERR_INVALID_ARG', `Expected \`${what}\` to be a path without NUL bytes but received ${JSON.stringify(displayPath(p))}`);
  return p;
}

/**
 * `relative` resolved against `root`, refused (`code`, default ERR_INVALID_ARG, naming `what`) when it leaves `root`: an absolute
 * path elsewhere, `..` segments that climb out, or a symbolic link inside `root` that points out of it.
 */
export function resolveInside(root: string, relative: string, what: string, code: ErrorCode = 'ERR_INVALID_ARG'): string {
  checkPathText(what, relative);
  const base = path.resolve(root);
  const full = path.resolve(base, relative);
  const inside = (p: string, r: string) => p === r || p.startsWith(r.endsWith(path.sep) ? r : r + path.sep);
  if (!inside(full, base))
    throw new TransfusionError(code, `${what}: ${JSON.stringify(displayPath(relative))} points outside ${displayPath(base)}`);
  // Symbolic links: compare the real paths of what exists.
  let real: string | undefined;
  try {
    real = fs.realpathSync(full);
  } catch {
    return full;  // not there (yet): nothing to follow
  }
  const realBase = fs.realpathSync(base);
  if (!inside(real, realBase))
    throw new TransfusionError(code, `${what}: ${JSON.stringify(displayPath(relative))} is a link to ${displayPath(real)}, outside ${displayPath(realBase)}`);
  return full;
}

const kindOf = (st: fs.Stats) =>
  st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';

/** Refuses (with `code`, naming the file) what is not a regular file, and a file above `maxBytes`. */
function checkStats(file: string, st: fs.Stats, code: ErrorCode, maxBytes: number): number {
  if (!st.isFile()) throw new TransfusionError(code, `${displayPath(file)} is ${kindOf(st)}, not a regular file`);
  if (st.size > maxBytes) throw new TransfusionError(code, `${displayPath(file)} is ${st.size} bytes, above the ${maxBytes} this reader accepts`);
  return st.size;
}

const cannotRead = (file: string, code: ErrorCode, err: unknown) =>
  new TransfusionError(code === 'ERR_INVALID_ARG' ? code : 'ERR_IO', `Cannot read ${displayPath(file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);

/**
 * Stats `file` and refuses (with `code`, naming the file) anything but a regular file (a directory, /dev/zero, a
 * FIFO, a socket) and a file above `maxBytes`. Returns its size in bytes.
 */
export function checkRegularFile(file: string, code: ErrorCode, maxBytes = Number.MAX_SAFE_INTEGER): number {
  checkPathText('file', file);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    throw cannotRead(file, code, err);
  }
  return checkStats(file, st, code, maxBytes);
}

/**
 * The bytes of `file`, refused as checkRegularFile refuses. The file is opened without blocking (a FIFO does not wait
 * for a writer) and checked on the open descriptor, so what is read is what was checked; exactly the size it had then
 * is read, so a file that grows meanwhile cannot grow memory.
 */
export function readRegularFile(file: string, code: ErrorCode, maxBytes = Number.MAX_SAFE_INTEGER): Buffer {
  checkPathText('file', file);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    throw cannotRead(file, code, err);
  }
  try {
    const size = checkStats(file, fs.fstatSync(fd), code, maxBytes);
    const bytes = Buffer.allocUnsafe(size);
    let at = 0;
    for (let n = 1; at < size && n > 0; at += n) n = fs.readSync(fd, bytes, at, size - at, at);
    return bytes.subarray(0, at);  // shorter only if it shrank meanwhile
  } finally {
    fs.closeSync(fd);
  }
}
