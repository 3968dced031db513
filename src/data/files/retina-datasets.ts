// Retinal fundus datasets as their public downloads lay them out: EyePACS and APTOS 2019 (Kaggle), Messidor-2 (with
// its adjudicated grades) and IDRiD's disease grading. Each is read as EyePACS is: referable DR = grade >= 2 (one binary output), the
// 5-level grade kept beside it. Messidor-2 names its patients through the exam pairs of messidor-2.csv; APTOS and
// IDRiD name none, so each image is its own group.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { displayPath, resolveInside } from '../../io/paths';
import { badData, checkRepeats, drop, gradeOf, readTable, requireColumns, type Labelled, type Table } from './labelled';

type RetinaFormat = 'aptos2019' | 'messidor2' | 'idrid';

/** A referable-DR set being filled. */
function retinaSet<F extends RetinaFormat>(format: F): Labelled<F> & { grades: number[] } {
  return { format, task: 'binary', labels: ['referable DR'], inputs: [], targets: new Float32Array(), grades: [], groups: [], where: [] };
}

/** Adds one graded image to `set`. */
function add(set: Labelled & { grades: number[] }, file: string, grade: number, group: string, where: string): void {
  set.inputs.push({ file });
  set.grades.push(grade);
  set.groups.push(group);
  set.where.push(where);
}

const done = <S extends Labelled & { grades: number[] }>(set: S): S => {
  checkRepeats(set);
  return Object.assign(set, { targets: Float32Array.from(set.grades, (g) => (g >= 2 ? 1 : 0)) });
};

/**
 * APTOS 2019 Blindness Detection (Kaggle): `train.csv` (id_code,diagnosis 0-4) beside `train_images/<id_code>.png`.
 * @param data - The download's folder, or its train.csv.
 * @returns Referable DR (diagnosis >= 2), the grades kept; each image its own group (APTOS names no patients).
 * @throws ERR_BAD_DATA naming the file and row of a missing column, a bad grade or id.
 */
export function readAptos2019(data: string): Labelled<'aptos2019'> {
  const csv = data.toLowerCase().endsWith('.csv') ? data : path.join(data, 'train.csv');
  const root = path.dirname(path.resolve(csv));
  const table = readTable(csv);
  requireColumns(table, ['id_code', 'diagnosis']);
  const set = retinaSet('aptos2019');
  table.rows.forEach((row, i) => {
    const relative = path.join('train_images', `${row.id_code}.png`);
    const where = `${displayPath(csv)} row ${table.lines[i]} (${displayPath(relative)})`;
    if (!/^[0-9a-z]+$/i.test(row.id_code ?? '')) throw badData(`${where}: id_code "${displayPath(String(row.id_code))}" is not an APTOS id`);
    add(set, resolveInside(root, relative, `${where}: image`, 'ERR_BAD_DATA'), gradeOf(row.diagnosis, where, 'diagnosis'), row.id_code, where);
  });
  return done(set);
}

/** Messidor-2's exam pairs (`messidor-2.csv`: one exam per line, its two images separated by ";"): image -> exam. */
function messidorExams(root: string): Map<string, string> {
  const exams = new Map<string, string>();
  const file = path.join(root, 'messidor-2.csv');
  if (!fs.existsSync(file)) return exams;
  const table: Table = readTable(file, ';');
  const pairs = [table.columns, ...table.rows.map((r) => table.columns.map((c) => r[c]))];
  // The header may itself be a pair (a file without a header line); a real header ("left", "right") names no image.
  pairs.forEach((pair, k) => {
    const images = pair.map((p) => (p ?? '').trim()).filter((p) => /\.(png|jpe?g|tiff?)$/i.test(p));
    for (const image of images) exams.set(image.toLowerCase(), `exam ${k}: ${images.join(' + ')}`);
  });
  return exams;
}

/**
 * Messidor-2 with the adjudicated grades distributed for it (Krause et al. 2018, `messidor_data.csv`: image_id,
 * adjudicated_dr_grade, adjudicated_dme, adjudicated_gradable) and the images in `IMAGES/` (names matched without
 * regard to case: the CSV says .jpg where the download has .JPG). Ungradable images (adjudicated_gradable 0, no
 * grade) are left out and counted in `dropped`. Patients: the exams of `messidor-2.csv` (both eyes of one exam stay on one side of the
 * split); without it, each image is its own group.
 * @param data - The folder holding messidor_data.csv and IMAGES/, or the CSV.
 * @returns Referable DR (adjudicated grade >= 2), the grades kept.
 * @throws ERR_BAD_DATA naming the file and row of a missing column, a bad grade or gradability, or an image name
 *   that leaves the folder.
 */
