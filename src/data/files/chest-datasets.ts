// Chest x-ray datasets as their public downloads lay them out: CheXpert, NIH ChestX-ray14, MIMIC-CXR (JPG and DICOM
// releases) and RSNA Pneumonia. NIH and MIMIC are read into the paper's five findings, each mapped from the dataset's own names
// (CHEST_LABEL_MAP; a finding a dataset lacks is masked out of the loss and the AUC, as torchxrayvision's
// relabel_dataset does). RSNA has none of the five: it is its own binary task, "Pneumonia". Items are grouped by
// patient, and the official splits (NIH's lists, MIMIC's split.csv) are used where present, checked patient-disjoint.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { UncertaintyPolicy } from '../embedded';
import { TransfusionError } from '../../errors';
import { displayPath, resolveInside } from '../../io/paths';
import { CHEXPERT_FINDINGS, badData, drop, firstExisting, readTable, requireColumns, type Labelled, type Table } from './labelled';

/** NIH ChestX-ray14's fourteen findings as `Finding Labels` spells them ("No Finding" is the fifteenth value). */
export const NIH_FINDINGS = ['Atelectasis', 'Cardiomegaly', 'Effusion', 'Infiltration', 'Mass', 'Nodule', 'Pneumonia', 'Pneumothorax',
  'Consolidation', 'Edema', 'Emphysema', 'Fibrosis', 'Pleural_Thickening', 'Hernia'];

/**
 * Per chest dataset, the name each of the paper's five findings has there; null where the dataset lacks it (that
 * output is then masked for every item). NIH calls pleural effusion "Effusion"; MIMIC-CXR's labels come from the
 * CheXpert labeller and keep its names.
 */
export const CHEST_LABEL_MAP: Record<'nih-chestxray14' | 'mimic-cxr', Record<string, string | null>> = {
  'nih-chestxray14': { Atelectasis: 'Atelectasis', Cardiomegaly: 'Cardiomegaly', Consolidation: 'Consolidation', Edema: 'Edema', 'Pleural Effusion': 'Effusion' },
  'mimic-cxr': { Atelectasis: 'Atelectasis', Cardiomegaly: 'Cardiomegaly', Consolidation: 'Consolidation', Edema: 'Edema', 'Pleural Effusion': 'Pleural Effusion' },
};

/** How MIMIC-CXR's labels are read. */
export interface ChestOptions {
  /** Per finding, what an uncertain (-1.0) label becomes (default as CheXpert: ones for Atelectasis and Edema, zeros for the rest). */
  policy?: Partial<Record<string, UncertaintyPolicy>>;
  /** Keep frontal (PA and AP) images only (default true; MIMIC-CXR reads ViewPosition from its -metadata.csv). */
  frontalOnly?: boolean;
}

/**
 * (N, 5) targets and mask over the paper's five findings from each item's own labels, as torchxrayvision's
 * relabel_dataset aligns datasets: a finding the dataset lacks is masked (0) for every item, so it counts in neither
 * the loss nor the AUC; an uncertain label follows `policy` (ignore: masked).
 * @param names - Per finding, its name in the dataset, or null where the dataset lacks it (see CHEST_LABEL_MAP).
 * @param values - Per item, its label under a dataset name: 1, 0, or -1 for uncertain.
 * @param policy - Per finding, what -1 becomes (ones, zeros, or ignore).
 * @returns The targets, and the mask when any label is masked.
 */
export function alignFindings(names: Record<string, string | null>, values: ((name: string) => number)[], policy: Record<string, UncertaintyPolicy>): { targets: Float32Array; mask?: Float32Array } {
  const K = CHEXPERT_FINDINGS.length;
  const targets = new Float32Array(values.length * K), mask = new Float32Array(values.length * K).fill(1);
  let masked = false;
  values.forEach((value, i) => CHEXPERT_FINDINGS.forEach((f, k) => {
    const name = names[f];
    const v = name === null ? undefined : value(name);
    if (v === undefined || (v === -1 && policy[f] === 'ignore')) {
      mask[i * K + k] = 0;
      masked = true;
    } else targets[i * K + k] = v === -1 ? (policy[f] === 'ones' ? 1 : 0) : v;
  }));
  return { targets, mask: masked ? mask : undefined };
}

