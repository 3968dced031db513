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

/** What a model is, as {@link Model.info} and {@link listModels} report it. */
export interface ModelInfo {
  /** The registry name, lower case, e.g. "resnet50", "cbr-small". */
  name: string;
  /** The name as the paper writes it, e.g. "ResNet-50", "CBR-Small". */
  displayName: string;
  /** "cbr", "resnet" or "inception". */
  family: string;
  /** One line on the architecture. */
  description: string;
  /** The CBR convolutions' padding: "same" or "valid" (see {@link ModelOptions}). */
  padding: 'same' | 'valid';
  /** Where the weights live: "cpu", "cuda" or "cuda:N". */
  device: string;
  /** Outputs of the classifier. */
  numClasses: number;
  /** Bottom to top; the classifier ("head") last. Also the prefixes of parameter names. */
  stages: string[];
  /** Every block and conv output, bottom to top: what minibatchCka's `layers: 'all'` compares (the stages for the
   * CBR family and Inception-v3; ResNet-50 adds each bottleneck's first two convs and its output). */
  layers: string[];
  /** numel: every parameter as built; paper: Table 1's counting convention. */
  params: { numel: number; paper: number };
  /** The smallest square input, in pixels, that survives every conv and pool. */
  minInputSize: number;
  /** The first convolution's weight, e.g. "conv1.weight" (what the Gabor hybrid replaces). */
  inputConv: string;
}

/** What a dataset holds, as {@link Dataset.info} reports it. */
export interface DatasetInfo {
  /** Where the images came from: "retina", "chest", "natural", "arrays" (or the `source` given), or a file's format. */
  source: string;
  /** "binary" (one 0/1 target), "multilabel" (several 0/1 targets) or "multiclass" (one class id). */
  task: 'binary' | 'multilabel' | 'multiclass';
  /** Images in the set. */
  count: number;
  /** Channels per image (3: RGB; grey images are stored as three equal channels). */
  channels: number;
  /** Image height in pixels. */
  height: number;
  /** Image width in pixels. */
  width: number;
  /** Logits a model needs: 1 for binary, K for multilabel or multiclass. */
  outputs: number;
}

/** A model's metrics on a dataset, as {@link evaluate} returns them and training's curve records them. */
export interface Metrics {
  /** The dataset's task, which decides the fields below. */
  task: DatasetInfo['task'];
  /** Images evaluated. */
  count: number;
  /** Mean loss (binary cross-entropy with logits, or cross-entropy for multiclass); null when not finite. */
  loss: number | null;
  /** binary / multilabel: AUC-ROC per output (null where the labels hold one class only); a multiclass set on ordered grades (`referableFrom`): its one derived output, grade >= referableFrom scored by P(grade >= referableFrom); a multiclass set of unordered classes (`classAuc`): one per class, that class against the rest scored by its softmax probability (scikit-learn's roc_auc_score(multi_class='ovr') is their mean). auprc, meanAuc, aucCi likewise. */
  auc?: (number | null)[];
  /** binary / multilabel: the mean of `auc` (null when no output has one). */
  meanAuc?: number | null;
  /** binary / multilabel: AUC-PR per output as average precision (scikit-learn's, step-wise), masked labels left out; null where the labels hold no positive. */
  auprc?: (number | null)[];
  /** binary / multilabel: the mean of `auprc`. */
  meanAuprc?: number | null;
  /** binary / multilabel, training's final evaluation: the bootstrap 95% percentile interval [low, high] of `meanAuc` (rows resampled, see bootstrapAucInterval). */
  aucCi?: [number | null, number | null];
  /** The resamples the interval kept (those with both classes in every output). */
  aucCiResamples?: number;
  /** multiclass: quadratic-weighted kappa of the top class against the label (meaningful where classes are ordered grades); null when undefined. Absent where `classAuc`. */
  kappa?: number | null;
  /** multiclass: true where the set's classes are unordered and each is scored one against the rest (`auc` holds one per class). */
  classAuc?: boolean;
  /** multiclass: the fraction of images whose top logit is the class, 0-1. */
  top1?: number;
  /** multiclass: the fraction of images whose class is among the five top logits, 0-1. */
  top5?: number;
}

