// 16-bit images (PadChest's PNGs, 16-bit TIFFs) brought to 8 bits by a window over their own 16-bit values, not by
// keeping their top 8 bits: a radiograph stored in 12 of its 16 bits (values up to 4095) would otherwise become
// values 0-15, nearly black. The window is the images' 0.5th to 99.5th percentile (a stray burnt-in marker does not
// set it), the percentile fallback DICOM viewers use where no window is stored.
import type { Sharp } from 'sharp';

/** The percentiles (in %) the window spans. */
export const WINDOW_PERCENTILES = [0.5, 99.5] as const;

/**
 * The window of 16-bit `values`: the values at ranks floor(p/100 x (n - 1)) of the sorted values for p =
 * WINDOW_PERCENTILES (numpy's percentile with method "lower"), from a 65,536-bin histogram.
 * @param values - 16-bit samples (every channel of every pixel).
 * @returns [low, high]; equal for a flat image.
 */
export function percentileWindow(values: Uint16Array): [number, number] {
  const histogram = new Uint32Array(65536);
  for (const v of values) histogram[v]++;
  const at = (rank: number) => {
    let seen = 0;
    for (let v = 0; v < 65536; v++) if ((seen += histogram[v]) > rank) return v;
    return 65535;
  };
  const n = values.length;
  return [at(Math.floor((WINDOW_PERCENTILES[0] / 100) * (n - 1))), at(Math.floor((WINDOW_PERCENTILES[1] / 100) * (n - 1)))];
}

/**
 * 16-bit `values` mapped to 8 bits through [low, high]: round(255 x (v - low) / (high - low)), clamped to 0-255 (a
 * flat image, low = high, becomes 0).
 * @param values - 16-bit samples.
 * @param window - [low, high] from {@link percentileWindow}.
 * @returns The 8-bit samples, in the same order.
 */
export function applyWindow(values: Uint16Array, [low, high]: [number, number]): Uint8Array {
  const out = new Uint8Array(values.length);
  if (high <= low) return out;
  const scale = 255 / (high - low);
  for (let i = 0; i < values.length; i++) out[i] = Math.min(255, Math.max(0, Math.round((values[i] - low) * scale)));
  return out;
}

/**
 * `image` (a 16-bit image's pipeline, resized already) as an 8-bit image windowed from its 16-bit values: the pixels
 * come out at 16 bits (grey16, or rgb16 for colour, one window over all channels), are windowed here, and go back into
 * sharp for what follows (contrast, colourspace).
 * @param image - The pipeline, alpha removed.
 * @param colour - Whether the image has colour channels (3 or 4 in its metadata) rather than grey (1 or 2).
 * @returns A new pipeline over the windowed 8-bit pixels.
 * @throws What sharp throws for an image that does not decode.
 */
export async function windowed16(image: Sharp, colour: boolean): Promise<Sharp> {
  const { data, info } = await image.toColourspace(colour ? 'rgb16' : 'grey16').raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
  // The buffer's offset may be odd (a pooled Buffer): copy before viewing it as 16-bit samples.
  const values = new Uint16Array(Uint8Array.from(data).buffer, 0, data.length / 2);
  const pixels = applyWindow(values, percentileWindow(values));
  const { default: sharp } = await import('sharp');
  return sharp(pixels, { raw: { width: info.width, height: info.height, channels: info.channels as 1 | 3 } });
}
