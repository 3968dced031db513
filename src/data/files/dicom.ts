// Reading DICOM images: readDicom (one frame at full depth, its pixel semantics applied) and the 8-bit display pixels
// the image pipeline resizes. Decoding runs off the main thread, in a pool of worker_threads bounded to the cores
// (dicom-worker.ts), as sharp decodes other images on libvips' threads.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

import { TransfusionError, checkInteger, checkNumber, invalidArg, type ErrorCode } from '../../errors';
import { checkOptions, optionKeys } from '../../options';
import { checkPathText, displayPath } from '../../io/paths';
import type { DicomImage, DicomReadOptions } from './dicom-decode';
import type { DicomJob } from './dicom-worker';

export type { DicomImage, DicomReadOptions } from './dicom-decode';
export type { VoiSource } from './dicom-pixels';

const READ_KEYS = optionKeys<DicomReadOptions>()(['frame', 'window']);

/**
 * Whether `file` is a DICOM file: named `.dcm`, or holding "DICM" at byte 128 (the Part 10 preamble's end).
 * @param file A path.
 * @returns True for a DICOM file; false for anything else, including a file that cannot be read.
 */
export function isDicomFile(file: string): boolean {
  if (/\.dcm$/i.test(file)) return true;
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    if (!fs.fstatSync(fd).isFile()) return false;
    const head = Buffer.alloc(132);
    return fs.readSync(fd, head, 0, 132, 0) === 132 && head.toString('latin1', 128, 132) === 'DICM';
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Where the compiled worker is: beside this module in dist/, or, run from the TypeScript sources (jest), in dist/. */
function workerFile(): string {
  const beside = path.join(__dirname, 'dicom-worker.js');
  if (fs.existsSync(beside)) return beside;
  const built = path.resolve(__dirname, '..', '..', '..', 'dist', 'src', 'data', 'files', 'dicom-worker.js');
  if (fs.existsSync(built)) return built;
  throw new TransfusionError('ERR_BAD_IMAGE', `The DICOM decoding worker is not built (no ${beside} or ${built}): run npx tsc -p tsconfig.json`);
}

type Reply = { id: number; image?: DicomImage; pixels?: DisplayPixels; error?: { code?: string; message: string } };
interface Pending { job: DicomJob; resolve: (r: Reply) => void; reject: (e: Error) => void }

/**
 * Worker threads, at most one per core, started as jobs arrive; an idle worker does not keep the process alive, and a
 * worker that dies fails its job (naming the file) and is replaced by the next job.
 */
class DicomPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Pending>();
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private readonly size = Math.max(1, os.availableParallelism());

  run(file: string, options: DicomReadOptions, output: DicomJob['output']): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job: { id: this.nextId++, file, options, output }, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length) {
      let w = this.idle.pop();
      if (!w) {
        if (this.busy.size >= this.size) return;
        w = this.start();
      }
      const p = this.queue.shift()!;
      this.busy.set(w, p);
      w.ref();
      w.postMessage(p.job);
    }
  }

  private start(): Worker {
    const w = new Worker(workerFile());
    w.on('message', (reply: Reply) => {
      const p = this.busy.get(w);
      this.busy.delete(w);
      w.unref();
      this.idle.push(w);
      p?.resolve(reply);
      this.pump();
    });
    const fail = (err: Error) => {
      const p = this.busy.get(w);
      this.busy.delete(w);
      const i = this.idle.indexOf(w);
      if (i >= 0) this.idle.splice(i, 1);
      p?.reject(new TransfusionError('ERR_BAD_IMAGE', `${displayPath(p.job.file)}: the DICOM decoding worker failed (${err.message})`));
      this.pump();
    };
    w.on('error', fail);
    w.on('exit', (code) => { if (this.busy.has(w) || this.idle.includes(w)) fail(new Error(`exit code ${code}`)); });
    return w;
  }
}

let pool: DicomPool | undefined;

