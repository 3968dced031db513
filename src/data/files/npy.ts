// The one .npy reader (and .npz, a zip of .npy arrays, as MedMNIST ships): what datasets hold (uint8 images, integer
// labels) and the float activations the similarity engine compares (similarity's readNpy).
import * as buffer from 'node:buffer';
import * as zlib from 'node:zlib';

import { TransfusionError } from '../../errors';
import { inflateBound } from '../../io/inflate';
import { displayPath } from '../../io/paths';

export type NpyData = Uint8Array | Int32Array | Float32Array | Float64Array | BigInt64Array | Int16Array | Uint16Array;

export interface NpyArray {
  data: NpyData;
  shape: number[];
  /** The header's dtype, e.g. "<f4". */
  dtype: string;
}

const bad = (where: string, why: string) => new TransfusionError('ERR_BAD_NPY', `${displayPath(where)}: ${why}`);

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

/**
 * The largest array (and zip member) a reader accepts, in bytes: what one Buffer can hold. Every size a header
 * declares is checked against it before anything is allocated or inflated.
 */
export const MAX_ARRAY_BYTES = buffer.constants.MAX_LENGTH;
/** numpy writes headers of a few hundred bytes (and reads at most 10,000 by default). */
const MAX_HEADER_BYTES = 1 << 16;

export interface ReadLimits {
  /** Largest array, zip member, or sum of an archive's members, in bytes (default MAX_ARRAY_BYTES). */
  maxBytes?: number;
  /** The dtypes this reader accepts (default: every one DTYPES knows), with their description for the error. */
  dtypes?: { accepted: string[]; described: string };
}

/** Which members of an .npz to read: the others are never inflated, and a missing one is refused before any is. */
export interface NpzSelection {
  /** Array names (without .npy) that must be there. */
  required: string[];
}

/** What an .npy header declares: where the data start and how many bytes they take. */
export interface NpyHeader {
  dtype: string;
  shape: number[];
  /** Elements: the product of the shape. */
  count: number;
  /** Offset of the data from the start of the file. */
  dataOffset: number;
  /** Bytes the data take: count x the dtype's size. */
  dataBytes: number;
  /** The data are in Fortran (column-major) order, as np.save(x.T) writes them. */
  fortran?: boolean;
}

/**
 * An array as .npy bytes (numpy's format 1.0, C order), the form parseNpy reads.
 * @param shape - The array's shape.
 * @param data - Its elements in C order.
 * @param descr - numpy's dtype string, e.g. "<f4", "|u1", "<i8".
 * @returns The file's bytes.
 */
export function encodeNpy(shape: readonly number[], data: ArrayBufferView, descr: string): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((header.length + 10) % 64)) + '\n';  // magic + version + length + header: a multiple of 64
  const head = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

/**
 * Parses an .npy header from the first bytes of a file; refuses a shape that is not a tuple of non-negative integers,
 * and one whose size is above `maxBytes`. Given a `prefix` of the file, returns undefined when the header runs past it.
 */
