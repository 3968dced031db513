// The embedded, generated data sources (drawn natively, in parallel, deterministic under a seed).
import type { DatasetInfo, NativeDataset } from '../../bindings/native';
import { checkInteger, checkNumber, checkOneOf, invalidArg } from '../errors';
import { awaitJob, callNative } from '../job';
import { LIMITS } from '../limits';
import { checkNativeHandle, checkOptions, optionKeys, requireOptions } from '../options';
import { addon } from '../runtime';

export type { DatasetInfo };

/** Images and targets held natively; only labels and small summaries cross into JS. */
export class Dataset {
  /** @internal */
  constructor(/** @internal */ readonly native: NativeDataset) {
    checkNativeHandle('Dataset', 'generateRetina(), generateChest(), generateNatural() or loadData()', native);
  }
  /**
   * What the set holds: source, task, image count and size, outputs.
   * @returns A fresh {@link DatasetInfo}.
   * @throws ERR_DISPOSED when the set was disposed.
   */
  info(): DatasetInfo {
    return callNative(() => this.native.info());
  }
  /** Images in the set. Throws ERR_DISPOSED when the set was disposed. */
  get count(): number {
    return this.info().count;
  }
  /**
   * The targets, copied out.
   * @returns (count, outputs) 0/1 targets, row-major; count class ids for a multiclass set.
   * @throws ERR_DISPOSED when the set was disposed.
   */
  targets(): Float32Array {
    return callNative(() => this.native.targets());
  }
  /**
   * DR grade 0-4 per image (RETINA-like data); empty otherwise.
   * @returns count grades, or an empty array.
   * @throws ERR_DISPOSED when the set was disposed.
   */
  grades(): Int32Array {
    return callNative(() => this.native.grades());
  }
  /**
   * (count, 3) per-image channel means in normalised units.
   * @returns count x 3 means, row-major.
   * @throws ERR_DISPOSED when the set was disposed.
   */
  meanColour(): Float32Array {
    return callNative(() => this.native.meanColour());
  }
  /**
   * Every image as models take it (normalised float32), for handing the same data to another tool (`bench study`
   * writes them as .npy for its PyTorch peer).
   * @returns { data, shape: [count, 3, height, width] } (a copy).
   * @throws ERR_DISPOSED when the set was disposed.
   */
  images(): { data: Float32Array; shape: number[] } {
    return callNative(() => this.native.images());
  }
  /** Frees the images now. Idempotent; a job already running keeps the set until it settles. */
  dispose(): void {
    this.native.dispose();
  }
  /** Whether {@link Dataset.dispose} was called. */
  get disposed(): boolean {
    return this.native.disposed;
  }
}

// Symbol.dispose, for TypeScript's `using`: installed only where the runtime has the symbol (a computed class member
// would be named "undefined" where it has not, as in jest's sandbox or Node 18).
export interface Dataset {
  /** The same as dispose(), for TypeScript's `using` (explicit resource management). */
  [Symbol.dispose](): void;
}
if (typeof Symbol.dispose === 'symbol')
  Object.defineProperty(Dataset.prototype, Symbol.dispose, { value(this: Dataset) { this.dispose(); }, writable: true, configurable: true });

/** What {@link generateRetina} draws. */
export interface RetinaOptions {
  /** Images to draw, 1 to 10,000,000. */
  count: number;
  /** Square image side in pixels, 16-1024 (default 64; the paper's RETINA images are 587). */
  size?: number;
  /** Seed of the drawing (default 0): the same seed gives the same images. */
  seed?: number;
  /** P(grade = 0..4); default [0.45, 0.10, 0.25, 0.12, 0.08]: 45% referable, balanced for short runs. */
  gradeWeights?: number[];
}

/**
 * Fundus-like RGB images with microaneurysms, haemorrhages, exudates and neovascular tufts; label "referable" =
 * grade >= 2. Lesions are small and local while camera and pigmentation vary per image.
 *
 * @param options - See {@link RetinaOptions}; `count` is required.
 * @param opts - `signal` cancels the drawing.
 * @returns A binary set: one target per image (referable or not), with {@link Dataset.grades}.
 * @throws ERR_INVALID_ARG for a missing or out-of-range field or an unknown option; ABORT_ERR when `signal` aborts.
 */
