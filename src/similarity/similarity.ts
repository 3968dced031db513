// Representational similarity (the paper's Section 4): CCA, SVCCA, PWCCA and CKA between activation sets, computed
// natively in float64 off the event loop. Inputs stay typed arrays; only the small results cross back.
import * as fs from 'node:fs';

import type { NativeCompareOptions, NativeSimilarityOptions, SimilarityResult } from '../../bindings/native';
import { MAX_ARRAY_BYTES, parseNpy } from '../data/files/npy';
import { checkRegularFile, displayPath } from '../io/paths';
import { TransfusionError, abortError, checkOneOf, invalidArg, isTypedArray } from '../errors';
import { awaitJob } from '../job';
import { checkHandle, checkOptions, optionKeys } from '../options';
import type { Dataset } from '../data/embedded';
import type { Model } from '../models';
import { addon } from '../runtime';

export type { SimilarityResult, SimilarityWork } from '../../bindings/native';

/** datapoints-first: (datapoints, neurons); neurons-first: (neurons, datapoints), svcca's convention; nchw: conv
 * activations (N, C, H, W) with channels as neurons and every (image, y, x) position a datapoint. */
export type Layout = 'datapoints-first' | 'neurons-first' | 'nchw';
/** Every {@link Layout}, in the order `cca --layout` lists them. */
export const LAYOUTS: readonly Layout[] = ['datapoints-first', 'neurons-first', 'nchw'];

/** One set of activations: values in C order, laid out as the call's {@link Layout} says. */
export interface ActivationArray {
  /** The values, float32 or float64 (computed in float64 either way). */
  data: Float32Array | Float64Array;
  /** (datapoints, neurons), (neurons, datapoints) or (N, C, H, W), per the layout. */
  shape: number[];
}

/**
 * The metrics a {@link SimilarityResult} holds, by their names (what `cca --metrics` accepts): the canonical
 * correlations, then the native metric table's entries in its order ({@link similarityMetrics} describes each; a unit
 * test holds the two lists equal).
 */
export const METRICS = ['ccaCoefficients', 'meanCca', 'svccaMean', 'pwcca', 'linearCka', 'debiasedLinearCka', 'procrustes', 'shapeMetric', 'rbfCka'] as const;
/** One of {@link METRICS}. */
export type Metric = (typeof METRICS)[number];
/** Every metric's value by name, as a result holds it when computed. */
export type MetricValues = Omit<Pick<SimilarityResult, Metric>, 'rbfCka'> & { rbfCka: number };
/** A result of a call that named its `metrics`: those (ccaCoefficients comes with meanCca) and the rest of the record. */
export type SomeMetrics<M extends Metric> = Omit<SimilarityResult, Metric> & Pick<MetricValues, M>;

/** One entry of the native metric table (native/core/similarity/metrics.h). */
export interface MetricInfo {
  /** Its key in every result, report and file. */
  name: Exclude<Metric, 'ccaCoefficients'>;
  /** "similarity": higher is more alike; "distance": lower is. */
  direction: 'similarity' | 'distance';
  /** Its range [low, high]. */
  range: [number, number];
  /** What it reads of each side's prepared activations. */
  needs: string;
  /** Its computation, in a sentence. */
  computes: string;
  /** Where it comes from. */
  reference: string;
  /** Biased upwards with few datapoints per neuron (CCA, SVCCA, PWCCA): the reliability rule applies. */
  ccaFamily: boolean;
  /** May be null where undefined (debiased CKA with fewer than 4 datapoints). */
  nullable: boolean;
  /** Computed when a call names no `metrics` (false: costly, computed only when named). */
  byDefault: boolean;
}

/**
 * The similarity metrics the engine computes for every pair, in its table's order.
 * @returns Each metric's name, direction, range, what it needs, its computation and its reference.
 * @throws ERR_ADDON_NOT_BUILT when the native addon is missing.
 * @example
 * similarityMetrics().filter((m) => m.direction === 'distance').map((m) => m.name);  // ['procrustes']
 */
export function similarityMetrics(): MetricInfo[] {
  return addon().similarityMetrics() as MetricInfo[];
}

