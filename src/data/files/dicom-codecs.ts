// DICOM transfer syntaxes and the decoders of their compressed frames: the cornerstone project's codecs from npm
// (Emscripten WebAssembly builds of libjpeg-turbo, CharLS and OpenJPEG; jpeg-lossless-decoder-js), each loaded once, on
// first use, in the thread that decodes; RLE by the PackBits segment decoder DICOM PS3.5 Annex G specifies exactly.
// A codec allocates what a codestream's header asks for, so every header is checked against the data set's
// rows x columns x samples (and a frame-size cap) before the codec decodes.

/** How a transfer syntax's pixel data are held. */
export type Encoding = 'native' | 'rle' | 'jpeg' | 'jpeg-lossless' | 'jpeg-ls' | 'jpeg2000';

/** Every transfer syntax named in errors; those with an encoding are decoded here. */
export const TRANSFER_SYNTAXES: Record<string, { name: string; encoding?: Encoding; bigEndian?: boolean }> = {
  '1.2.840.10008.1.2': { name: 'Implicit VR Little Endian', encoding: 'native' },
  '1.2.840.10008.1.2.1': { name: 'Explicit VR Little Endian', encoding: 'native' },
  '1.2.840.10008.1.2.1.99': { name: 'Deflated Explicit VR Little Endian', encoding: 'native' },
  '1.2.840.10008.1.2.2': { name: 'Explicit VR Big Endian', encoding: 'native', bigEndian: true },
  '1.2.840.10008.1.2.5': { name: 'RLE Lossless', encoding: 'rle' },
  '1.2.840.10008.1.2.4.50': { name: 'JPEG Baseline (Process 1)', encoding: 'jpeg' },
  '1.2.840.10008.1.2.4.51': { name: 'JPEG Extended (Process 2 & 4)', encoding: 'jpeg' },
  '1.2.840.10008.1.2.4.57': { name: 'JPEG Lossless, Non-Hierarchical (Process 14)', encoding: 'jpeg-lossless' },
  '1.2.840.10008.1.2.4.70': { name: 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14, SV1)', encoding: 'jpeg-lossless' },
  '1.2.840.10008.1.2.4.80': { name: 'JPEG-LS Lossless', encoding: 'jpeg-ls' },
  '1.2.840.10008.1.2.4.81': { name: 'JPEG-LS Near-Lossless', encoding: 'jpeg-ls' },
  '1.2.840.10008.1.2.4.90': { name: 'JPEG 2000 (Lossless Only)', encoding: 'jpeg2000' },
  '1.2.840.10008.1.2.4.91': { name: 'JPEG 2000', encoding: 'jpeg2000' },
  '1.2.840.10008.1.2.4.92': { name: 'JPEG 2000 Part 2 Multi-component (Lossless Only)' },
  '1.2.840.10008.1.2.4.93': { name: 'JPEG 2000 Part 2 Multi-component' },
  '1.2.840.10008.1.2.4.201': { name: 'High-Throughput JPEG 2000 (Lossless Only)' },
  '1.2.840.10008.1.2.4.202': { name: 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)' },
  '1.2.840.10008.1.2.4.203': { name: 'High-Throughput JPEG 2000' },
  '1.2.840.10008.1.2.4.52': { name: 'JPEG Extended (Process 3 & 5, retired)' },
  '1.2.840.10008.1.2.4.53': { name: 'JPEG Spectral Selection, Non-Hierarchical (retired)' },
  '1.2.840.10008.1.2.4.55': { name: 'JPEG Full Progression, Non-Hierarchical (retired)' },
  '1.2.840.10008.1.2.4.100': { name: 'MPEG2 Main Profile / Main Level' },
  '1.2.840.10008.1.2.4.101': { name: 'MPEG2 Main Profile / High Level' },
  '1.2.840.10008.1.2.4.102': { name: 'MPEG-4 AVC/H.264 High Profile / Level 4.1' },
  '1.2.840.10008.1.2.4.103': { name: 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1' },
  '1.2.840.10008.1.2.4.104': { name: 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video' },
  '1.2.840.10008.1.2.4.106': { name: 'MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2' },
  '1.2.840.10008.1.2.4.107': { name: 'HEVC/H.265 Main Profile / Level 5.1' },
  '1.2.840.10008.1.2.4.108': { name: 'HEVC/H.265 Main 10 Profile / Level 5.1' },
  '1.2.840.10008.1.2.4.94': { name: 'JPIP Referenced' },
  '1.2.840.10008.1.2.4.95': { name: 'JPIP Referenced Deflate' },
};

/** What to do about a syntax no codec here decodes: transcode it with a DICOM toolkit to one that is. */
export const TRANSCODE_HINT =
  'transcode it to an uncompressed syntax first, e.g. `dcmdjpeg in.dcm out.dcm` or `dcmconv +te in.dcm out.dcm` ' +
  '(apt-get install dcmtk) or `gdcmconv --raw in.dcm out.dcm` (apt-get install libgdcm-tools)';

/** A decoded frame's largest size in bytes (a 16384 x 16384 16-bit grey image): a crafted codestream header cannot ask for more. */
export const MAX_FRAME_BYTES = 2 ** 29;

/** What the data set says a frame holds; a codestream must agree. */
export interface FrameShape {
  rows: number;
  columns: number;
  samples: number;
  bitsAllocated: number;
  /** Photometric Interpretation: RGB in a JPEG without JFIF or Adobe markers means no colour transform (PS3.5 8.2.1). */
  photometric?: string;
}

/** A decoded frame: one unsigned (or, where the codec says so, signed) integer per sample, interleaved by pixel. */
export interface DecodedFrame {
  samples: Uint8Array | Uint16Array | Int16Array | Uint32Array;
  /** Whether the samples are planar (all of sample 0, then sample 1...: RLE) rather than interleaved by pixel. */
  planar: boolean;
  /** Whether the codec produced signed values (JPEG 2000 with signed components); else they are raw bit patterns. */
  signed: boolean;
  /** Bits per sample in the codestream (may differ from BitsStored). */
  precision: number;
  /** Whether the codec already turned the stream's YCbCr into RGB (JPEG's and JPEG 2000's own colour transforms). */
  colourConverted: boolean;
}

class CodecError extends Error {}

interface FrameInfo { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned: boolean }
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  readHeader?(): void;
  decode(): void;
  getFrameInfo(): FrameInfo;
  delete(): void;
}
type WasmModule = Record<string, new () => WasmDecoder>;
type Factory = (o: { print: (s: string) => void; printErr: (s: string) => void }) => Promise<WasmModule>;

const WASM_CODECS = {
  jpeg: { pkg: '@cornerstonejs/codec-libjpeg-turbo-8bit', version: '1.2.8', decoder: 'JPEGDecoder' },
  'jpeg-ls': { pkg: '@cornerstonejs/codec-charls', version: '1.2.7', decoder: 'JpegLSDecoder' },
  jpeg2000: { pkg: '@cornerstonejs/codec-openjpeg', version: '1.3.6', decoder: 'J2KDecoder' },
} as const;

const loaded = new Map<string, Promise<WasmModule>>();

/** The npm package a syntax's codec comes from, and the command that installs it, for errors. */
export function codecPackage(encoding: Encoding): string | undefined {
  if (encoding === 'jpeg-lossless') return 'jpeg-lossless-decoder-js@2.1.2';
  const c = (WASM_CODECS as Record<string, { pkg: string; version: string }>)[encoding];
  return c && `${c.pkg}@${c.version}`;
}

function missing(encoding: Encoding, err: unknown): CodecError {
  return new CodecError(`its codec did not load (${(err as Error).message}); npm install ${codecPackage(encoding)}`);
}

/** The WebAssembly module of `encoding`'s codec: instantiated on first use, once per thread. */
function wasmModule(encoding: keyof typeof WASM_CODECS): Promise<WasmModule> {
  let m = loaded.get(encoding);
  if (!m) {
    m = (async () => {
      const c = WASM_CODECS[encoding];
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const factory = require(`${c.pkg}/decodewasmjs`) as Factory | { default: Factory };
        // OpenJPEG logs to stdout; a library in someone else's process prints nothing.
        return await (typeof factory === 'function' ? factory : factory.default)({ print: () => {}, printErr: () => {} });
      } catch (err) {
        throw missing(encoding, err);
      }
    })();
    m.catch(() => loaded.delete(encoding));  // a failed load is retried next time, not cached
    loaded.set(encoding, m);
  }
  return m;
}