export function parseNpyHeader(bytes: Uint8Array, where: string, maxBytes?: number, prefix?: false, dtypes?: ReadLimits['dtypes']): NpyHeader;
export function parseNpyHeader(bytes: Uint8Array, where: string, maxBytes: number | undefined, prefix: true): NpyHeader | undefined;
export function parseNpyHeader(bytes: Uint8Array, where: string, maxBytes = MAX_ARRAY_BYTES, prefix = false, dtypes?: ReadLimits['dtypes']): NpyHeader | undefined {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) throw bad(where, 'not a .npy file (no \\x93NUMPY magic)');
  const major = bytes[6];
  if (major < 1 || major > 3) throw bad(where, `unsupported .npy format version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = major === 1 ? 10 : 12;
  if (bytes.length < start) throw bad(where, 'truncated inside its header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLength > MAX_HEADER_BYTES) throw bad(where, `header of ${headerLength} bytes (at most ${MAX_HEADER_BYTES})`);
  if (bytes.length < start + headerLength) {
    if (prefix) return undefined;
    throw bad(where, `truncated inside its header (${headerLength} bytes declared)`);
  }
  const header = Buffer.from(bytes.subarray(start, start + headerLength)).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw bad(where, `unreadable header ${JSON.stringify(displayPath(header.trim()))}`);
  const dtype = DTYPES[descr];
  // One message for every dtype refused, whichever check refuses it.
  if (!dtype || (dtypes && !dtypes.accepted.includes(descr)))
    throw bad(where, `dtype ${displayPath(descr)} is not supported (${dtypes?.described ?? 'uint8, bool, int16/32/64, uint16, float32/64, little-endian'})`);
  const parts = shapeText.split(',').map((s) => s.trim());
  if (parts.length > 1 && parts.at(-1) === '') parts.pop();  // "(3,)": a one-tuple's trailing comma
  if (parts.length === 1 && parts[0] === '') parts.pop();  // "()": a scalar
  if (parts.length > 32) throw bad(where, `shape has ${parts.length} dimensions (numpy allows 32)`);
  const dims = parts.map((p) => {
    if (!/^\d+L?$/.test(p)) throw bad(where, `shape (${displayPath(shapeText)}) has a dimension "${displayPath(p)}" that is not a non-negative integer`);
    return BigInt(p.replace(/L$/, ''));
  });
  // The size in BigInt: a product of dimensions cannot overflow unseen (every dimension is then a safe integer).
  const total = dims.reduce((a, d) => a * d, 1n) * BigInt(dtype.bytes);
  if (total > BigInt(maxBytes)) throw bad(where, `shape [${dims}] of ${descr} needs ${total} bytes, above the ${maxBytes} this reader accepts`);
  const shape = dims.map(Number);
  const dataBytes = Number(total);
  return { dtype: descr, shape, count: dataBytes / dtype.bytes, dataOffset: start + headerLength, dataBytes, ...(fortran === 'True' ? { fortran: true } : {}) };
}

/** A Fortran-order array's elements in C order (the last index fastest), for any number of dimensions. */
function toCOrder<T extends NpyData>(data: T, shape: number[]): T {
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const n = shape.length;
  const stride = new Array<number>(n);  // Fortran strides: the first index fastest
  for (let k = 0, s = 1; k < n; k++) {
    stride[k] = s;
    s *= shape[k];
  }
  const index = new Array<number>(n).fill(0);
  let from = 0;
  for (let i = 0; i < data.length; i++) {
    (out as unknown as number[])[i] = (data as unknown as number[])[from];
    for (let k = n - 1; k >= 0; k--) {  // the C-order odometer: the last index turns first
      index[k] += 1;
      from += stride[k];
      if (index[k] < shape[k]) break;
      from -= stride[k] * shape[k];
      index[k] = 0;
    }
  }
  return out;
}

/**
 * Parses one .npy file's bytes (format 1-3, little-endian or byte-sized dtypes, C or Fortran order, returned in C order);
 * `where` names it in errors.
 * The data must be exactly what the header's shape and dtype declare.
 */
export function parseNpy(bytes: Uint8Array, where: string, limits: ReadLimits = {}): NpyArray {
  const h = parseNpyHeader(bytes, where, limits.maxBytes, false, limits.dtypes);
  const have = bytes.length - h.dataOffset;
  if (have !== h.dataBytes)
    throw bad(where, `holds ${have} data bytes but its shape needs ${h.dataBytes}${have < h.dataBytes ? ' (truncated?)' : ''} (shape [${h.shape}] of ${h.dtype})`);
  const dtype = DTYPES[h.dtype];
  const at = bytes.byteOffset + h.dataOffset;
  let data: NpyData;
  if (at % dtype.bytes === 0) data = dtype.make(bytes.buffer as ArrayBuffer, at, h.count);
  else {
    // Copy into an aligned buffer of its own (typed arrays need aligned offsets).
    const copy = new Uint8Array(h.dataBytes);
    copy.set(bytes.subarray(h.dataOffset, h.dataOffset + h.dataBytes));
    data = dtype.make(copy.buffer, 0, h.count);
  }
  // np.save(x.T) writes Fortran order: read into C order, as numpy's np.load presents it (issue 31).
  return { data: h.fortran && h.shape.length > 1 ? toCOrder(data, h.shape) : data, shape: h.shape, dtype: h.dtype };
}

/** One member of a zip archive as its central directory describes it. */
interface ZipMember {
  name: string;
  method: number;
  crc: number;
  compressed: number;
  uncompressed: number;
  /** The member's bytes as stored (compressed or not). */
  raw: Uint8Array;
}

/** The members of a zip archive (stored or deflated), as .npz files are, without inflating them. */
function zipDirectory(bytes: Uint8Array, where: string): ZipMember[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const corrupt = (why: string) => bad(where, `corrupt zip archive (${why})`);
  // Every read is bounds-checked: a field pointing past the end is named, not a RangeError from DataView.
  const u16 = (at: number, what: string) => {
    if (at < 0 || at + 2 > bytes.length) throw corrupt(`${what} at offset ${at} is past the end of its ${bytes.length} bytes`);
    return view.getUint16(at, true);
  };
  const u32 = (at: number, what: string) => {
    if (at < 0 || at + 4 > bytes.length) throw corrupt(`${what} at offset ${at} is past the end of its ${bytes.length} bytes`);
    return view.getUint32(at, true);
  };
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--)
    if (view.getUint32(i, true) === 0x06054b50) {
      end = i;
      break;
    }
  if (end < 0) throw bad(where, 'not a zip archive (no end-of-central-directory record)');
  const entries = u16(end + 10, 'the entry count');
  const directorySize = u32(end + 12, 'the directory size');
  let at = u32(end + 16, 'the directory offset');
  if (at === 0xffffffff || entries === 0xffff) throw bad(where, 'zip64 archives are not supported');
  if (at + directorySize > end) throw corrupt(`central directory [${at}, ${at + directorySize}) overlaps its end record at ${end}`);
  const members: ZipMember[] = [];
  const names = new Set<string>();
  for (let k = 0; k < entries; k++) {
    if (u32(at, 'a directory entry') !== 0x02014b50) throw corrupt(`directory entry ${k} at offset ${at} has no signature`);
    const flags = u16(at + 8, 'flags'), method = u16(at + 10, 'the method'), crc = u32(at + 16, 'the CRC');
    const compressed = u32(at + 20, 'the compressed size'), uncompressed = u32(at + 24, 'the size');
    const nameLength = u16(at + 28, 'the name length'), extraLength = u16(at + 30, 'the extra length'), commentLength = u16(at + 32, 'the comment length');
    const local = u32(at + 42, 'the member offset');
    if (at + 46 + nameLength > bytes.length) throw corrupt(`directory entry ${k}'s name runs past the end`);
    const name = Buffer.from(bytes.subarray(at + 46, at + 46 + nameLength)).toString('utf8');
    const shown = displayPath(name);
    if (compressed === 0xffffffff || uncompressed === 0xffffffff || local === 0xffffffff) throw bad(where, `member ${shown}: zip64 members are not supported`);
    if (flags & 1) throw bad(where, `member ${shown} is encrypted`);
    if (names.has(name)) throw bad(where, `member ${shown} appears twice`);
    names.add(name);
    if (u32(local, `member ${shown}'s local header`) !== 0x04034b50) throw corrupt(`member ${shown}'s local header at offset ${local} has no signature`);
    const dataStart = local + 30 + u16(local + 26, 'a local name length') + u16(local + 28, 'a local extra length');
    if (dataStart + compressed > bytes.length) throw corrupt(`member ${shown}'s ${compressed} bytes at offset ${dataStart} run past the end of its ${bytes.length} bytes`);
    if (method !== 0 && method !== 8) throw bad(where, `member ${shown} uses compression method ${method} (only stored and deflate)`);
    if (method === 0 && compressed !== uncompressed) throw corrupt(`stored member ${shown} has sizes ${compressed} and ${uncompressed}`);
    members.push({ name, method, crc, compressed, uncompressed, raw: bytes.subarray(dataStart, dataStart + compressed) });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return members;
}

