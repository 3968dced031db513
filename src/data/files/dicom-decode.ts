// One DICOM file to one frame's pixels, in the thread that calls it (the decoding worker): the data set parsed by
// dicom-parser (the cornerstone project's parser), the Image Pixel module read and checked against the bytes the file
// really holds, the chosen frame decoded (natively, or by its syntax's codec), then dicom-pixels' semantics.
import * as zlib from 'node:zlib';

import * as dicomParser from 'dicom-parser';

import { TransfusionError } from '../../errors';
import { displayPath, readRegularFile } from '../../io/paths';
import { CodecError, MAX_FRAME_BYTES, TRANSCODE_HINT, TRANSFER_SYNTAXES, decodeFrame, type DecodedFrame } from './dicom-codecs';
import { chooseVoi, displayGrey, modalityValues, nativeFrame, nativeFrameBits, storedValues, ybrToRgb, type Lut, type PixelModule, type VoiSource } from './dicom-pixels';

/** A DICOM file's largest size (a multi-frame study can be large; the pixel data must be held in memory at once). */
export const MAX_DICOM_BYTES = 1024 * 2 ** 20;

/** How readDicom reads a file. */
export interface DicomReadOptions {
  /** Which frame of a multi-frame file, from 0 (default 0). */
  frame?: number;
  /**
   * The display window of grey images: `{ center, width }` in Modality LUT units (Hounsfield units for CT) overrides
   * the file's, "auto" spans the 0.5th-99.5th percentiles of the frame; by default the file's VOI LUT or Window
   * Center/Width, else the percentiles. Colour images are not windowed.
   */
  window?: { center: number; width: number } | 'auto';
}

/** One frame of a DICOM image, at full depth, with what was applied to it. */
export interface DicomImage {
  width: number;
  height: number;
  /** 1 for MONOCHROME1/2 (and PALETTE COLOR indices, not mapped), 3 for RGB and YBR (converted to RGB). */
  channels: 1 | 3;
  /** The frame read (from 0) and how many the file holds. */
  frame: number;
  frames: number;
  transferSyntax: { uid: string; name: string };
  /** Photometric Interpretation as stored. */
  photometric: string;
  bitsStored: number;
  /** PixelRepresentation 1: two's complement stored values. */
  signed: boolean;
  /** Stored values, (height, width, channels) interleaved: BitsStored and sign applied; colour converted to RGB. */
  stored: Float64Array;
  /** Grey: the Modality LUT applied (RescaleSlope/Intercept or the LUT: Hounsfield units for CT). Colour: as `stored`. */
  values: Float64Array;
  /** For display, in [0, 1]: grey windowed by `voi` and MONOCHROME1 inverted; colour divided by 2^BitsStored - 1. */
  display: Float32Array;
  /** The VOI transformation applied to a grey image (absent for colour). */
  voi?: VoiSource;
}

const TAG = {
  transferSyntax: 'x00020010', samples: 'x00280002', photometric: 'x00280004', planar: 'x00280006', frames: 'x00280008',
  rows: 'x00280010', columns: 'x00280011', bitsAllocated: 'x00280100', bitsStored: 'x00280101', pixelRepresentation: 'x00280103',
  windowCenter: 'x00281050', windowWidth: 'x00281051', intercept: 'x00281052', slope: 'x00281053', voiFunction: 'x00281056',
  modalityLut: 'x00283000', voiLut: 'x00283010', lutDescriptor: 'x00283002', lutData: 'x00283006',
  pixelData: 'x7fe00010', floatPixelData: 'x7fe00008', doublePixelData: 'x7fe00009',
};

/** Messages of what dicom-parser throws: an Error, a string, or `{ exception, dataSet }`. */
function parserMessage(err: unknown): string {
  const inner = (err as { exception?: unknown } | null)?.exception ?? err;
  return String(inner instanceof Error ? inner.message : inner).replace(/^dicomParser[.:][A-Za-z0-9]+: /, '');
}

/**
 * Whether the data set after the file meta information starts with an Implicit VR element (no two-letter VR after
 * its tag) while the meta names an explicit syntax: a writer's mistake pydicom guesses around.
 */
