// The typed face of the addon: one interface that mirrors native/napi/addon.cc export for export, and the loader.
// Above 350 lines by design: one interface for the whole addon, so the boundary is read (and checked) in one place.
// test/native/bindings.test.ts checks that NATIVE_EXPORTS and the real exports agree.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A native job: the work runs off the event loop; cancel() stops it between steps (the promise rejects, AbortError). */
export interface NativeJob<T> {
  promise: Promise<T>;
  cancel(): void;
}

export interface ModelInfo {
  name: string;
  displayName: string;
  family: string;
  description: string;
  padding: 'same' | 'valid';
  device: string;
  numClasses: number;
  /** Bottom to top; the classifier ("head") last. Also the prefixes of parameter names. */
  stages: string[];
  /** numel: every parameter as built; paper: Table 1's counting convention. */
  params: { numel: number; paper: number };
  minInputSize: number;
  /** The first convolution's weight, e.g. "conv1.weight" (what the Gabor hybrid replaces). */
  inputConv: string;
}

export interface DatasetInfo {
  source: string;
  task: 'binary' | 'multilabel' | 'multiclass';
  count: number;
  channels: number;
  height: number;
  width: number;
  outputs: number;
}

export interface Metrics {
  task: DatasetInfo['task'];
  count: number;
  loss: number | null;
  /** binary / multilabel: AUC-ROC per output, and their mean. */
  auc?: (number | null)[];
  meanAuc?: number | null;
  /** multiclass */
  top1?: number;
  top5?: number;
}

export interface CurvePoint extends Metrics {
  step: number;
}

export interface NativeTrainResult {
  steps: number;
  losses: Float64Array;
  curve: CurvePoint[];
  final: Metrics;
  wallSeconds: number;
  imagesPerSecond: number;
  /** The step a checkpoint brought this run to (0: trained from the start). */
  resumedFrom: number;
  /** Times the loop read training state (the losses) back from the device: one per progress point (see syncEvery). */
  hostReads: number;
  /** Whether the training set lived on the model's device (a CUDA model and a set within residentMegabytes). */
  resident: boolean;
  /** Batches copied to the device on a side stream while the step before computed (a streamed set on CUDA). */
  prefetched: number;
  /** Steps run as replays of a captured CUDA graph (cudaGraph). */
  graphed: number;
}

export interface LoadReport {
  loaded: string[];
  /** In the model, not in the file. */
  missing: string[];
  /** In the file, not in the model. */
  unexpected: string[];
  /** In both, with a different shape or a non-convertible dtype (the reason follows the key). */
  mismatched: string[];
  /** The classifier drawn afresh by `head: 'replace'`. */
  reinitialised: string[];
  /** Model keys above `upTo`, left as initialised. */
  kept: string[];
}

export type StepEvent = { kind: 'step'; step: number; steps: number; loss: number; lr: number; imagesPerSecond: number };
export type EvalEvent = { kind: 'eval'; step: number; loss: number | null; auc?: number | null; top1?: number; top5?: number };
/** A checkpoint holding the state after `step` is in place. */
export type CheckpointEvent = { kind: 'checkpoint'; step: number };
/** Training continues from a checkpoint holding the state after `step`. */
export type ResumeEvent = { kind: 'resume'; step: number };
/** Data parallel, once per run: the gradient buckets, and how many were reduced while backward was still running. */
export type BucketsEvent = { kind: 'buckets'; buckets: number; launchedDuringBackward: number };
export type TrainEvent = StepEvent | EvalEvent | CheckpointEvent | ResumeEvent | BucketsEvent;

export interface NativeModelOptions {
  /** Outputs of the classifier: 1 for a binary task, 5 for the chest x-ray pathologies, K for K-way pretraining. */
  numClasses?: number;
  /** Seed of the random initialisation (Kaiming-normal convs, unit BatchNorm, PyTorch-default linear head). */
  seed?: number;
  /** CBR convolutions: "same" (k/2 padding, padded pools; the default, so small inputs work) or "valid" (unpadded). */
  padding?: 'same' | 'valid';
  /** "cpu" (default), "cuda" or "cuda:N". */
  device?: string;
  /** Inception-v3: build the auxiliary classifier (default true; used in training only, loss weight 0.4). */
  auxLogits?: boolean;
  /** Inception-v3: dropout before fc (default 0.5, torchvision's). */
  dropout?: number;
}