/** k-NN classification from each stage's pooled features (see knnEvaluate). */
export interface KnnResult {
  /** Per stage: its pooled feature length, the AUC per output (null where the queries hold one class) and their mean. */
  stages: { stage: string; dimensions: number; aucs: (number | null)[]; meanAuc: number | null }[];
  /** Neighbours used: k, or the bank's size if smaller. */
  k: number;
  /** Images in the memory bank and among the queries. */
  bank: number;
  queries: number;
}

/** Minibatch linear CKA of every stage of one model against every stage of another (see minibatchCka). */
export interface CkaHeatmap {
  /** Model a's stages (rows) and model b's (columns), input to output. */
  stagesA: string[];
  stagesB: string[];
  /** values[i][j]: CKA of a's stage i with b's stage j; null where a stage is constant over the data. */
  values: (number | null)[][];
  /** Minibatches used, and their images (a last batch under 4 images is left out). */
  batches: number;
  images: number;
}

/** One validation point of a training run: the metrics after `step`. */
export interface CurvePoint extends Metrics {
  /** Steps taken when the validation ran (1-based; the last point is after the final step). */
  step: number;
}

/** What a training run returns (the addon's form; {@link TrainResult} is the library's). */
export interface NativeTrainResult {
  /** Steps trained, the resumed ones included. */
  steps: number;
  /** Training loss per step, on the batch of that step. */
  losses: Float64Array;
  /** The validation points, every `evalEvery` steps and after the last (and at step 0 with `evalAtStart`). */
  curve: CurvePoint[];
  /** Metrics on the validation set after the last step. */
  final: Metrics;
  /** Wall-clock time of the whole call in seconds, evaluation included. */
  wallSeconds: number;
  /** Training throughput in images/s (whole batches over all ranks; evaluation excluded). */
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
  /** How training ended: "completed" (every step), "early" (`patience` ran out: `steps` says how many were trained) or
   * "aborted" (only on the `partial` of the ABORT_ERR an aborted train() rejects with). */
  stopped: 'completed' | 'early' | 'aborted';
  /** The step of the best validation evaluation (mean AUC; top-1 for a multiclass set without AUC); with `keepBest`,
   * the step whose weights the model ends with and whose metrics `final` holds; 0 before any evaluation, or the untrained
   * model's with `evalAtStart`. */
  bestStep: number;
}

/** What a weight load did, key by key (as timm's load_pretrained reports it). */
export interface LoadReport {
  /** Keys copied from the file into the model. */
  loaded: string[];
  /** In the model, not in the file. */
  missing: string[];
  /** In the file, not in the model. */
  unexpected: string[];
  /** In both, with a different shape or a non-convertible dtype (the reason follows the key). */
  mismatched: string[];
  /** The classifier drawn afresh by `head: 'replace'`. */
  reinitialised: string[];
  /**
   * Model keys left as initialised: those above `upTo`, and the BatchNorm counters (`num_batches_tracked`) of a file
   * that has none (one written before PyTorch 0.4.1, as torchvision's DenseNet files).
   */
  kept: string[];
}

/**
 * One training step done: `step` of `steps` (1-based), its training `loss`, its learning rate `lr` and the throughput
 * in images/s around it (all ranks).
 */
export type StepEvent = { kind: 'step'; step: number; steps: number; loss: number; lr: number; imagesPerSecond: number };
/**
 * One validation after `step`: its `loss` (null when not finite) and either the mean AUC-ROC `auc` (binary,
 * multilabel; null when undefined) or the `top1` / `top5` accuracies, 0-1 (multiclass).
 */
export type EvalEvent = { kind: 'eval'; step: number; loss: number | null; auc?: number | null; top1?: number; top5?: number };
/** A checkpoint holding the state after `step` is in place. */
export type CheckpointEvent = { kind: 'checkpoint'; step: number };
/** Training continues from a checkpoint holding the state after `step`. */
export type ResumeEvent = { kind: 'resume'; step: number };
/** Data parallel, once per run: the gradient buckets, and how many were reduced while backward was still running. */
export type BucketsEvent = { kind: 'buckets'; buckets: number; launchedDuringBackward: number };
/** A training progress event, told apart by `kind`; one call of `onProgress` per event, in order. */
export type TrainEvent = StepEvent | EvalEvent | CheckpointEvent | ResumeEvent | BucketsEvent;

