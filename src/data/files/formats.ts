// Users' datasets in the formats they ship in, read into one labelled form: one table (DATA_FORMAT_TABLE) of each
// format's name, how its folder or file is recognised, its reader and what it is. The readers live by kind:
// retina-datasets.ts (EyePACS, APTOS 2019, Messidor-2, IDRiD), chest-datasets.ts (CheXpert, NIH ChestX-ray14,
// MIMIC-CXR, RSNA Pneumonia), medmnist.ts (.npz) and folder-datasets.ts (an image folder, Fashion-MNIST). A new format
// is one entry here and its reader. Every bad row, value or file is an error naming the file and row.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { TransfusionError } from '../../errors';
import { displayPath } from '../../io/paths';
import { readChexpert, readMimicCxr, readNihChestXray14, readRsnaPneumonia, type ChexpertOptions } from './chest-datasets';
import { readFashionMnist, readFolder } from './folder-datasets';
import { CHEXPERT_FINDINGS, type Labelled } from './labelled';
import { readMedmnist } from './medmnist';
import { readAptos2019, readEyepacs, readIdrid, readMessidor2 } from './retina-datasets';

/** How a format is recognised: from a file (its lower-case name and the header of a CSV) or a folder (its entries, and
 * the header of its train.csv where it has one). */
interface Detect {
  file?: (name: string, header: () => string[]) => boolean;
  folder?: (dir: string, names: string[], trainCsvHeader: () => string[]) => boolean;
}
/** One format: its name, what it is, how it is recognised (detection tries the table in order) and its reader.
 * `fallbackFor`: the format of a CSV file, or of a folder, that no entry recognises. */
interface FormatEntry {
  name: string;
  describe: string;
  detect: Detect;
  fallbackFor?: 'csv' | 'folder';
  read: (data: string, o: ReadOptions) => Labelled;
}
type ReadOptions = { imageDir?: string } & ChexpertOptions;

const isCsv = (name: string) => name.endsWith('.csv');
/** A CSV (a file, or a folder's train.csv) whose header has every one of `columns`; a folder also by a file of its
 * own (`marker`). */
const csvWith = (columns: string[], marker?: (names: string[]) => boolean): Detect => ({
  file: (name, header) => isCsv(name) && columns.every((c) => header().includes(c)),
  folder: (_dir, names, header) => (marker?.(names) ?? false) || (names.includes('train.csv') && columns.every((c) => header().includes(c))),
});

const DATA_FORMAT_TABLE = [
  { name: 'eyepacs', describe: "Kaggle's EyePACS: trainLabels.csv (image, level) beside train/", read: (d, o) => readEyepacs(d, o.imageDir),
    detect: { folder: (_dir, names) => names.includes('trainLabels.csv'), file: csvWith(['image', 'level']).file }, fallbackFor: 'csv' },
  { name: 'chexpert', describe: "CheXpert's train.csv (Path, Frontal/Lateral, the findings) inside its download", detect: csvWith(['Path']),
    read: (d, o) => readChexpert(fs.statSync(d).isDirectory() ? path.join(d, 'train.csv') : d, o) },
  { name: 'medmnist', describe: 'a MedMNIST .npz: RetinaMNIST, ChestMNIST, PneumoniaMNIST or another binary set', detect: { file: (name) => name.endsWith('.npz') }, read: (d) => readMedmnist(d) },
  { name: 'folder', describe: 'an image folder: one sub-folder per class', detect: {}, fallbackFor: 'folder', read: (d) => readFolder(d) },
  { name: 'fashion-mnist', describe: "Fashion-MNIST's idx files (Debian's dataset-fashion-mnist)", read: (d) => readFashionMnist(d),
    detect: { folder: (_dir, names) => names.includes('train-images-idx3-ubyte') || names.includes('train-images-idx3-ubyte.gz') } },
  { name: 'nih-chestxray14', describe: "NIH ChestX-ray14: Data_Entry_2017*.csv with its split lists", read: (d) => readNihChestXray14(d),
    detect: csvWith(['Image Index'], (names) => names.some((f) => /^Data_Entry_2017.*\.csv$/.test(f))) },
  { name: 'mimic-cxr', describe: 'MIMIC-CXR (JPG or DICOM): mimic-cxr-2.0.0-chexpert.csv(.gz) and its split', read: (d, o) => readMimicCxr(d, o),
    detect: { folder: (_dir, names) => names.some((f) => /^mimic-cxr-2\.0\.0-(chexpert|negbio)\.csv(\.gz)?$/.test(f)) } },
  { name: 'rsna-pneumonia', describe: "RSNA Pneumonia: stage_2_train_labels.csv (patientId, Target) beside the DICOMs", read: (d) => readRsnaPneumonia(d),
    detect: csvWith(['patientId', 'Target'], (names) => names.includes('stage_2_train_labels.csv')) },
  { name: 'aptos2019', describe: 'APTOS 2019: train.csv (id_code, diagnosis) beside train_images/', detect: csvWith(['id_code']), read: (d) => readAptos2019(d) },
  { name: 'messidor2', describe: 'Messidor-2 with its adjudicated grades (messidor_data.csv)', read: (d) => readMessidor2(d),
    detect: csvWith(['adjudicated_dr_grade'], (names) => names.includes('messidor_data.csv')) },
  { name: 'idrid', describe: "IDRiD's disease grading (B. Disease Grading)", read: (d) => readIdrid(d),
    detect: { folder: (dir, names) => names.includes('B. Disease Grading') || path.basename(path.resolve(dir)) === 'B. Disease Grading' } },
] as const satisfies readonly FormatEntry[];