/** Settings of training and inference that matter on a GPU (on CPU, correct is enough). */
export interface ComputeOptions {
  /** NHWC memory format for 4-D weights and inputs. Default: on for a CUDA model, off on the CPU. */
  channelsLast?: boolean;
  /** "bf16": autocast convs and matmuls to bfloat16 (weights stay fp32); "tf32": TF32 matmuls and convs on CUDA (on CPU as fp32); "fp32": TF32 off. Default: "bf16" for a CUDA model, "fp32" on the CPU. */
  precision?: 'fp32' | 'tf32' | 'bf16';
}

/** A dense float32 tensor crossing the boundary: row-major data and its shape. */
export interface TensorData {
  data: Float32Array;
  shape: number[];
}

export interface NativeTrainOptions extends ComputeOptions {
  /** One learning rate per step: its length is the number of steps. */
  learningRates: Float64Array | number[];
  batchSize?: number;
  optimizer?: 'sgd' | 'adam';
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
  /** Adam's betas (default 0.9, 0.999). */
  beta1?: number;
  beta2?: number;
  /** Seed of the batch order. */
  seed?: number;
  /** Validate every N steps (0 = only at the end); each point lands in the result's curve. */
  evalEvery?: number;
  evalBatchSize?: number;
  /** Random affine augmentation per training image, seeded by `seed` and the step (none by default). */
  augment?: AugmentOptions;
  /**
   * Every `checkpointEvery` steps (0: never; needs `checkpointPath`) the whole training state is written atomically to
   * `checkpointPath`. With `resume: true` training continues from that file when it exists: on CPU the result equals
   * that of an uninterrupted run (same losses, curve and weights).
   */
  checkpointPath?: string;
  checkpointEvery?: number;
  resume?: boolean;
  /**
   * Data parallel: every rank of the group calls train with the same options; each step the batch order draws
   * batchSize x ranks images and each rank trains on its slice, gradients averaged over ranks in buckets; weights start
   * from rank 0's; evaluation is gathered, so the metrics cover the whole validation set, the same on every rank.
   */
  group?: NativeProcessGroup;
  /** With a group: BatchNorm statistics over the whole batch (default: per rank, as DDP's). */
  syncBatchNorm?: boolean;
  /** With a group: gradient bucket size in MB (default 25); full buckets are reduced while backward goes on. */
  bucketMegabytes?: number;
  /**
   * Steps between host reads of the losses, which stay on the device until then; evaluations and checkpoints read
   * them too. Step events arrive at those points, one per step, in order. Default (0): every step on the CPU, where a
   * read costs nothing; every 50 steps on CUDA, so the GPU never waits for the host in between.
   */
  syncEvery?: number;
  /** A CUDA model's training set is copied to the device once when it takes at most this many MB (default 8192). */
  residentMegabytes?: number;
  /** Optimizer steps as multi-tensor (foreach) kernels over all parameters (default true); false: LibTorch's per-parameter step. Both give the same numbers (bit for bit on the CPU). */
  foreach?: boolean;
  /** CUDA: capture the training step (forward, backward, optimizer) as a CUDA graph after 3 eager warm-up steps and replay it (default false; not with a process group). */
  cudaGraph?: boolean;
}

export interface AugmentOptions {
  /** Rotation up to +-degrees (0-180). */
  rotate?: number;
  /** Shift up to +-this fraction of the side (0-0.5). */
  translate?: number;
  /** Zoom within 1 +- scale (0-0.5). */
  scale?: number;
  /** Horizontal flips with probability 1/2. */
  flip?: boolean;
}

export interface NativeModel {
  info(): ModelInfo;
  stageShapes(height: number, width: number): [string, number[]][];
  save(path: string, format: 'pt' | 'safetensors'): NativeJob<void>;
  load(path: string, options?: { strict?: boolean; head?: 'keep' | 'replace'; seed?: number; upTo?: string }): NativeJob<LoadReport>;
  getParameter(name: string): TensorData;
  setParameter(name: string, value: TensorData): void;
  meanVar(path: string, options?: { seed?: number; batchNorm?: 'meanvar' | 'default' }): NativeJob<MeanVarReport>;
  dispose(): void;
  readonly disposed: boolean;
}

/** What Mean Var did: tensors drawn from N(mean, var) of the source, reset to defaults, or kept (the new head). */
export interface MeanVarReport {
  drawn: string[];
  reset: string[];
  kept: string[];
}