/** How a model is built: the fields of {@link ModelOptions}, every one optional. */
export interface NativeModelOptions {
  /** Outputs of the classifier (default 1): 1 for a binary task, 5 for the chest x-ray pathologies, K for K-way pretraining. */
  numClasses?: number;
  /** Seed of the random initialisation (default 0; Kaiming-normal convs, unit BatchNorm, PyTorch-default linear head). */
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
  /**
   * NHWC memory format for 4-D weights and inputs. Default: on for a CUDA model; off on the CPU, except the inputs of
   * evaluation (NHWC there, the weights left as they are: faster with oneDNN); false keeps evaluation in NCHW too.
   */
  channelsLast?: boolean;
  /** "bf16": autocast convs and matmuls to bfloat16 (weights stay fp32); "tf32": TF32 matmuls and convs on CUDA (on CPU as fp32); "fp32": TF32 off. Default: "bf16" for a CUDA model, "fp32" on the CPU. */
  precision?: 'fp32' | 'tf32' | 'bf16';
}

/** A dense float32 tensor crossing the boundary: row-major data and its shape. */
export interface TensorData {
  /** The values, row-major; its length is the product of `shape`. */
  data: Float32Array;
  /** The dimensions, e.g. [N, 3, H, W] for a batch of images. */
  shape: number[];
}

/** How the addon's similarity() reads and compares arrays ({@link SimilarityOptions} is the library's form, typed). */
export interface NativeSimilarityOptions {
  /** How the arrays are laid out (default "datapoints-first"). */
  layout?: string;
  /** nchw: datapoints (positions) to keep, the same on both sides. Default: all, up to max(20,000, 10 x neurons). */
  subsample?: number;
  /** Seed of the position subsample. */
  seed?: number;
  /** Dead-neuron threshold, relative to the largest variance (default 1e-10). */
  epsilon?: number;
  /** SVCCA: the fraction of each side's variance its kept singular directions explain (default 0.99). */
  svccaVariance?: number;
  /** SVCCA: keep exactly this many directions per side instead of the variance rule (default 0: the rule). */
  svccaDirections?: number;
  /** "cpu" (default) or "cuda" / "cuda:N": where the Gram products and factorisations run. */
  device?: string;
  /** The metrics to compute (default: every one whose `byDefault` is true). */
  metrics?: string[];
  /** rbfCka: the kernel's sigma as a fraction of the median pairwise distance (default 1, Kornblith et al.'s code). */
  rbfBandwidth?: number;
  /** shapeMetric: partial whitening, 0 (CCA's angle) to 1 (Procrustes'), default 0.5. */
  shapeAlpha?: number;
}

/** How the addon's compareModels() runs the models and compares their stages ({@link CompareOptions} adds the job's). */
export interface NativeCompareOptions {
  /** Stages to compare (default: every stage of the model). */
  stages?: string[];
  /** Datapoints kept per conv stage (positions subsampled as batches pass; default max(20,000, 10 x channels)). */
  maxDatapoints?: number;
  /** Seed of the position subsample (default 0). */
  seed?: number;
  /** Images per forward pass (default 64). */
  batchSize?: number;
}

