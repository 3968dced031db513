import * as fs from 'node:fs';
import * as path from 'node:path';

import { TransfusionError } from '../errors';

/** A temporary name beside `file`, unique to this process and call, for write-then-rename. */
export function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
}

/**
 * An I/O failure as an ERR_IO error that names the file and says that its previous content is intact; a full disk
 * is said in words.
 */
export function writeError(file: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  if (e instanceof TransfusionError || e?.code?.startsWith('ERR_') || e?.code === 'ABORT_ERR') return e;  // already says what and where
  const why = e?.code === 'ENOSPC' ? 'no space left on the device' : e?.code === 'EACCES' || e?.code === 'EPERM' ? 'permission denied' : e?.code === 'EROFS' ? 'read-only file system' : (e?.message ?? String(err));
  return new TransfusionError('ERR_IO', `Cannot write ${file}: ${why}${e?.code ? ` (${e.code})` : ''}; its previous content, if any, is intact`);
}

/** Writes `data` to `file` so that readers see the old content or the new, never a torn file. Throws ERR_IO. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = tempPathFor(file);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw writeError(file, err);
  }
}

/** As writeFileAtomic, for a file another function writes (e.g. native weights): write to tmp, then rename. */
export async function produceAtomic(file: string, write: (tmp: string) => Promise<void>): Promise<void> {
  // The user's path is named, not the temporary file the writer opens beside it (issue 31).
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(dir)) throw new TransfusionError('ERR_IO', `Cannot write ${file}: its folder ${dir} does not exist (ENOENT)`);
  const tmp = tempPathFor(file);
  try {
    await write(tmp);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    const e = err as { code?: string; message?: string };
    if (e instanceof TransfusionError && e.message.includes(tmp)) throw new TransfusionError(e.code, e.message.split(tmp).join(file));
    throw writeError(file, err);
  }
}
