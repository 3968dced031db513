// PNG encoding of RGB images (by sharp, libvips' PNG writer) and the filter grids of Figure 5: conv1 filters as colour
// tiles, one panel per snapshot.

/** An RGB image, row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  pixels: Uint8Array;
}

export function blankImage(width: number, height: number, grey = 255): RgbImage {
  return { width, height, pixels: new Uint8Array(width * height * 3).fill(grey) };
}

/** The image as an 8-bit RGB PNG. */
export async function encodePng(image: RgbImage): Promise<Buffer> {
  const { width, height, pixels } = image;
  if (pixels.length !== width * height * 3) throw new Error(`encodePng: ${pixels.length} bytes for a ${width}x${height} RGB image`);
  const { default: sharp } = await import('sharp');  // loaded when a PNG is first written
  return sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), { raw: { width, height, channels: 3 } }).png().toBuffer();
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
const FILTER_MARGIN = 12;
const LABEL_BAND = 22;

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
  const margin = FILTER_MARGIN;
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

const escapeXml = (text: string) => text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

/**
 * One row of filter panels as a PNG, each panel's label centred in a band above it (drawn by sharp from SVG text, in
 * the figures' font): Figure 5 as the paper labels it.
 */
export async function labelledFilterPng(panels: (FilterBank & { label: string })[], layout: FilterGridLayout = DEFAULT_FILTER_GRID): Promise<Buffer> {
  const image = filterFigure([panels], layout);
  let x = FILTER_MARGIN;
  const texts = panels.map((p) => {
    const { width } = panelSize(p, layout);
    const text = `<text x="${x + width / 2}" y="${LABEL_BAND - 4}" text-anchor="middle">${escapeXml(p.label)}</text>`;
    x += width + FILTER_MARGIN;
    return text;
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${image.width}" height="${LABEL_BAND}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-size="12" fill="#222">${texts.join('')}</svg>`;
  const { default: sharp } = await import('sharp');
  const { pixels, width, height } = image;
  const { data, info } = await sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), { raw: { width, height, channels: 3 } })
    .extend({ top: LABEL_BAND, background: '#ffffff' })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .raw()
    .toBuffer({ resolveWithObject: true });
  // The composite comes back with alpha (all opaque): the figure stays RGB, as encodePng writes the others.
  return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } }).removeAlpha().png().toBuffer();
}
