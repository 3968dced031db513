// Users' datasets in the formats they ship in, read into one labelled form: EyePACS / Kaggle DR, CheXpert, MedMNIST
// (.npz), an image folder (one folder per class) and Fashion-MNIST's idx files here; NIH ChestX-ray14, MIMIC-CXR and
// RSNA Pneumonia in chest-datasets.ts; APTOS 2019, Messidor-2 and IDRiD in retina-datasets.ts. Every bad row, value or
// file is an error naming the file and row.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { parse } from 'csv-parse/sync';

import type { UncertaintyPolicy } from '../embedded';
import { TransfusionError } from '../../errors';
import { displayPath, readRegularFile, resolveInside } from '../../io/paths';
import type { ImageInput } from './images';
import { readIdx } from './idx';
import { CHEXPERT_FINDINGS, checkRepeats, gradeOf, type Labelled } from './labelled';
import { readMimicCxr, readNihChestXray14, readRsnaPneumonia } from './chest-datasets';
import { readAptos2019, readIdrid, readMessidor2 } from './retina-datasets';
import { MAX_ARRAY_BYTES, parseNpz, toNumbers } from './npy';

/** The dataset layouts a study and loadDataset read (`format`), each detected from its folder when not named. */
export const DATA_FORMATS = ['eyepacs', 'chexpert', 'medmnist', 'folder', 'fashion-mnist',
  'nih-chestxray14', 'mimic-cxr', 'rsna-pneumonia', 'aptos2019', 'messidor2', 'idrid'] as const;
/** One of {@link DATA_FORMATS}. */
export type DataFormat = (typeof DATA_FORMATS)[number];

export { CHEXPERT_FINDINGS };

/** What a graded retinal dataset is read as: referable DR (one output, grade >= 2) or the 5-level grade itself. */
export const DATA_TARGETS = ['referable', 'grade'] as const;
/** One of {@link DATA_TARGETS}: "referable" or "grade". */
export type DataTarget = (typeof DATA_TARGETS)[number];

/** The International Clinical Diabetic Retinopathy scale's levels, the classes of the grade target. */
export const DR_GRADES = ['grade 0 (no DR)', 'grade 1 (mild)', 'grade 2 (moderate)', 'grade 3 (severe)', 'grade 4 (proliferative)'];

/** The grade at which DR is referable (EyePACS, Gulshan et al. 2016): the grade target's derived binary output. */
export const REFERABLE_GRADE = 2;

/**
 * A graded set read as its 5-level grade: multiclass over {@link DR_GRADES}, the targets the grades, referable DR
 * (grade >= 2) kept as the derived output that AUC scores by P(grade >= 2).
 * @param set - A set a retinal reader returned (with `grades`).
 * @returns The same items as a 5-class set.
 * @throws ERR_INVALID_ARG when the set has no grades (a chest, folder or binary MedMNIST set).
 */
export function asGrades(set: LabelledSet): LabelledSet {
  if (!set.grades) throw new TransfusionError('ERR_INVALID_ARG', `Expected \`target\` "grade" on a graded retinal dataset (eyepacs, aptos2019, messidor2, idrid, RetinaMNIST) but ${set.format} data hold no DR grades; use target "referable" (the default)`);
  return { ...set, task: 'multiclass', labels: DR_GRADES, targets: Float32Array.from(set.grades), referableFrom: REFERABLE_GRADE };
}

/** A dataset as read, in one of the DATA_FORMATS (the fields: labelled.ts). */
export type LabelledSet = Labelled<DataFormat>;

const fail = (message: string) => new TransfusionError('ERR_BAD_DATA', message);

/** A label CSV's largest size: CheXpert's 223,000 rows take 30 MB; the text must fit one JavaScript string. */
export const MAX_CSV_BYTES = 256 * 2 ** 20;

