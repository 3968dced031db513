// The user's own data in the library (issue 31): loadDataset reads a dataset on disk, in any format a study reads, as
// the training and validation Datasets train() and evaluate() take, with the same checks and split as a study's.
import * as fs from 'node:fs';

import { invalidArg, checkInteger, checkOneOf } from '../../errors';
import { optionKeys, requireOptions } from '../../options';
import { LIMITS } from '../../limits';
import { UNCERTAINTY_POLICIES } from '../embedded';
import { checkDicomOptions } from './dicom';
import { DATA_FORMATS, DATA_TARGETS } from './formats';
import { loadData, type DataSpec, type LoadedData } from './load';

export type { LoadedData } from './load';

const SPEC_KEYS = optionKeys<DataSpec>()(['path', 'format', 'imageDir', 'policy', 'frontalOnly', 'valFraction', 'equalize', 'onBadImage', 'target', 'dicom']);

/**
 * Checks a dataset's description as `where` (e.g. "task.data") names it: the path exists, every field known and of
 * its type. Throws ERR_INVALID_ARG naming the field.
 */
export function checkDataSpec(data: unknown, where: string, fn: string): DataSpec {
  if (!data || typeof data !== 'object' || typeof (data as DataSpec).path !== 'string') throw invalidArg(where, 'a dataset ({ path, format? })', data);
  const d = requireOptions<DataSpec>(fn, data, SPEC_KEYS, where);
  if (!fs.existsSync(d.path)) throw invalidArg(`${where}.path`, 'an existing file or folder', d.path);
  if (d.format !== undefined) checkOneOf(`${where}.format`, d.format, DATA_FORMATS);
  if (d.target !== undefined) checkOneOf(`${where}.target`, d.target, DATA_TARGETS);
  if (d.dicom !== undefined) checkDicomOptions(d.dicom, fn, `${where}.dicom.`);
  if (d.imageDir !== undefined && typeof d.imageDir !== 'string') throw invalidArg(`${where}.imageDir`, 'a folder path', d.imageDir);
  if (d.valFraction !== undefined && !(typeof d.valFraction === 'number' && d.valFraction > 0 && d.valFraction < 1))
    throw invalidArg(`${where}.valFraction`, 'a number between 0 and 1 (exclusive)', d.valFraction);
  if (d.equalize !== undefined) checkOneOf(`${where}.equalize`, d.equalize, ['none', 'normalise', 'clahe'] as const);
  if (d.onBadImage !== undefined) checkOneOf(`${where}.onBadImage`, d.onBadImage, ['fail', 'skip'] as const);
  if (d.frontalOnly !== undefined && typeof d.frontalOnly !== 'boolean') throw invalidArg(`${where}.frontalOnly`, 'true or false', d.frontalOnly);
  if (d.policy !== undefined) {
    if (!d.policy || typeof d.policy !== 'object' || Array.isArray(d.policy)) throw invalidArg(`${where}.policy`, 'an object of finding: policy', d.policy);
    for (const [finding, policy] of Object.entries(d.policy)) checkOneOf(`${where}.policy.${finding}`, policy, UNCERTAINTY_POLICIES);
  }
  return d;
}

/** How {@link loadDataset} decodes and splits. */
export interface LoadDatasetOptions {
  /** The square side images are resized to (16-1024). */
  size: number;
  /** Training items to keep (stratified, seeded); default all. */
  trainSize?: number;
  /** Validation items to keep (stratified, seeded); default all. */
  valSize?: number;
  /** Seed of the patient split and the subsamples (default 0): one seed, one split. */
  seed?: number;
  /** Where decoded images are cached (default $TRANSFUSION_CACHE, else ~/.cache/transfusion-native); a second load of
   * the same images at the same settings decodes nothing. */
  cacheDir?: string;
  /** Read as a task (default true), as studies do: a two-class image folder is one binary output, and an unordered
   * multiclass set is scored by each class's one-vs-rest AUC. false: every folder of classes stays multiclass (as
   * pretraining reads one). */
  asTask?: boolean;
  signal?: AbortSignal;
  /** Decoding progress: what is being read, and how far. */
  onProgress?: (what: string, done: number, total: number) => void;
}
const LOAD_KEYS = optionKeys<LoadDatasetOptions>()(['size', 'trainSize', 'valSize', 'seed', 'cacheDir', 'asTask', 'signal', 'onProgress']);

/**
 * A dataset on disk as training and validation {@link Dataset}s, read exactly as a study reads `task.data`: the
 * format detected from the path (or `spec.format`: EyePACS, APTOS, Messidor-2, IDRiD, ODIR, CheXpert, MIMIC-CXR, NIH
 * ChestX-ray14, an image folder, MedMNIST .npz, Fashion-MNIST idx, DICOM with a labels CSV), the format's own split
 * or whole patients held out (`spec.valFraction`), subsampled when asked, images decoded, resized to `size` and
 * normalised, and cached decoded. The caller disposes both Datasets.
 * @param spec - The dataset and how to read it ({@link DataSpec}).
 * @param options - Image size, sizes, seed, cache, signal ({@link LoadDatasetOptions}).
 * @returns The two Datasets with the format, task, labels, what was skipped or dropped and what came from the cache.
 * @throws ERR_INVALID_ARG for a bad spec or option (named); ERR_BAD_DATA for a file that does not parse (naming its
 *   file and row); ERR_BAD_IMAGE for an image that does not decode (with onBadImage "fail"); ABORT_ERR.
 */
export async function loadDataset(spec: DataSpec, options: LoadDatasetOptions): Promise<LoadedData> {
  const d = checkDataSpec(spec, 'spec', 'loadDataset()');
  const o = requireOptions<LoadDatasetOptions>('loadDataset()', options, LOAD_KEYS);
  checkInteger('size', o.size, LIMITS.imageSize.min, LIMITS.imageSize.max);
  if (o.trainSize !== undefined) checkInteger('trainSize', o.trainSize, LIMITS.setSize.min, LIMITS.setSize.max);
  if (o.valSize !== undefined) checkInteger('valSize', o.valSize, LIMITS.setSize.min, LIMITS.setSize.max);
  const seed = o.seed === undefined ? 0 : checkInteger('seed', o.seed, 0);
  if (o.asTask !== undefined && typeof o.asTask !== 'boolean') throw invalidArg('asTask', 'true or false', o.asTask);
  if (o.cacheDir !== undefined && typeof o.cacheDir !== 'string') throw invalidArg('cacheDir', 'a folder path', o.cacheDir);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw invalidArg('onProgress', 'a function', o.onProgress);
  return loadData(d, { size: o.size, trainSize: o.trainSize, valSize: o.valSize, seed, cacheDir: o.cacheDir, signal: o.signal, onProgress: o.onProgress, asTask: o.asTask ?? true });
}
