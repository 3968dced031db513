// Models by name from the native registry. Every model exposes its stages, its parameter counts under both
// conventions, and weights in and out.
import type { ComputeOptions, LoadReport, MeanVarReport, ModelInfo, NativeModel, NativeModelOptions, TensorData } from '../bindings/native';
import { checkInteger, checkOneOf, invalidArg, isTypedArray } from './errors';
import { awaitJob, callNative } from './job';
import { produceAtomic } from './io/atomic';
import { checkNativeHandle, checkOptions, optionKeys } from './options';
import { addon } from './runtime';

export type { ComputeOptions, LoadReport, MeanVarReport, ModelInfo, TensorData };

/**
 * How {@link createModel} builds a model: head size, seed, padding, device and the Inception-v3 extras. The fields,
 * every one optional, with their defaults: {@link NativeModelOptions}.
 */
export type ModelOptions = NativeModelOptions;

/** How {@link Model.loadWeights} loads a weight file. Every field is optional. */
export interface LoadOptions {
  /** Default true: any missing, unexpected or shape-mismatched key is an error naming the file and key. */
  strict?: boolean;
  /**
   * "keep" (default) loads the file's classifier like any other stage; "replace" drops it and draws a new one for this
   * model's classes, as transfer requires.
   */
  head?: 'keep' | 'replace';
  /** Seed of the replacement head (default 0). */
  seed?: number;
  /**
   * Load only the stages up to and including this one (e.g. "layer2" for Slim); the rest keep their initialisation.
   * Default: every stage.
   */
  upTo?: string;
}

/** How {@link Model.meanVarInit} draws the model's tensors. Every field is optional. */
export interface MeanVarOptions {
  /** Seed of the generator the tensors are drawn from (default 0). */
  seed?: number;
  /**
   * "meanvar" (default): BatchNorm's affine tensors are drawn too; "default": they are set to weight 1, bias 0.
   * BatchNorm's running statistics are reset to 0 / 1 either way.
   */
  batchNorm?: 'meanvar' | 'default';
  /**
   * "normal" (default, Mean Var): each tensor drawn i.i.d. from N(mean, var) of the pretrained one; "shuffle": the
   * pretrained tensor's own values at positions permuted by the seed (every moment kept, the arrangement lost).
   */
  draw?: 'normal' | 'shuffle';
}
/**
 * What {@link Model.forward} computes and how: `stage`, the stage whose activations to return (default: none, the
 * logits); `signal`, to cancel the call; and the {@link ComputeOptions} (memory format, precision).
 */
export type ForwardOptions = ComputeOptions & { stage?: string; signal?: AbortSignal };

export const MODEL_OPTION_KEYS = optionKeys<ModelOptions>()(['numClasses', 'seed', 'padding', 'device', 'auxLogits', 'dropout']);
export const LOAD_OPTION_KEYS = optionKeys<LoadOptions>()(['strict', 'head', 'seed', 'upTo']);
const MEANVAR_OPTION_KEYS = optionKeys<MeanVarOptions>()(['seed', 'batchNorm', 'draw']);
const FORWARD_OPTION_KEYS = optionKeys<ForwardOptions>()(['stage', 'signal', 'channelsLast', 'precision']);
/** The last argument of every asynchronous call: only cancellation. */
export const SIGNAL_OPTION_KEYS = optionKeys<{ signal?: AbortSignal }>()(['signal']);

/**
 * The weight-file format a path implies: ".safetensors" is safetensors; anything else is PyTorch's zip (.pt/.pth).
 * @param file - A weight file's path; case is ignored.
 * @returns "safetensors" or "pt".
 */
export function weightFormatOf(file: string): 'pt' | 'safetensors' {
  return file.toLowerCase().endsWith('.safetensors') ? 'safetensors' : 'pt';
}

/**
 * A network from the registry, held natively (make one with {@link createModel}). Every model has named stages, a
 * classifier ("head") last, and parameter counts under both conventions; weights go in and out as PyTorch or
 * safetensors files. Free its memory with {@link Model.dispose}: every method of a disposed model throws ERR_DISPOSED.
 */
export class Model {
  /** @internal */
  constructor(/** @internal */ readonly native: NativeModel) {
    checkNativeHandle('Model', 'createModel()', native);
  }

