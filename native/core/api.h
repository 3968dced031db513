// The core's whole public surface, free of torch headers: native/napi includes only this file (and auc.h), so the
// glue compiles in seconds and cannot leak a c10::Error. Every function here throws tn::Error and nothing else.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace tn {

struct Model;    // core/models/model.h: a network, its device and its options
struct Dataset;  // core/data/dataset.h: images and targets, kept native

// ---- jobs: progress out, cancellation in -----------------------------------------------------------------------
struct Event {
  std::string kind;                                   // "step", "eval", "generate"
  std::vector<std::pair<std::string, double>> fields;  // e.g. {"step", 12}, {"loss", 0.61}
};
struct JobControl {
  const std::atomic<bool>* cancelled = nullptr;
  std::function<void(Event)> emit;  // may be empty
  void check() const { if (cancelled && cancelled->load()) throw Cancelled(); }
  void report(Event e) const { if (emit) emit(std::move(e)); }
};

// A dense float32 tensor crossing into or out of the core.
struct TensorData {
  std::vector<float> data;  // row-major
  std::vector<int64_t> shape;
};

// ---- runtime -------------------------------------------------------------------------------------------------
// Process-wide settings made once, when the addon loads: oneDNN capped where this CPU makes it unsafe (compat.h).
void initRuntime();
std::string torchVersion();
// The cap on oneDNN's CPU kernels in this process (ONEDNN_MAX_CPU_ISA, e.g. "SSE41"), or "" for none.
std::string oneDnnMaxIsa();
void setThreads(int count);
int threads();
// Called first on every job thread, so that setThreads() governs native jobs too.
void adoptThreadSettings();
bool cudaAvailable();

// ---- models --------------------------------------------------------------------------------------------------
struct ModelOptions {
  int numClasses = 1;
  uint64_t seed = 0;              // initialisation draws from a private generator seeded here
  std::string padding = "same";   // CBR convs: "same" (k/2, pools padded) or "valid" (as unpadded TF-slim)
  std::string device = "cpu";     // "cpu" or "cuda[:i]"
  bool auxLogits = true;          // Inception-v3: build the auxiliary classifier
  double dropout = 0.5;           // Inception-v3: dropout before fc (torchvision's default)
};
struct ModelInfo {
  std::string name, displayName, family, description, padding, device;
  int numClasses = 0;
  std::vector<std::string> stages;  // bottom to top, ending with the classifier ("head")
  int64_t numel = 0;                // every parameter of this model, as built
  int64_t paperParams = 0;          // Table 1's convention (see models/cbr.cc)
  int minInputSize = 1;             // smallest square input that survives every conv and pool
  std::string inputConv;            // the first convolution's weight, e.g. "conv1.weight"
};
std::vector<ModelInfo> listModels();
// A model runs one job at a time. reserve() marks it busy (ERR_BUSY if it already is) until the last copy of the
// token is dropped. The functions below that take a Model& expect the caller to hold a reservation; native/napi takes
// it on the main thread when a job starts, so a second concurrent call fails at once rather than racing.
using Reservation = std::shared_ptr<void>;
Reservation reserve(const std::shared_ptr<Model>& model);
std::shared_ptr<Model> createModel(const std::string& name, const ModelOptions& options);
ModelInfo describe(const Model& model);
// Output shape of every stage for a (1, 3, height, width) input, bottom to top.
std::vector<std::pair<std::string, std::vector<int64_t>>> stageShapes(Model& model, int height, int width);

struct LoadOptions {
  bool strict = true;        // any missing, unexpected or mismatched key is an error
  bool replaceHead = false;  // drop the file's classifier and draw a fresh one for this model's classes
  uint64_t headSeed = 0;
  std::string upTo;          // load only the stages up to and including this one (empty: all)
};
struct LoadReport {
  std::vector<std::string> loaded, missing, unexpected, mismatched, reinitialised;
  std::vector<std::string> kept;  // model keys above `upTo`, left as initialised
};
// format: "pt" (a zip Python's torch.load reads) or "safetensors".
void saveWeights(Model& model, const std::string& path, const std::string& format);

// One parameter or buffer by name, as float32 (for small tensors: filters, statistics). Throws ERR_INVALID_ARG for an
// unknown name or a shape mismatch.
TensorData getParameter(Model& model, const std::string& name);
void setParameter(Model& model, const std::string& name, const TensorData& value);
// One tensor of a weight file, as float32. Throws ERR_INVALID_ARG (naming the file) if the key is absent.
TensorData readTensor(const std::string& path, const std::string& key);

