// Decoding and resizing images for loaders with sharp (libvips): JPEG, PNG and the rest, on libvips' own threads, so
// the event loop keeps running; a bounded number in flight; grey images become three equal channels. DICOM files are
// decoded by dicom.ts in worker threads, the chosen frame windowed to 8 bits (the chosen window, else the file's, else
// its percentiles) first. The decoded, resized pixels go to a file the native side memory-maps (the loader caches it,
// so a second run skips decoding).
import * as fs from 'node:fs';
import * as os from 'node:os';


import { tempPathFor } from '../../io/atomic';
import { windowed16 } from './depth16';
import { checkRegularFile, displayPath } from '../../io/paths';
import { isDicomFile, readDicomDisplay8, type DicomReadOptions } from './dicom';

/**
 * An image file's largest size: a full-resolution EyePACS fundus photograph takes a few MB. Checked (with what the
 * file is: /dev/zero or a FIFO would grow memory or block the decoder) before the decoder opens it.
 */
export const MAX_IMAGE_BYTES = 512 * 2 ** 20;

export interface ImageSettings {
  /** Square side the images are resized to (stretching, as the paper's fixed-size inputs). */
  size: number;
  /** Contrast: none, a global stretch to the full range (sharp normalise), or CLAHE (local histogram equalisation). */
  equalize?: 'none' | 'normalise' | 'clahe';
  /** DICOM files: the frame and the display window (readDicom's options; by default frame 0 and the file's window). */
  dicom?: DicomReadOptions;
}

/** Where an image comes from: a file, or raw pixels a format holds (MedMNIST, Fashion-MNIST). */
export type ImageInput = { file: string } | { pixels: Uint8Array; width: number; height: number; channels: 1 | 3 };

export interface DecodeOptions {
  /** fail (default): the first bad image rejects, naming it; skip: bad images are left out and reported. */
  onBadImage?: 'fail' | 'skip';
  /** Images decoded at once (default: 2 x cores). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface Decoded {
  /** Indices (into the inputs) whose images are in the file, in row order. */
  kept: number[];
  /** Inputs that did not decode, with why (only with onBadImage "skip"). */
  bad: { index: number; reason: string }[];
}

export class BadImageError extends Error {
  readonly code = 'ERR_BAD_IMAGE';
  constructor(readonly where: string, reason: string) {
    super(`${where}: ${reason}`);
    this.name = 'BadImageError';
  }
}

