// Models by name from the native registry. Every model exposes its stages, its parameter counts under both
// conventions, and weights in and out.
import type { ComputeOptions, LoadReport, MeanVarReport, ModelInfo, NativeModel, NativeModelOptions, TensorData } from '../bindings/native';
import { checkInteger, checkOneOf, invalidArg, isTypedArray } from './errors';
import { awaitJob, callNative } from './job';
import { produceAtomic } from './io/atomic';
import { checkOptions, optionKeys } from './options';
import { addon } from './runtime';

export type { ComputeOptions, LoadReport, MeanVarReport, ModelInfo, TensorData };

export type ModelOptions = NativeModelOptions;

export interface LoadOptions {
  /** Default true: any missing, unexpected or shape-mismatched key is an error naming the file and key. */
  strict?: boolean;
  /** "replace" drops the file's classifier and draws a new one for this model's classes, as transfer requires. */
  head?: 'keep' | 'replace';
  /** Seed of the replacement head. */
  seed?: number;
  /** Load only the stages up to and including this one (e.g. "layer2" for Slim); the rest keep their initialisation. */
  upTo?: string;
}

export interface MeanVarOptions {
  seed?: number;
  /** "meanvar": BatchNorm's affine tensors drawn too; "default": left as initialised. */
  batchNorm?: 'meanvar' | 'default';
}
export type ForwardOptions = ComputeOptions & { stage?: string; signal?: AbortSignal };

export const MODEL_OPTION_KEYS = optionKeys<ModelOptions>()(['numClasses', 'seed', 'padding', 'device', 'auxLogits', 'dropout']);
export const LOAD_OPTION_KEYS = optionKeys<LoadOptions>()(['strict', 'head', 'seed', 'upTo']);
const MEANVAR_OPTION_KEYS = optionKeys<MeanVarOptions>()(['seed', 'batchNorm']);
const FORWARD_OPTION_KEYS = optionKeys<ForwardOptions>()(['stage', 'signal', 'channelsLast', 'precision']);
/** The last argument of every asynchronous call: only cancellation. */
export const SIGNAL_OPTION_KEYS = optionKeys<{ signal?: AbortSignal }>()(['signal']);

/** The weight-file format a path implies: ".safetensors" is safetensors; anything else is PyTorch's zip (.pt/.pth). */
export function weightFormatOf(file: string): 'pt' | 'safetensors' {
  return file.toLowerCase().endsWith('.safetensors') ? 'safetensors' : 'pt';
}

export class Model {
  /** @internal */
  constructor(readonly native: NativeModel) {}

  info(): ModelInfo {
    return callNative(() => this.native.info());
  }
  get name(): string {
    return this.info().name;
  }
  /** Stage names, bottom to top, the classifier last: the prefixes of parameter names. */
  stages(): string[] {
    return this.info().stages;
  }
  /** numel: every parameter as built; paper: Table 1's convention (see README). */
  parameterCount(): { numel: number; paper: number } {
    return this.info().params;
  }

  /** Eval-mode logits for a (N, 3, H, W) batch, or the activations of one named stage; off the event loop. */
  async forward(input: TensorData, options: ForwardOptions = {}): Promise<TensorData> {
    checkOptions('Model.forward()', options, FORWARD_OPTION_KEYS);
    if (!input || !isTypedArray(input.data, ['Float32Array'])) throw invalidArg('input.data', 'a Float32Array', input?.data);
    const { signal, ...compute } = options;
    return awaitJob(() => addon().forward(this.native, input, compute), signal);
  }

  /** Output shape of every stage for one (3, height, width) image. */
  stageShapes(height: number, width = height): Record<string, number[]> {
    return Object.fromEntries(callNative(() => this.native.stageShapes(height, width)));
  }

  /**
   * Writes the weights atomically (a temporary file, then rename): safetensors for a ".safetensors" path, otherwise
   * PyTorch's zip format (Python's torch.load reads it).
   */
  async saveWeights(file: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    checkFile('Model.saveWeights()', file);
    checkOptions('Model.saveWeights()', opts, SIGNAL_OPTION_KEYS, 'opts');
    await produceAtomic(file, (tmp) => awaitJob(() => this.native.save(tmp, weightFormatOf(file)), opts.signal));
  }

  async loadWeights(file: string, options: LoadOptions = {}, opts: { signal?: AbortSignal } = {}): Promise<LoadReport> {
    checkFile('Model.loadWeights()', file);
    checkOptions('Model.loadWeights()', options, LOAD_OPTION_KEYS);
    checkOptions('Model.loadWeights()', opts, SIGNAL_OPTION_KEYS, 'opts');
    if (options.head !== undefined) checkOneOf('head', options.head, ['keep', 'replace'] as const);
    return awaitJob(() => this.native.load(file, options), opts.signal);
  }

  /** One parameter or buffer as float32, e.g. `getParameter(model.info().inputConv)` for the conv1 filters. */
  getParameter(name: string): TensorData {
    return callNative(() => this.native.getParameter(name));
  }
  setParameter(name: string, value: TensorData): void {
    callNative(() => this.native.setParameter(name, value));
  }

  /** Mean Var: redraw conv/linear (and BatchNorm affine) tensors i.i.d. from N(mean, var) of the file's tensors. */
  async meanVarInit(file: string, options: MeanVarOptions = {}, opts: { signal?: AbortSignal } = {}): Promise<MeanVarReport> {
    checkFile('Model.meanVarInit()', file);
    checkOptions('Model.meanVarInit()', options, MEANVAR_OPTION_KEYS);
    checkOptions('Model.meanVarInit()', opts, SIGNAL_OPTION_KEYS, 'opts');
    if (options.batchNorm !== undefined) checkOneOf('batchNorm', options.batchNorm, ['meanvar', 'default'] as const);
    return awaitJob(() => this.native.meanVar(file, options), opts.signal);
  }

  dispose(): void {
    this.native.dispose();
  }
  get disposed(): boolean {
    return this.native.disposed;
  }
}

/** One tensor of a weight file (.pth/.pt or .safetensors), as float32. */
export async function readTensor(file: string, key: string, opts: { signal?: AbortSignal } = {}): Promise<TensorData> {
  checkFile('readTensor()', file);
  if (typeof key !== 'string' || key.length === 0) throw invalidArg('key', 'the name of a tensor in the file for readTensor()', key);
  checkOptions('readTensor()', opts, SIGNAL_OPTION_KEYS, 'opts');
  return awaitJob(() => addon().readTensor(file, key), opts.signal);
}

export function createModel(name: string, options: ModelOptions = {}): Model {
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

/** The registry, each model with a 5-way head as Table 1 counts them (built once per process). */
export function listModels(): readonly ModelInfo[] {
  registry ??= Object.freeze(callNative(() => addon().listModels()));
  return registry;
}

/** The four CBR models of Table 1, in the paper's order. */
export const CBR_MODELS = ['cbr-larget', 'cbr-largew', 'cbr-small', 'cbr-tiny'] as const;