/** Training settings as the addon takes them ({@link TrainOptions} is the library's form, with steps and a schedule). */
export interface NativeTrainOptions extends ComputeOptions {
  /** One learning rate per step: its length is the number of steps. */
  learningRates: Float64Array | number[];
  /** Training images per step (default 32), at most the training set's size: with a `group`, the whole batch, of which
   * each rank trains on `batchSize / ranks` (a multiple of the ranks). */
  batchSize?: number;
  /** "sgd" (default) or "adam". */
  optimizer?: 'sgd' | 'adam';
  /** SGD's momentum (default 0.9), 0-1. */
  momentum?: number;
  /** L2 weight decay (default 1e-4), 0-1. */
  weightDecay?: number;
  /** SGD: Nesterov momentum (default false). */
  nesterov?: boolean;
  /** Adam's beta1 (default 0.9). */
  beta1?: number;
  /** Adam's beta2 (default 0.999). */
  beta2?: number;
  /** Seed of the batch order (default 0). */
  seed?: number;
  /** Validate every N steps (default 0: only at the end); each point lands in the result's curve. */
  evalEvery?: number;
  /** With `evalEvery`: validate before the first step too, as the curve's step-0 point (default false). Studies set it,
   * so a convergence curve starts where training does. */
  evalAtStart?: boolean;
  /** Validation images per forward pass (default 32 on the CPU, where a batch's activations stay in cache; 128 on CUDA). */
  evalBatchSize?: number;
  /** Random affine augmentation per training image, seeded by `seed` and the step (none by default). */
  augment?: AugmentOptions;
  /**
   * Every `checkpointEvery` steps (0: never; needs `checkpointPath`) the whole training state is written atomically to
   * `checkpointPath`. With `resume: true` training continues from that file when it exists: on CPU the result equals
   * that of an uninterrupted run (same losses, curve and weights).
   */
  checkpointPath?: string;
  /** Steps between checkpoints (default 0: never); see `checkpointPath`. */
  checkpointEvery?: number;
  /** Continue from `checkpointPath` when it exists (default false). */
  resume?: boolean;
  /** The model's weights after each of these steps (0: before the first), to `weightsPrefix` + "-step<N>.pt": the
   * intermediate pretraining checkpoints the `checkpoints` experiment transfers from. Needs `weightsPrefix`. */
  weightSteps?: number[];
  /** Where `weightSteps`' files go: a path without its "-step<N>.pt" ending. */
  weightsPrefix?: string;
  /**
   * Data parallel: every rank of the group calls train with the same options; each step the batch order draws
   * batchSize images (the whole batch) and each rank trains on its batchSize / ranks slice, gradients averaged over ranks
   * in buckets; weights start from rank 0's; evaluation is gathered, so the metrics cover the whole validation set, the same on every rank.
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
  /** Bootstrap resamples of the final validation AUC's 95% interval, drawn with `seed` (default 1000; 0: none). */
  bootstrapResamples?: number;
  /**
   * Intra-op threads of this training alone, 1-1024 (default 0: the process's, see setThreads). Set on the job's own
   * thread, so trainings running at once each use their own count. On CPU a run's numbers depend on it (the order of
   * reductions), as PyTorch's do on its thread count; at a given count they are the same alone or beside others.
   */
threads?: number;
  /** Early stopping: stop after this many evaluations in a row (every `evalEvery` steps) without a better validation
   * score (mean AUC; top-1 for a multiclass set without AUC); default 0, off. The result says `stopped: "early"`. */
  patience?: number;
  /** End with the weights of the best evaluation (copied to host memory at each new best) and its metrics as
   * `final` (default false: the last step's). After a resume, only evaluations since the resume count. */
  keepBest?: boolean;
}

/** Random affine augmentation of each training image; every field defaults to none (0, false). */
export interface AugmentOptions {
  /** Rotation up to +-this many degrees (0-180; default 0). */
  rotate?: number;
  /** Shift up to +-this fraction of the side (0-0.5; default 0). */
  translate?: number;
  /** Zoom within 1 +- scale (0-0.5; default 0). */
  scale?: number;
  /** Horizontal flips with probability 1/2 (default false). */
  flip?: boolean;
}

export interface NativeModel {
  info(): ModelInfo;
  stageShapes(height: number, width: number): [string, number[]][];
  saveWeights(path: string, format: 'pt' | 'safetensors'): NativeJob<void>;
  loadWeights(path: string, options?: { strict?: boolean; head?: 'keep' | 'replace'; seed?: number; upTo?: string }): NativeJob<LoadReport>;
  getParameter(name: string): TensorData;
  setParameter(name: string, value: TensorData): void;
  meanVarInit(path: string, options?: { seed?: number; batchNorm?: 'meanvar' | 'default' }): NativeJob<MeanVarReport>;
  dispose(): void;
  readonly disposed: boolean;
}