  /**
   * What the model is: its name, stages, parameter counts, input size limit and device.
   * @returns A fresh {@link ModelInfo}.
   * @throws ERR_DISPOSED when the model was disposed.
   */
  info(): ModelInfo {
    return callNative(() => this.native.info());
  }
  /** The registry name the model was created with, e.g. "resnet50". Throws ERR_DISPOSED when the model was disposed. */
  get name(): string {
    return this.info().name;
  }
  /**
   * Stage names, bottom to top, the classifier last: the prefixes of parameter names.
   * @returns e.g. ["layer1", "layer2", "layer3", "layer4", "head"] for cbr-small; resnet50's end in "fc".
   * @throws ERR_DISPOSED when the model was disposed.
   */
  stages(): string[] {
    return this.info().stages;
  }
  /**
   * The model's parameter count under both conventions.
   * @returns numel: every parameter as built; paper: Table 1's convention (see README).
   * @throws ERR_DISPOSED when the model was disposed.
   */
  parameterCount(): { numel: number; paper: number } {
    return this.info().params;
  }

  /**
   * Eval-mode logits for a (N, 3, H, W) batch, or the activations of one named stage; off the event loop.
   * @param input - The images, float32, already normalised as the model expects; H and W at least the model's
   *   `minInputSize` pixels.
   * @param options - See {@link ForwardOptions}; default {} (the logits, the device's default compute settings).
   * @returns The logits (N, numClasses), or the stage's activations, e.g. (N, C, H', W') for a conv stage.
   * @throws ERR_INVALID_ARG for a bad input, shape or stage name or an unknown option; ERR_BUSY while the model runs
   *   another job; ERR_DISPOSED; ERR_TORCH; ABORT_ERR when `signal` aborts.
   */
  async forward(input: TensorData, options: ForwardOptions = {}): Promise<TensorData> {
    checkOptions('Model.forward()', options, FORWARD_OPTION_KEYS);
    if (!input || !isTypedArray(input.data, ['Float32Array'])) throw invalidArg('input.data', 'a Float32Array', input?.data);
    const { signal, ...compute } = options;
    return awaitJob(() => addon().forward(this.native, input, compute), signal);
  }

  /**
   * Output shape of every stage for one (3, height, width) image.
   * @param height - Image height in pixels.
   * @param width - Image width in pixels (default: `height`).
   * @returns Each stage's output shape by stage name, e.g. `{ conv1: [64, 112, 112], ... }`.
   * @throws ERR_INVALID_ARG below the model's minimum input size; ERR_DISPOSED.
   */
  stageShapes(height: number, width = height): Record<string, number[]> {
    return Object.fromEntries(callNative(() => this.native.stageShapes(height, width)));
  }

  /**
   * Forward FLOPs of one (3, height, width) image, counted from the ops an eval-mode forward pass runs: 2 x the
   * multiply-adds of every convolution and linear layer (the convention of `bench --vs-python`'s PyTorch peer; a
   * training step is taken as 3x). The model's training mode and BatchNorm statistics are left as they were; off the
   * event loop.
   * @param height - Image height in pixels, at least the model's `minInputSize`.
   * @param width - Image width in pixels (default: `height`).
   * @param opts - `signal` cancels the call.
   * @returns The FLOPs, e.g. 8174276608 for resnet50 at 224 x 224.
   * @throws ERR_INVALID_ARG for a size that is not an integer in [1, 8192] or is below the model's minimum, or an
   *   unknown option; ERR_BUSY while the model runs another job; ERR_DISPOSED; ERR_TORCH; ABORT_ERR when `signal`
   *   aborts.
   */
  async forwardFlops(height: number, width = height, opts: { signal?: AbortSignal } = {}): Promise<number> {
    checkOptions('Model.forwardFlops()', opts, SIGNAL_OPTION_KEYS, 'opts');
    return awaitJob(() => addon().forwardFlops(this.native, height, width), opts.signal);
  }

  /**
   * Writes the weights atomically (a temporary file, then rename): safetensors for a ".safetensors" path, otherwise
   * PyTorch's zip format (Python's torch.load reads it).
   * @param file - The weight file to write; its extension picks the format (see {@link weightFormatOf}).
   * @param opts - `signal` cancels the write (the previous file, if any, stays intact).
   * @returns Resolves once the file is in place.
   * @throws ERR_INVALID_ARG for an empty path or an unknown option; ERR_IO when the file cannot be written; ERR_BUSY;
   *   ERR_DISPOSED; ABORT_ERR when `signal` aborts.
   */
  async saveWeights(file: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    checkFile('Model.saveWeights()', file);
    checkOptions('Model.saveWeights()', opts, SIGNAL_OPTION_KEYS, 'opts');
    await produceAtomic(file, (tmp) => awaitJob(() => this.native.saveWeights(tmp, weightFormatOf(file)), opts.signal));
  }

