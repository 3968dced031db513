// Representational similarity (the paper's Section 4): CCA, SVCCA, PWCCA and CKA between activation sets, computed
// natively in float64 off the event loop. Inputs stay typed arrays; only the small results cross back.
import * as fs from 'node:fs';

import type { SimilarityResult } from '../../bindings/native';
import { MAX_ARRAY_BYTES, parseNpy } from '../data/files/npy';
import { checkRegularFile, displayPath } from '../io/paths';
import { TransfusionError, abortError, checkOneOf, invalidArg, isTypedArray } from '../errors';
import { awaitJob } from '../job';
import { checkHandle, checkOptions, optionKeys } from '../options';
import type { Dataset } from '../data/embedded';
import type { Model } from '../models';
import { addon } from '../runtime';

export type { SimilarityResult } from '../../bindings/native';

/** datapoints-first: (datapoints, neurons); neurons-first: (neurons, datapoints), svcca's convention; nchw: conv
 * activations (N, C, H, W) with channels as neurons and every (image, y, x) position a datapoint. */
export type Layout = 'datapoints-first' | 'neurons-first' | 'nchw';
export const LAYOUTS: readonly Layout[] = ['datapoints-first', 'neurons-first', 'nchw'];

export interface ActivationArray {
  data: Float32Array | Float64Array;
  shape: number[];
}


export const METRICS = ['ccaCoefficients', 'meanCca', 'svccaMean', 'pwcca', 'linearCka', 'debiasedLinearCka'] as const;
export type Metric = (typeof METRICS)[number];

export interface SimilarityOptions {
  layout?: Layout;
  /** nchw: datapoints (positions) to keep, the same on both sides. Default: all, up to max(20,000, 10 x neurons). */
  subsample?: number;
  /** Seed of the position subsample. */
  seed?: number;
  /** Dead-neuron threshold, relative to the largest variance (default 1e-10). */
  epsilon?: number;
  svccaVariance?: number;
  svccaDirections?: number;
  device?: string;
  signal?: AbortSignal;
  onProgress?: (e: { kind: 'pair'; done: number; total: number }) => void;
}

const SIMILARITY_OPTION_KEYS = optionKeys<SimilarityOptions>()(['layout', 'subsample', 'seed', 'epsilon', 'svccaVariance', 'svccaDirections', 'device', 'signal', 'onProgress']);

/** The pairs' shape; an index out of range is the native side's to name ("A pair refers to model 3 but there are 3"). */
function checkPairs(fn: string, pairs: unknown): void {
  if (!Array.isArray(pairs) || pairs.some((p) => !Array.isArray(p) || p.length !== 2 || p.some((i) => !Number.isInteger(i) || i < 0)))
    throw invalidArg('pairs', `a list of [i, j] index pairs for ${fn}`, pairs);
}

function checkArray(name: string, a: ActivationArray): void {
  if (!a || !isTypedArray(a.data, ['Float32Array', 'Float64Array']))
    throw invalidArg(`${name}.data`, 'a Float32Array or Float64Array', a?.data);
  if (!Array.isArray(a.shape)) throw invalidArg(`${name}.shape`, 'an array of dimensions', a.shape);
}

/** Every (i, j) pair of `inputs` compared; each input is centred and factorised once however many pairs use it. */
export async function similarityBatch(
  inputs: ActivationArray[],
  pairs: [number, number][],
  options: SimilarityOptions = {},
): Promise<SimilarityResult[]> {
  if (!Array.isArray(inputs)) throw invalidArg('inputs', 'a list of activation arrays ({ data, shape }) for similarityBatch()', inputs);
  inputs.forEach((a, i) => checkArray(`inputs[${i}]`, a));
  checkPairs('similarityBatch()', pairs);
  checkOptions('similarityBatch()', options, SIMILARITY_OPTION_KEYS);
  const { signal, onProgress, ...native } = options;
  if (native.layout !== undefined) checkOneOf('layout', native.layout, LAYOUTS);
  return awaitJob(
    () => addon().similarity(inputs, pairs, native, onProgress),
    signal,
  );
}