function readCsv(file: string): Record<string, string>[] {
  if (!fs.existsSync(file)) throw fail(`${displayPath(file)}: no such file`);
  const bytes = readRegularFile(file, 'ERR_BAD_DATA', MAX_CSV_BYTES);
  try {
    return parse(bytes.toString('utf8'), { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<string, string>[];
  } catch (err) {
    throw fail(`${displayPath(file)}: not a readable CSV (${displayPath((err as Error).message)})`);
  }
}

function requireColumns(file: string, rows: Record<string, string>[], columns: string[]): void {
  const have = rows.length ? Object.keys(rows[0]) : [];
  for (const c of columns) if (!have.includes(c)) throw fail(`${displayPath(file)}: missing column "${c}" (columns: ${displayPath(have.join(', ')) || 'none'})`);
}

/**
 * EyePACS as Kaggle ships it: `trainLabels.csv` (image,level) beside `train/` of `<image>.jpeg`. `dir` holds both
 * (or is the CSV itself); `imageDir` points at the images elsewhere. Label: referable = level >= 2; the grade is kept.
 * Patient: the image name before "_left"/"_right".
 */
export function readEyepacs(dir: string, imageDir?: string): LabelledSet {
  const csv = dir.toLowerCase().endsWith('.csv') ? dir : path.join(dir, 'trainLabels.csv');
  const rows = readCsv(csv);
  requireColumns(csv, rows, ['image', 'level']);
  const images = imageDir ?? path.join(path.dirname(csv), 'train');
  const set: LabelledSet = { format: 'eyepacs', task: 'binary', labels: ['referable DR'], inputs: [], targets: new Float32Array(rows.length), grades: [], groups: [], where: [] };
  rows.forEach((row, i) => {
    const where = `${displayPath(csv)} row ${i + 2}`;  // the header is row 1
    const level = gradeOf(row.level, where, 'level');
    if (!row.image) throw fail(`${where}: empty image name`);
    // An image name is a path inside the image folder: "../" or an absolute path elsewhere is refused.
    set.inputs.push({ file: resolveInside(images, /\.[a-z]+$/i.test(row.image) ? row.image : `${row.image}.jpeg`, `${where}: image`, 'ERR_BAD_DATA') });
    set.targets[i] = level >= 2 ? 1 : 0;
    set.grades!.push(level);
    set.groups.push(row.image.replace(/_(left|right)$/i, ''));
    set.where.push(where);
  });
  checkRepeats(set);
  return set;
}

export interface ChexpertOptions {
  /** Per finding, what an uncertain (-1) label becomes (default: ones for Atelectasis and Edema, zeros for the rest). */
  policy?: Partial<Record<string, UncertaintyPolicy>>;
  /** Keep frontal images only (default true). */
  frontalOnly?: boolean;
}

/**
 * CheXpert's CSV (`Path,Sex,Age,Frontal/Lateral,AP/PA`, then 14 findings: 1, 0, -1 or blank). `Path` values start
 * with the dataset's folder (e.g. `CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg`) and are resolved
 * from the folder above it, as the download lays them out. Blank means not mentioned: negative. Patient: `patientNNNNN`.
 */
export function readChexpert(csv: string, o: ChexpertOptions = {}): LabelledSet {
  const rows = readCsv(csv);
  requireColumns(csv, rows, ['Path', 'Frontal/Lateral', ...CHEXPERT_FINDINGS]);
  const policy: Record<string, UncertaintyPolicy> = Object.fromEntries(CHEXPERT_FINDINGS.map((f) => [f, f === 'Atelectasis' || f === 'Edema' ? 'ones' : 'zeros']));
  for (const [f, p] of Object.entries(o.policy ?? {})) {
    if (!CHEXPERT_FINDINGS.includes(f)) throw new TransfusionError('ERR_INVALID_ARG', `Unknown finding "${f}" in the uncertainty policy; findings: ${CHEXPERT_FINDINGS.join(', ')}`);
    policy[f] = p!;
  }
  const csvDir = path.dirname(path.resolve(csv));
  // Every image stays inside the folder holding the CSV: "../" or an absolute path elsewhere is refused.
  const resolve = (p: string, where: string) => {
    const [first, ...rest] = p.split(/[\\/]/);
    // The Path's first component is the folder holding the CSV: the rest is relative to it.
    return resolveInside(csvDir, first === path.basename(csvDir) && rest.length ? rest.join('/') : p, `${where}: Path`, 'ERR_BAD_DATA');
  };
  const K = CHEXPERT_FINDINGS.length;
  const kept = rows.map((row, i) => ({ row, line: i + 2 })).filter(({ row }) => (o.frontalOnly ?? true) ? row['Frontal/Lateral'] === 'Frontal' : true);
  const set: LabelledSet = { format: 'chexpert', task: 'multilabel', labels: CHEXPERT_FINDINGS, inputs: [], targets: new Float32Array(kept.length * K), groups: [], where: [] };
  if (kept.length < rows.length) set.dropped = [{ reason: 'lateral view (frontal only)', count: rows.length - kept.length }];
  const mask = new Float32Array(kept.length * K).fill(1);
  let masked = false;
  kept.forEach(({ row, line }, i) => {
    const where = `${displayPath(csv)} row ${line}`;
    if (!row.Path) throw fail(`${where}: empty Path`);
    if (!['Frontal', 'Lateral'].includes(row['Frontal/Lateral'])) throw fail(`${where}: Frontal/Lateral is "${displayPath(String(row['Frontal/Lateral']))}", not Frontal or Lateral`);
    CHEXPERT_FINDINGS.forEach((f, k) => {
      const v = row[f];
      let t: number;
      if (v === '' || v === '0' || v === '0.0') t = 0;
      else if (v === '1' || v === '1.0') t = 1;
      else if (v === '-1' || v === '-1.0') {
        if (policy[f] === 'ignore') {
          mask[i * K + k] = 0;
          masked = true;
          t = 0;
        } else t = policy[f] === 'ones' ? 1 : 0;
      } else throw fail(`${where}: ${f} is "${displayPath(String(v))}", not 1, 0, -1 or blank`);
      set.targets[i * K + k] = t;
    });
    set.inputs.push({ file: resolve(row.Path, where) });
    set.groups.push(/patient\d+/.exec(row.Path)?.[0] ?? row.Path);
    set.where.push(where);
  });
  if (masked) set.mask = mask;
  return set;
}

/** ChestMNIST's 14 labels (NIH ChestX-ray14 order) that are the paper's five findings. */
const CHESTMNIST_COLUMNS: Record<string, number> = { Atelectasis: 0, Cardiomegaly: 1, Consolidation: 8, Edema: 9, 'Pleural Effusion': 2 };

/**
 * A MedMNIST .npz (any image size): `train_images`, `train_labels`, `val_images`, `val_labels` (test ignored). The
 * flavour comes from the file name or the labels: RetinaMNIST (5 grades -> referable >= 2), ChestMNIST (14 labels ->
 * the paper's five findings), PneumoniaMNIST and any other binary set.
 */
export function readMedmnist(file: string): LabelledSet {
  const shown = displayPath(file);
  if (!fs.existsSync(file)) throw fail(`${shown}: no such file`);
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
      throw fail(`${shown}: ${split}_images has shape [${images.shape}] of ${images.data.constructor.name}; expected uint8 (N, H, W) or (N, H, W, 3)`);
    if (h === 0 || w === 0) throw fail(`${shown}: ${split}_images has shape [${images.shape}]: images of no pixels`);
    if (y.shape.length < 1 || y.shape.length > 2 || y.shape[0] !== n)
      throw fail(`${shown}: ${split}_labels has shape [${y.shape}] for ${n} images; expected (${n},) or (${n}, labels)`);
    if (y.shape[1] === 0) throw fail(`${shown}: ${split}_labels has shape [${y.shape}]: no label per image`);
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
      if (!ok(v)) throw fail(`${where[i]}: label ${v} is not ${what}`);
    }));
  if (name.includes('chestmnist') || perRow === 14) {
    check((v) => v === 0 || v === 1, '0 or 1');
    const K = CHEXPERT_FINDINGS.length, targets = new Float32Array(inputs.length * K);
    labels.forEach((row, i) => CHEXPERT_FINDINGS.forEach((f, k) => (targets[i * K + k] = row[CHESTMNIST_COLUMNS[f]])));
    return { format: 'medmnist', task: 'multilabel', labels: CHEXPERT_FINDINGS, inputs, targets, groups, where, splits };
  }
  if (labels.some((r) => r.length !== perRow)) throw fail(`${shown}: train_labels and val_labels have different numbers of columns`);
  if (perRow !== 1) throw fail(`${shown}: labels have ${perRow} columns; expected 1 (RetinaMNIST, PneumoniaMNIST) or 14 (ChestMNIST)`);
  const flat = labels.map((r) => r[0]);
  if (name.includes('retinamnist') || flat.some((v) => v > 1)) {
    check((v) => Number.isInteger(v) && v >= 0 && v <= 4, 'a grade 0-4');
    return { format: 'medmnist', task: 'binary', labels: ['referable DR'], inputs, targets: Float32Array.from(flat, (g) => (g >= 2 ? 1 : 0)), grades: flat, groups, where, splits };
  }
  check((v) => v === 0 || v === 1, '0 or 1');
  return { format: 'medmnist', task: 'binary', labels: [name.includes('pneumonia') ? 'pneumonia' : 'positive'], inputs, targets: Float32Array.from(flat), groups, where, splits };
}