async function decodeInPool(file: string, options: DicomReadOptions, output: DicomJob['output']): Promise<Reply> {
  pool ??= new DicomPool();
  const reply = await pool.run(file, options, output);
  if (reply.error) {
    const shown = displayPath(file), { code, message } = reply.error;
    throw new TransfusionError((code as ErrorCode) ?? 'ERR_BAD_IMAGE', message.includes(shown) ? message : `${shown}: ${message}`);
  }
  return reply;
}

/**
 * Checks DICOM read options (`frame`, `window`) as readDicom and a study's `data.dicom` take them.
 * @param o The options, or undefined for the defaults.
 * @param fn Who takes them, for an unknown option ("readDicom()").
 * @param prefix Prefixed to each option's name in errors ("task.data.dicom." names `task.data.dicom.frame`).
 * @returns The options (an empty object for undefined).
 * @throws TransfusionError ERR_INVALID_ARG naming the option: an unknown one, a frame that is not an integer in
 *   [0, 65535], or a window that is neither "auto" nor `{ center, width }` with a positive width.
 */
export function checkDicomOptions(o: unknown, fn = 'readDicom()', prefix = ''): DicomReadOptions {
  const opts = checkOptions<DicomReadOptions>(fn, o, READ_KEYS, prefix ? prefix.slice(0, -1) : 'options') ?? {};
  if (opts.frame !== undefined) checkInteger(`${prefix}frame`, opts.frame, 0, 65535);
  const w = opts.window, expected = '"auto" or { center, width }';
  if (w !== undefined && w !== 'auto') {
    if (w === null || typeof w !== 'object' || Array.isArray(w)) throw invalidArg(`${prefix}window`, expected, w);
    for (const key of Object.keys(w)) if (key !== 'center' && key !== 'width') throw invalidArg(`${prefix}window`, expected, w);
    checkNumber(`${prefix}window.center`, w.center, -1e12, 1e12);
    checkNumber(`${prefix}window.width`, w.width, Number.MIN_VALUE, 1e12);
  }
  return opts;
}

/**
 * Reads one frame of a DICOM file at full depth, in a worker thread: stored values (BitsStored, sign), the Modality
 * LUT (grey), colour converted to RGB, and display values in [0, 1] (VOI window or LUT, MONOCHROME1 inverted).
 * Transfer syntaxes: implicit/explicit VR little endian, explicit big endian, deflate, RLE, JPEG baseline (8-bit),
 * JPEG lossless, JPEG-LS and JPEG 2000.
 * @param file A DICOM Part 10 file.
 * @param options `frame` (from 0, default 0) and `window` (`{ center, width }` in Modality LUT units, or "auto" for the
 *   0.5th-99.5th percentiles; by default the file's VOI LUT or window, else the percentiles).
 * @returns The frame: its size, channels (1 or 3), syntax, `stored`, `values`, `display` and the VOI applied.
 * @throws TransfusionError ERR_INVALID_ARG for a bad option; ERR_BAD_IMAGE naming the file for a file that is not
 *   DICOM, is truncated or malformed, holds no image, has a frame out of range, or a transfer syntax not supported here
 *   (its UID, its name and how to transcode it); ERR_IO when it cannot be read.
 */
export async function readDicom(file: string, options?: DicomReadOptions): Promise<DicomImage> {
  checkPathText('file', file);
  return (await decodeInPool(file, checkDicomOptions(options), 'full')).image!;
}

/** A DICOM frame's display pixels at 8 bits, interleaved, for sharp's raw input. */
export interface DisplayPixels { pixels: Uint8Array; width: number; height: number; channels: 1 | 3 }

/**
 * One frame of a DICOM file as 8-bit display pixels, decoded in a worker thread: what the image pipeline resizes and
 * normalises (a study's `data.dicom` chooses the frame and window).
 * @param file A DICOM Part 10 file.
 * @param options As readDicom's: `frame` (default 0) and `window` (default the file's, else the percentiles).
 * @returns Interleaved 8-bit pixels and their size.
 * @throws TransfusionError ERR_INVALID_ARG for a bad option; ERR_BAD_IMAGE or ERR_IO as readDicom.
 */
export async function readDicomDisplay8(file: string, options?: DicomReadOptions): Promise<DisplayPixels> {
  return (await decodeInPool(file, checkDicomOptions(options), 'display8')).pixels!;
}