function implicitBodyUnderExplicitMeta(bytes: Uint8Array): boolean {
  let uid: string | undefined;
  try {
    uid = dicomParser.readPart10Header(bytes).string(TAG.transferSyntax);
  } catch {
    return false;
  }
  if (!uid || uid === '1.2.840.10008.1.2') return false;
  if (bytes.length < 144 || bytes[132] !== 0x02 || bytes[133] !== 0x00 || bytes[134] !== 0x00 || bytes[135] !== 0x00) return false;
  const body = 144 + new DataView(bytes.buffer, bytes.byteOffset + 140, 4).getUint32(0, true);
  if (body + 6 > bytes.length) return false;
  const upper = (b: number) => b >= 0x41 && b <= 0x5a;
  return !(upper(bytes[body + 4]) && upper(bytes[body + 5]));
}

function readLut(item: dicomParser.DataSet | undefined, signed: boolean): Lut | undefined {
  const data = item?.elements[TAG.lutData];
  if (!item || !data || !item.elements[TAG.lutDescriptor]) return undefined;
  const count = item.uint16(TAG.lutDescriptor, 0) || 65536;
  let first = item.uint16(TAG.lutDescriptor, 1) ?? 0;
  if (signed && first > 32767) first -= 65536;  // US or SS by the pixel representation (PS3.3 C.11.1.1.1)
  const bits = item.uint16(TAG.lutDescriptor, 2) ?? 16;
  if (data.length < 2 * count) return undefined;
  const lut = new Uint16Array(count);
  for (let i = 0; i < count; i++) lut[i] = item.uint16(TAG.lutData, i) ?? 0;
  return { first, data: lut, bits };
}

function numbers(ds: dicomParser.DataSet, tag: string): number[] {
  const n = ds.numStringValues(tag) ?? 0;
  return Array.from({ length: n }, (_, i) => ds.floatString(tag, i) ?? NaN);
}

/** The Image Pixel module and LUTs, each value checked: a value the reader cannot honour is a named error. */
function pixelModule(ds: dicomParser.DataSet, bad: (why: string) => TransfusionError): PixelModule {
  const need = (tag: string, name: string) => {
    const v = ds.uint16(tag);
    if (v === undefined) throw bad(`it has no ${name} (${tag.slice(1, 5).toUpperCase()},${tag.slice(5).toUpperCase()})`);
    return v;
  };
  const rows = need(TAG.rows, 'Rows'), columns = need(TAG.columns, 'Columns');
  const samples = ds.uint16(TAG.samples) ?? 1, bitsAllocated = need(TAG.bitsAllocated, 'Bits Allocated');
  const bitsStored = ds.uint16(TAG.bitsStored) ?? bitsAllocated, signed = ds.uint16(TAG.pixelRepresentation) === 1;
  const photometric = (ds.string(TAG.photometric) ?? (samples === 3 ? 'RGB' : 'MONOCHROME2')).trim().toUpperCase();
  const frames = ds.intString(TAG.frames) ?? 1;
  if (rows === 0 || columns === 0) throw bad(`its image is ${columns}x${rows} pixels`);
  if (samples !== 1 && samples !== 3) throw bad(`it has ${samples} samples per pixel; 1 (grey) or 3 (colour) are read`);
  if (![1, 8, 16, 32].includes(bitsAllocated)) throw bad(`it has ${bitsAllocated} bits allocated; 1, 8, 16 or 32 are read`);
  if (bitsStored < 1 || bitsStored > bitsAllocated) throw bad(`it stores ${bitsStored} bits in ${bitsAllocated} allocated`);
  if (!Number.isInteger(frames) || frames < 1) throw bad(`its Number of Frames is ${frames}`);
  const colour = ['RGB', 'YBR_FULL', 'YBR_FULL_422', 'YBR_RCT', 'YBR_ICT', 'YBR_PARTIAL_420'];
  if (samples === 3 && !colour.includes(photometric)) throw bad(`its Photometric Interpretation ${photometric} with 3 samples is not one this reader converts (${colour.join(', ')})`);
  if (samples === 1 && !['MONOCHROME1', 'MONOCHROME2', 'PALETTE COLOR'].includes(photometric))
    throw bad(`its Photometric Interpretation ${photometric} with 1 sample is not MONOCHROME1, MONOCHROME2 or PALETTE COLOR`);
  const centers = numbers(ds, TAG.windowCenter), widths = numbers(ds, TAG.windowWidth);
  const item = (tag: string) => ds.elements[tag]?.items?.[0]?.dataSet;
  return {
    rows, columns, samples, bitsAllocated, bitsStored, signed, photometric, frames,
    planar: ds.uint16(TAG.planar) === 1,
    slope: ds.floatString(TAG.slope), intercept: ds.floatString(TAG.intercept),
    modalityLut: readLut(item(TAG.modalityLut), signed),
    windows: centers.map((center, i) => ({ center, width: widths[i] })).filter((w) => w.width !== undefined),
    voiFunction: (ds.string(TAG.voiFunction) ?? 'LINEAR').trim().toUpperCase(),
    voiLut: readLut(item(TAG.voiLut), signed),
  };
}