const IMAGE_EXTENSIONS = /\.(jpe?g|png|webp|tiff?|bmp|gif|dcm)$/i;

/** An image folder: one sub-folder per class (ImageNet / Imagenette layout), classes in sorted order. */
export function readFolder(dir: string): LabelledSet {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw fail(`${displayPath(dir)}: no such folder`);
  // A dangling link is not a class; a link loop (or an unreadable entry) is named, not a raw ELOOP.
  const isFolder = (p: string) => {
    try {
      return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw fail(`${displayPath(p)}: ${code === 'ELOOP' ? 'a loop of symbolic links' : 'cannot be read'} (${code ?? (err as Error).message})`);
    }
  };
  const classes = fs.readdirSync(dir).filter((c) => isFolder(path.join(dir, c))).sort();
  if (classes.length < 2) throw fail(`${displayPath(dir)}: expected one sub-folder per class (at least 2), found ${classes.length}`);
  const inputs: ImageInput[] = [], targets: number[] = [], where: string[] = [];
  classes.forEach((c, k) => {
    const files = fs.readdirSync(path.join(dir, c)).filter((f) => IMAGE_EXTENSIONS.test(f)).sort();
    if (!files.length) throw fail(`${displayPath(path.join(dir, c))}: no images (jpeg, png, webp, tiff, bmp, gif, dcm)`);
    for (const f of files) {
      inputs.push({ file: path.join(dir, c, f) });
      targets.push(k);
      where.push(displayPath(path.join(dir, c, f)));
    }
  });
  return { format: 'folder', task: 'multiclass', labels: classes, inputs, targets: Float32Array.from(targets), groups: inputs.map((x) => (x as { file: string }).file), where };
}