/**
 * A member's bytes, inflated to at most the size its directory entry declares (a deflate stream that would give
 * more is refused, not followed), and checked against that size and the CRC the archive records.
 */
function memberBytes(m: ZipMember, where: string): Uint8Array {
  const named = `member ${displayPath(m.name)}`;
  let out = m.raw;
  if (m.method === 8) {
    try {
      out = zlib.inflateRawSync(m.raw, { maxOutputLength: Math.max(1, m.uncompressed) });
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? `inflates to more than the ${m.uncompressed} bytes its directory entry declares` : `does not inflate (${(err as Error).message})`;
      throw bad(where, `${named} ${why}`);
    }
    if (out.length !== m.uncompressed) throw bad(where, `${named} inflates to ${out.length} bytes but its directory entry declares ${m.uncompressed}`);
  }
  if (zlib.crc32 && zlib.crc32(out) !== m.crc) throw bad(where, `${named} fails its CRC check (corrupt)`);
  return out;
}

/**
 * The members of a zip archive (stored or deflated), as .npz files are; `where` names the archive in errors. Nothing
 * is inflated until every member's declared size is known to be within `limits.maxBytes` in all.
 */
export function readZip(bytes: Uint8Array, where: string, limits: ReadLimits = {}): Map<string, Uint8Array> {
  const members = zipDirectory(bytes, where);
  checkTotal(members, where, limits.maxBytes ?? MAX_ARRAY_BYTES);
  return new Map(members.map((m) => [m.name, memberBytes(m, where)]));
}