function checkShape(what: string, got: { width: number; height: number; components: number }, shape: FrameShape): void {
  if (got.width !== shape.columns || got.height !== shape.rows || got.components !== shape.samples)
    throw new CodecError(`the ${what} codestream holds ${got.width}x${got.height}x${got.components} but the data set says ${shape.columns}x${shape.rows}x${shape.samples} (columns x rows x samples)`);
}

/**
 * The frame header of a JPEG or JPEG-LS codestream (the first SOFn or SOF55 marker), read without decoding, so the
 * size a decoder would allocate is known first.
 */
export function jpegFrameHeader(bytes: Uint8Array): { precision: number; width: number; height: number; components: number } {
  let at = 2;
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new CodecError('the frame is not a JPEG codestream (no SOI marker)');
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw new CodecError(`a JPEG marker was expected at byte ${at} of the frame`);
    const marker = bytes[at + 1];
    if (marker === 0xff) { at++; continue; }  // fill byte
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    const sof = (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) || marker === 0xf7;
    if (sof) {
      if (at + 10 > bytes.length) break;
      return { precision: bytes[at + 4], height: (bytes[at + 5] << 8) | bytes[at + 6], width: (bytes[at + 7] << 8) | bytes[at + 8], components: bytes[at + 9] };
    }
    if (marker === 0xda || length < 2) break;  // start of scan before any frame header
    at += 2 + length;
  }
  throw new CodecError('the JPEG codestream has no frame header (SOF marker)');
}

