// PNG encoding (8-bit RGB, no interlace) with Node's zlib, and the filter grids of Figure 5: conv1 filters as colour
// tiles, one panel per snapshot.

import * as zlib from 'node:zlib';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** An RGB image, row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  pixels: Uint8Array;
}

export function blankImage(width: number, height: number, grey = 255): RgbImage {
  return { width, height, pixels: new Uint8Array(width * height * 3).fill(grey) };
}

export function encodePng(image: RgbImage): Buffer {
  const { width, height, pixels } = image;
  if (pixels.length !== width * height * 3) throw new Error(`encodePng: ${pixels.length} bytes for a ${width}x${height} RGB image`);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);  // 8-bit, truecolour, deflate, adaptive filtering, no interlace
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;  // filter type "none"
    raw.set(pixels.subarray(y * width * 3, (y + 1) * width * 3), y * (width * 3 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** Conv filters (out, in, k, k) as float32, the first three input channels shown as RGB (one channel: grey). */
export interface FilterBank {
  data: Float32Array;
  shape: number[];
}

export interface FilterGridLayout {
  /** Filters shown per panel (the first ones), in rows of `columns`. */
  count: number;
  columns: number;
  /** Screen pixels per filter pixel. */
  scale: number;
  gap: number;
}

export const DEFAULT_FILTER_GRID: FilterGridLayout = { count: 32, columns: 8, scale: 5, gap: 2 };

function panelSize(bank: FilterBank, l: FilterGridLayout): { width: number; height: number } {
  const [out, , kh, kw] = bank.shape;
  const rows = Math.ceil(Math.min(l.count, out) / l.columns);
  return { width: l.columns * (kw * l.scale + l.gap) + l.gap, height: rows * (kh * l.scale + l.gap) + l.gap };
}

/**
 * Draws one panel of filters at (x0, y0): each filter scaled on its own to the full range around grey
 * (128 + 127 v / max|v|), so shape shows regardless of magnitude.
 */
function drawPanel(image: RgbImage, bank: FilterBank, x0: number, y0: number, l: FilterGridLayout): void {
  const [out, inChannels, kh, kw] = bank.shape;
  const per = inChannels * kh * kw;
  for (let f = 0; f < Math.min(l.count, out); f++) {
    const values = bank.data.subarray(f * per, (f + 1) * per);
    let peak = 0;
    for (const v of values) peak = Math.max(peak, Math.abs(v));
    const fx = x0 + l.gap + (f % l.columns) * (kw * l.scale + l.gap);
    const fy = y0 + l.gap + Math.floor(f / l.columns) * (kh * l.scale + l.gap);
    for (let y = 0; y < kh * l.scale; y++)
      for (let x = 0; x < kw * l.scale; x++) {
        const ky = Math.floor(y / l.scale), kx = Math.floor(x / l.scale);
        const at = ((fy + y) * image.width + fx + x) * 3;
        for (let c = 0; c < 3; c++) {
          const v = values[Math.min(c, inChannels - 1) * kh * kw + ky * kw + kx];
          image.pixels[at + c] = Math.round(128 + (peak > 0 ? (127 * v) / peak : 0));
        }
      }
  }
}

/**
 * A grid of panels (rows x columns of filter banks, all the same shape per row), separated by white margins: Figure 5
 * puts a model per row and (random init, random trained, pretrained init, pretrained trained) across.
 */
export function filterFigure(rows: FilterBank[][], layout: FilterGridLayout = DEFAULT_FILTER_GRID): RgbImage {
  const margin = 12;
  const sizes = rows.map((row) => row.map((b) => panelSize(b, layout)));
  const width = Math.max(...sizes.map((row) => row.reduce((w, s) => w + s.width + margin, margin)));
  const height = sizes.reduce((h, row) => h + Math.max(...row.map((s) => s.height)) + margin, margin);
  const image = blankImage(width, height);
  let y = margin;
  rows.forEach((row, r) => {
    let x = margin;
    row.forEach((bank, c) => {
      const s = sizes[r][c];
      for (let py = y; py < y + s.height; py++) image.pixels.fill(64, (py * width + x) * 3, (py * width + x + s.width) * 3);  // dark panel
      drawPanel(image, bank, x, y, layout);
      x += s.width + margin;
    });
    y += Math.max(...sizes[r].map((s) => s.height)) + margin;
  });
  return image;
}
