// DICOM pixel semantics, from a frame's raw samples to values and display: BitsStored and signed PixelRepresentation
// (PS3.5 8.1.1), YBR colour to RGB (PS3.3 C.7.6.3.1.2), the Modality LUT (rescale or LUT, C.11.1), the VOI LUT
// (window with its LINEAR / LINEAR_EXACT / SIGMOID function, or a LUT, C.11.2), a percentile window where the file
// stores none, and MONOCHROME1 inverted. Pure functions of typed arrays; the reader supplies the attributes.
import type { DecodedFrame, FrameShape } from './dicom-codecs';

/** A Modality or VOI LUT: entries, the first stored value mapped, and bits per entry (LUT Descriptor). */
export interface Lut {
  first: number;
  data: Uint16Array;
  bits: number;
}

/** The Image Pixel module and the LUT attributes a frame's semantics need. */
export interface PixelModule extends FrameShape {
  bitsStored: number;
  /** PixelRepresentation 1: two's complement samples. */
  signed: boolean;
  photometric: string;
  /** PlanarConfiguration 1: colour samples by plane. */
  planar: boolean;
  frames: number;
  slope?: number;
  intercept?: number;
  modalityLut?: Lut;
  windows: { center: number; width: number }[];
  voiFunction: string;
  voiLut?: Lut;
}

/** Where the display window came from: the caller, the file (Window Center/Width or VOI LUT), or the percentiles. */
export type VoiSource =
  | { from: 'option' | 'file' | 'percentile'; center: number; width: number; function: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID' }
  | { from: 'lut'; entries: number; bits: number };

/** The percentiles the automatic window spans (of the frame's Modality LUT values). */
export const AUTO_WINDOW_PERCENTILES = [0.5, 99.5] as const;

/** Bytes of one native (uncompressed) frame: YBR_FULL_422 keeps two of every three samples; 1-bit data are packed. */
export function nativeFrameBits(m: PixelModule): number {
  const samples = m.photometric === 'YBR_FULL_422' ? m.rows * m.columns * 2 : m.rows * m.columns * m.samples;
  return samples * m.bitsAllocated;
}

/**
 * Frame `index` of native pixel data `bytes`, as raw unsigned samples interleaved by pixel (planar configuration
 * undone, YBR_FULL_422's shared chroma repeated). `bytes` must hold the frame (the reader checks every frame fits).
 */
export function nativeFrame(bytes: Uint8Array, index: number, m: PixelModule, bigEndian: boolean, wordSwapped: boolean): DecodedFrame {
  const pixels = m.rows * m.columns;
  const bitOffset = index * nativeFrameBits(m);
  if (m.bitsAllocated === 1) {
    // Packed bits, least significant first, frames continuing mid-byte (PS3.5 8.1.1).
    const out = new Uint8Array(pixels * m.samples);
    for (let i = 0; i < out.length; i++) {
      const bit = bitOffset + i;
      out[i] = (bytes[bit >> 3] >> (bit & 7)) & 1;
    }
    return { samples: out, planar: false, signed: false, precision: 1, colourConverted: false };
  }
  const bytesPer = m.bitsAllocated / 8;
  const start = bitOffset / 8;
  const count = nativeFrameBits(m) / m.bitsAllocated;
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, count * bytesPer);
  const raw = bytesPer === 1 ? new Uint8Array(count) : bytesPer === 2 ? new Uint16Array(count) : new Uint32Array(count);
  if (wordSwapped)
    // 8-bit samples in big-endian OW: bytes swapped in pairs counted from the element's start (not the frame's), the
    // last of an odd count paired with the element's padding byte (an element's length is even).
    for (let i = 0; i < count; i++) raw[i] = bytes[(start + i) ^ 1] ?? 0;
  else
    for (let i = 0; i < count; i++)
      raw[i] = bytesPer === 1 ? view.getUint8(i) : bytesPer === 2 ? view.getUint16(2 * i, !bigEndian) : view.getUint32(4 * i, !bigEndian);
  if (m.photometric === 'YBR_FULL_422') {
    // Y1 Y2 Cb Cr for each pair of pixels in a row -> Y Cb Cr per pixel.
    const out = new (raw.constructor as Uint8ArrayConstructor)(pixels * 3);
    for (let p = 0; p < pixels; p++) {
      const pair = p >> 1, q = 4 * pair;
      out[3 * p] = raw[q + (p & 1)];
      out[3 * p + 1] = raw[q + 2];
      out[3 * p + 2] = raw[q + 3];
    }
    return { samples: out, planar: false, signed: false, precision: m.bitsAllocated, colourConverted: false };
  }
  return { samples: raw, planar: m.samples > 1 && m.planar, signed: false, precision: m.bitsAllocated, colourConverted: false };
}

/**
 * The stored values of a decoded frame, interleaved (height, width, samples): bits above BitsStored cleared (they may
 * hold overlays), and two's complement from BitsStored where PixelRepresentation is 1. A codec that decoded signed
 * values (JPEG 2000) keeps them; an unsigned JPEG 2000 codestream in a signed data set is sign-extended from its own
 * precision, as pydicom's J2K correction does.
 */