/** CheXpert's default policy with the user's on top; an unknown finding is ERR_INVALID_ARG. */
function uncertaintyPolicy(given: ChestOptions['policy']): Record<string, UncertaintyPolicy> {
  const policy: Record<string, UncertaintyPolicy> = Object.fromEntries(CHEXPERT_FINDINGS.map((f) => [f, f === 'Atelectasis' || f === 'Edema' ? 'ones' : 'zeros']));
  for (const [f, p] of Object.entries(given ?? {})) {
    if (!CHEXPERT_FINDINGS.includes(f)) throw new TransfusionError('ERR_INVALID_ARG', `Unknown finding "${f}" in the uncertainty policy; findings: ${CHEXPERT_FINDINGS.join(', ')}`);
    policy[f] = p!;
  }
  return policy;
}

/** Throws when a patient is on both sides of a format's own split (it would leak between training and validation). */
function checkPatientDisjoint(set: Labelled, source: string): void {
  const train = new Set(set.splits!.train.map((i) => set.groups[i]));
  const shared = set.splits!.val.find((i) => train.has(set.groups[i]));
  if (shared !== undefined)
    throw badData(`${source}: patient ${displayPath(set.groups[shared])} is in both the training and the validation split (${set.where[shared]} and ${set.where[set.splits!.train.find((i) => set.groups[i] === set.groups[shared])!]})`);
}

/** NIH's `images_NNN/images/*.png` folders (and a flat `images/`), as the download unpacks: file name -> path relative to `root`. */
function nihImages(root: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const top of fs.readdirSync(root).filter((d) => /^images(_\d+)?$/.test(d)).sort()) {
    const inner = fs.existsSync(path.join(root, top, 'images')) ? path.join(top, 'images') : top;
    if (!fs.statSync(path.join(root, inner)).isDirectory()) continue;
    for (const f of fs.readdirSync(path.join(root, inner)).sort()) if (!found.has(f)) found.set(f, path.join(inner, f));
  }
  return found;
}

/**
 * NIH ChestX-ray14: `Data_Entry_2017*.csv` (`Image Index`, pipe-separated `Finding Labels` or "No Finding",
 * `Patient ID`, `View Position`) with the PNGs under `images_NNN/images/`. `train_val_list.txt` / `test_list.txt`,
 * where present, are the split (training / validation); otherwise patients are held out at random.
 * @param data - The download's folder, or its Data_Entry CSV.
 * @returns The five findings (multilabel); patients from `Patient ID`.
 * @throws ERR_BAD_DATA naming the file and row of a missing column, an unknown finding or patient, an image in
 *   neither list, or a patient on both sides of the official split.
 */