/** What Mean Var did: tensors drawn from N(mean, var) of the source, reset to defaults, or kept (the new head). */
export interface MeanVarReport {
  /** Conv and linear weights and biases (and BatchNorm affine tensors with batchNorm "meanvar") drawn from the file's statistics. */
  drawn: string[];
  /** Tensors set to their defaults: BatchNorm running statistics (0 / 1), and BatchNorm affine tensors with batchNorm "default". */
  reset: string[];
  /** Tensors left as initialised: the classifier. */
  kept: string[];
}

/** How a process joins a data-parallel group (torchrun's MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE). */
export interface DistributedOptions {
  /** "gloo" (default; CPU tensors, and CUDA ones) or "nccl" (CUDA builds of LibTorch only; untested so far). */
  backend?: 'gloo' | 'nccl';
  /** Host name or address of rank 0's rendezvous store (default "127.0.0.1"). */
  masterAddr?: string;
  /** TCP port of the rendezvous store, 1-65535 (default 29500). */
  masterPort?: number;
  /** This process's rank, 0 .. worldSize - 1. */
  rank: number;
  /** The number of processes in the group. */
  worldSize: number;
  /** This rank's GPU for nccl, cuda:localRank (default: rank). */
  localRank?: number;
  /** Time limit in seconds of the rendezvous and of every collective (default 300). */
  timeoutSeconds?: number;
  /**
   * What this rank runs (the CLI passes the package version and the study's fingerprint): at the rendezvous a rank
   * whose identity differs from rank 0's is refused on both sides, naming both. Default: unchecked.
   */
  identity?: string;
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
  images(): TensorData;
  dispose(): void;
  readonly disposed: boolean;
}

/** One pair's similarity, keys as in google/svcca's vocabulary (native/napi/results.cc writes it). */
export interface SimilarityResult {
  /** Canonical correlations, descending (min of the live neuron counts). */
  ccaCoefficients: number[];
  meanCca: number;
  /** Mean CCA after keeping the top singular directions explaining svccaVariance (99%) of each side's variance. */
  svccaMean: number;
  /** Projection-weighted CCA (Morcos et al. 2018). */
  pwcca: number;
  linearCka: number;
  /** Debiased linear CKA (Kornblith et al. 2019); null where undefined (fewer than 4 datapoints). */
  debiasedLinearCka: number | null;
  /** Orthogonal Procrustes distance (Ding et al. 2021) between the centred activations scaled to unit Frobenius norm, 0 to sqrt(2); lower is more alike. */
  procrustes: number;
  /** Williams et al. (2021)'s shape distance, an angle in [0, pi/2]: partial whitening by shapeAlpha (default 0.5),
   * then the best rotation (1: Procrustes' angle; 0: CCA's). Lower is more alike. */
  shapeMetric: number;
  /** CKA of Gaussian RBF kernels (Kornblith et al. 2019), sigma = rbfBandwidth x the median pairwise distance: only
   * where asked for (`metrics`), as it keeps an n x n kernel per side (at most 8192 datapoints). */
  rbfCka?: number;
  /** Directions SVCCA kept on each side. */
  svccaKept: [number, number];
  /** Constant neurons dropped on each side (reported, never a NaN). */
  deadNeurons: [number, number];
  neurons: [number, number];
  /** Datapoints used (after any subsample). */
  datapoints: number;
  /** Datapoints per live neuron of the wider side. */
  datapointsPerNeuron: number;
  /** At least 10 datapoints per neuron: below that the CCA family (meanCca, svccaMean, pwcca) is biased upwards, and reports mark the value. */
  reliable: boolean;
  /** How the products over datapoints ran: "gram/avx512" or "gram/avx2" (this library's float64 SIMD kernel on the
   * CPU), "gram/blas" (a CPU without one), "gram/cuda" (cuBLAS). Every route factorises only neurons x neurons
   * matrices, never a tall datapoints x neurons SVD. */
  route: string;
  /** What the whole batch did (the same on each of its results): for benchmarks, and to see that an input
   * shared by many pairs was prepared once. */
  work: SimilarityWork;
}