export async function generateRetina(options: RetinaOptions, opts: { signal?: AbortSignal } = {}): Promise<Dataset> {
  requireOptions('generateRetina()', options, RETINA_OPTION_KEYS);
  checkOptions('generateRetina()', opts, SIGNAL_KEYS, 'opts');
  checkInteger('count', options.count, 1);
  checkInteger('count', options.count, 1, LIMITS.setSize.max);
  if (options.size !== undefined) checkInteger('size', options.size, LIMITS.imageSize.min, LIMITS.imageSize.max);
  if (options.seed !== undefined) checkInteger('seed', options.seed, 0);
  if (options.gradeWeights !== undefined) {
    const w = options.gradeWeights;
    if (!Array.isArray(w) || w.length !== 5 || w.some((x) => typeof x !== 'number' || !(x >= 0)) || w.every((x) => x === 0))
      throw invalidArg('gradeWeights', '5 non-negative numbers (grades 0-4) with a positive sum', w);
  }
  return new Dataset(await awaitJob(() => addon().generateRetina(options), opts.signal));
}

/** What an uncertain label (CheXpert's -1) becomes: masked in the loss and in AUC, 0, or 1. */
export type UncertaintyPolicy = 'ignore' | 'zeros' | 'ones';
/** Every {@link UncertaintyPolicy}, in that order. */
export const UNCERTAINTY_POLICIES: readonly UncertaintyPolicy[] = ['ignore', 'zeros', 'ones'];

/**
 * The five findings of the chest task (CheXpert's competition pathologies), in column order.
 * @returns ["Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Pleural Effusion"].
 * @throws ERR_ADDON_NOT_BUILT when the native addon is missing.
 */
export function chestFindings(): string[] {
  return callNative(() => addon().chestFindings());
}

/**
 * The paper's choice (after CheXpert's best): ones for Atelectasis and Edema, zeros for the rest.
 * @returns The policy of each finding, keyed by finding.
 * @throws ERR_ADDON_NOT_BUILT when the native addon is missing.
 */
export function defaultUncertaintyPolicy(): Record<string, UncertaintyPolicy> {
  return Object.fromEntries(chestFindings().map((f) => [f, f === 'Atelectasis' || f === 'Edema' ? 'ones' : 'zeros']));
}

/** What {@link generateChest} draws. */
export interface ChestOptions {
  /** Images to draw, 1 to 10,000,000. */
  count: number;
  /** Square image side in pixels, 16-1024 (default 64). */
  size?: number;
  /** Seed of the drawing (default 0). */
  seed?: number;
  /** Fraction of reported labels that are uncertain (CheXpert's -1); default 0.1. Validation sets use 0. */
  uncertainRate?: number;
  /** Per finding (by name); findings not named keep the default policy. */
  policy?: Partial<Record<string, UncertaintyPolicy>>;
}

/**
 * Grey chest-radiograph-like images (lungs, heart, ribs, diaphragm) with five findings drawn locally: a collapsed-lung
 * band (Atelectasis), an enlarged heart shadow (Cardiomegaly), patchy consolidation, perihilar haze (Edema) and
 * blunted costophrenic angles with fluid (Pleural Effusion). Multi-label, with co-occurrence through shared causes.
 *
 * @param options - See {@link ChestOptions}; `count` is required.
 * @param opts - `signal` cancels the drawing.
 * @returns A multilabel set with five outputs, in {@link chestFindings}' order; uncertain labels with policy
 *   "ignore" are masked.
 * @throws ERR_INVALID_ARG for a missing or out-of-range field, a policy for an unknown finding or an unknown option;
 *   ABORT_ERR when `signal` aborts.
 */
export async function generateChest(options: ChestOptions, opts: { signal?: AbortSignal } = {}): Promise<Dataset> {
  requireOptions('generateChest()', options, CHEST_OPTION_KEYS);
  checkOptions('generateChest()', opts, SIGNAL_KEYS, 'opts');
  if (options.policy !== undefined && (options.policy === null || typeof options.policy !== 'object' || Array.isArray(options.policy)))
    throw invalidArg('policy', 'an object of uncertainty policies keyed by finding', options.policy);
  checkInteger('count', options.count, 1);
  checkInteger('count', options.count, 1, LIMITS.setSize.max);
  if (options.size !== undefined) checkInteger('size', options.size, LIMITS.imageSize.min, LIMITS.imageSize.max);
  if (options.seed !== undefined) checkInteger('seed', options.seed, 0);
  if (options.uncertainRate !== undefined) checkNumber('uncertainRate', options.uncertainRate, 0, 1);
  const findings = chestFindings();
  const policy = { ...defaultUncertaintyPolicy() };
  for (const [finding, p] of Object.entries(options.policy ?? {})) {
    if (!findings.includes(finding)) throw invalidArg('policy', `keyed by findings from: ${findings.join(', ')}`, finding);
    policy[finding] = checkOneOf(`policy.${finding}`, p, UNCERTAINTY_POLICIES);
  }
  const native = { count: options.count, size: options.size, seed: options.seed, uncertainRate: options.uncertainRate, policy: findings.map((f) => policy[f]) };
  return new Dataset(await awaitJob(() => addon().generateChest(native), opts.signal));
}