/** How a process joins a data-parallel group (torchrun's MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE). */
export interface DistributedOptions {
  /** "gloo" (default; CPU tensors, and CUDA ones) or "nccl" (CUDA builds of LibTorch only; untested so far). */
  backend?: 'gloo' | 'nccl';
  masterAddr?: string;
  masterPort?: number;
  rank: number;
  worldSize: number;
  /** This rank's GPU for nccl, cuda:localRank (default: rank). */
  localRank?: number;
  /** Rendezvous and every collective (default 300). */
  timeoutSeconds?: number;
}

export interface NativeProcessGroup {
  info(): { rank: number; size: number };
  dispose(): void;
  readonly disposed: boolean;
}

export interface NativeDataset {
  info(): DatasetInfo;
  targets(): Float32Array;
  grades(): Int32Array;
  meanColour(): Float32Array;
  dispose(): void;
  readonly disposed: boolean;
}

/** One pair's similarity, keys as in google/svcca's vocabulary (native/napi/results.cc writes it). */
export interface SimilarityResult {
  /** Canonical correlations, descending (min of the live neuron counts). */
  cca_coefficients: number[];
  mean_cca: number;
  /** Mean CCA after keeping the top singular directions explaining svccaVariance (99%) of each side's variance. */
  svcca_mean: number;
  /** Projection-weighted CCA (Morcos et al. 2018). */
  pwcca: number;
  linear_cka: number;
  /** Debiased linear CKA (Kornblith et al. 2019); null where undefined (fewer than 4 datapoints). */
  debiased_linear_cka: number | null;
  /** Directions SVCCA kept on each side. */
  svcca_kept: [number, number];
  /** Constant neurons dropped on each side (reported, never a NaN). */
  dead_neurons: [number, number];
  neurons: [number, number];
  /** Datapoints used (after any subsample). */
  datapoints: number;
  /** How the products over datapoints ran: "gram/avx512" or "gram/avx2" (this library's float64 SIMD kernel on the
   * CPU), "gram/blas" (a CPU without one), "gram/cuda" (cuBLAS). Every route factorises only neurons x neurons
   * matrices, never a tall datapoints x neurons SVD. */
  route: string;
}

/** compareModels: one pair of models at one stage. */
export interface StageComparison extends SimilarityResult {
  stage: string;
  /** Indices of the two models in the list given. */
  pair: [number, number];
}

/** Progress of a similarity batch (one event per pair done) or of compareModels (one per stage done). */
export interface CountEvent<K extends 'pair' | 'stage' = 'pair' | 'stage'> {
  kind: K;
  done: number;
  total: number;
}

export interface NativeAddon {
  /** oneDnnMaxIsa: the cap on oneDNN's CPU kernels (ONEDNN_MAX_CPU_ISA), null for none; set where this CPU makes the
   * faster ones unsafe (native/core/compat.h). Child processes inherit it. */
  version(): { torch: string; napi: number; oneDnnMaxIsa: string | null };
  /** Every error code the addon raises (native/core/error.h's kErrorCodes), in that order. */
  errorCodes(): string[];
  setThreads(count: number): void;
  getThreads(): number;
  cudaAvailable(): boolean;
  liveHandles(): number;
  listModels(): ModelInfo[];
  createModel(name: string, options?: NativeModelOptions): NativeModel;
  /** The generators report no progress events (they take a second or two). */
  generateRetina(options: { count: number; size?: number; seed?: number; gradeWeights?: number[] }): NativeJob<NativeDataset>;
  generateNatural(options: { count: number; size?: number; seed?: number; classes?: number }): NativeJob<NativeDataset>;
  generateChest(options: { count: number; size?: number; seed?: number; uncertainRate?: number; policy?: string[] }): NativeJob<NativeDataset>;
  chestFindings(): string[];
  openDataset(options: {
    file: string;
    count: number;
    size: number;
    targets: Float32Array;
    mask?: Float32Array;
    task: DatasetInfo['task'];
    outputs: number;
    source?: string;
  }): NativeDataset;
  train(
    model: NativeModel,
    trainSet: NativeDataset,
    valSet: NativeDataset,
    options: NativeTrainOptions,
    onProgress?: (e: TrainEvent) => void,
  ): NativeJob<NativeTrainResult>;
  evaluate(model: NativeModel, dataset: NativeDataset, options?: { batchSize?: number } & ComputeOptions): NativeJob<Metrics>;
  forward(model: NativeModel, input: TensorData, options?: { stage?: string } & ComputeOptions): NativeJob<TensorData>;
  joinProcessGroup(options: DistributedOptions): NativeJob<NativeProcessGroup>;
  createDataset(options: {
    images: TensorData;
    targets: Float32Array;
    task: DatasetInfo['task'];
    outputs: number;
    mask?: Float32Array;
    source?: string;
  }): NativeDataset;
  auc(scores: Float64Array | number[], labels: Float64Array | number[]): number;
  readTensor(path: string, key: string): NativeJob<TensorData>;
  similarity(
    inputs: { data: Float32Array | Float64Array; shape: number[] }[],
    pairs: [number, number][],
    options?: { layout?: string; subsample?: number; seed?: number; epsilon?: number; svccaVariance?: number; svccaDirections?: number; device?: string },
    onProgress?: (e: CountEvent<'pair'>) => void,
  ): NativeJob<SimilarityResult[]>;
  compareModels(
    models: NativeModel[],
    data: NativeDataset,
    pairs: [number, number][],
    options?: { stages?: string[]; maxDatapoints?: number; seed?: number; batchSize?: number },
    onProgress?: (e: CountEvent<'stage'>) => void,
  ): NativeJob<StageComparison[]>;
}