/** How {@link similarity} and {@link similarityBatch} read and compare their arrays. */
export interface SimilarityOptions extends Omit<NativeSimilarityOptions, 'layout' | 'metrics'> {
  /** How the arrays are laid out (default "datapoints-first"). */
  layout?: Layout;
  /**
   * The metrics to compute (default: every one whose {@link MetricInfo.byDefault} is true, i.e. all but rbfCka);
   * a result then holds those alone ("ccaCoefficients" is computed with "meanCca").
   */
  metrics?: readonly Metric[];
  /** Cancels between pairs (rejects with ABORT_ERR). */
  signal?: AbortSignal;
  /** Called after each pair: { kind: 'pair', done, total }. */
  onProgress?: (e: { kind: 'pair'; done: number; total: number }) => void;
}

const SIMILARITY_OPTION_KEYS = optionKeys<SimilarityOptions>()(['layout', 'subsample', 'seed', 'epsilon', 'svccaVariance', 'svccaDirections', 'device', 'metrics', 'rbfBandwidth', 'shapeAlpha', 'signal', 'onProgress']);

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

/**
 * Every (i, j) pair of `inputs` compared; each input is centred, multiplied (X^T X) and factorised once however many
 * pairs use it, and an array listed twice (the same object, or the same data and shape) counts as one input (each
 * result's `work.prepared` says how many were prepared). Runs off the event loop, in float64.
 * @param inputs - The activation arrays, each with the same number of datapoints as those it is paired with.
 * @param pairs - Index pairs into `inputs`.
 * @param options - Layout, SVCCA settings, device, signal and progress ({@link SimilarityOptions}).
 * @returns One {@link SimilarityResult} per pair, in the order given.
 * @throws ERR_INVALID_ARG for a bad array, pair, layout or option (an unknown key is named); ERR_NO_CUDA for a CUDA
 * device on a build or machine without one; ERR_NUMERICS if a factorisation fails; ERR_OUT_OF_MEMORY; ABORT_ERR.
 */
export async function similarityBatch<M extends Metric>(inputs: ActivationArray[], pairs: [number, number][], options: SimilarityOptions & { metrics: readonly M[] }): Promise<SomeMetrics<M>[]>;
export async function similarityBatch(inputs: ActivationArray[], pairs: [number, number][], options?: SimilarityOptions): Promise<SimilarityResult[]>;
export async function similarityBatch(
  inputs: ActivationArray[],
  pairs: [number, number][],
  options: SimilarityOptions = {},
): Promise<SimilarityResult[]> {
  if (!Array.isArray(inputs)) throw invalidArg('inputs', 'a list of activation arrays ({ data, shape }) for similarityBatch()', inputs);
  inputs.forEach((a, i) => checkArray(`inputs[${i}]`, a));
  checkPairs('similarityBatch()', pairs);
  checkOptions('similarityBatch()', options, SIMILARITY_OPTION_KEYS);
  const { signal, onProgress, metrics, ...native } = options;
  if (native.layout !== undefined) checkOneOf('layout', native.layout, LAYOUTS);
  const named = metrics === undefined ? {} : { metrics: nativeMetrics(metrics) };
  const shared = distinctInputs(inputs, pairs);
  return awaitJob(
    () => addon().similarity(shared.inputs, shared.pairs, { ...native, ...named }, onProgress),
    signal,
  );
}

/** A call's `metrics` as the native table names them: ccaCoefficients is meanCca's, each name once. */
function nativeMetrics(metrics: readonly Metric[]): string[] {
  if (!Array.isArray(metrics) || metrics.length === 0) throw invalidArg('metrics', `a non-empty list of metric names (${METRICS.join(', ')})`, metrics);
  return [...new Set(metrics.map((m: unknown) => checkOneOf('metrics', m, METRICS)).map((m) => (m === 'ccaCoefficients' ? 'meanCca' : m)))];
}

/**
 * An array given more than once (the same object, or the same `data` with the same shape), as when each layer of a
 * model meets the same layer of every other model, crosses once and is prepared once: the list without repeats and
 * the pairs renumbered into it. Pairs out of range are left as given, for the native side to name.
 */
function distinctInputs(inputs: ActivationArray[], pairs: [number, number][]): { inputs: ActivationArray[]; pairs: [number, number][] } {
  if (pairs.some(([i, j]) => i >= inputs.length || j >= inputs.length)) return { inputs, pairs };
  const distinct: ActivationArray[] = [];
  const index = inputs.map((a) => {
    const k = distinct.findIndex((d) => d === a || (d.data === a.data && d.shape.length === a.shape.length && d.shape.every((n, i) => n === a.shape[i])));
    return k >= 0 ? k : distinct.push(a) - 1;
  });
  return { inputs: distinct, pairs: pairs.map(([i, j]) => [index[i], index[j]]) };
}