/** What {@link generateNatural} draws. */
export interface NaturalOptions {
  /** Images to draw, 1 to 10,000,000. */
  count: number;
  /** Square image side in pixels, 16-1024 (default 64). */
  size?: number;
  /** Seed of the drawing (default 0). */
  seed?: number;
  /** 2-30 classes (default 20): 10 shapes x {solid, striped, checked}, in that order. */
  classes?: number;
}

/** The arrays {@link createDataset} makes a set of. */
export interface ArrayDatasetOptions {
  /** (N, 3, H, W) float32 images, already normalised as the model expects. */
  images: { data: Float32Array; shape: number[] };
  /** (N, outputs) 0/1 values for "binary" / "multilabel", or N class ids for "multiclass". */
  targets: Float32Array;
  /** The kind of targets. */
  task: DatasetInfo['task'];
  /** Logits a model needs (default 1): the columns of `targets`, or the class count for "multiclass". */
  outputs?: number;
  /** binary / multilabel: 1 = label known, 0 = masked in the loss and in AUC (e.g. an ignored uncertain label). */
  mask?: Float32Array;
  /** What info().source reports (default "arrays"). */
  source?: string;
}

const RETINA_OPTION_KEYS = optionKeys<RetinaOptions>()(['count', 'size', 'seed', 'gradeWeights']);
const CHEST_OPTION_KEYS = optionKeys<ChestOptions>()(['count', 'size', 'seed', 'uncertainRate', 'policy']);
const NATURAL_OPTION_KEYS = optionKeys<NaturalOptions>()(['count', 'size', 'seed', 'classes']);
const ARRAY_DATASET_OPTION_KEYS = optionKeys<ArrayDatasetOptions>()(['images', 'targets', 'task', 'outputs', 'mask', 'source']);
const SIGNAL_KEYS = optionKeys<{ signal?: AbortSignal }>()(['signal']);

/**
 * A dataset from arrays you hold: images (N, 3, H, W), already normalised as the model expects, and targets:
 * (N, outputs) 0/1 values for "binary" / "multilabel", or N class ids for "multiclass".
 *
 * @param options - See {@link ArrayDatasetOptions}; `images`, `targets` and `task` are required.
 * @returns The set, holding a copy of the arrays natively.
 * @throws ERR_INVALID_ARG for a missing field, a bad shape or length, a bad target or an unknown option.
 */
export function createDataset(options: ArrayDatasetOptions): Dataset {
  requireOptions('createDataset()', options, ARRAY_DATASET_OPTION_KEYS);
  if (options.images === null || typeof options.images !== 'object') throw invalidArg('images', 'an (N, 3, H, W) tensor, { data, shape }, for createDataset()', options.images);
  checkOneOf('task', options.task, ['binary', 'multilabel', 'multiclass'] as const);
  return new Dataset(callNative(() => addon().createDataset({ ...options, outputs: options.outputs ?? 1 })));
}

/**
 * A stand-in for ImageNet: one clear subject per image (shape x fill = class) on a cluttered background.
 * @param options - See {@link NaturalOptions}; `count` is required.
 * @param opts - `signal` cancels the drawing.
 * @returns A multiclass set of `classes` classes.
 * @throws ERR_INVALID_ARG for a missing or out-of-range field or an unknown option; ABORT_ERR when `signal` aborts.
 */
export async function generateNatural(options: NaturalOptions, opts: { signal?: AbortSignal } = {}): Promise<Dataset> {
  requireOptions('generateNatural()', options, NATURAL_OPTION_KEYS);
  checkOptions('generateNatural()', opts, SIGNAL_KEYS, 'opts');
  checkInteger('count', options.count, 1);
  checkInteger('count', options.count, 1, LIMITS.setSize.max);
  if (options.size !== undefined) checkInteger('size', options.size, LIMITS.imageSize.min, LIMITS.imageSize.max);
  if (options.seed !== undefined) checkInteger('seed', options.seed, 0);
  if (options.classes !== undefined) checkInteger('classes', options.classes, LIMITS.classes.min, LIMITS.classes.max);
  return new Dataset(await awaitJob(() => addon().generateNatural(options), opts.signal));
}