/** The compressed bytes of frame `index`: by the Basic Offset Table, one fragment per frame, or the JPEG EOI markers. */
function encapsulatedFrame(ds: dicomParser.DataSet, el: dicomParser.Element, index: number, frames: number, encoding: string): Uint8Array {
  const fragments = el.fragments ?? [];
  if (!fragments.length) throw new CodecError('its encapsulated pixel data hold no fragments');
  if (el.basicOffsetTable?.length) return dicomParser.readEncapsulatedImageFrame(ds, el, index);
  if (frames === 1) return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, fragments.length);
  if (fragments.length === frames) return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, index, 1);
  if (encoding === 'rle') throw new CodecError(`its RLE pixel data hold ${fragments.length} fragments for ${frames} frames (one each expected)`);
  return dicomParser.readEncapsulatedImageFrame(ds, el, index, dicomParser.createJPEGBasicOffsetTable(ds, el));
}

/**
 * Reads frame `o.frame` of DICOM file `file` in this thread (codecs loaded here on first use). Throws TransfusionError
 * ERR_BAD_IMAGE naming the file: not DICOM, truncated, no image, an unsupported syntax (its UID, its name, what to
 * do), a frame out of range, or pixel data shorter than the header's rows x columns x frames x samples x bits.
 */
export async function decodeDicom(file: string, o: DicomReadOptions = {}): Promise<DicomImage> {
  const shown = displayPath(file);
  const bad = (why: string) => new TransfusionError('ERR_BAD_IMAGE', `${shown}: ${why}`);
  const bytes = readRegularFile(file, 'ERR_BAD_IMAGE', MAX_DICOM_BYTES);
  let ds: dicomParser.DataSet;
  try {
    ds = dicomParser.parseDicom(bytes, {
      // Deflated data sets: inflated with a bound, so a small file cannot expand into gigabytes.
      inflater: ((all: Uint8Array, at: number) => {
        const inflated = zlib.inflateRawSync(all.subarray(at), { maxOutputLength: MAX_DICOM_BYTES });
        const whole = Buffer.alloc(at + inflated.length);
        whole.set(all.subarray(0, at));
        whole.set(inflated, at);
        return whole;
      }) as unknown as dicomParser.ParseDicomOptions['inflater'],
    });
  } catch (err) {
    const why = parserMessage(err);
    if (/DICM prefix not found/.test(why)) throw bad('not a DICOM Part 10 file (no "DICM" at byte 128, so no file meta information naming its transfer syntax)');
    if (/overrun|greater than or equal to 'byteArray' length|maxPosition/.test(why)) {
      if (implicitBodyUnderExplicitMeta(bytes))
        throw bad(`malformed: its file meta information says Explicit VR but its data set is encoded Implicit VR (${why})`);
      throw bad(`truncated or malformed: an element runs past the end of its ${bytes.length} bytes (${why})`);
    }
    throw bad(`not a readable DICOM file: ${why}`);
  }
  const uid = (ds.string(TAG.transferSyntax) ?? '').replace(/\0/g, '').trim();
  if (!uid) throw bad('its file meta information has no Transfer Syntax UID (0002,0010)');
  const syntax = TRANSFER_SYNTAXES[uid];
  const named = `transfer syntax ${uid}${syntax ? ` (${syntax.name})` : ''}`;
  if (!syntax?.encoding) throw bad(`${named} is not supported: no codec for it here; ${TRANSCODE_HINT}`);
  const el = ds.elements[TAG.pixelData];
  if (!el) {
    const other = ds.elements[TAG.floatPixelData] ? 'Float Pixel Data' : ds.elements[TAG.doublePixelData] ? 'Double Float Pixel Data' : undefined;
    throw bad(other ? `it holds ${other}, which this reader does not read` : 'it holds no image (no Pixel Data (7FE0,0010))');
  }
  if (el.dataOffset + (el.encapsulatedPixelData ? 0 : el.length) > ds.byteArray.length || ds.warnings.some((w) => /overrun|truncat|past the end/i.test(w)))
    throw bad(`it is truncated: its Pixel Data element claims ${el.length} bytes at byte ${el.dataOffset} of ${ds.byteArray.length}`);
  const m = pixelModule(ds, bad);
  const frame = o.frame ?? 0;
  if (frame >= m.frames) throw bad(`frame ${frame} was asked for but it holds ${m.frames} frame${m.frames === 1 ? '' : 's'} (counted from 0)`);
  let decoded: DecodedFrame;
  if (syntax.encoding === 'native') {
    if (el.encapsulatedPixelData) throw bad(`its pixel data are encapsulated but ${named} is uncompressed`);
    const frameBits = nativeFrameBits(m);
    const needed = Math.ceil((frameBits * m.frames) / 8);
    if (needed > el.length)
      throw bad(`its Pixel Data hold ${el.length} bytes but ${m.columns}x${m.rows} pixels x ${m.frames} frame${m.frames === 1 ? '' : 's'} x ${m.samples} sample${m.samples === 1 ? '' : 's'} x ${m.bitsAllocated} bits need ${needed}: the file is truncated or its header wrong`);
    const data = new Uint8Array(ds.byteArray.buffer, ds.byteArray.byteOffset + el.dataOffset, el.length);
    const wordSwapped = !!syntax.bigEndian && m.bitsAllocated === 8 && el.vr === 'OW';
    decoded = nativeFrame(data, frame, m, !!syntax.bigEndian, wordSwapped);
  } else {
    if (!el.encapsulatedPixelData) throw bad(`${named} needs encapsulated pixel data but its Pixel Data element has a defined length`);
    try {
      decoded = await decodeFrame(syntax.encoding, encapsulatedFrame(ds, el, frame, m.frames, syntax.encoding), m);
    } catch (err) {
      const why = err instanceof CodecError ? err.message : parserMessage(err);
      throw bad(`${named}, frame ${frame}: ${why}`);
    }
  }
  if (m.rows * m.columns * m.samples * 8 > MAX_FRAME_BYTES) throw bad(`a ${m.columns}x${m.rows}x${m.samples} frame is above the ${MAX_FRAME_BYTES / 8} samples this reader holds`);
  const stored = storedValues(decoded, m);
  const top = 2 ** Math.min(decoded.precision, m.bitsStored) - 1;
  if (m.samples === 3) {
    if (m.photometric.startsWith('YBR_FULL') && !decoded.colourConverted) ybrToRgb(stored, top);
    const display = Float32Array.from(stored, (v) => v / top);
    return base(m, uid, syntax.name, frame, stored, stored, display);
  }
  const values = modalityValues(stored, m);
  const voi = chooseVoi(values, m, o.window);
  return { ...base(m, uid, syntax.name, frame, stored, values, displayGrey(values, m, voi)), voi };
}

function base(m: PixelModule, uid: string, name: string, frame: number, stored: Float64Array, values: Float64Array, display: Float32Array): DicomImage {
  return {
    width: m.columns, height: m.rows, channels: m.samples as 1 | 3, frame, frames: m.frames, transferSyntax: { uid, name },
    photometric: m.photometric, bitsStored: m.bitsStored, signed: m.signed, stored, values, display,
  };
}