function checkTotal(members: ZipMember[], where: string, maxBytes: number): void {
  for (const m of members)
    if (m.method === 8 && m.uncompressed > inflateBound(m.compressed))
      throw bad(where, `member ${displayPath(m.name)} declares ${m.uncompressed} bytes, more than its ${m.compressed} deflated bytes can hold (deflate inflates at most 1032x)`);
  const total = members.reduce((a, m) => a + m.uncompressed, 0);
  if (total > maxBytes) throw bad(where, `its members declare ${total} bytes in all, above the ${maxBytes} this reader accepts`);
}

/** The first bytes of a deflated member (enough for an .npy header), without inflating the rest. */
function memberPrefix(m: ZipMember): Uint8Array {
  if (m.method === 0) return m.raw.subarray(0, MAX_HEADER_BYTES + 16);
  try {
    // A prefix of the stream, flushed: at most 1032x its size comes out (deflate's largest ratio).
    return zlib.inflateRawSync(m.raw.subarray(0, 4096), { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: 8 << 20 });
  } catch {
    return new Uint8Array(0);  // a stream corrupt from its start: memberBytes names it
  }
}

/**
 * The arrays of an .npz archive by name (without ".npy"). Each member's .npy header is read from the first bytes of
 * its stream and must declare exactly the size its directory entry does before the member is inflated.
 */
export function parseNpz(bytes: Uint8Array, where: string, limits: ReadLimits = {}, select?: NpzSelection): Map<string, NpyArray> {
  const maxBytes = limits.maxBytes ?? MAX_ARRAY_BYTES;
  const all = zipDirectory(bytes, where);
  const arrayName = (m: { name: string }) => m.name.replace(/\.npy$/, '');
  // The names come from the central directory: a missing array is refused before anything is inflated.
  for (const key of select?.required ?? [])
    if (!all.some((m) => arrayName(m) === key))
      throw new TransfusionError('ERR_BAD_DATA', `${displayPath(where)}: no array "${key}" (has ${displayPath(all.map(arrayName).join(', ')) || 'none'})`);
  const members = select ? all.filter((m) => select.required.includes(arrayName(m))) : all;
  checkTotal(members, where, maxBytes);
  const out = new Map<string, NpyArray>();
  for (const m of members) {
    const named = `${where} (${displayPath(m.name)})`;
    const prefix = memberPrefix(m);
    if (prefix.length >= 12) {
      const h = parseNpyHeader(prefix, named, maxBytes, true);  // undefined: longer than the prefix, judged once whole
      if (h && h.dataOffset + h.dataBytes !== m.uncompressed)
        throw bad(named, `its header declares shape [${h.shape}] of ${h.dtype} (${h.dataOffset + h.dataBytes} bytes with the header) but the archive declares ${m.uncompressed} bytes`);
    }
    out.set(arrayName(m), parseNpy(memberBytes(m, where), named, { maxBytes }));
  }
  return out;
}

/** Any numeric array as plain numbers (labels). */
export function toNumbers(data: NpyData): number[] {
  return Object.prototype.toString.call(data) === '[object BigInt64Array]' ? Array.from(data as BigInt64Array, Number) : Array.from(data as ArrayLike<number>);
}