export { DEBIAN_FASHION_MNIST, resolveDataPath } from './data-path';

export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** Fashion-MNIST's idx files (gzipped or not) in `dir`: train-* for training, t10k-* for validation. */
export function readFashionMnist(dir: string): LabelledSet {
  const inputs: ImageInput[] = [], targets: number[] = [], where: string[] = [];
  const splits = { train: [] as number[], val: [] as number[] };
  for (const [split, prefix] of [['train', 'train'], ['val', 't10k']] as const) {
    const images = readIdx(path.join(dir, `${prefix}-images-idx3-ubyte`)), labels = readIdx(path.join(dir, `${prefix}-labels-idx1-ubyte`));
    const [n, h, w] = images.shape;
    if (images.shape.length !== 3 || h === 0 || w === 0) throw fail(`${displayPath(dir)}: ${prefix}-images has shape [${images.shape}]; expected (N, H, W)`);
    if (labels.shape.length !== 1) throw fail(`${displayPath(dir)}: ${prefix}-labels has shape [${labels.shape}]; expected (N,)`);
    if (labels.shape[0] !== n) throw fail(`${displayPath(dir)}: ${prefix} has ${n} images but ${labels.shape[0]} labels`);
    for (let i = 0; i < n; i++) {
      if (labels.data[i] > 9) throw fail(`${displayPath(path.join(dir, `${prefix}-labels-idx1-ubyte`))} item ${i}: label ${labels.data[i]} is not a class 0-9`);
      splits[split].push(inputs.length);
      inputs.push({ pixels: images.data.subarray(i * h * w, (i + 1) * h * w), width: w, height: h, channels: 1 });
      targets.push(labels.data[i]);
      where.push(`${prefix} item ${i}`);
    }
  }
  return { format: 'fashion-mnist', task: 'multiclass', labels: FASHION_CLASSES, inputs, targets: Float32Array.from(targets), groups: where, where, splits };
}