// Mean Var (the paper's Section 5): every conv and linear weight and bias of the model is drawn i.i.d. from
// N(mean, var) of the same tensor in the pretrained file, from a generator seeded with `seed`. BatchNorm affine
// parameters: "meanvar" (drawn the same way) or "default" (weight 1, bias 0). BatchNorm running statistics describe
// data, not weights: always reset to 0 / 1. The classifier stays as initialised (a new head, as in transfer).
struct MeanVarOptions {
  uint64_t seed = 0;
  std::string batchNorm = "meanvar";
};
struct MeanVarReport {
  std::vector<std::string> drawn, reset, kept;
};
MeanVarReport meanVarInit(Model& model, const std::string& path, const MeanVarOptions& options);
LoadReport loadWeights(Model& model, const std::string& path, const LoadOptions& options);

// ---- embedded data -------------------------------------------------------------------------------------------
struct RetinaOptions {
  int64_t count = 0;
  int size = 64;
  uint64_t seed = 0;
  std::vector<double> gradeWeights;  // P(grade = 0..4); empty = the documented default
};
// The embedded CheXpert-like chest radiographs (see data/chest.h): five findings, multi-label. Uncertain labels
// (CheXpert's -1, at uncertainRate) become targets by each finding's policy: "ignore" (masked in the loss and in
// AUC), "zeros" or "ones".
struct ChestOptions {
  int64_t count = 0;
  int size = 64;
  uint64_t seed = 0;
  double uncertainRate = 0.1;
  std::vector<std::string> policy;  // per finding; empty = ones for Atelectasis and Edema, zeros for the rest
};
struct NaturalOptions {
  int64_t count = 0;
  int size = 64;
  uint64_t seed = 0;
  int classes = 20;
};
struct DatasetInfo {
  std::string source;  // "retina", "natural"
  std::string task;    // "binary", "multilabel", "multiclass"
  int64_t count = 0;
  int channels = 0, height = 0, width = 0;
  int outputs = 0;     // logits a model needs: 1 for binary, K for multilabel / multiclass
};
std::shared_ptr<Dataset> generateRetina(const RetinaOptions& options, const JobControl& job);
std::shared_ptr<Dataset> generateChest(const ChestOptions& options, const JobControl& job);
// The five findings of the chest task, in its column order.
std::vector<std::string> chestFindings();
std::shared_ptr<Dataset> generateNatural(const NaturalOptions& options, const JobControl& job);
DatasetInfo describe(const Dataset& data);
std::vector<float> targets(const Dataset& data);    // (count, outputs) row-major; (count) class ids if multiclass
std::vector<int32_t> grades(const Dataset& data);   // DR grade 0-4 per image; empty where the source has none
std::vector<float> meanColour(const Dataset& data); // (count, channels), in the stored (normalised) units

// ---- training and evaluation ---------------------------------------------------------------------------------
// How a model computes: settings of training and inference that matter on a GPU (on CPU, correct is enough).
struct ComputeOptions {
  // NHWC memory format for 4-D weights and inputs; unset: on for a CUDA model (cuDNN's fast layout), off on the CPU
  std::optional<bool> channelsLast;
  // "fp32"; "tf32" (CUDA: TF32 matmuls and convs; on CPU the same as fp32); "bf16" (autocast: matmuls and convs in
  // bfloat16, weights in fp32); "" (unset): "bf16" for a CUDA model (Tensor Cores), "fp32" on the CPU
  std::string precision;
};
// Eval-mode output of a (N, 3, H, W) batch: the logits, or the named stage's activations.
TensorData forward(Model& model, const TensorData& input, const std::string& stage, const ComputeOptions& compute,
                   const JobControl& job);

// A dataset from arrays: images (N, 3, H, W) float32 (already normalised as the model expects) and targets:
// (N, outputs) 0/1 for "binary"/"multilabel", or (N) class ids for "multiclass"; mask (binary/multilabel, optional):
// (N, outputs) 1 = label known, 0 = masked in the loss and in AUC. `source` names the data in info().
std::shared_ptr<Dataset> datasetFromArrays(const TensorData& images, const std::vector<float>& targets,
                                           const std::vector<float>& mask, const std::string& task, int outputs,
                                           const std::string& source);

// Random affine augmentation per training image (none by default): rotation up to +-rotate degrees, shifts up to
// +-translate of the side, zoom within 1 +- scale, horizontal flips with probability 1/2.
struct AugmentOptions {
  double rotate = 0, translate = 0, scale = 0;
  bool flip = false;
};
// A dataset over a file of uint8 RGB images (count x 3 x size x size, row-major), memory-mapped: a user's images
// decoded once (the TypeScript loaders write it). Targets and mask as for datasetFromArrays.
struct MappedDatasetOptions {
  std::string file, task = "binary", source;
  int64_t count = 0;
  int size = 0;
  std::vector<float> targets, mask;
  int outputs = 1;
};
std::shared_ptr<Dataset> openMappedDataset(const MappedDatasetOptions& options);

