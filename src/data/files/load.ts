// A user's dataset as training and validation Datasets: read in its format, split by patient (or as the format
// defines), the training side subsampled (stratified, seeded) when asked, images decoded and resized, normalised.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Dataset } from '../embedded';
import { TransfusionError } from '../../errors';
import { callNative } from '../../job';
import { addon } from '../../runtime';
import { writeFileAtomic } from '../../io/atomic';
import { makeDirectory } from '../../io/mkdir';
import { decodeToFile, type ImageSettings } from './images';
import type { DicomReadOptions } from './dicom';
import { detectFormat, readLabelled, type DataFormat, type DataTarget, type LabelledSet } from './formats';
import { twoClassesAsBinary, type Dropped } from './labelled';
import type { UncertaintyPolicy } from '../embedded';

/** A user's dataset on disk and how to read it. */
export interface DataSpec {
  /** The dataset: a folder or file, as the format expects. */
  path: string;
  /** Detected from `path` when absent. */
  format?: DataFormat;
  /** EyePACS: the folder of images when not `train/` beside the CSV. */
  imageDir?: string;
  /** CheXpert, MIMIC-CXR: uncertainty policy per finding. */
  policy?: Partial<Record<string, UncertaintyPolicy>>;
  /** CheXpert, MIMIC-CXR: keep frontal images only (default true). */
  frontalOnly?: boolean;
  /** Fraction of patients held out for validation where the format has no split (default 0.2). */
  valFraction?: number;
  /** Contrast of each decoded image: "none" (default), "normalise" (stretched to the full range) or "clahe" (local equalisation). */
  equalize?: ImageSettings['equalize'];
  /** An image that does not decode: "fail" (default) stops with ERR_BAD_IMAGE naming it; "skip" leaves it out and records it. */
  onBadImage?: 'fail' | 'skip';
  /** Graded retinal data: "referable" (default; one output, grade >= 2) or "grade" (five classes, scored by quadratic kappa and the AUC of P(grade >= 2)). */
  target?: DataTarget;
  /**
   * DICOM files: `frame` (from 0; default 0) and `window` (`{ center, width }` in Modality LUT units, or "auto" for the
   * 0.5th-99.5th percentiles; by default the file's VOI LUT or window, else the percentiles). Part of the decoded-image
   * cache's key, so another frame or window decodes again.
   */
  dicom?: DicomReadOptions;
}

/** A dataset read from disk: its training and validation Datasets (the caller disposes them) and what the reading
 * found. */
export interface LoadedData {
  format: DataFormat;
  task: LabelledSet['task'];
  labels: string[];
  train: Dataset;
  val: Dataset;
  /** Items left out because their images did not decode (onBadImage "skip"), with where and why. */
  skipped: { where: string; reason: string }[];
  /** Rows the format's own rules left out before the split (ungradable, test split, lateral view...), counted by reason. */
  dropped: Dropped[];
  /** Items available before subsampling, per side. */
  available: { train: number; val: number };
  /** Whether each side's decoded images came from the cache (no decoding). */
  fromCache: { train: boolean; val: boolean };
  /** SHA-256 of the list of items read, training side then validation side: each file's path relative to the dataset
   * and its size (an item a format holds as pixels: its bytes). The same files give the same hash on any machine. */
  filesHash: string;
}