/** The dataset layouts a study and loadDataset read (`format`), each detected from its folder when not named. */
export const DATA_FORMATS = DATA_FORMAT_TABLE.map((f) => f.name);
/** One of {@link DATA_FORMATS}. */
export type DataFormat = (typeof DATA_FORMAT_TABLE)[number]['name'];
/** Each format with what it is, in {@link DATA_FORMATS}' order (for `list`). */
export const DATA_FORMAT_DESCRIPTIONS: { name: DataFormat; describe: string }[] = DATA_FORMAT_TABLE.map(({ name, describe }) => ({ name, describe }));

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

export { DEBIAN_FASHION_MNIST, resolveDataPath } from './data-path';

/** The format of `data` when --format is not given: the first entry of the table that recognises it, else the
 * fallback for a CSV (EyePACS, whose reader names the columns it lacks) or a folder (an image folder). */
export function detectFormat(data: string): DataFormat {
  if (!fs.existsSync(data)) throw new TransfusionError('ERR_INVALID_ARG', `--data ${displayPath(data)}: no such file or folder`);
  const st = fs.statSync(data);
  if (!st.isFile() && !st.isDirectory()) throw new TransfusionError('ERR_INVALID_ARG', `--data ${displayPath(data)}: neither a folder nor a regular file (a device, a FIFO or a socket)`);
  const once = (read: () => string[]) => {
    let header: string[] | undefined;
    return () => (header ??= read());
  };
  const matches: (entry: FormatEntry) => boolean = st.isFile()
    ? ((name, header) => (e) => e.detect.file?.(name, header) ?? false)(data.toLowerCase(), once(() => readCsvHeader(data)))
    : ((names, header) => (e) => e.detect.folder?.(data, names, header) ?? false)(fs.readdirSync(data), once(() => readCsvHeader(path.join(data, 'train.csv'))));
  const entries: readonly FormatEntry[] = DATA_FORMAT_TABLE;
  const kind = st.isDirectory() ? 'folder' : isCsv(data.toLowerCase()) ? 'csv' : undefined;
  const found = entries.find(matches) ?? entries.find((e) => kind && e.fallbackFor === kind);
  if (found) return found.name as DataFormat;
  throw new TransfusionError('ERR_INVALID_ARG', `--data ${displayPath(data)}: cannot tell its format; give --format (${DATA_FORMATS.join(', ')})`);
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

function readAs(format: DataFormat, data: string, o: ReadOptions): LabelledSet {
  return DATA_FORMAT_TABLE.find((f) => f.name === format)!.read(data, o) as LabelledSet;
}