export function readMessidor2(data: string): Labelled<'messidor2'> {
  const csv = data.toLowerCase().endsWith('.csv') ? data : path.join(data, 'messidor_data.csv');
  const root = path.dirname(path.resolve(csv));
  const table = readTable(csv);
  requireColumns(table, ['image_id', 'adjudicated_dr_grade', 'adjudicated_gradable']);
  const folder = ['IMAGES', 'images'].find((f) => fs.existsSync(path.join(root, f))) ?? 'IMAGES';
  const listed = new Map((fs.existsSync(path.join(root, folder)) ? fs.readdirSync(path.join(root, folder)) : []).map((f) => [f.toLowerCase(), f]));
  const exams = messidorExams(root);
  const set = retinaSet('messidor2');
  table.rows.forEach((row, i) => {
    const name = row.image_id ?? '';
    const relative = path.join(folder, listed.get(name.toLowerCase()) ?? name);
    const where = `${displayPath(csv)} row ${table.lines[i]} (${displayPath(relative)})`;
    if (!name) throw badData(`${where}: empty image_id`);
    if (row.adjudicated_gradable !== '0' && row.adjudicated_gradable !== '1') throw badData(`${where}: adjudicated_gradable "${displayPath(String(row.adjudicated_gradable))}" is not 0 or 1`);
    if (row.adjudicated_gradable === '0') return drop(set, 'ungradable (adjudicated_gradable 0)');
    const file = resolveInside(root, relative, `${where}: image_id`, 'ERR_BAD_DATA');
    add(set, file, gradeOf(row.adjudicated_dr_grade, where, 'adjudicated_dr_grade'), exams.get(name.toLowerCase()) ?? name, where);
  });
  return done(set);
}

const IDRID = 'B. Disease Grading';
const IDRID_SETS = [
  { side: 'train', labels: 'a. IDRiD_Disease Grading_Training Labels.csv', images: 'a. Training Set' },
  { side: 'val', labels: 'b. IDRiD_Disease Grading_Testing Labels.csv', images: 'b. Testing Set' },
] as const;

/**
 * IDRiD's disease grading: `B. Disease Grading/2. Groundtruths/a. IDRiD_Disease Grading_Training Labels.csv` (Image
 * name, Retinopathy grade, Risk of macular edema) with `1. Original Images/a. Training Set/<name>.jpg`, and the
 * testing set's `b. ...` files. With both, training is the training set and validation the testing set (IDRiD's own
 * split); with the training labels only, images are held out at random. IDRiD names no patients.
 * @param data - The IDRiD folder (holding "B. Disease Grading") or "B. Disease Grading" itself.
 * @returns Referable DR (Retinopathy grade >= 2), the grades kept.
 * @throws ERR_BAD_DATA naming the file and row of a missing column or a bad grade, or a folder without the labels.
 */
export function readIdrid(data: string): Labelled<'idrid'> {
  const root = path.basename(path.resolve(data)) === IDRID ? path.resolve(data) : path.join(path.resolve(data), IDRID);
  const present = IDRID_SETS.filter((s) => fs.existsSync(path.join(root, '2. Groundtruths', s.labels)));
  if (!present.some((s) => s.side === 'train')) throw badData(`${displayPath(path.join(root, '2. Groundtruths', IDRID_SETS[0].labels))}: no such file (IDRiD's disease grading labels)`);
  const set = retinaSet('idrid');
  const splits = { train: [] as number[], val: [] as number[] };
  for (const s of present) {
    const csv = path.join(root, '2. Groundtruths', s.labels);
    const table = readTable(csv);
    requireColumns(table, ['Image name', 'Retinopathy grade']);
    table.rows.forEach((row, i) => {
      if (!row['Image name']) return;  // the training CSV's trailing blank rows of empty columns
      const relative = path.join('1. Original Images', s.images, `${row['Image name']}.jpg`);
      const where = `${displayPath(csv)} row ${table.lines[i]} (${displayPath(relative)})`;
      const grade = gradeOf(row['Retinopathy grade'], where, 'Retinopathy grade');
      splits[s.side].push(set.inputs.length);
      add(set, resolveInside(root, relative, `${where}: Image name`, 'ERR_BAD_DATA'), grade, `${s.images}/${row['Image name']}`, where);
    });
  }
  if (present.length === 2) set.splits = splits;
  return done(set);
}

/**
 * EyePACS as Kaggle ships it: `trainLabels.csv` (image,level) beside `train/` of `<image>.jpeg`. `dir` holds both
 * (or is the CSV itself); `imageDir` points at the images elsewhere. Label: referable = level >= 2; the grade is kept.
 * Patient: the image name before "_left"/"_right".
 */
export function readEyepacs(dir: string, imageDir?: string): Labelled<'eyepacs'> {
  const csv = dir.toLowerCase().endsWith('.csv') ? dir : path.join(dir, 'trainLabels.csv');
  const table = readTable(csv);
  requireColumns(table, ['image', 'level']);
  const rows = table.rows;
  const images = imageDir ?? path.join(path.dirname(csv), 'train');
  const set: Labelled<'eyepacs'> = { format: 'eyepacs', task: 'binary', labels: ['referable DR'], inputs: [], targets: new Float32Array(rows.length), grades: [], groups: [], where: [] };
  rows.forEach((row, i) => {
    const where = `${displayPath(csv)} row ${table.lines[i]}`;  // the header is row 1
    const level = gradeOf(row.level, where, 'level');
    if (!row.image) throw badData(`${where}: empty image name`);
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