/** The members of each handle class as NativeModel, NativeDataset and NativeProcessGroup declare them, checked against
 * those interfaces here at compile time and against the addon's classes by test/native/bindings.test.ts. */
export const HANDLE_MEMBERS = {
  model: ['info', 'stageShapes', 'save', 'load', 'getParameter', 'setParameter', 'meanVar', 'dispose', 'disposed'],
  dataset: ['info', 'targets', 'grades', 'meanColour', 'dispose', 'disposed'],
  group: ['info', 'dispose', 'disposed'],
} as const;
type Exactly<T, L extends readonly string[]> = [Exclude<keyof T, L[number]>, Exclude<L[number], keyof T>] extends [never, never] ? true : false;
const handleMembersAgree: [
  Exactly<NativeModel, typeof HANDLE_MEMBERS.model>,
  Exactly<NativeDataset, typeof HANDLE_MEMBERS.dataset>,
  Exactly<NativeProcessGroup, typeof HANDLE_MEMBERS.group>,
] = [true, true, true];
void handleMembersAgree;

export const NATIVE_EXPORTS = [
  'version',
  'errorCodes',
  'setThreads',
  'getThreads',
  'cudaAvailable',
  'liveHandles',
  'listModels',
  'createModel',
  'generateRetina',
  'generateNatural',
  'generateChest',
  'chestFindings',
  'openDataset',
  'joinProcessGroup',
  'train',
  'evaluate',
  'forward',
  'createDataset',
  'auc',
  'readTensor',
  'similarity',
  'compareModels',
] as const satisfies readonly (keyof NativeAddon)[];

/** The package root: the nearest directory above this file whose package.json is ours (works from src and dist). */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'transfusion-native') return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('transfusion-native: cannot find the package root above ' + __dirname);
    dir = up;
  }
}

let cached: NativeAddon | undefined;

/** Loads build/Release/transfusion_native.node once; a missing build names the command that makes it. */
export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const file = path.join(packageRoot(), 'build', 'Release', 'transfusion_native.node');
  if (!fs.existsSync(file)) {
    // Installed as a dependency (npm --ignore-scripts, pnpm's blocked build scripts) the fix is a rebuild of the
    // package; in a checkout of the repository it is the build script.
    const checkout = fs.existsSync(path.join(packageRoot(), '.git')) || fs.existsSync(path.join(packageRoot(), 'tsconfig.json'));
    const fix = checkout
      ? `run \`npm run build\` in ${packageRoot()}`
      : 'run `npm rebuild transfusion-native` (pnpm: `pnpm rebuild transfusion-native`, after allowing its build script); it needs LibTorch, cmake and g++ (Debian: apt-get install libtorch-dev cmake g++ libgloo-dev)';
    const err = new Error(`The native addon is not built (${file} is missing); ${fix}`);
    (err as NodeJS.ErrnoException).code = 'ERR_ADDON_NOT_BUILT';
    throw err;
  }
  cached = require(file) as NativeAddon;
  return cached;
}
