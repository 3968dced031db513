// Figure 1's counterpart: example images of the embedded tasks and of the pretraining source, drawn by the same
// generators (and seeds) the study uses, so a reader sees what the models learned from.
import type { Dataset } from '../data/embedded';
import { generateChest, generateNatural, generateRetina } from '../data/embedded';
import { encodePng, blankImage, type RgbImage } from '../io/png';

/** ImageNet's per-channel mean and std, with which the generators normalise images. */
const MEAN = [0.485, 0.456, 0.406], STD = [0.229, 0.224, 0.225];

/** The examples drawn: per row, its source and what each image is. */
export interface ExampleRow {
  source: 'retina' | 'chest' | 'natural';
  /** Per image: the retinal grade, the chest findings, or the natural-image class. */
  labels: string[];
}

/** Copies image i of normalised N x 3 x S x S images into the canvas at (x0, y0), as 8-bit RGB. */
function paste(canvas: RgbImage, images: { data: Float32Array; shape: number[] }, i: number, x0: number, y0: number): void {
  const { data, shape } = images;
  const [, , h, w] = shape;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        const v = data[((i * 3 + c) * h + y) * w + x] * STD[c] + MEAN[c];
        canvas.pixels[((y0 + y) * canvas.width + x0 + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(255 * v)));
      }
}

/**
 * A PNG of `perRow` images from each source: the RETINA-like task, the chest task and the natural-image pretraining
 * source, `size` px each, from the given seeds.
 */
export async function exampleImages(opts: { size: number; perRow: number; taskSeed: number; pretrainSeed: number; classes: number; chest: boolean }): Promise<{ png: Buffer; rows: ExampleRow[] }> {
  const gap = 4, n = opts.perRow;
  const sets: { source: ExampleRow['source']; d: Dataset; labels: (d: Dataset) => string[] }[] = [];
  try {
    sets.push({ source: 'retina', d: await generateRetina({ count: n, size: opts.size, seed: opts.taskSeed }), labels: (d) => [...d.grades()].map((g) => `grade ${g}`) });
    if (opts.chest) {
      const chest = await generateChest({ count: n, size: opts.size, seed: opts.taskSeed, uncertainRate: 0 });
      const names = ['Atelectasis', 'Cardiomegaly', 'Consolidation', 'Edema', 'Pleural Effusion'];
      sets.push({ source: 'chest', d: chest, labels: (d) => Array.from({ length: n }, (_, i) => names.filter((_, k) => d.targets()[i * names.length + k] > 0.5).join(', ') || 'no finding') });
    }
    sets.push({ source: 'natural', d: await generateNatural({ count: n, size: opts.size, seed: opts.pretrainSeed, classes: opts.classes }), labels: (d) => [...d.targets()].map((t) => `class ${t}`) });
    const canvas = blankImage(n * (opts.size + gap) + gap, sets.length * (opts.size + gap) + gap);
    sets.forEach((s, row) => {
      const images = s.d.images();  // one copy of the set's pixels, not one per image
      for (let i = 0; i < n; i++) paste(canvas, images, i, gap + i * (opts.size + gap), gap + row * (opts.size + gap));
    });
    return { png: await encodePng(canvas), rows: sets.map((s) => ({ source: s.source, labels: s.labels(s.d) })) };
  } finally {
    sets.forEach((s) => s.d.dispose());
  }
}