/**
 * Mean CCA, SVCCA, PWCCA, linear CKA (plain and debiased) and the canonical correlations of two activation sets over
 * the same datapoints (Raghu et al. 2017, Morcos et al. 2018, Kornblith et al. 2019), computed natively in float64 off
 * the event loop. Constant neurons are dropped and counted, never a NaN.
 * @param a - The first set, e.g. (datapoints, neurons).
 * @param b - The second set, over the same datapoints.
 * @param options - Layout, subsample, SVCCA settings, device and signal ({@link SimilarityOptions}).
 * @returns The metrics, the neurons and datapoints used, and the route the products took.
 * @throws ERR_INVALID_ARG for a bad array or option, or arrays over different datapoints; ERR_NO_CUDA; ERR_NUMERICS;
 * ERR_OUT_OF_MEMORY; ABORT_ERR.
 * @example
 * ```ts
 * const r = await similarity({ data: a, shape: [5000, 64] }, { data: b, shape: [5000, 48] });
 * r.meanCca; r.pwcca; r.linearCka;
 * (await similarity(a, b, { metrics: ['rbfCka'], rbfBandwidth: 0.5 })).rbfCka;  // that metric alone
 * ```
 */
export async function similarity<M extends Metric>(a: ActivationArray, b: ActivationArray, options: SimilarityOptions & { metrics: readonly M[] }): Promise<SomeMetrics<M>>;
export async function similarity(a: ActivationArray, b: ActivationArray, options?: SimilarityOptions): Promise<SimilarityResult>;
export async function similarity(a: ActivationArray, b: ActivationArray, options: SimilarityOptions = {}): Promise<SimilarityResult> {
  checkArray('a', a);
  checkArray('b', b);
  checkOptions('similarity()', options, SIMILARITY_OPTION_KEYS);
  return (await similarityBatch([a, b], [[0, 1]], options))[0];
}

/**
 * Only the named metrics of a result (what `cca --metrics` prints).
 * @param r - A result of {@link similarity}.
 * @param metrics - The metrics to keep.
 * @returns An object with those keys alone.
 * @throws ERR_INVALID_ARG for a name not among {@link METRICS}.
 */
export function pickMetrics(r: SimilarityResult, metrics: readonly Metric[]): Partial<SimilarityResult> {
  if (!Array.isArray(metrics)) throw invalidArg('metrics', `a list of metric names (${METRICS.join(', ')})`, metrics);
  const names = metrics.map((m: unknown) => checkOneOf('metrics', m, METRICS));
  return Object.fromEntries(names.map((m) => [m, r[m]]));
}

/**
 * A .npy file (format 1-3, little-endian float32/float64, C order) as an activation array.
 * @param file - The .npy file's path.
 * @param opts - `signal` cancels the read.
 * @returns Its values and shape.
 * @throws ERR_BAD_NPY for a file that is not such a .npy (named, with what is wrong) or not a regular file; ERR_IO when
 * it cannot be read; ABORT_ERR.
 */
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
  const a = parseNpy(bytes, file, { dtypes: { accepted: ['<f4', '<f8'], described: 'activations are float32 or float64, little-endian' } });
  return { data: a.data as Float32Array | Float64Array, shape: a.shape };
}

/** How {@link compareModels} and {@link compareModelSet} run the models and compare their stages. */
export interface CompareOptions extends NativeCompareOptions {
  /** Cancels between batches and stages (rejects with ABORT_ERR). */
  signal?: AbortSignal;
  /** Called after each stage: { kind: 'stage', done, total }. */
  onProgress?: (e: { kind: 'stage'; done: number; total: number }) => void;
}

/**
 * The memory the addon keeps for reuse: the similarity engine's blocks (one batch's inputs and their float64 copies)
 * and, through its CPU allocator, the large tensors training and evaluation jobs free (a step's activations and
 * gradients), up to an eighth of the machine's memory (1-16 GiB), handed to the next batch, step or job instead of
 * fresh memory (on a virtual machine fresh memory is slow to touch), and freed by a background thread once 3 s pass
 * with no batch or job running.
 * @returns The bytes kept now (0 three seconds after the last batch or job).
 * @throws ERR_ADDON_NOT_BUILT when the native addon is missing.
 */
export function reusedMemoryBytes(): number {
  return addon().reusedMemoryBytes();
}

