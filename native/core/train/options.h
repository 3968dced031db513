// Options and results of training and evaluation: compute, augmentation, TrainOptions, metrics. Torch-free.
#pragma once
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tn {

// How a model computes: settings of training and inference that matter on a GPU (on CPU, correct is enough).
struct ComputeOptions {
  // NHWC memory format for 4-D weights and inputs; unset: on for a CUDA model (cuDNN's fast layout), off on the CPU
  std::optional<bool> channelsLast;
  // "fp32"; "tf32" (CUDA: TF32 matmuls and convs; on CPU the same as fp32); "bf16" (autocast: matmuls and convs in
  // bfloat16, weights in fp32); "" (unset): "bf16" for a CUDA model (Tensor Cores), "fp32" on the CPU
  std::string precision;
};
// Random affine augmentation per training image (none by default): rotation up to +-rotate degrees, shifts up to
// +-translate of the side, zoom within 1 +- scale, horizontal flips with probability 1/2.
struct AugmentOptions {
  double rotate = 0, translate = 0, scale = 0;
  bool flip = false;
};
class ProcessGroup;  // core/distributed/group.h

struct TrainOptions {
  std::vector<double> learningRates;  // one per step: the number of steps is its length
  int batchSize = 32;
  std::string optimizer = "sgd";      // "sgd" or "adam"
  double momentum = 0.9;
  double weightDecay = 1e-4;
  bool nesterov = false;
  double beta1 = 0.9, beta2 = 0.999;  // Adam
  uint64_t seed = 0;                  // batch order
  int evalEvery = 0;                  // validation every N steps (0: only at the end)
  bool evalAtStart = false;           // with evalEvery: validation before the first step too (the curve's step 0)
  int evalBatchSize = 0;              // validation images per forward pass; 0: defaultEvalBatch(device)
  ComputeOptions compute;
  AugmentOptions augment;
  // Checkpoints: every `checkpointEvery` steps (0: never) the whole training state (weights, buffers, optimizer,
  // batch order, curve so far) is written atomically to `checkpointPath`. With `resume`, training starts from that
  // file when it exists, and the result equals that of an uninterrupted run on CPU.
  std::string checkpointPath;
  int checkpointEvery = 0;
  // The model's weights at chosen steps (pretraining checkpoints to transfer from): after each step in `weightSteps`
  // (0: before the first), written to `weightsPrefix` + "-step<N>.pt" (a file torch.load and loadWeights read).
  std::vector<int> weightSteps;
  std::string weightsPrefix;
  bool resume = false;
  // Data parallel: every rank runs impl::train with the same options and seed; each step the sampler draws the whole
  // batch (batchSize images) and each rank trains on its own slice (batchSize / group size), gradients averaged.
  std::shared_ptr<ProcessGroup> group;
  bool syncBatchNorm = false;  // BatchNorm statistics over the whole batch (default: per rank, as DDP's)
  double bucketMegabytes = 25;  // gradient all-reduce buckets, reduced while backward goes on (DDP's default size)
  // Host reads: the losses stay on the device and are read together every `syncEvery` steps, at evaluations and at
  // checkpoints (progress points; step events arrive then, one per step, in order). 0: every step on the CPU (where a
  // read costs nothing), every kCudaSyncEvery steps on CUDA.
  int syncEvery = 0;
  // A CUDA model's training set lives on the device when images, targets and mask take at most this much.
  double residentMegabytes = 8192;
  // Optimizer steps as multi-tensor (foreach) kernels over all parameters; false: LibTorch's per-parameter step.
  // Both give the same numbers (bit for bit on the CPU).
  bool foreach = true;
  // A CUDA model's step (forward, backward, optimizer) captured as a CUDA graph after kGraphWarmup eager steps and
  // replayed from then on: fewer launches for small models. Off by default; not with a process group.
  bool cudaGraph = false;
  // Bootstrap resamples of the final validation AUC's 95% interval (seeded with `seed`; 0: none). Binary / multilabel.
  int bootstrapResamples = 1000;
  // Intra-op threads of this job alone (0: the process's setting). Applied on the job's own thread, so concurrent jobs
  // each run at their own count (api.cc, adoptJobThreads). A CPU run's numbers depend on it (reduction order).
  int threads = 0;
  // Early stopping: stop after `patience` evaluations in a row without a better validation score (mean AUC; top-1 where
  // a multiclass set has no AUC); 0: off. keepBest: end with the weights of the best evaluation (kept in host memory).
  int patience = 0;
  bool keepBest = false;
};
struct Metrics {
  std::string task;
  // binary / multilabel: AUC-ROC per output; multiclass on ordered grades (Dataset::referableFrom): the one derived
  // referable output's, as are auprc and the interval below
  std::vector<double> auc;
  double meanAuc = 0;
  std::vector<double> auprc;  // binary / multilabel: average precision per output (core/train/auprc.h)
  double meanAuprc = 0;
  // binary / multilabel, where asked for (training's final evaluation): the bootstrap 95% interval of meanAuc and
  // the resamples it kept (core/train/bootstrap.h); NaN and 0 otherwise
  double aucLow = std::numeric_limits<double>::quiet_NaN(), aucHigh = std::numeric_limits<double>::quiet_NaN();
  int64_t aucResamples = 0;
  double top1 = 0, top5 = 0;  // multiclass
  // multiclass: quadratic-weighted kappa of the top class against the label (core/train/kappa.h), meaningful where the
  // classes are ordered levels (DR grades 0-4)
  double kappa = std::numeric_limits<double>::quiet_NaN();
  bool classAuc = false;  // multiclass on unordered classes (Dataset::classAuc): auc per class, one against the rest; no kappa
  double loss = 0;
  int64_t count = 0;
};
struct CurvePoint {
  int64_t step = 0;
  Metrics metrics;
};
struct TrainResult {
  int64_t steps = 0;
  std::vector<double> losses;  // training loss per step
  std::vector<CurvePoint> curve;
  Metrics final;
  double wallSeconds = 0, imagesPerSecond = 0;
  int64_t resumedFrom = 0;  // the step a checkpoint brought this run to (0: trained from the start)
  int64_t hostReads = 0;    // times the loop read training state (the losses) back from the device
  bool resident = false;    // whether the training set lived on the device
  int64_t prefetched = 0;   // batches copied to the device on a side stream ahead of their step (streamed CUDA sets)
  int64_t graphed = 0;      // steps run as replays of a captured CUDA graph
  // How training ended: "completed" (every step), "early" (patience ran out) or "aborted" (the job was cancelled: the
  // result holds what was done, `steps` the steps trained). bestStep: the evaluation whose weights the model ends with
  // under keepBest, else the best evaluation's step (0: the untrained model's, with evalAtStart, or none yet).
  std::string stopped = "completed";
  int64_t bestStep = 0;
};

}  // namespace tn