/**
 * The image size of a JPEG 2000 codestream (its SIZ marker segment, PS 15444-1 A.5.1), read without decoding; a JP2
 * file's codestream is found after its boxes.
 */
export function j2kSize(bytes: Uint8Array): { width: number; height: number; components: number } {
  let at = 0;
  for (; at + 1 < Math.min(bytes.length, 4096); at++) if (bytes[at] === 0xff && bytes[at + 1] === 0x4f && bytes[at + 2] === 0xff && bytes[at + 3] === 0x51) break;
  if (at + 40 > bytes.length) throw new CodecError('the frame is not a JPEG 2000 codestream (no SOC and SIZ markers)');
  const v = new DataView(bytes.buffer, bytes.byteOffset + at + 4);
  const u32 = (o: number) => v.getUint32(o, false);
  return { width: u32(4) - u32(12), height: u32(8) - u32(16), components: v.getUint16(36, false) };
}

/**
 * `bytes` with an Adobe APP14 segment saying "no colour transform" after SOI, when the stream has neither a JFIF (APP0)
 * nor an Adobe (APP14) marker: libjpeg would otherwise take three components for YCbCr, where DICOM's RGB says the
 * samples are RGB as stored (as GDCM and DCMTK read them). Otherwise `bytes` as they are.
 */
export function withoutColourTransform(bytes: Uint8Array): Uint8Array {
  for (let at = 2; at + 4 <= bytes.length && bytes[at] === 0xff;) {
    const marker = bytes[at + 1];
    if (marker === 0xe0 || marker === 0xee) return bytes;
    if (marker === 0xda) break;
    at += 2 + ((bytes[at + 2] << 8) | bytes[at + 3]);
  }
  // FF EE, length 14, "Adobe", version 100, flags0 0, flags1 0, transform 0 (none).
  const app14 = [0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00];
  const out = new Uint8Array(bytes.length + app14.length);
  out.set(bytes.subarray(0, 2));
  out.set(app14, 2);
  out.set(bytes.subarray(2), 2 + app14.length);
  return out;
}

