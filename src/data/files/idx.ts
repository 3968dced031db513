// Fashion-MNIST's idx files (LeCun's MNIST format): a header of dimensions, then unsigned bytes, gzipped or not.
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';

import { TransfusionError } from '../../errors';
import { inflateBound } from '../../io/inflate';
import { displayPath, readRegularFile } from '../../io/paths';

const fail = (message: string) => new TransfusionError('ERR_BAD_DATA', message);

/** An idx file's largest size, compressed or not: Fashion-MNIST's training images take 47 MB. */
export const MAX_IDX_BYTES = 2 ** 30;

/** What an idx header (magic 0, 0, type, dims; then one big-endian uint32 per dimension) declares; `bytes` may be a prefix. */
function idxHeader(bytes: Uint8Array, shown: string): { shape: number[]; dataOffset: number; total: number } {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08) throw fail(`${shown}: not an idx file of unsigned bytes`);
  const dims = bytes[3];
  const dataOffset = 4 + 4 * dims;
  if (dims === 0 || bytes.length < dataOffset) throw fail(`${shown}: truncated inside its header (${dims} dimensions)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i));
  // In BigInt: the product of up to 255 uint32 dimensions cannot overflow unseen.
  const total = shape.reduce((a, d) => a * BigInt(d), 1n) + BigInt(dataOffset);
  if (total > BigInt(MAX_IDX_BYTES)) throw fail(`${shown}: shape [${shape}] needs ${total} bytes, above the ${MAX_IDX_BYTES} this reader accepts`);
  return { shape, dataOffset, total: Number(total) };
}

/**
 * An idx file of unsigned bytes (gzipped or not). A gzipped one is inflated to at most the size its header declares
 * (read from the first bytes of the stream), so a small file cannot inflate without bound; the data must be exactly
 * the size its shape declares.
 */
export function readIdx(file: string): { data: Uint8Array; shape: number[] } {
  const candidates = [file, `${file}.gz`];
  const found = candidates.find((f) => fs.existsSync(f));
  if (!found) throw fail(`${displayPath(file)}(.gz): no such file`);
  const shown = displayPath(found);
  let bytes: Uint8Array = readRegularFile(found, 'ERR_BAD_DATA', MAX_IDX_BYTES);
  let header: ReturnType<typeof idxHeader>;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    let prefix: Uint8Array;
    try {
      prefix = zlib.gunzipSync(bytes.subarray(0, 1024), { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: 1 << 20 });
    } catch (err) {
      throw fail(`${shown}: not a readable gzip stream (${(err as Error).message})`);
    }
    header = idxHeader(prefix, shown);
    if (header.total > inflateBound(bytes.length))
      throw fail(`${shown}: its header (shape [${header.shape}]) declares ${header.total} bytes, more than its ${bytes.length} gzipped bytes can hold (deflate inflates at most 1032x)`);
    try {
      bytes = zlib.gunzipSync(bytes, { maxOutputLength: Math.max(1, header.total) });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw fail(`${shown}: inflates to more than the ${header.total} bytes its header (shape [${header.shape}]) declares`);
      throw fail(`${shown}: not a readable gzip stream (${(err as Error).message})`);
    }
  } else header = idxHeader(bytes, shown);
  const { shape, dataOffset, total } = header;
  if (bytes.length < total) throw fail(`${shown}: truncated (shape [${shape}] needs ${total - dataOffset} bytes of data)`);
  if (bytes.length > total) throw fail(`${shown}: ${bytes.length - total} bytes after the data its shape [${shape}] declares`);
  return { data: bytes.subarray(dataOffset, total), shape };
}