export function readNihChestXray14(data: string): Labelled<'nih-chestxray14'> {
  let csv = data;
  if (!data.toLowerCase().endsWith('.csv')) {
    const entries = fs.existsSync(data) ? fs.readdirSync(data).filter((f) => /^Data_Entry_2017.*\.csv$/.test(f)).sort() : [];
    if (!entries.length) throw badData(`${displayPath(data)}: no Data_Entry_2017*.csv (NIH ChestX-ray14's labels)`);
    csv = path.join(data, entries[entries.length - 1]);  // Data_Entry_2017_v2020.csv, the corrected labels, over the first release
  }
  const root = path.dirname(path.resolve(csv));
  const table = readTable(csv);
  requireColumns(table, ['Image Index', 'Finding Labels', 'Patient ID']);
  const images = nihImages(root);
  const lists = ['train_val_list.txt', 'test_list.txt'].map((f) => path.join(root, f));
  const side = new Map<string, 'train' | 'val'>();
  const listed = lists.every((f) => fs.existsSync(f));
  if (listed)
    lists.forEach((f, k) => fs.readFileSync(f, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter(Boolean).forEach((name) => side.set(name, k === 0 ? 'train' : 'val')));
  const set: Labelled<'nih-chestxray14'> = { format: 'nih-chestxray14', task: 'multilabel', labels: CHEXPERT_FINDINGS, inputs: [], targets: new Float32Array(), groups: [], where: [], ...(listed ? { splits: { train: [], val: [] } } : {}) };
  const values: ((name: string) => number)[] = [];
  table.rows.forEach((row, i) => {
    const name = row['Image Index'];
    const relative = images.get(name) ?? path.join('images', name);
    const where = `${displayPath(csv)} row ${table.lines[i]} (${displayPath(relative)})`;
    if (!name || name.includes('/') || name.includes('\\')) throw badData(`${where}: Image Index "${displayPath(name)}" is not a file name`);
    const findings = row['Finding Labels'].split('|').map((f) => f.trim());
    for (const f of findings)
      if (!NIH_FINDINGS.includes(f) && f !== 'No Finding') throw badData(`${where}: Finding Labels has "${displayPath(f)}", not one of No Finding, ${NIH_FINDINGS.join(', ')}`);
    if (findings.includes('No Finding') && findings.length > 1) throw badData(`${where}: Finding Labels "${displayPath(row['Finding Labels'])}" has No Finding beside findings`);
    if (!/^\d+$/.test(row['Patient ID'])) throw badData(`${where}: Patient ID "${displayPath(row['Patient ID'])}" is not a number`);
    if (listed) {
      const s = side.get(name);
      if (!s) throw badData(`${where}: ${name} is in neither train_val_list.txt nor test_list.txt`);
      set.splits![s].push(set.inputs.length);
    }
    set.inputs.push({ file: resolveInside(root, relative, `${where}: Image Index`, 'ERR_BAD_DATA') });
    set.groups.push(`patient ${Number(row['Patient ID'])}`);
    set.where.push(where);
    values.push((f) => (findings.includes(f) ? 1 : 0));
  });
  Object.assign(set, alignFindings(CHEST_LABEL_MAP['nih-chestxray14'], values, {}));
  if (set.splits) checkPatientDisjoint(set, `${displayPath(root)}: train_val_list.txt / test_list.txt`);
  return set;
}

const MIMIC = 'mimic-cxr-2.0.0';
const tableOf = (dir: string, kind: string) => firstExisting(dir, [`${MIMIC}-${kind}.csv`, `${MIMIC}-${kind}.csv.gz`]);

/** A MIMIC / CheXpert label: 1, 0, -1 (uncertain) or blank (not mentioned: negative, as the CheXpert reader reads it). */
function mimicValue(v: string | undefined, where: string, finding: string): number {
  if (v === undefined || v === '' || v === '0' || v === '0.0') return 0;
  if (v === '1' || v === '1.0') return 1;
  if (v === '-1' || v === '-1.0') return -1;
  throw badData(`${where}: ${finding} is "${displayPath(v)}", not 1.0, 0.0, -1.0 or blank`);
}

/**
 * MIMIC-CXR-JPG (and MIMIC-CXR's DICOM release): `mimic-cxr-2.0.0-chexpert.csv` (or `-negbio.csv`; .csv.gz as
 * PhysioNet ships them) labels each study; `-split.csv` lists each image (dicom_id, study_id, subject_id, split) and is
 * the split (train -> training, validate -> validation, test left out); `-metadata.csv` gives each image's
 * ViewPosition. Images: `files/pXX/pSUBJECT/sSTUDY/<dicom_id>.jpg` (`.dcm` in the DICOM release).
 * @param dir - The download's folder.
 * @param o - Uncertainty policy and frontal-only (default true, which needs the metadata file).
 * @returns The five findings (multilabel); patients from subject_id. Images of a study without a label row, of the test
 *   split or (frontal only) of another view are left out, counted by reason in `dropped`.
 * @throws ERR_BAD_DATA naming the file and row of a bad value or id, a missing table, or a patient in two splits;
 *   ERR_INVALID_ARG for an unknown finding in the policy.
 */
export function readMimicCxr(dir: string, o: ChestOptions = {}): Labelled<'mimic-cxr'> {
  const labelsFile = tableOf(dir, 'chexpert') ?? tableOf(dir, 'negbio');
  if (!labelsFile) throw badData(`${displayPath(dir)}: no ${MIMIC}-chexpert.csv or -negbio.csv (.gz) (MIMIC-CXR's labels)`);
  const splitFile = tableOf(dir, 'split'), metadataFile = tableOf(dir, 'metadata');
  const frontalOnly = o.frontalOnly ?? true;
  if (frontalOnly && !metadataFile) throw badData(`${displayPath(dir)}: no ${MIMIC}-metadata.csv(.gz) for the view positions; read all views with --all-views (frontalOnly: false)`);
  const imagesFile = splitFile ?? metadataFile;
  if (!imagesFile) throw badData(`${displayPath(dir)}: no ${MIMIC}-split.csv or -metadata.csv (.gz) listing the images`);
  const policy = uncertaintyPolicy(o.policy);
  const labels = readTable(labelsFile);
  const names = CHEST_LABEL_MAP['mimic-cxr'];
  requireColumns(labels, ['subject_id', 'study_id', ...Object.values(names).filter((n): n is string => n !== null)]);
  const byStudy = new Map<string, { row: Record<string, string>; where: string }>();
  labels.rows.forEach((row, i) => byStudy.set(row.study_id, { row, where: `${displayPath(labelsFile)} row ${labels.lines[i]}` }));
  let view: Map<string, string> | undefined;
  if (frontalOnly) {
    const meta = readTable(metadataFile!);
    requireColumns(meta, ['dicom_id', 'ViewPosition']);
    view = new Map(meta.rows.map((r) => [r.dicom_id, r.ViewPosition]));
  }
  const images: Table = readTable(imagesFile);
  requireColumns(images, ['dicom_id', 'study_id', 'subject_id', ...(splitFile ? ['split'] : [])]);
  const set: Labelled<'mimic-cxr'> = { format: 'mimic-cxr', task: 'multilabel', labels: CHEXPERT_FINDINGS, inputs: [], targets: new Float32Array(), groups: [], where: [], ...(splitFile ? { splits: { train: [], val: [] } } : {}) };
  const values: ((name: string) => number)[] = [];
  let extension: string | undefined;
  images.rows.forEach((row, i) => {
    const at = `${displayPath(imagesFile)} row ${images.lines[i]}`;
    for (const id of ['subject_id', 'study_id'] as const) if (!/^\d{3,}$/.test(row[id])) throw badData(`${at}: ${id} "${displayPath(row[id])}" is not a MIMIC id`);
    if (!/^[0-9a-f-]+$/i.test(row.dicom_id)) throw badData(`${at}: dicom_id "${displayPath(row.dicom_id)}" is not a MIMIC dicom_id`);
    if (view && !['PA', 'AP'].includes(view.get(row.dicom_id) ?? '')) return drop(set, 'not a frontal view (ViewPosition neither PA nor AP)');
    const split = splitFile ? row.split : undefined;
    if (split !== undefined && !['train', 'validate', 'test'].includes(split)) throw badData(`${at}: split "${displayPath(split)}" is not train, validate or test`);
    if (split === 'test') return drop(set, 'test split (split.csv: test)');
    const label = byStudy.get(row.study_id);
    if (!label) return drop(set, 'study without a label row');
    if (label.row.subject_id !== row.subject_id) throw badData(`${at}: study ${row.study_id} is subject ${row.subject_id} here but ${displayPath(label.row.subject_id)} in ${label.where}`);
    const folder = path.join('files', `p${row.subject_id.slice(0, 2)}`, `p${row.subject_id}`, `s${row.study_id}`);
    // The JPG release or the DICOM one: decided by the first image found, so 377,000 images are not probed twice.
    extension ??= fs.existsSync(path.join(dir, folder, `${row.dicom_id}.jpg`)) || !fs.existsSync(path.join(dir, folder, `${row.dicom_id}.dcm`)) ? 'jpg' : 'dcm';
    const relative = path.join(folder, `${row.dicom_id}.${extension}`);
    const where = `${at} (${relative}; labels: ${label.where})`;
    const v = Object.fromEntries(Object.values(names).filter((n): n is string => n !== null).map((n) => [n, mimicValue(label.row[n], label.where, n)]));
    if (split) set.splits![split === 'train' ? 'train' : 'val'].push(set.inputs.length);
    set.inputs.push({ file: resolveInside(dir, relative, `${where}: image`, 'ERR_BAD_DATA') });
    set.groups.push(`p${row.subject_id}`);
    set.where.push(where);
    values.push((n) => v[n]);
  });
  Object.assign(set, alignFindings(names, values, policy));
  if (set.splits) checkPatientDisjoint(set, displayPath(splitFile!));
  return set;
}

/**
 * RSNA Pneumonia Detection: `stage_2_train_labels.csv` (patientId,x,y,width,height,Target; one row per box, one row
 * with blank box for a negative) with `stage_2_train_images/<patientId>.dcm`. One item per patientId (each names one
 * image), labelled "Pneumonia" = Target; its rows must agree. None of the paper's five findings is labelled in RSNA,
 * so it is its own binary task rather than five masked outputs.
 * @param data - The download's folder, or its labels CSV.
 * @returns A binary set; groups are the patientIds.
 * @throws ERR_BAD_DATA naming the file and row of a bad Target or box, or rows of one patient that disagree.
 */
export function readRsnaPneumonia(data: string): Labelled<'rsna-pneumonia'> {
  const csv = data.toLowerCase().endsWith('.csv') ? data : path.join(data, 'stage_2_train_labels.csv');
  const root = path.dirname(path.resolve(csv));
  const table = readTable(csv);
  requireColumns(table, ['patientId', 'x', 'y', 'width', 'height', 'Target']);
  const seen = new Map<string, { index: number; target: number; line: number }>();
  const set: Labelled<'rsna-pneumonia'> = { format: 'rsna-pneumonia', task: 'binary', labels: ['Pneumonia'], inputs: [], targets: new Float32Array(), groups: [], where: [] };
  const targets: number[] = [];
  table.rows.forEach((row, i) => {
    const id = row.patientId;
    const relative = path.join('stage_2_train_images', `${id}.dcm`);
    const where = `${displayPath(csv)} row ${table.lines[i]} (${displayPath(relative)})`;
    if (!/^[0-9a-f-]+$/i.test(id ?? '')) throw badData(`${where}: patientId "${displayPath(String(id))}" is not an RSNA patientId`);
    if (row.Target !== '0' && row.Target !== '1') throw badData(`${where}: Target "${displayPath(String(row.Target))}" is not 0 or 1`);
    const target = Number(row.Target);
    const box = ['x', 'y', 'width', 'height'].map((k) => row[k] ?? '');
    if (target === 1 ? box.some((b) => b === '' || !Number.isFinite(Number(b))) : box.some((b) => b !== ''))
      throw badData(`${where}: Target ${target} with box "${displayPath(box.join(','))}" (a positive row has a box, a negative row none)`);
    const before = seen.get(id);
    if (before) {
      if (before.target !== target) throw badData(`${where}: Target ${target}, but row ${before.line} gives ${id} Target ${before.target}`);
      return;  // another box of the same image
    }
    seen.set(id, { index: set.inputs.length, target, line: table.lines[i] });
    set.inputs.push({ file: resolveInside(root, relative, `${where}: image`, 'ERR_BAD_DATA') });
    targets.push(target);
    set.groups.push(id);
    set.where.push(where);
  });
  set.targets = Float32Array.from(targets);
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
export function readChexpert(csv: string, o: ChexpertOptions = {}): Labelled<'chexpert'> {
  const table = readTable(csv);
  requireColumns(table, ['Path', 'Frontal/Lateral', ...CHEXPERT_FINDINGS]);
  const rows = table.rows;
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
  const kept = rows.map((row, i) => ({ row, line: table.lines[i] })).filter(({ row }) => (o.frontalOnly ?? true) ? row['Frontal/Lateral'] === 'Frontal' : true);
  const set: Labelled<'chexpert'> = { format: 'chexpert', task: 'multilabel', labels: CHEXPERT_FINDINGS, inputs: [], targets: new Float32Array(kept.length * K), groups: [], where: [] };
  if (kept.length < rows.length) set.dropped = [{ reason: 'lateral view (frontal only)', count: rows.length - kept.length }];
  const mask = new Float32Array(kept.length * K).fill(1);
  let masked = false;
  kept.forEach(({ row, line }, i) => {
    const where = `${displayPath(csv)} row ${line}`;
    if (!row.Path) throw badData(`${where}: empty Path`);
    if (!['Frontal', 'Lateral'].includes(row['Frontal/Lateral'])) throw badData(`${where}: Frontal/Lateral is "${displayPath(String(row['Frontal/Lateral']))}", not Frontal or Lateral`);
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
      } else throw badData(`${where}: ${f} is "${displayPath(String(v))}", not 1, 0, -1 or blank`);
      set.targets[i * K + k] = t;
    });
    set.inputs.push({ file: resolve(row.Path, where) });
    set.groups.push(/patient\d+/.exec(row.Path)?.[0] ?? row.Path);
    set.where.push(where);
  });
  if (masked) set.mask = mask;
  return set;
}