/** A similarity batch's work: its products over the datapoints (the Gram phase) and its time. */
export interface SimilarityWork {
  /** Inputs centred, multiplied (X^T X) and factorised: once each, however many pairs use them. */
  prepared: number;
  /** Products over the datapoints: one X^T X per prepared input, one X^T Y per pair. */
  products: number;
  /** Their floating-point operations: 2 n p q, and n p (p + 1) for a symmetric X^T X. */
  gramFlops: number;
  /** Their time: each product's wall time x the threads it ran on, summed. */
  gramThreadSeconds: number;
  /** The batch's wall time in the engine, from the first input made to the last pair compared. */
  seconds: number;
  /** The threads the batch ran on. */
  threads: number;
  /**
   * Where the threads' time went, in thread-seconds that sum to `seconds` x `threads`: `gram` (the products over the
   * datapoints), `input` (making each input: reading, layout conversion; compareModels' forward passes), `centre`
   * (centring into float64, the dead-neuron check), `factorise` (the eigendecomposition of each X^T X),
   * `metric:<name>` (each metric, with the small products it is the first of its pair to need), and `idle` (in none of
   * them: waiting at a wave's end for its slowest item, and the little work between phases).
   */
  phases: Record<string, number>;
  /**
   * The CPU's routes for those products, measured once per process on its first similarity (one thread, a 2048 x 256
   * by 2048 x 256 product, best of 3): GFLOP/s of each SIMD kernel this CPU runs (`avx512`, `avx2`, and each blocked
   * for L2: `avx512/mc128`, `avx2/mc96`) and of LibTorch's BLAS (`blas`). The fastest ran the batch (`route` names it).
   * Empty where the batch ran on a GPU or made no product.
   */
  kernels: Record<string, number>;
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
  /** cxxStandard: the C++ standard the addon was compiled as (CMakeLists.txt: 20 wherever the compiler has it, which
   * LibTorch 2.14 and later require; 17 otherwise). oneDnnMaxIsa: the cap on oneDNN's CPU kernels (ONEDNN_MAX_CPU_ISA), null for none; set where this CPU makes the
   * faster ones unsafe (native/core/compat.h). Child processes inherit it. cpuAllocator: "reusing" when LibTorch's CPU
   * tensors come from the addon's allocator (native/core/memory/cpu_allocator.h: large blocks kept for reuse while jobs
   * run), "libtorch" with TRANSFUSION_CPU_CACHE=0. */
  version(): { torch: string; cxxStandard: number; napi: number; oneDnnMaxIsa: string | null; cpuAllocator: 'reusing' | 'libtorch'; config: string };
  /** Every error code the addon raises (native/core/error.h's kErrorCodes), in that order. */
  errorCodes(): string[];
  setThreads(count: number): void;
  getThreads(): number;
  cudaAvailable(): boolean;
  liveHandles(): number;
  /** Bytes kept for reuse: the similarity engine's and the training jobs' large blocks (freed 3 s after the last
   * batch or job ends). */
  reusedMemoryBytes(): number;
  interpolateWeights(out: NativeModel, a: NativeModel, b: NativeModel, alpha: number): void;
  copyStages(to: NativeModel, from: NativeModel, stages: string[]): number;
  perturbStages(model: NativeModel, stages: string[], sigma: number, seed: number): number;
  stageDistance(a: NativeModel, b: NativeModel, stages: string[]): number;
  recomputeBatchNorm(model: NativeModel, data: NativeDataset, options: { batches?: number; batchSize?: number }, onProgress?: (e: unknown) => void): NativeJob<number>;
  knnEvaluate(
    model: NativeModel,
    bank: NativeDataset,
    queries: NativeDataset,
    options: { stages?: string[]; k?: number; temperature?: number; batchSize?: number },
    onProgress?: (e: unknown) => void,
  ): NativeJob<KnnResult>;
  minibatchCka(a: NativeModel, b: NativeModel, data: NativeDataset, options: { stagesA?: string[]; stagesB?: string[]; batchSize?: number; allLayers?: boolean }, onProgress?: (e: unknown) => void): NativeJob<CkaHeatmap>;
  similarityMetrics(): { name: string; direction: string; range: [number, number]; needs: string; computes: string; reference: string; ccaFamily: boolean; nullable: boolean }[];
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
    /** multiclass on ordered grades: classes >= this form the derived binary output evaluation scores by P(class >= it) (auc, auprc, aucCi); 0 or absent: none. */
    referableFrom?: number;
    /** multiclass on unordered classes: evaluation scores each class against the rest (auc, auprc, aucCi per class) and gives no kappa. */
    classAuc?: boolean;
  }): NativeDataset;
  train(
    model: NativeModel,
    trainSet: NativeDataset,
    valSet: NativeDataset,
    options: NativeTrainOptions,
    onProgress?: (e: TrainEvent) => void,
  ): NativeJob<NativeTrainResult>;
  evaluate(model: NativeModel, dataset: NativeDataset, options?: { batchSize?: number; threads?: number } & ComputeOptions): NativeJob<Metrics>;
  forward(model: NativeModel, input: TensorData, options?: { stage?: string } & ComputeOptions): NativeJob<TensorData>;
  /** Forward FLOPs of one (3, height, width) image: 2 x the multiply-adds of every convolution and linear layer an
   * eval-mode forward pass runs (the model's training mode and BatchNorm statistics are left as they were). */
  forwardFlops(model: NativeModel, height: number, width: number): NativeJob<number>;
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
  averagePrecision(scores: Float64Array | number[], labels: Float64Array | number[]): number;
  bootstrapAucInterval(
    scores: Float64Array | number[],
    labels: Float64Array | number[],
    options?: { resamples?: number; seed?: number; level?: number },
  ): { low: number | null; high: number | null; resamples: number };
  quadraticKappa(a: Float64Array | number[], b: Float64Array | number[], classes: number): number;
  readTensor(path: string, key: string): NativeJob<TensorData>;
  similarity(
    inputs: { data: Float32Array | Float64Array; shape: number[] }[],
    pairs: [number, number][],
    options?: NativeSimilarityOptions,
    onProgress?: (e: CountEvent<'pair'>) => void,
  ): NativeJob<SimilarityResult[]>;
  compareModels(
    models: NativeModel[],
    data: NativeDataset,
    pairs: [number, number][],
    options?: NativeCompareOptions,
    onProgress?: (e: CountEvent<'stage'>) => void,
  ): NativeJob<StageComparison[]>;
}