/** The format of `data` when --format is not given. */
export function detectFormat(data: string): DataFormat {
  if (!fs.existsSync(data)) throw new TransfusionError('ERR_INVALID_ARG', `--data ${displayPath(data)}: no such file or folder`);
  const st = fs.statSync(data);
  if (!st.isFile() && !st.isDirectory()) throw new TransfusionError('ERR_INVALID_ARG', `--data ${displayPath(data)}: neither a folder nor a regular file (a device, a FIFO or a socket)`);
  if (st.isFile()) {
    if (data.toLowerCase().endsWith('.npz')) return 'medmnist';
    if (data.toLowerCase().endsWith('.csv')) return csvFormat(data);
  } else {
    if (fs.existsSync(path.join(data, 'trainLabels.csv'))) return 'eyepacs';
    if (['train-images-idx3-ubyte', 'train-images-idx3-ubyte.gz'].some((f) => fs.existsSync(path.join(data, f)))) return 'fashion-mnist';
    if (fs.existsSync(path.join(data, 'train.csv'))) return csvFormat(path.join(data, 'train.csv'));
    const names = fs.readdirSync(data);
    if (names.some((f) => /^Data_Entry_2017.*\.csv$/.test(f))) return 'nih-chestxray14';
    if (names.some((f) => /^mimic-cxr-2\.0\.0-(chexpert|negbio)\.csv(\.gz)?$/.test(f))) return 'mimic-cxr';
    if (names.includes('stage_2_train_labels.csv')) return 'rsna-pneumonia';
    if (names.includes('messidor_data.csv')) return 'messidor2';
    if (names.includes('B. Disease Grading') || path.basename(path.resolve(data)) === 'B. Disease Grading') return 'idrid';
    return 'folder';
  }
  throw new TransfusionError('ERR_INVALID_ARG', `--data ${displayPath(data)}: cannot tell its format; give --format (${DATA_FORMATS.join(', ')})`);
}

/** The format a label CSV belongs to, from its header. */
function csvFormat(file: string): DataFormat {
  const header = readCsvHeader(file);
  if (header.includes('Path')) return 'chexpert';
  if (header.includes('id_code')) return 'aptos2019';
  if (header.includes('Image Index')) return 'nih-chestxray14';
  if (header.includes('patientId') && header.includes('Target')) return 'rsna-pneumonia';
  if (header.includes('adjudicated_dr_grade')) return 'messidor2';
  return 'eyepacs';
}

function readCsvHeader(file: string): string[] {
  // The first 64 KB: enough for a header line, bounded whatever the file holds.
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const head = Buffer.alloc(1 << 16);
  let n: number;
  try {
    n = fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  const first = head.subarray(0, n).toString('utf8').split(/\r?\n/, 1)[0] ?? '';
  return first.split(',').map((c) => c.trim());
}

/**
 * A dataset in its format, read as `o.target` asks (the grade: {@link asGrades}).
 * @param format - One of {@link DATA_FORMATS}.
 * @param data - The file or folder the format expects.
 * @param o - EyePACS' image folder, CheXpert / MIMIC-CXR's policy and views, the target (default referable).
 * @returns The labelled set.
 * @throws ERR_BAD_DATA naming the file and row of bad input; ERR_INVALID_ARG for target "grade" on ungraded data.
 */
export function readLabelled(format: DataFormat, data: string, o: { imageDir?: string; target?: DataTarget } & ChexpertOptions = {}): LabelledSet {
  const set = readAs(format, data, o);
  return o.target === 'grade' ? asGrades(set) : set;
}

function readAs(format: DataFormat, data: string, o: { imageDir?: string } & ChexpertOptions): LabelledSet {
  switch (format) {
    case 'eyepacs': return readEyepacs(data, o.imageDir);
    case 'chexpert': return readChexpert(fs.statSync(data).isDirectory() ? path.join(data, 'train.csv') : data, o);
    case 'medmnist': return readMedmnist(data);
    case 'folder': return readFolder(data);
    case 'fashion-mnist': return readFashionMnist(data);
    case 'nih-chestxray14': return readNihChestXray14(data);
    case 'mimic-cxr': return readMimicCxr(data, o);
    case 'rsna-pneumonia': return readRsnaPneumonia(data);
    case 'aptos2019': return readAptos2019(data);
    case 'messidor2': return readMessidor2(data);
    case 'idrid': return readIdrid(data);
  }
}