/** A seeded generator (mulberry32): splits and subsamples depend on the seed only. */
function rng(seed: number): () => number {
  let a = (seed >>> 0) + 0x6d2b79f5;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Training and validation indices: the format's own split, else whole patients held out at random. */
export function splitByGroup(set: LabelledSet, valFraction: number, seed: number): { train: number[]; val: number[] } {
  if (set.splits) return set.splits;
  const groups = shuffle([...new Set(set.groups)].sort(), rng(seed));
  const held = new Set(groups.slice(0, Math.max(1, Math.round(groups.length * valFraction))));
  const train: number[] = [], val: number[] = [];
  set.groups.forEach((g, i) => (held.has(g) ? val : train).push(i));
  return { train, val };
}

/** The label pattern an item is stratified by: its class, or its row of 0/1 labels. */
function stratum(set: LabelledSet, i: number): string {
  const k = set.task === 'multiclass' ? 1 : set.labels.length;
  return Array.from(set.targets.subarray(i * k, (i + 1) * k)).join('');
}

/** `count` of `indices`, stratified by label pattern (each pattern keeps its share, rounded), seeded. */
export function stratifiedSample(set: LabelledSet, indices: number[], count: number, seed: number): number[] {
  if (count >= indices.length) return indices;
  const random = rng(seed ^ 0x5eed);
  const byStratum = new Map<string, number[]>();
  // One pass, appending in place: O(n) (it copied each stratum's list per item, quadratic in the set's size).
  for (const i of indices) {
    const key = stratum(set, i);
    const items = byStratum.get(key);
    if (items) items.push(i);
    else byStratum.set(key, [i]);
  }
  const chosen: number[] = [];
  const strata = [...byStratum.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  // Largest remainder: every stratum gets floor(share), the leftover goes to the largest fractions.
  const shares = strata.map(([, items]) => (items.length * count) / indices.length);
  const base = shares.map(Math.floor);
  let left = count - base.reduce((a, b) => a + b, 0);
  shares.map((s, k) => ({ k, frac: s - base[k] })).sort((a, b) => b.frac - a.frac).forEach(({ k }) => {
    if (left > 0) base[k]++, left--;
  });
  strata.forEach(([, items], k) => {
    for (const i of shuffle(items, random).slice(0, base[k])) chosen.push(i);  // no spread: a stratum may hold 10^5 items
  });
  return chosen.sort((a, b) => a - b);
}

function subset(set: LabelledSet, indices: number[], k: number): { targets: Float32Array; mask?: Float32Array } {
  const per = set.task === 'multiclass' ? 1 : k;
  const targets = new Float32Array(indices.length * per);
  const mask = set.mask ? new Float32Array(indices.length * per) : undefined;
  indices.forEach((i, j) => {
    targets.set(set.targets.subarray(i * per, (i + 1) * per), j * per);
    mask?.set(set.mask!.subarray(i * per, (i + 1) * per), j * per);
  });
  return { targets, mask };
}

export interface LoadOptions {
  size: number;
  /** Where decoded images are kept (default $TRANSFUSION_CACHE, else ~/.cache/transfusion-native). */
  cacheDir?: string;
  /** Training items to keep (stratified, seeded); default all. */
  trainSize?: number;
  /** Validation items to keep; default all. */
  valSize?: number;
  seed: number;
  signal?: AbortSignal;
  onProgress?: (what: string, done: number, total: number) => void;
  /**
   * The data are a study's task (not pretraining): a two-class image folder is then a binary task (twoClassesAsBinary),
   * and a multiclass set of unordered classes is scored by each class's one-vs-rest AUC (every class must then be in
   * both splits).
   */
  asTask?: boolean;
}

export async function loadData(spec: DataSpec, o: LoadOptions): Promise<LoadedData> {
  const format = spec.format ?? detectFormat(spec.path);
  const read = readLabelled(format, spec.path, spec);
  const set = o.asTask ? twoClassesAsBinary(read) : read;
  if (!set.inputs.length) throw new TransfusionError('ERR_BAD_DATA', `${spec.path}: no items (after filters)`);
  const split = splitByGroup(set, spec.valFraction ?? 0.2, o.seed);
  const available = { train: split.train.length, val: split.val.length };
  const sides = {
    train: o.trainSize ? stratifiedSample(set, split.train, o.trainSize, o.seed) : split.train,
    val: o.valSize ? stratifiedSample(set, split.val, o.valSize, o.seed + 1) : split.val,
  };
  const outputs = set.labels.length;
  const classAuc = o.asTask === true && set.task === 'multiclass' && !set.referableFrom;
  const skipped: LoadedData['skipped'] = [];
  const fromCache = { train: false, val: false };
  const made: Dataset[] = [];
  try {
    const build = async (side: 'train' | 'val') => {
      const indices = sides[side];
      if (!indices.length) throw new TransfusionError('ERR_BAD_DATA', `${spec.path}: the ${side} split is empty`);
      const settings: ImageSettings = { size: o.size, equalize: spec.equalize, ...(spec.dicom ? { dicom: spec.dicom } : {}) };
      const { file, decoded, cached } = await decodedSet(set, indices, settings, spec, o, side);
      fromCache[side] = cached;
      skipped.push(...decoded.bad.map((b) => ({ where: set.where[indices[b.index]], reason: b.reason })));
      const keep = decoded.kept.map((j) => indices[j]);
      if (!keep.length) throw new TransfusionError('ERR_BAD_DATA', `${spec.path}: no ${side} image could be read`);
      const { targets, mask } = subset(set, keep, outputs);
      if (classAuc) checkEveryClass(set, targets, spec.path, side);
      const d = new Dataset(callNative(() => addon().openDataset({
        file, count: keep.length, size: o.size, targets, mask, task: set.task, outputs, source: format,
        ...(set.referableFrom ? { referableFrom: set.referableFrom } : {}), ...(classAuc ? { classAuc } : {}),
      })));
      made.push(d);
      return d;
    };
    const train = await build('train');
    const val = await build('val');
    const listed = createHash('sha256');
    for (const i of [...sides.train, ...sides.val]) {
      const input = set.inputs[i];
      if ('file' in input) listed.update(`${path.relative(spec.path, input.file)}|${fs.existsSync(input.file) ? fs.statSync(input.file).size : -1}\n`);
      else listed.update(input.pixels).update('\n');
    }
    return { format, task: set.task, labels: set.labels, train, val, skipped, dropped: set.dropped ?? [], available, fromCache, filesHash: listed.digest('hex') };
  } catch (err) {
    made.forEach((d) => d.dispose());
    throw err;
  }
}

/** The cache directory for decoded sets: $TRANSFUSION_CACHE, else ~/.cache/transfusion-native. */
function cacheRoot(o: LoadOptions): string {
  if (o.cacheDir) return o.cacheDir;
  if (process.env.TRANSFUSION_CACHE) return process.env.TRANSFUSION_CACHE;
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'transfusion-native');
}

/**
 * The chosen images of one side decoded into a file of uint8 rows, cached by what they are: each file input's path,
 * size and modification time (pixel inputs: their bytes), the size and contrast settings, the DICOM frame and window,
 * and the bad-image policy.
 * A second load of the same images reuses the file without decoding.
 */
async function decodedSet(set: LabelledSet, indices: number[], settings: ImageSettings, spec: DataSpec, o: LoadOptions, side: string) {
  // A chosen DICOM frame or window joins the key only when given, so the keys of sets decoded at the defaults stay valid.
  const frame = settings.dicom?.frame ?? 0, window = settings.dicom?.window;
  const dicom = frame !== 0 || window !== undefined ? [frame, typeof window === 'object' ? [window.center, window.width] : (window ?? 'file')] : [];
  const hash = createHash('sha256').update(JSON.stringify(['decoded@2', settings.size, settings.equalize ?? 'none', spec.onBadImage ?? 'fail', ...dicom]));
  for (const i of indices) {
    const input = set.inputs[i];
    if ('file' in input) {
      const st = fs.existsSync(input.file) ? fs.statSync(input.file) : undefined;
      hash.update(`${path.resolve(input.file)}|${st?.size}|${st?.mtimeMs}\n`);
    } else hash.update(input.pixels).update(`|${input.width}x${input.height}x${input.channels}\n`);
  }
  const dir = path.join(cacheRoot(o), 'decoded');
  makeDirectory(dir, 'the decoded-image cache');
  const key = hash.digest('hex').slice(0, 32);
  const file = path.join(dir, `${key}.u8`), manifest = path.join(dir, `${key}.json`);
  if (fs.existsSync(file) && fs.existsSync(manifest)) {
    try {
      const decoded = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { kept: number[]; bad: { index: number; reason: string }[] };
      if (fs.statSync(file).size === decoded.kept.length * 3 * settings.size * settings.size) return { file, decoded, cached: true };
    } catch {
      // a torn manifest: decode again
    }
  }
  const decoded = await decodeToFile(indices.map((i) => set.inputs[i]), settings, file, (j) => set.where[indices[j]], {
    onBadImage: spec.onBadImage,
    signal: o.signal,
    onProgress: (done, total) => o.onProgress?.(`${side} images`, done, total),
  });
  writeFileAtomic(manifest, JSON.stringify(decoded));
  return { file, decoded, cached: false };
}

/** A task of unordered classes is scored by each class's one-vs-rest AUC: every class needs items in the split, named if not. */
function checkEveryClass(set: Pick<LabelledSet, 'labels'>, targets: Float32Array, where: string, side: 'train' | 'val'): void {
  const counts = new Array<number>(set.labels.length).fill(0);
  for (const t of targets) counts[t] += 1;
  const missing = set.labels.filter((_, k) => counts[k] === 0);
  if (missing.length)
    throw new TransfusionError('ERR_BAD_DATA',
      `${where}: the ${side} split has no image of class(es) ${missing.map((l) => JSON.stringify(l)).join(', ')} (of ${targets.length}): each class's one-vs-rest AUC needs it in both splits; add images of it, or raise valFraction`);
}