async function decodeOne(input: ImageInput, s: ImageSettings): Promise<Uint8Array> {
  // DICOM: decoded in a worker thread (dicom.ts), its chosen frame windowed to 8-bit display pixels, then resized as raw
  // pixels are.
  if ('file' in input && isDicomFile(input.file)) input = await readDicomDisplay8(input.file, s.dicom);
  const bytes = 'file' in input ? checkRegularFile(input.file, 'ERR_BAD_IMAGE', MAX_IMAGE_BYTES) : 0;
  const { default: sharp } = await import('sharp');  // loaded with the first image, not with the package
  let image =
    'file' in input
      ? sharp(input.file, { failOn: 'error' })
      : sharp(Buffer.from(input.pixels.buffer, input.pixels.byteOffset, input.pixels.byteLength), { raw: { width: input.width, height: input.height, channels: input.channels } });
  // A file's header, read before any pixel (raw pixels in memory have none of these questions).
  const meta = 'file' in input ? await image.metadata() : undefined;
  if (meta) {
    // A JPEG codes the DC coefficient of every 8x8 block, at least one bit each, so it needs width x height / 512 bytes;
    // a file under half that cannot hold its pixels (a 694-byte file declaring 16000 x 16000 decoded to flat grey).
    const { format, width, height } = meta;
    if (format === 'jpeg' && width && height && bytes < (width * height) / 1024)
      throw new Error(`a JPEG declaring ${width}x${height} pixels in ${bytes} bytes, fewer than its 8x8 blocks need: truncated or crafted`);
    // Alpha is dropped before resizing, whose premultiplication would darken every pixel by its alpha (RGB 200, 60, 20
    // at alpha 10 came out 178, 51, 0; at alpha 0, black): the colour kept is the stored one, as PIL's convert('RGB').
    if (meta.hasAlpha && meta.depth !== 'ushort') {
      const rgb = await image.removeAlpha().raw().toBuffer({ resolveWithObject: true });
      image = sharp(rgb.data, { raw: { width: rgb.info.width, height: rgb.info.height, channels: rgb.info.channels } });
    }
  }
  image = image.removeAlpha().resize(s.size, s.size, { fit: 'fill' });
  // A 16-bit file (PadChest's PNGs): windowed from its 16-bit values (depth16.ts), not cut to its top 8 bits.
  if (meta?.depth === 'ushort') image = await windowed16(image, (meta.channels ?? 1) >= 3);
  if (s.equalize === 'normalise') image = image.normalise();
  else if (s.equalize === 'clahe') image = image.clahe({ width: Math.max(3, Math.round(s.size / 8)), height: Math.max(3, Math.round(s.size / 8)) });
  const { data, info } = await image.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== s.size || info.height !== s.size)
    throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}, expected ${s.size}x${s.size}x3`);
  // Interleaved RGB -> planar.
  const plane = s.size * s.size;
  const out = new Uint8Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[c * plane + p] = data[3 * p + c];
  return out;
}

/**
 * Decodes every input at the settings' size into `file`: one planar uint8 RGB row per image, in input order (the
 * native side maps it). Only a bounded number of images are in memory at once, so a dataset larger than memory decodes
 * too. Written to a temporary name and renamed, so `file` is whole or absent. `where(i)` names input i in errors.
 */
export async function decodeToFile(inputs: ImageInput[], settings: ImageSettings, file: string, where: (i: number) => string, o: DecodeOptions = {}): Promise<Decoded> {
  const rowBytes = 3 * settings.size * settings.size;
  const bad: Decoded['bad'] = [];
  const ok = new Uint8Array(inputs.length);
  const tmp = tempPathFor(file);
  const handle = await fs.promises.open(tmp, 'w+');
  try {
    let next = 0, done = 0;
    const worker = async () => {
      while (next < inputs.length) {
        const i = next++;
        if (o.signal?.aborted) throw Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
        const input = inputs[i];
        try {
          if ('file' in input && !fs.existsSync(input.file)) throw new Error(`no such file ${displayPath(input.file)}`);
          const row = await decodeOne(input, settings).catch((err: Error) => {
            // The decoder's message names no file: the reason names it, beside the row that names the item.
            throw 'file' in input && !err.message.includes(displayPath(input.file)) ? new Error(`${displayPath(input.file)}: ${err.message}`) : err;
          });
          await handle.write(row, 0, rowBytes, i * rowBytes);
          ok[i] = 1;
        } catch (err) {
          const reason = (err as Error).message;
          if ((o.onBadImage ?? 'fail') === 'fail') throw new BadImageError(where(i), `cannot read the image (${reason}); --on-bad-image skip leaves such images out and counts them`);
          bad.push({ index: i, reason });
        }
        o.onProgress?.(++done, inputs.length);
      }
    };
    const concurrency = Math.max(1, o.concurrency ?? 2 * os.availableParallelism());
    await Promise.all(Array.from({ length: Math.min(concurrency, inputs.length) }, worker));
    const kept = Array.from(ok).flatMap((v, i) => (v ? [i] : []));
    if (bad.length) {
      // Close the gaps the bad images left, row by row.
      const row = new Uint8Array(rowBytes);
      for (let k = 0; k < kept.length; k++) {
        if (kept[k] === k) continue;
        await handle.read(row, 0, rowBytes, kept[k] * rowBytes);
        await handle.write(row, 0, rowBytes, k * rowBytes);
      }
    }
    await handle.truncate(kept.length * rowBytes);
    await handle.close();
    fs.renameSync(tmp, file);
    bad.sort((a, b) => a.index - b.index);
    return { kept, bad };
  } catch (err) {
    await handle.close().catch(() => {});
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