export function storedValues(f: DecodedFrame, m: PixelModule): Float64Array {
  const pixels = m.rows * m.columns, samples = m.samples;
  const out = new Float64Array(pixels * samples);
  const bits = Math.min(f.precision, m.bitsStored);
  const range = 2 ** bits, half = range / 2;
  for (let p = 0; p < pixels; p++)
    for (let c = 0; c < samples; c++) {
      let v = f.samples[f.planar ? c * pixels + p : p * samples + c];
      if (!f.signed) {
        v = v % range;  // the low `bits` bits (exact for up to 32 bits, where & would turn signed)
        if (m.signed && v >= half) v -= range;
      }
      out[p * samples + c] = v;
    }
  return out;
}

/**
 * YBR_FULL (or YBR_FULL_422, already repeated) values to RGB in place, with PS3.3 C.7.6.3.1.2's equations, rounded
 * and clipped as pydicom's convert_color_space does; `max` is the samples' largest value (255 for 8 bits).
 */
export function ybrToRgb(values: Float64Array, max: number): void {
  const half = (max + 1) / 2;
  for (let i = 0; i < values.length; i += 3) {
    const y = values[i], cb = values[i + 1] - half, cr = values[i + 2] - half;
    const rgb = [y + 1.402 * cr, y - ((0.114 * 1.772) / 0.587) * cb - ((0.299 * 1.402) / 0.587) * cr, y + 1.772 * cb];
    for (let c = 0; c < 3; c++) values[i + c] = Math.min(max, Math.max(0, Math.floor(rgb[c] + 0.5)));
  }
}

function lookUp(lut: Lut, x: number): number {
  const i = Math.min(lut.data.length - 1, Math.max(0, Math.round(x) - lut.first));
  return lut.data[i];
}

/** The Modality LUT applied (grey frames): the LUT where the file has one, else RescaleSlope x value + RescaleIntercept. */
export function modalityValues(stored: Float64Array, m: PixelModule): Float64Array {
  if (m.modalityLut) return stored.map((x) => lookUp(m.modalityLut!, x));
  if (m.slope === undefined && m.intercept === undefined) return stored;
  const slope = m.slope ?? 1, intercept = m.intercept ?? 0;
  return stored.map((x) => x * slope + intercept);
}

/** The q-th percentile (0-100) of `values`, interpolated linearly between order statistics as numpy.percentile does. */
export function percentile(sorted: Float64Array, q: number): number {
  const at = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(at), hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/** The window spanning the automatic percentiles of `values` (a LINEAR_EXACT window, so it maps exactly [lo, hi] to [0, 1]). */
export function percentileWindow(values: Float64Array): { center: number; width: number } {
  const sorted = Float64Array.from(values).sort();
  const lo = percentile(sorted, AUTO_WINDOW_PERCENTILES[0]), hi = percentile(sorted, AUTO_WINDOW_PERCENTILES[1]);
  return { center: (lo + hi) / 2, width: hi - lo };
}

/**
 * Grey values for display in [0, 1]: the VOI transformation (PS3.3 C.11.2.1.2: LINEAR with its half-pixel offsets,
 * LINEAR_EXACT or SIGMOID; or a VOI LUT scaled by its entry depth), then MONOCHROME1 inverted (0 is white there).
 * A window of zero width (a flat image's percentiles) thresholds at its centre.
 */
export function displayGrey(values: Float64Array, m: PixelModule, voi: VoiSource): Float32Array {
  const out = new Float32Array(values.length);
  if (voi.from === 'lut') {
    const top = 2 ** voi.bits - 1;
    for (let i = 0; i < values.length; i++) out[i] = lookUp(m.voiLut!, values[i]) / top;
  } else {
    const { center, width } = voi;
    for (let i = 0; i < values.length; i++) {
      const x = values[i];
      let y: number;
      if (voi.function === 'SIGMOID') y = 1 / (1 + Math.exp((-4 * (x - center)) / width));
      else if (voi.function === 'LINEAR') {
        const c = center - 0.5, w = width - 1;
        y = x <= c - w / 2 ? 0 : x > c + w / 2 ? 1 : (x - c) / w + 0.5;
      } else y = width <= 0 ? (x > center ? 1 : 0) : x <= center - width / 2 ? 0 : x > center + width / 2 ? 1 : (x - center) / width + 0.5;
      out[i] = y;
    }
  }
  if (m.photometric === 'MONOCHROME1') for (let i = 0; i < out.length; i++) out[i] = 1 - out[i];
  return out;
}

/**
 * The window a grey frame is displayed with: the caller's (`{center, width}`, or "auto" for the percentiles), else the
 * file's VOI LUT (preferred, as pydicom's apply_voi_lut does), else its first Window Center/Width, else the percentiles of the Modality LUT values.
 */
export function chooseVoi(values: Float64Array, m: PixelModule, option: { center: number; width: number } | 'auto' | undefined): VoiSource {
  const fn = (['LINEAR', 'LINEAR_EXACT', 'SIGMOID'].includes(m.voiFunction) ? m.voiFunction : 'LINEAR') as 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';
  if (option && option !== 'auto') return { from: 'option', ...option, function: fn === 'LINEAR' && option.width < 1 ? 'LINEAR_EXACT' : fn };
  if (option !== 'auto') {
    if (m.voiLut) return { from: 'lut', entries: m.voiLut.data.length, bits: m.voiLut.bits };
    const w = m.windows[0];
    if (w && Number.isFinite(w.center) && Number.isFinite(w.width) && w.width > 0 && !(fn === 'LINEAR' && w.width < 1)) return { from: 'file', ...w, function: fn };
  }
  return { from: 'percentile', ...percentileWindow(values), function: 'LINEAR_EXACT' };
}