async function decodeWasm(encoding: keyof typeof WASM_CODECS, bytes: Uint8Array, shape: FrameShape): Promise<DecodedFrame> {
  const what = encoding === 'jpeg' ? 'JPEG' : encoding === 'jpeg-ls' ? 'JPEG-LS' : 'JPEG 2000';
  if (encoding === 'jpeg2000') checkShape(what, j2kSize(bytes), shape);
  else {
    // The size each decoder will allocate, read from the codestream's header before it does.
    const h = jpegFrameHeader(bytes);
    checkShape(what, h, shape);
    if (encoding === 'jpeg' && h.precision > 8)
      throw new CodecError(`the JPEG codestream has ${h.precision}-bit samples (JPEG Extended, 12-bit); ${WASM_CODECS.jpeg.pkg} decodes 8-bit JPEG only: ${TRANSCODE_HINT}`);
  }
  if (encoding === 'jpeg' && shape.samples === 3 && shape.photometric === 'RGB') bytes = withoutColourTransform(bytes);
  const Decoder = (await wasmModule(encoding))[WASM_CODECS[encoding].decoder];
  const decoder = new Decoder();
  try {
    decoder.getEncodedBuffer(bytes.length).set(bytes);
    try {
      decoder.decode();
    } catch (err) {
      // Emscripten throws numbers (a C++ exception's address) or strings.
      throw new CodecError(`the ${what} decoder failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    const info = decoder.getFrameInfo();
    checkShape(what, { width: info.width, height: info.height, components: info.componentCount }, shape);
    const out = decoder.getDecodedBuffer();
    const wide = info.bitsPerSample > 8;
    const expected = info.width * info.height * info.componentCount * (wide ? 2 : 1);
    if (out.length < expected) throw new CodecError(`the ${what} decoder returned ${out.length} bytes for a ${info.width}x${info.height}x${info.componentCount} frame`);
    // Copy out of WebAssembly memory (the decoder's delete() frees it).
    const copy = new Uint8Array(expected);
    copy.set(out.subarray(0, expected));
    const samples = !wide ? copy : info.isSigned && encoding === 'jpeg2000' ? new Int16Array(copy.buffer) : new Uint16Array(copy.buffer);
    return { samples, planar: false, signed: encoding === 'jpeg2000' && info.isSigned, precision: info.bitsPerSample, colourConverted: encoding === 'jpeg' || encoding === 'jpeg2000' };
  } finally {
    decoder.delete();
  }
}

function decodeJpegLossless(bytes: Uint8Array, shape: FrameShape): DecodedFrame {
  const h = jpegFrameHeader(bytes);
  checkShape('JPEG Lossless', h, shape);
  let Decoder: new () => { decode(buffer: ArrayBuffer, offset: number, length: number, numBytes: number): Uint8Array | Uint16Array };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    Decoder = (require('jpeg-lossless-decoder-js') as { Decoder: typeof Decoder }).Decoder;
  } catch (err) {
    throw missing('jpeg-lossless', err);
  }
  const numBytes = h.precision > 8 ? 2 : 1;
  let out: Uint8Array | Uint16Array;
  try {
    out = new Decoder().decode(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length, numBytes);
  } catch (err) {
    throw new CodecError(`the JPEG Lossless decoder failed: ${(err as Error).message}`);
  }
  const expected = h.width * h.height * h.components;
  if (!out || out.length < expected) throw new CodecError(`the JPEG Lossless decoder returned ${out?.length ?? 0} samples for a ${h.width}x${h.height}x${h.components} frame`);
  return { samples: out.subarray(0, expected), planar: false, signed: false, precision: h.precision, colourConverted: false };
}

/**
 * An RLE Lossless frame (DICOM PS3.5 Annex G): a 64-byte header of 15 segment offsets, then one PackBits segment per
 * byte of each sample (most significant byte first), each decoding to exactly rows x columns bytes. Returns the
 * samples planar (all of sample 0, then sample 1...), as RLE holds them.
 */
export function decodeRle(bytes: Uint8Array, shape: FrameShape): DecodedFrame {
  const bytesPer = shape.bitsAllocated / 8;
  if (!Number.isInteger(bytesPer) || bytesPer > 4) throw new CodecError(`RLE with ${shape.bitsAllocated} bits allocated is not supported (8, 16 or 32)`);
  if (bytes.length < 64) throw new CodecError(`the RLE frame is ${bytes.length} bytes, shorter than its 64-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const segments = view.getUint32(0, true);
  const want = shape.samples * bytesPer;
  if (segments !== want) throw new CodecError(`the RLE header lists ${segments} segments; ${shape.samples} samples of ${bytesPer} bytes need ${want}`);
  const pixels = shape.rows * shape.columns;
  const planes = new Uint8Array(pixels * want);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : bytes.length;
    if (start < 64 || end > bytes.length || start > end) throw new CodecError(`RLE segment ${s} lies at bytes ${start}-${end}, outside the ${bytes.length}-byte frame`);
    const out = planes.subarray(s * pixels, (s + 1) * pixels);
    let o = 0, i = start;
    while (i < end && o < pixels) {
      const n = (bytes[i++] << 24) >> 24;  // signed header byte
      if (n >= 0) {
        const count = Math.min(n + 1, end - i, pixels - o);
        out.set(bytes.subarray(i, i + count), o);
        o += count;
        i += n + 1;
      } else if (n !== -128) {
        if (i >= end) break;
        const count = Math.min(1 - n, pixels - o);
        out.fill(bytes[i++], o, o + count);
        o += count;
      }
    }
    if (o < pixels) throw new CodecError(`RLE segment ${s} decodes to ${o} bytes, the frame needs ${pixels}`);
  }
  // Reassemble each sample from its byte planes (most significant first): planar samples of bitsAllocated bits.
  if (bytesPer === 1) return { samples: planes, planar: true, signed: false, precision: 8, colourConverted: false };
  const n = pixels * shape.samples;
  const samples = bytesPer === 2 ? new Uint16Array(n) : new Uint32Array(n);
  for (let c = 0; c < shape.samples; c++)
    for (let p = 0; p < pixels; p++) {
      let v = 0;
      for (let b = 0; b < bytesPer; b++) v = v * 256 + planes[(c * bytesPer + b) * pixels + p];
      samples[c * pixels + p] = v;
    }
  return { samples, planar: true, signed: false, precision: shape.bitsAllocated, colourConverted: false };
}

/**
 * Decodes one compressed frame of `encoding`. Throws CodecError (the reader adds the file and syntax) when the
 * codestream disagrees with `shape`, is corrupt, or its codec is not installed.
 */
export async function decodeFrame(encoding: Exclude<Encoding, 'native'>, bytes: Uint8Array, shape: FrameShape): Promise<DecodedFrame> {
  const frameBytes = shape.rows * shape.columns * shape.samples * Math.ceil(shape.bitsAllocated / 8);
  if (frameBytes > MAX_FRAME_BYTES) throw new CodecError(`a frame of ${shape.columns}x${shape.rows}x${shape.samples} at ${shape.bitsAllocated} bits is ${frameBytes} bytes, above the ${MAX_FRAME_BYTES} this reader decodes`);
  switch (encoding) {
    case 'rle': return decodeRle(bytes, shape);
    case 'jpeg-lossless': return decodeJpegLossless(bytes, shape);
    default: return decodeWasm(encoding, bytes, shape);
  }
}

export { CodecError };