/** The members of each handle class as NativeModel, NativeDataset and NativeProcessGroup declare them, checked against
 * those interfaces here at compile time and against the addon's classes by test/native/bindings.test.ts. */
export const HANDLE_MEMBERS = {
  model: ['info', 'stageShapes', 'saveWeights', 'loadWeights', 'getParameter', 'setParameter', 'meanVarInit', 'dispose', 'disposed'],
  dataset: ['info', 'targets', 'grades', 'meanColour', 'images', 'dispose', 'disposed'],
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
  'reusedMemoryBytes',
  'similarityMetrics',
  'minibatchCka',
  'interpolateWeights',
  'copyStages',
  'perturbStages',
  'stageDistance',
  'recomputeBatchNorm',
  'knnEvaluate',
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
  'forwardFlops',
  'createDataset',
  'auc',
  'averagePrecision',
  'bootstrapAucInterval',
  'quadraticKappa',
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
  // Debian 13's LibTorch links Open MPI and with it UCX, which installs memory hooks (mmap/munmap events) when it is
  // loaded. In a Debian 13 chroot under heavy load we saw the addon's load crash about once in 40 inside V8's allocator
  // (napi_define_class), with libucs's signal handler in the trace. The addon uses no MPI, so the hooks are turned off
  // (only where the user has not set these variables).
  for (const [name, value] of [['UCX_MEM_MMAP_HOOK_MODE', 'none'], ['UCX_MEM_EVENTS', 'no'], ['UCX_MEM_MALLOC_HOOKS', 'no']])
    process.env[name] ??= value;
  cached = require(file) as NativeAddon;
  return cached;
}