  /**
   * Loads a weight file (PyTorch's .pt/.pth zip, or .safetensors, e.g. torchvision's ImageNet weights) into the
   * model, checking every key and shape before anything changes.
   * @param file - The weight file.
   * @param options - See {@link LoadOptions}; default {} (strict, the file's head kept, every stage).
   * @param opts - `signal` cancels the load.
   * @returns What was loaded, missing, unexpected, mismatched, reinitialised and kept, key by key.
   * @throws ERR_INVALID_ARG for an empty path, an unknown option or an `upTo` that is not a stage; ERR_IO when the file
   *   cannot be read; ERR_BAD_WEIGHTS when it is not a weight file this library reads; ERR_WEIGHTS_MISMATCH when
   *   `strict` and a key is missing, unexpected or of another shape; ERR_BUSY; ERR_DISPOSED; ABORT_ERR.
   * @example
   * ```ts
   * const model = createModel('resnet50', { numClasses: 1 });
   * const report = await model.loadWeights('resnet50-0676ba61.pth', { head: 'replace' });
   * console.log(report.reinitialised); // [ 'fc.weight', 'fc.bias' ]
   * ```
   */
  async loadWeights(file: string, options: LoadOptions = {}, opts: { signal?: AbortSignal } = {}): Promise<LoadReport> {
    checkFile('Model.loadWeights()', file);
    checkOptions('Model.loadWeights()', options, LOAD_OPTION_KEYS);
    checkOptions('Model.loadWeights()', opts, SIGNAL_OPTION_KEYS, 'opts');
    if (options.head !== undefined) checkOneOf('head', options.head, ['keep', 'replace'] as const);
    return awaitJob(() => this.native.loadWeights(file, options), opts.signal);
  }

  /**
   * One parameter or buffer as float32, e.g. `getParameter(model.info().inputConv)` for the conv1 filters.
   * @param name - The parameter's or buffer's name, e.g. "conv1.weight".
   * @returns A copy of its values and its shape.
   * @throws ERR_INVALID_ARG when the model has no such parameter or buffer; ERR_DISPOSED.
   */
  getParameter(name: string): TensorData {
    return callNative(() => this.native.getParameter(name));
  }
  /**
   * Overwrites one parameter or buffer.
   * @param name - The parameter's or buffer's name, e.g. "conv1.weight".
   * @param value - The new values, float32, with the parameter's own shape.
   * @throws ERR_INVALID_ARG for an unknown name or a shape or length that differs; ERR_DISPOSED.
   */
  setParameter(name: string, value: TensorData): void {
    callNative(() => this.native.setParameter(name, value));
  }

  /**
   * Mean Var (the paper's Section 5): redraws conv/linear (and BatchNorm affine) tensors i.i.d. from N(mean, var) of
   * the same tensors in a pretrained file. The classifier stays as initialised.
   * @param file - The pretrained weight file the statistics come from.
   * @param options - See {@link MeanVarOptions}; default {} (seed 0, BatchNorm affine drawn too).
   * @param opts - `signal` cancels the call.
   * @returns Which tensors were drawn, reset to defaults, or kept.
   * @throws ERR_INVALID_ARG for an empty path or a bad option; ERR_IO; ERR_BAD_WEIGHTS; ERR_WEIGHTS_MISMATCH when the
   *   file lacks a tensor to take statistics from; ERR_BUSY; ERR_DISPOSED; ABORT_ERR.
   */
  async meanVarInit(file: string, options: MeanVarOptions = {}, opts: { signal?: AbortSignal } = {}): Promise<MeanVarReport> {
    checkFile('Model.meanVarInit()', file);
    checkOptions('Model.meanVarInit()', options, MEANVAR_OPTION_KEYS);
    checkOptions('Model.meanVarInit()', opts, SIGNAL_OPTION_KEYS, 'opts');
    if (options.batchNorm !== undefined) checkOneOf('batchNorm', options.batchNorm, ['meanvar', 'default'] as const);
    if (options.draw !== undefined) checkOneOf('draw', options.draw, ['normal', 'shuffle'] as const);
    return awaitJob(() => this.native.meanVarInit(file, options), opts.signal);
  }

  /** Frees the model's native memory now. Idempotent; a job already running keeps the model until it settles. */
  dispose(): void {
    this.native.dispose();
  }
  /** Whether {@link Model.dispose} was called. */
  get disposed(): boolean {
    return this.native.disposed;
  }
}

