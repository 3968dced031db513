// What every dataset reader returns, and the label tables they read: one image input and one label row per item,
// who each item belongs to, where it came from. Kept apart from the readers so that the readers of each family
// (formats.ts, chest-datasets.ts, retina-datasets.ts) share it without importing one another.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

import { parse } from 'csv-parse/sync';

import { TransfusionError } from '../../errors';
import { displayPath, readRegularFile } from '../../io/paths';
import type { ImageInput } from './images';

/** The paper's five chest findings (CheXpert's competition findings), the outputs of every chest reader. */
export const CHEXPERT_FINDINGS = ['Atelectasis', 'Cardiomegaly', 'Consolidation', 'Edema', 'Pleural Effusion'];

/** A dataset as read: one image input and one label row per item, and what to split patients by. `F`: its format's name. */
export interface Labelled<F extends string = string> {
  format: F;
  task: 'binary' | 'multilabel' | 'multiclass';
  /** Output names (binary: one; multilabel: one per finding; multiclass: the class names). */
  labels: string[];
  inputs: ImageInput[];
  /** (N, outputs) 0/1 for binary/multilabel; N class ids for multiclass. */
  targets: Float32Array;
  /** (N, outputs): 0 where a label is masked (uncertain under "ignore", or a finding the dataset lacks); absent when every label is known. */
  mask?: Float32Array;
  /** The grade behind a binary label (EyePACS, APTOS, Messidor-2, IDRiD, RetinaMNIST: 0-4). */
  grades?: number[];
  /** Per item: who it belongs to (patient), so that no patient is on both sides of a split. */
  groups: string[];
  /** Per item: where it came from, for messages ("trainLabels.csv row 12"). */
  where: string[];
  /** Splits the format defines (MedMNIST, Fashion-MNIST, NIH's lists, MIMIC's split.csv): indices of training and validation items. */
  splits?: { train: number[]; val: number[] };
  /** multiclass on ordered grades (the grade target): classes >= this are referable, scored by P(class >= it); absent otherwise. */
  referableFrom?: number;
  /** Rows the format's own rules left out (ungradable, a test split, a lateral view...), counted by reason in the order first met; absent when none was. */
  dropped?: Dropped[];
}

/** Rows a reader left out for one reason. */
export interface Dropped {
  /** Why, in the dataset's words: "ungradable (adjudicated_gradable 0)". */
  reason: string;
  /** How many rows. */
  count: number;
}

/**
 * Counts one row of `set` left out for `reason`.
 * @param set - The set being read.
 * @param reason - Why the row is left out (one string per rule: rows are counted by it).
 */
export function drop(set: Pick<Labelled, 'dropped'>, reason: string): void {
  const seen = (set.dropped ??= []).find((d) => d.reason === reason);
  if (seen) seen.count++;
  else set.dropped.push({ reason, count: 1 });
}

/** A bad dataset: ERR_BAD_DATA with `message` (which names the file and row). */
export const badData = (message: string) => new TransfusionError('ERR_BAD_DATA', message);

/** A label CSV's largest size: CheXpert's 223,000 rows take 30 MB; the text must fit one JavaScript string. */
export const MAX_TABLE_BYTES = 256 * 2 ** 20;

/** A label table as read: rows keyed by (trimmed) column name, each with the file line it ends on. */
export interface Table {
  file: string;
  columns: string[];
  rows: Record<string, string>[];
  /** Per row: its line in the file (the header is line 1), for messages. */
  lines: number[];
}

/**
 * A CSV label table (gzipped when its name ends in .gz, as PhysioNet ships MIMIC's). Column names are trimmed (IDRiD's
 * "Risk of macular edema " has a trailing space) and rows may be shorter or longer than the header (NIH's header ends
 * in a comma its rows lack).
 * @param file - The CSV (or .csv.gz) file.
 * @param delimiter - The field separator (default ",").
 * @returns The table, with each row's line.
 * @throws ERR_BAD_DATA naming the file when it is missing, too large, not gzip or not CSV.
 */