export async function similarity(a: ActivationArray, b: ActivationArray, options: SimilarityOptions = {}): Promise<SimilarityResult> {
  checkArray('a', a);
  checkArray('b', b);
  checkOptions('similarity()', options, SIMILARITY_OPTION_KEYS);
  return (await similarityBatch([a, b], [[0, 1]], options))[0];
}

/** Only the named metrics of a result (what `--metrics` prints). */
export function pickMetrics(r: SimilarityResult, metrics: readonly Metric[]): Partial<SimilarityResult> {
  return Object.fromEntries(metrics.map((m) => [m, r[m]]));
}

/** A .npy file (format 1-3, little-endian float32/float64, C order) as an activation array. */
export async function readNpy(file: string, opts: { signal?: AbortSignal } = {}): Promise<ActivationArray> {
  checkOptions('readNpy()', opts, ['signal'], 'opts');
  let bytes: Buffer;
  // Refused before reading: a directory, /dev/zero, a FIFO (which would block), a file no Buffer can hold.
  checkRegularFile(file, 'ERR_BAD_NPY', MAX_ARRAY_BYTES);
  try {
    bytes = await fs.promises.readFile(file, { signal: opts.signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw abortError();
    throw new TransfusionError('ERR_IO', `Cannot read ${displayPath(file)}: ${(err as Error).message}`);
  }
  const a = parseNpy(bytes, file);
  if (a.dtype !== '<f4' && a.dtype !== '<f8')
    throw new TransfusionError('ERR_BAD_NPY', `${displayPath(file)}: dtype '${a.dtype}' is not supported (little-endian float32 or float64 only)`);
  return { data: a.data as Float32Array | Float64Array, shape: a.shape };
}

export interface CompareOptions {
  /** Stages to compare (default: every stage of the model). */
  stages?: string[];
  /** Datapoints kept per conv stage (positions subsampled as batches pass; default max(20,000, 10 x channels)). */
  maxDatapoints?: number;
  seed?: number;
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (e: { kind: 'stage'; done: number; total: number }) => void;
}

export type StageResult = SimilarityResult & { stage: string };

const COMPARE_OPTION_KEYS = optionKeys<CompareOptions>()(['stages', 'maxDatapoints', 'seed', 'batchSize', 'signal', 'onProgress']);

/**
 * Both models (eval mode) over the same data, compared stage by stage: activations never leave the native side, and
 * conv stages keep a bounded, seeded set of positions (the same for both models).
 */
export async function compareModels(a: Model, b: Model, data: Dataset, options: CompareOptions = {}): Promise<StageResult[]> {
  checkHandle('compareModels()', 'a', a, 'Model', 'createModel()');
  checkHandle('compareModels()', 'b', b, 'Model', 'createModel()');
  checkHandle('compareModels()', 'data', data, 'Dataset', 'generateRetina() or createDataset()');
  checkOptions('compareModels()', options, COMPARE_OPTION_KEYS);
  const results = await compareModelSet([a, b], data, [[0, 1]], options);
  return results.map(({ pair: _pair, ...r }) => r);
}

/**
 * Many models over the same data, each run once; then every pair [i, j] compared at every stage, each model's
 * activations at a stage prepared once for all its pairs. Results come stage by stage, pairs in the order given.
 * Captured activations are bounded by models x stages x maxDatapoints x channels.
 */
export async function compareModelSet(
  models: Model[],
  data: Dataset,
  pairs: [number, number][],
  options: CompareOptions = {},
): Promise<(StageResult & { pair: [number, number] })[]> {
  if (!Array.isArray(models)) throw invalidArg('models', 'a list of Models for compareModelSet()', models);
  models.forEach((m, i) => checkHandle('compareModelSet()', `models[${i}]`, m, 'Model', 'createModel()'));
  checkHandle('compareModelSet()', 'data', data, 'Dataset', 'generateRetina() or createDataset()');
  checkPairs('compareModelSet()', pairs);
  checkOptions('compareModelSet()', options, COMPARE_OPTION_KEYS);
  const { signal, onProgress, ...native } = options;
  return awaitJob(
    () =>
      addon().compareModels(models.map((m) => m.native), data.native, pairs, native, onProgress),
    signal,
  );
}
