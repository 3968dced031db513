// Decoding and resizing images for loaders with sharp (libvips): JPEG, PNG and the rest, on libvips' own threads, so
// the event loop keeps running; a bounded number in flight; grey images become three equal channels. Decoded, resized
// pixels are cached on disk (keyed by file, size, modification time and settings), so a second run skips decoding.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import sharp from 'sharp';

import { writeFileAtomic } from '../../io/atomic';

export interface ImageSettings {
  /** Square side the images are resized to (stretching, as the paper's fixed-size inputs). */
  size: number;
  /** Contrast: none, a global stretch to the full range (sharp normalise), or CLAHE (local histogram equalisation). */
  equalize?: 'none' | 'normalise' | 'clahe';
}

/** Where an image comes from: a file, or raw pixels a format holds (MedMNIST, Fashion-MNIST). */
export type ImageInput = { file: string } | { pixels: Uint8Array; width: number; height: number; channels: 1 | 3 };

export interface DecodeOptions {
  /** fail (default): the first bad image rejects, naming it; skip: bad images are left out and reported. */
  onBadImage?: 'fail' | 'skip';
  /** Decoded-pixel cache directory (default: none). */
  cacheDir?: string;
  /** Images decoded at once (default: 2 x cores). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface Decoded {
  /** (N, 3, size, size) RGB bytes, planar, for the images that decoded. */
  pixels: Uint8Array;
  /** Indices (into the inputs) that decoded, in order. */
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

function cacheKey(input: ImageInput, s: ImageSettings): string | undefined {
  if (!('file' in input)) return undefined;
  const stat = fs.statSync(input.file);
  return createHash('sha256').update(JSON.stringify([path.resolve(input.file), stat.size, stat.mtimeMs, s.size, s.equalize ?? 'none'])).digest('hex');
}

async function decodeOne(input: ImageInput, s: ImageSettings): Promise<Uint8Array> {
  let image =
    'file' in input
      ? sharp(input.file, { failOn: 'error' })
      : sharp(Buffer.from(input.pixels.buffer, input.pixels.byteOffset, input.pixels.byteLength), { raw: { width: input.width, height: input.height, channels: input.channels } });
  image = image.removeAlpha().resize(s.size, s.size, { fit: 'fill' });
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

/** Decodes every input at the settings' size; `where(i)` names input i in errors (file and row). */
export async function decodeImages(inputs: ImageInput[], settings: ImageSettings, where: (i: number) => string, o: DecodeOptions = {}): Promise<Decoded> {
  const plane = 3 * settings.size * settings.size;
  const results: (Uint8Array | null)[] = new Array(inputs.length).fill(null);
  const bad: Decoded['bad'] = [];
  const cacheDir = o.cacheDir ? path.join(o.cacheDir, 'decoded') : undefined;
  if (cacheDir) fs.mkdirSync(cacheDir, { recursive: true });
  let next = 0, done = 0;
  const worker = async () => {
    while (next < inputs.length) {
      const i = next++;
      if (o.signal?.aborted) throw Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
      const input = inputs[i];
      try {
        if ('file' in input && !fs.existsSync(input.file)) throw new Error(`no such file ${input.file}`);
        const key = cacheDir ? cacheKey(input, settings) : undefined;
        const cached = key ? path.join(cacheDir!, `${key}.rgb`) : undefined;
        if (cached && fs.existsSync(cached)) results[i] = new Uint8Array(fs.readFileSync(cached));
        else {
          results[i] = await decodeOne(input, settings);
          if (cached) writeFileAtomic(cached, results[i]!);
        }
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
  const kept = results.flatMap((r, i) => (r ? [i] : []));
  const pixels = new Uint8Array(kept.length * plane);
  kept.forEach((i, k) => pixels.set(results[i]!, k * plane));
  bad.sort((a, b) => a.index - b.index);
  return { pixels, kept, bad };
}

/** Planar RGB bytes -> float32 normalised with ImageNet's per-channel constants (what the models expect). */
export function normalise(pixels: Uint8Array, size: number): Float32Array {
  const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
  const plane = size * size;
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    const c = Math.floor(i / plane) % 3;
    out[i] = (pixels[i] / 255 - mean[c]) / std[c];
  }
  return out;
}