export function readTable(file: string, delimiter = ','): Table {
  if (!fs.existsSync(file)) throw badData(`${displayPath(file)}: no such file`);
  let bytes = readRegularFile(file, 'ERR_BAD_DATA', MAX_TABLE_BYTES);
  if (file.toLowerCase().endsWith('.gz')) {
    try {
      bytes = zlib.gunzipSync(bytes, { maxOutputLength: MAX_TABLE_BYTES });
    } catch (err) {
      throw badData(`${displayPath(file)}: not a readable gzip file of at most ${MAX_TABLE_BYTES} bytes (${(err as Error).message})`);
    }
  }
  let columns: string[] = [];
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(bytes.toString('utf8'), {
      columns: (header: string[]) => (columns = header.map((c) => c.trim())),
      relax_column_count: true, skip_empty_lines: true, trim: true, bom: true, info: true, delimiter,
    }) as typeof records;
  } catch (err) {
    throw badData(`${displayPath(file)}: not a readable CSV (${displayPath((err as Error).message)})`);
  }
  return { file, columns, rows: records.map((r) => r.record), lines: records.map((r) => r.info.lines) };
}

/**
 * Refuses a table without one of `columns`.
 * @param table - A table from {@link readTable}.
 * @param columns - The column names it must have.
 * @throws ERR_BAD_DATA naming the file, the missing column and the columns it has.
 */
export function requireColumns(table: Table, columns: string[]): void {
  for (const c of columns)
    if (!table.columns.includes(c)) throw badData(`${displayPath(table.file)}: missing column "${c}" (columns: ${displayPath(table.columns.join(', ')) || 'none'})`);
}

/**
 * The first of `names` that exists, as a path; undefined when none does.
 * @param dir - The folder to look in.
 * @param names - File names in order of preference (e.g. "x.csv", "x.csv.gz").
 * @returns The path of the first that exists, or undefined.
 */
export function firstExisting(dir: string, names: string[]): string | undefined {
  return names.map((n) => path.join(dir, n)).find((p) => fs.existsSync(p));
}

/** A 0-4 grade written as one digit ("2", not "0x2", "1e0" or "2.0"), or ERR_BAD_DATA naming `where` and `column`. */
export function gradeOf(value: string | undefined, where: string, column: string): number {
  if (value === undefined || !/^\s*[0-4]\s*$/.test(value)) throw badData(`${where}: ${column} "${displayPath(String(value))}" is not a grade 0-4`);
  return Number(value);
}

/**
 * Refuses an image listed twice (a repeated row would count it twice; one image with two grades has no true grade),
 * naming both rows.
 */
export function checkRepeats(set: Pick<Labelled, 'inputs' | 'where'>): void {
  const seen = new Map<string, string>();
  set.inputs.forEach((input, i) => {
    if (!('file' in input)) return;  // pixels in memory (idx, npz) name no file
    const file = path.resolve(input.file);
    const first = seen.get(file);
    if (first !== undefined) throw badData(`${set.where[i]}: image ${displayPath(input.file)} is listed again (first at ${first}); each image must appear once`);
    seen.set(file, set.where[i]);
  });
}

/**
 * A task of two unordered classes (an image folder with two sub-folders) as the binary task it is: one output, the
 * second class (in sorted order) positive, scored by AUC. As two-class multiclass it trained with no AUC at all and a
 * quadratic kappa that means nothing for unordered classes. Other sets are returned as they are.
 */
export function twoClassesAsBinary<S extends Pick<Labelled, 'task' | 'labels' | 'format'>>(set: S): S {
  if (set.task !== 'multiclass' || set.labels.length !== 2 || set.format !== 'folder') return set;
  return { ...set, task: 'binary', labels: [`${set.labels[1]} (against ${set.labels[0]})`] };
}