// Symbol.dispose, for TypeScript's `using`: installed only where the runtime has the symbol (a computed class member
// would be named "undefined" where it has not, as in jest's sandbox or Node 18).
export interface Model {
  /** The same as dispose(), for TypeScript's `using` (explicit resource management). */
  [Symbol.dispose](): void;
}
if (typeof Symbol.dispose === 'symbol')
  Object.defineProperty(Model.prototype, Symbol.dispose, { value(this: Model) { this.dispose(); }, writable: true, configurable: true });

/**
 * One tensor of a weight file (.pth/.pt or .safetensors), as float32.
 * @param file - The weight file.
 * @param key - The tensor's name in the file, e.g. "conv1.weight".
 * @param opts - `signal` cancels the read.
 * @returns The tensor's values and shape.
 * @throws ERR_INVALID_ARG for an empty path or key, or a key the file lacks; ERR_IO; ERR_BAD_WEIGHTS; ABORT_ERR.
 */
export async function readTensor(file: string, key: string, opts: { signal?: AbortSignal } = {}): Promise<TensorData> {
  checkFile('readTensor()', file);
  if (typeof key !== 'string' || key.length === 0) throw invalidArg('key', 'the name of a tensor in the file for readTensor()', key);
  checkOptions('readTensor()', opts, SIGNAL_OPTION_KEYS, 'opts');
  return awaitJob(() => addon().readTensor(file, key), opts.signal);
}

/**
 * Builds a model from the registry by name, randomly initialised under a seed.
 * @param name - A registry name (see {@link listModels}), e.g. "resnet50", "resnet50-slim", "inception_v3", "densenet121",
 *   "cbr-larget", "cbr-largew", "cbr-small", "cbr-tiny"; case is ignored.
 * @param options - See {@link ModelOptions}; default {} (1 output, seed 0, "same" padding, on the CPU).
 * @returns The model; dispose of it when done.
 * @throws ERR_INVALID_ARG for an empty name, an unknown option or a bad value; ERR_UNKNOWN_MODEL for a name not in
 *   the registry; ERR_NO_CUDA for a CUDA device this machine lacks.
 * @example
 * ```ts
 * const model = createModel('cbr-small', { numClasses: 1, seed: 0 });
 * console.log(model.stages()); // [ 'layer1', 'layer2', 'layer3', 'layer4', 'head' ]
 * model.dispose();
 * ```
 */
export function createModel(name: ModelName, options: ModelOptions = {}): Model {
  return modelNamed(name, options);
}

/** The registry's model names (listModels()'s, in its order): createModel's argument, so a misspelt name does not compile. */
export const MODEL_NAMES = ['cbr-larget', 'cbr-largew', 'cbr-small', 'cbr-tiny', 'cbr-tiny-appendix', 'resnet50', 'resnet50-slim', 'inception_v3', 'densenet121'] as const;
/** One of {@link MODEL_NAMES}. */
export type ModelName = (typeof MODEL_NAMES)[number];

/** @internal createModel for a name only known at run time (a study's, a CLI flag's): checked by the registry. */
export function modelNamed(name: string, options: ModelOptions = {}): Model {
  if (typeof name !== 'string' || name.length === 0) throw invalidArg('name', 'a model name (see listModels())', name);
  checkOptions('createModel()', options, MODEL_OPTION_KEYS);
  if (options.numClasses !== undefined) checkInteger('numClasses', options.numClasses, 1);
  if (options.seed !== undefined) checkInteger('seed', options.seed, 0);
  if (options.padding !== undefined) checkOneOf('padding', options.padding, ['same', 'valid'] as const);
  return new Model(callNative(() => addon().createModel(name, options)));
}

/** A weight file's path given to `fn`: a non-empty string (a NUL byte in it is the addon's to refuse, for every caller). */
function checkFile(fn: string, file: unknown): void {
  if (typeof file !== 'string' || file.length === 0) throw invalidArg('file', `the path of a weight file for ${fn}`, file);
}

let registry: readonly ModelInfo[] | undefined;

/**
 * The registry, each model with a 5-way head as Table 1 counts them (built once per process).
 * @returns Every model's {@link ModelInfo}, frozen, in the registry's order.
 * @throws ERR_ADDON_NOT_BUILT when the native addon is missing.
 */
export function listModels(): readonly ModelInfo[] {
  registry ??= Object.freeze(callNative(() => addon().listModels()));
  return registry;
}

/** The four CBR models of Table 1, in the paper's order. */
export const CBR_MODELS = ['cbr-larget', 'cbr-largew', 'cbr-small', 'cbr-tiny'] as const;
