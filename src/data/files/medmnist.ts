// MedMNIST's .npz archives (RetinaMNIST, ChestMNIST, PneumoniaMNIST and any other binary set), read into the labelled
// form: the flavour from the file name or the labels. Every bad array or label is an error naming the archive and row.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { displayPath, readRegularFile } from '../../io/paths';
import type { ImageInput } from './images';
import { CHEXPERT_FINDINGS, badData, type Labelled } from './labelled';
import { MAX_ARRAY_BYTES, parseNpz, toNumbers } from './npy';

/** ChestMNIST's 14 labels (NIH ChestX-ray14 order) that are the paper's five findings. */
const CHESTMNIST_COLUMNS: Record<string, number> = { Atelectasis: 0, Cardiomegaly: 1, Consolidation: 8, Edema: 9, 'Pleural Effusion': 2 };

/**
 * A MedMNIST .npz (any image size): `train_images`, `train_labels`, `val_images`, `val_labels` (test ignored). The
 * flavour comes from the file name or the labels: RetinaMNIST (5 grades -> referable >= 2), ChestMNIST (14 labels ->
 * the paper's five findings), PneumoniaMNIST and any other binary set.
 */
export function readMedmnist(file: string): Labelled<'medmnist'> {
  const shown = displayPath(file);
  if (!fs.existsSync(file)) throw badData(`${shown}: no such file`);
  // Only the four arrays read are inflated (a test split or a bomb beside them is not); a missing one is named first.
  const arrays = parseNpz(readRegularFile(file, 'ERR_BAD_DATA', MAX_ARRAY_BYTES), file, {}, { required: ['train_images', 'train_labels', 'val_images', 'val_labels'] });
  const name = path.basename(file).toLowerCase();
  const inputs: ImageInput[] = [], where: string[] = [], labels: number[][] = [];
  const splits = { train: [] as number[], val: [] as number[] };
  for (const split of ['train', 'val'] as const) {
    const images = arrays.get(`${split}_images`)!, y = arrays.get(`${split}_labels`)!;
    const [n, h, w] = images.shape;
    const channels = images.shape.length === 4 ? images.shape[3] : 1;
    if (images.shape.length < 3 || images.shape.length > 4 || (channels !== 1 && channels !== 3) || Object.prototype.toString.call(images.data) !== '[object Uint8Array]')
      throw badData(`${shown}: ${split}_images has shape [${images.shape}] of ${images.data.constructor.name}; expected uint8 (N, H, W) or (N, H, W, 3)`);
    if (h === 0 || w === 0) throw badData(`${shown}: ${split}_images has shape [${images.shape}]: images of no pixels`);
    if (y.shape.length < 1 || y.shape.length > 2 || y.shape[0] !== n)
      throw badData(`${shown}: ${split}_labels has shape [${y.shape}] for ${n} images; expected (${n},) or (${n}, labels)`);
    if (y.shape[1] === 0) throw badData(`${shown}: ${split}_labels has shape [${y.shape}]: no label per image`);
    const perRow = y.shape.length > 1 ? y.shape[1] : 1;
    const values = toNumbers(y.data);
    for (let i = 0; i < n; i++) {
      splits[split].push(inputs.length);
      inputs.push({ pixels: (images.data as Uint8Array).subarray(i * h * w * channels, (i + 1) * h * w * channels), width: w, height: h, channels: channels as 1 | 3 });
      where.push(`${shown} ${split}_labels row ${i}`);
      labels.push(values.slice(i * perRow, (i + 1) * perRow));
    }
  }
  const perRow = labels[0]?.length ?? 1;
  const groups = inputs.map((_, i) => `item${i}`);
  const check = (ok: (v: number) => boolean, what: string) =>
    labels.forEach((row, i) => row.forEach((v) => {
      if (!ok(v)) throw badData(`${where[i]}: label ${v} is not ${what}`);
    }));
  if (name.includes('chestmnist') || perRow === 14) {
    check((v) => v === 0 || v === 1, '0 or 1');
    const K = CHEXPERT_FINDINGS.length, targets = new Float32Array(inputs.length * K);
    labels.forEach((row, i) => CHEXPERT_FINDINGS.forEach((f, k) => (targets[i * K + k] = row[CHESTMNIST_COLUMNS[f]])));
    return { format: 'medmnist', task: 'multilabel', labels: CHEXPERT_FINDINGS, inputs, targets, groups, where, splits };
  }
  if (labels.some((r) => r.length !== perRow)) throw badData(`${shown}: train_labels and val_labels have different numbers of columns`);
  if (perRow !== 1) throw badData(`${shown}: labels have ${perRow} columns; expected 1 (RetinaMNIST, PneumoniaMNIST) or 14 (ChestMNIST)`);
  const flat = labels.map((r) => r[0]);
  if (name.includes('retinamnist') || flat.some((v) => v > 1)) {
    check((v) => Number.isInteger(v) && v >= 0 && v <= 4, 'a grade 0-4');
    return { format: 'medmnist', task: 'binary', labels: ['referable DR'], inputs, targets: Float32Array.from(flat, (g) => (g >= 2 ? 1 : 0)), grades: flat, groups, where, splits };
  }
  check((v) => v === 0 || v === 1, '0 or 1');
  return { format: 'medmnist', task: 'binary', labels: [name.includes('pneumonia') ? 'pneumonia' : 'positive'], inputs, targets: Float32Array.from(flat), groups, where, splits };
}