/** A {@link SimilarityResult} at one stage of two models. */
export type StageResult = SimilarityResult & { stage: string };
/**
 * The stages compared, and those left out: a stage the caller did not name where no similarity is defined (no more
 * datapoints than neurons, or every neuron constant). `skipped` is a property of the array: JSON.stringify drops it.
 */
export type StageResults<T> = T[] & { skipped: { stage: string; reason: string }[] };

const COMPARE_OPTION_KEYS = optionKeys<CompareOptions>()(['stages', 'maxDatapoints', 'seed', 'batchSize', 'signal', 'onProgress']);

/**
 * Both models (eval mode) over the same data, compared stage by stage: activations never leave the native side, and
 * conv stages keep a bounded, seeded set of positions (the same for both models).
 * @param a - A model.
 * @param b - Another model with the same stages (e.g. the same architecture, another initialisation).
 * @param data - The probe images both models see.
 * @param options - Stages, datapoint budget, seed, batch size, signal and progress ({@link CompareOptions}).
 * @returns One {@link StageResult} per stage, in the order of `stages`; each says whether it is `reliable` (at least
 *   10 datapoints per neuron). Without `stages`, a stage with no more datapoints than neurons is left out and listed
 *   in the result's `skipped`, with why.
 * @throws ERR_INVALID_ARG for a missing model or dataset, an unknown stage or option, or a stage named in `stages`
 *   with no more datapoints than neurons (the numbers named); ERR_DISPOSED; ERR_BUSY when a model is training;
 *   ERR_NUMERICS; ERR_OUT_OF_MEMORY; ABORT_ERR.
 * @example
 * ```ts
 * const stages = await compareModels(random, transfer, probe, { stages: ['layer1', 'layer4'] });
 * stages.map((s) => [s.stage, s.meanCca]);
 * ```
 */
export async function compareModels(a: Model, b: Model, data: Dataset, options: CompareOptions = {}): Promise<StageResults<StageResult>> {
  checkHandle('compareModels()', 'a', a, 'Model', 'createModel()');
  checkHandle('compareModels()', 'b', b, 'Model', 'createModel()');
  checkHandle('compareModels()', 'data', data, 'Dataset', 'generateRetina() or createDataset()');
  checkOptions('compareModels()', options, COMPARE_OPTION_KEYS);
  const results = await compareModelSet([a, b], data, [[0, 1]], options);
  return Object.assign(results.map(({ pair: _pair, ...r }) => r), { skipped: results.skipped });
}

/**
 * Many models over the same data, each run once; then every pair [i, j] compared at every stage, each model's
 * activations at a stage prepared once for all its pairs. Results come stage by stage, pairs in the order given.
 * Captured activations are bounded by models x stages x maxDatapoints x channels.
 * @param models - The models, all with the stages compared.
 * @param data - The probe images every model sees.
 * @param pairs - Index pairs into `models`.
 * @param options - As for {@link compareModels}.
 * @returns Per stage, per pair, a {@link StageResult} with its `pair`.
 * @throws As {@link compareModels}, and ERR_INVALID_ARG for a pair out of range.
 */
export async function compareModelSet(
  models: Model[],
  data: Dataset,
  pairs: [number, number][],
  options: CompareOptions = {},
): Promise<StageResults<StageResult & { pair: [number, number] }>> {
  if (!Array.isArray(models)) throw invalidArg('models', 'a list of Models for compareModelSet()', models);
  models.forEach((m, i) => checkHandle('compareModelSet()', `models[${i}]`, m, 'Model', 'createModel()'));
  checkHandle('compareModelSet()', 'data', data, 'Dataset', 'generateRetina() or createDataset()');
  checkPairs('compareModelSet()', pairs);
  checkOptions('compareModelSet()', options, COMPARE_OPTION_KEYS);
  const { signal, onProgress, ...native } = options;
  const all = (await awaitJob(
    () =>
      addon().compareModels(models.map((m) => m.native), data.native, pairs, native, onProgress),
    signal,
  )) as (StageResult & { pair: [number, number] } | { stage: string; skipped: string })[];
  const compared = all.filter((r): r is StageResult & { pair: [number, number] } => !('skipped' in r));
  const skipped = all.filter((r): r is { stage: string; skipped: string } => 'skipped' in r).map((r) => ({ stage: r.stage, reason: r.skipped }));
  return Object.assign(compared, { skipped });
}
