// Datasets laid out as images or idx files rather than a label table: an image folder (one sub-folder per class, the
// ImageNet / Imagenette layout) and Fashion-MNIST's idx files (Debian's dataset-fashion-mnist).
import * as fs from 'node:fs';
import * as path from 'node:path';

import { displayPath } from '../../io/paths';
import { readIdx } from './idx';
import type { ImageInput } from './images';
import { badData, type Labelled } from './labelled';

const IMAGE_EXTENSIONS = /\.(jpe?g|png|webp|tiff?|bmp|gif|dcm)$/i;

/** An image folder: one sub-folder per class (ImageNet / Imagenette layout), classes in sorted order. */
export function readFolder(dir: string): Labelled<'folder'> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw badData(`${displayPath(dir)}: no such folder`);
  // A dangling link is not a class; a link loop (or an unreadable entry) is named, not a raw ELOOP.
  const isFolder = (p: string) => {
    try {
      return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw badData(`${displayPath(p)}: ${code === 'ELOOP' ? 'a loop of symbolic links' : 'cannot be read'} (${code ?? (err as Error).message})`);
    }
  };
  const classes = fs.readdirSync(dir).filter((c) => isFolder(path.join(dir, c))).sort();
  if (classes.length < 2) throw badData(`${displayPath(dir)}: expected one sub-folder per class (at least 2), found ${classes.length}`);
  const inputs: ImageInput[] = [], targets: number[] = [], where: string[] = [];
  classes.forEach((c, k) => {
    const files = fs.readdirSync(path.join(dir, c)).filter((f) => IMAGE_EXTENSIONS.test(f)).sort();
    if (!files.length) throw badData(`${displayPath(path.join(dir, c))}: no images (jpeg, png, webp, tiff, bmp, gif, dcm)`);
    for (const f of files) {
      inputs.push({ file: path.join(dir, c, f) });
      targets.push(k);
      where.push(displayPath(path.join(dir, c, f)));
    }
  });
  return { format: 'folder', task: 'multiclass', labels: classes, inputs, targets: Float32Array.from(targets), groups: inputs.map((x) => (x as { file: string }).file), where };
}

export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** Fashion-MNIST's idx files (gzipped or not) in `dir`: train-* for training, t10k-* for validation. */
export function readFashionMnist(dir: string): Labelled<'fashion-mnist'> {
  const inputs: ImageInput[] = [], targets: number[] = [], where: string[] = [];
  const splits = { train: [] as number[], val: [] as number[] };
  for (const [split, prefix] of [['train', 'train'], ['val', 't10k']] as const) {
    const images = readIdx(path.join(dir, `${prefix}-images-idx3-ubyte`)), labels = readIdx(path.join(dir, `${prefix}-labels-idx1-ubyte`));
    const [n, h, w] = images.shape;
    if (images.shape.length !== 3 || h === 0 || w === 0) throw badData(`${displayPath(dir)}: ${prefix}-images has shape [${images.shape}]; expected (N, H, W)`);
    if (labels.shape.length !== 1) throw badData(`${displayPath(dir)}: ${prefix}-labels has shape [${labels.shape}]; expected (N,)`);
    if (labels.shape[0] !== n) throw badData(`${displayPath(dir)}: ${prefix} has ${n} images but ${labels.shape[0]} labels`);
    for (let i = 0; i < n; i++) {
      if (labels.data[i] > 9) throw badData(`${displayPath(path.join(dir, `${prefix}-labels-idx1-ubyte`))} item ${i}: label ${labels.data[i]} is not a class 0-9`);
      splits[split].push(inputs.length);
      inputs.push({ pixels: images.data.subarray(i * h * w, (i + 1) * h * w), width: w, height: h, channels: 1 });
      targets.push(labels.data[i]);
      where.push(`${prefix} item ${i}`);
    }
  }
  return { format: 'fashion-mnist', task: 'multiclass', labels: FASHION_CLASSES, inputs, targets: Float32Array.from(targets), groups: where, where, splits };
}
