// The one .npy reader (and .npz, a zip of .npy arrays, as MedMNIST ships): what datasets hold (uint8 images, integer
// labels) and the float activations the similarity engine compares (similarity's readNpy).
import * as zlib from 'node:zlib';

import { TransfusionError } from '../../errors';

export type NpyData = Uint8Array | Int32Array | Float32Array | Float64Array | BigInt64Array | Int16Array | Uint16Array;

export interface NpyArray {
  data: NpyData;
  shape: number[];
  /** The header's dtype, e.g. "<f4". */
  dtype: string;
}

const bad = (where: string, why: string) => new TransfusionError('ERR_BAD_NPY', `${where}: ${why}`);

const DTYPES: Record<string, { bytes: number; make: (b: ArrayBuffer, offset: number, n: number) => NpyData }> = {
  '|u1': { bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  '|b1': { bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  '<i2': { bytes: 2, make: (b, o, n) => new Int16Array(b, o, n) },
  '<u2': { bytes: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
  '<i4': { bytes: 4, make: (b, o, n) => new Int32Array(b, o, n) },
  '<i8': { bytes: 8, make: (b, o, n) => new BigInt64Array(b, o, n) },
  '<f4': { bytes: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  '<f8': { bytes: 8, make: (b, o, n) => new Float64Array(b, o, n) },
};

/** Parses one .npy file's bytes (format 1-3, little-endian or byte-sized dtypes, C order); `where` names it in errors. */
export function parseNpy(bytes: Uint8Array, where: string): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) throw bad(where, 'not a .npy file (no \\x93NUMPY magic)');
  const major = bytes[6];
  if (major < 1 || major > 3) throw bad(where, `unsupported .npy format version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = Buffer.from(bytes.subarray(start, start + headerLength)).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw bad(where, `unreadable header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') throw bad(where, 'Fortran-order arrays are not supported (save with C order)');
  const dtype = DTYPES[descr];
  if (!dtype) throw bad(where, `dtype ${descr} is not supported (uint8, bool, int16/32/64, uint16, float32/64, little-endian)`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLength;
  if (bytes.length - offset < count * dtype.bytes) throw bad(where, `holds ${bytes.length - offset} data bytes but its shape needs ${count * dtype.bytes} (truncated?)`);
  // Copy into an aligned buffer of its own (typed arrays need aligned offsets).
  const copy = new Uint8Array(count * dtype.bytes);
  copy.set(bytes.subarray(offset, offset + count * dtype.bytes));
  return { data: dtype.make(copy.buffer, 0, count), shape, dtype: descr };
}

/** The members of a zip archive (stored or deflated), as .npz files are; `where` names the archive in errors. */
export function readZip(bytes: Uint8Array, where: string): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--)
    if (view.getUint32(i, true) === 0x06054b50) {
      end = i;
      break;
    }
  if (end < 0) throw new TransfusionError('ERR_BAD_NPY', `${where}: not a zip archive (no end-of-central-directory record)`);
  const entries = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  if (at === 0xffffffff) throw new TransfusionError('ERR_BAD_NPY', `${where}: zip64 archives are not supported`);
  const out = new Map<string, Uint8Array>();
  for (let k = 0; k < entries; k++) {
    if (view.getUint32(at, true) !== 0x02014b50) throw new TransfusionError('ERR_BAD_NPY', `${where}: corrupt central directory`);
    const method = view.getUint16(at + 10, true);
    const compressed = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true), extraLength = view.getUint16(at + 30, true), commentLength = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = Buffer.from(bytes.subarray(at + 46, at + 46 + nameLength)).toString('utf8');
    const dataStart = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const raw = bytes.subarray(dataStart, dataStart + compressed);
    if (method === 0) out.set(name, raw);
    else if (method === 8) out.set(name, new Uint8Array(zlib.inflateRawSync(raw)));
    else throw new TransfusionError('ERR_BAD_NPY', `${where}: member ${name} uses compression method ${method} (only stored and deflate)`);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return out;
}

/** The arrays of an .npz archive by name (without ".npy"). */
export function parseNpz(bytes: Uint8Array, where: string): Map<string, NpyArray> {
  const out = new Map<string, NpyArray>();
  for (const [name, member] of readZip(bytes, where)) out.set(name.replace(/\.npy$/, ''), parseNpy(member, `${where} (${name})`));
  return out;
}

/** Any numeric array as plain numbers (labels). */
export function toNumbers(data: NpyData): number[] {
  return Object.prototype.toString.call(data) === '[object BigInt64Array]' ? Array.from(data as BigInt64Array, Number) : Array.from(data as ArrayLike<number>);
}