// ---- distributed ----------------------------------------------------------------------------------------------
// How a process joins a data-parallel group: torchrun's variables (MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE).
struct DistributedOptions {
  std::string backend = "gloo";  // "gloo" (CPU, or CUDA tensors through the host) or "nccl" (CUDA)
  std::string masterAddr = "127.0.0.1";
  int masterPort = 29500;
  int rank = 0, worldSize = 1;
  int localRank = 0;            // nccl: this rank's GPU, cuda:localRank
  double timeoutSeconds = 300;  // rendezvous and every collective
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
  int evalBatchSize = 128;
  ComputeOptions compute;
  AugmentOptions augment;
  // Checkpoints: every `checkpointEvery` steps (0: never) the whole training state (weights, buffers, optimizer,
  // batch order, curve so far) is written atomically to `checkpointPath`. With `resume`, training starts from that
  // file when it exists, and the result equals that of an uninterrupted run on CPU.
  std::string checkpointPath;
  int checkpointEvery = 0;
  bool resume = false;
  // Data parallel: every rank runs trainModel with the same options and seed; each step the sampler draws
  // batchSize x group size images and each rank trains on its own slice (batchSize per rank), gradients averaged.
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
};
struct Metrics {
  std::string task;
  std::vector<double> auc;  // binary / multilabel: AUC-ROC per output
  double meanAuc = 0;
  double top1 = 0, top5 = 0;  // multiclass
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
};
// [blocking] Joins a process group; see core/distributed/group.h.
std::shared_ptr<ProcessGroup> joinProcessGroup(const DistributedOptions& options);
int groupRank(const ProcessGroup& group);
int groupSize(const ProcessGroup& group);

TrainResult train(Model& model, const Dataset& trainSet, const Dataset& valSet, const TrainOptions& options,
                  const JobControl& job);
Metrics evaluate(Model& model, const Dataset& data, int batchSize, const ComputeOptions& compute, const JobControl& job);

// ---- representational similarity -----------------------------------------------------------------------------
// An activation array as it arrives: float32 or float64 (exactly one of the two is filled), row-major.
struct ArrayData {
  std::vector<float> f32;
  std::vector<double> f64;
  std::vector<int64_t> shape;
};
struct SimilarityOptions {
  std::string layout = "datapoints-first";  // "datapoints-first", "neurons-first" (svcca's), "nchw"
  int64_t subsample = 0;   // nchw: datapoints kept (0: all, up to max(20000, 10 x neurons)); same positions both sides
  uint64_t seed = 0;       // of the position subsample
  double epsilon = 1e-10;  // dead-neuron threshold, relative to the largest variance
  double svccaVariance = 0.99;
  int svccaDirections = 0;  // > 0: SVCCA keeps this many directions instead of the variance rule
  std::string device = "cpu";
};
struct SimilarityResult {
  std::vector<double> cca;  // canonical correlations, descending
  double meanCca = 0, svccaMean = 0, pwcca = 0, linearCka = 0, debiasedCka = 0;
  int64_t svccaKeptA = 0, svccaKeptB = 0, deadA = 0, deadB = 0, neuronsA = 0, neuronsB = 0, datapoints = 0;
  std::string route;  // how the products over datapoints ran: "gram/avx512", "gram/avx2", "gram/blas", "gram/cuda"
};
// Compares inputs[i] with inputs[j] for every (i, j) in pairs; each input is prepared (centred, factorised) once.
std::vector<SimilarityResult> similarityBatch(const std::vector<ArrayData>& inputs,
                                              const std::vector<std::pair<int, int>>& pairs,
                                              const SimilarityOptions& options, const JobControl& job);
// Runs both models (eval mode) over the dataset and compares their activations at each stage (all stages when empty).
// Conv outputs keep a seeded budget of positions (the same for both models); other outputs keep every image.
struct CompareOptions {
  int64_t maxDatapoints = 0;  // per stage; 0: max(20000, 10 x channels)
  uint64_t seed = 0;
  int batchSize = 64;
  double epsilon = 1e-10;
};
struct StageComparison {
  std::string stage;
  int pair = 0;  // index into the pairs given
  SimilarityResult result;
};
// Runs every model once over the data, capturing the stages (the same positions for every model), then compares each
// pair (i, j) of models at each stage: each model's activations at a stage are prepared once for all its pairs.
// Results come stage by stage, pairs in the order given.
std::vector<StageComparison> compareModels(const std::vector<Model*>& models, const Dataset& data,
                                           const std::vector<std::string>& stages,
                                           const std::vector<std::pair<int, int>>& pairs, const CompareOptions& options,
                                           const JobControl& job);
// A .npy file (format 1.0-3.0, little-endian float32 or float64, C order). Throws ERR_BAD_NPY naming the file.
ArrayData readNpy(const std::string& path);

}  // namespace tn
