// The core's whole public surface, free of torch headers: native/napi includes only this file (and auc.h), so the
// glue compiles in seconds and cannot leak a c10::Error. Every function here throws tn::Error and nothing else.
// The option and result structs it speaks in live in torch-free headers per domain (core/job.h, core/*/options.h),
// which the core's own headers include in place of this one; this file holds only the facade's functions.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/analysis/options.h"
#include "core/data/options.h"
#include "core/distributed/options.h"
#include "core/error.h"
#include "core/job.h"
#include "core/memory/pages.h"
#include "core/models/options.h"
#include "core/similarity/metrics.h"
#include "core/similarity/options.h"
#include "core/train/options.h"
#include "core/weights/options.h"

namespace tn {

struct Model;    // core/models/model.h: a network, its device and its options
struct Dataset;  // core/data/dataset.h: images and targets, kept native
class ProcessGroup;  // core/distributed/group.h

// ---- runtime -------------------------------------------------------------------------------------------------
// Process-wide settings made once, when the addon loads: oneDNN capped where this CPU makes it unsafe (compat.h), the
// reusing CPU allocator, Gloo's connection INFO lines kept off std::cerr (distributed/gloo_log.h).
void initRuntime();
std::string torchVersion();
// LibTorch's build configuration as at::show_config() prints it (compiler, flags, BLAS, CUDA, CXX11 ABI).
std::string torchConfig();
// The C++ standard the core was compiled as (17, 20, 23: CMakeLists.txt chooses it from the LibTorch found).
int cxxStandard();
// The cap on oneDNN's CPU kernels in this process (ONEDNN_MAX_CPU_ISA, e.g. "SSE41"), or "" for none.
std::string oneDnnMaxIsa();
void setThreads(int count);
int threads();
// Called first on every job thread, so that setThreads() governs native jobs too.
void adoptThreadSettings();
bool cudaAvailable();
// Bytes kept for reuse (core/memory/pages.h): the similarity engine's and, through the CPU allocator, the training
// jobs' large blocks; freed 3 s after the last batch or job.
size_t reusedMemoryBytes();
// Whether LibTorch's CPU tensors come from core/memory/cpu_allocator.h's reusing allocator (installed by initRuntime()
// unless TRANSFUSION_CPU_CACHE=0).
bool reusingCpuAllocator();
// Held by every native job for its duration: large blocks it releases are kept for its next step (and the next job).
using JobMemory = HugePageReuse;

// ---- models --------------------------------------------------------------------------------------------------
// ModelOptions, ModelInfo: core/models/options.h
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
// Forward FLOPs of one (1, 3, height, width) image: 2 x the multiply-adds of every convolution and linear layer the
// eval-mode forward pass runs (bench/train_step.py's convention); a training step is taken as 3x. Leaves every module's
// mode and BatchNorm's statistics as they were. Throws ERR_INVALID_ARG below the model's minimum input size.
int64_t forwardFlops(Model& model, int height, int width);

// LoadOptions, LoadReport, MeanVarOptions, MeanVarReport: core/weights/options.h
// format: "pt" (a zip Python's torch.load reads) or "safetensors".
void saveWeights(Model& model, const std::string& path, const std::string& format);

// One parameter or buffer by name, as float32 (for small tensors: filters, statistics). Throws ERR_INVALID_ARG for an
// unknown name or a shape mismatch.
TensorData getParameter(Model& model, const std::string& name);
void setParameter(Model& model, const std::string& name, const TensorData& value);
// One tensor of a weight file, as float32. Throws ERR_INVALID_ARG (naming the file) if the key is absent.
TensorData readTensor(const std::string& path, const std::string& key);

// Mean Var (the paper's Section 5): see MeanVarOptions in core/weights/options.h.
MeanVarReport meanVarInit(Model& model, const std::string& path, const MeanVarOptions& options);
LoadReport loadWeights(Model& model, const std::string& path, const LoadOptions& options);

// ---- embedded data -------------------------------------------------------------------------------------------
// RetinaOptions, ChestOptions, NaturalOptions, DatasetInfo, MappedDatasetOptions: core/data/options.h
std::shared_ptr<Dataset> generateRetina(const RetinaOptions& options, const JobControl& job);
std::shared_ptr<Dataset> generateChest(const ChestOptions& options, const JobControl& job);
// The five findings of the chest task, in its column order.
std::vector<std::string> chestFindings();
std::shared_ptr<Dataset> generateNatural(const NaturalOptions& options, const JobControl& job);
DatasetInfo describe(const Dataset& data);
std::vector<float> targets(const Dataset& data);    // (count, outputs) row-major; (count) class ids if multiclass
std::vector<int32_t> grades(const Dataset& data);   // DR grade 0-4 per image; empty where the source has none
std::vector<float> meanColour(const Dataset& data); // (count, channels), in the stored (normalised) units
TensorData images(const Dataset& data);              // (count, 3, H, W) float32, normalised as models take them

// ---- training and evaluation ---------------------------------------------------------------------------------
// ComputeOptions, AugmentOptions, TrainOptions, Metrics, CurvePoint, TrainResult: core/train/options.h
// Eval-mode output of a (N, 3, H, W) batch: the logits, or the named stage's activations.
TensorData forward(Model& model, const TensorData& input, const std::string& stage, const ComputeOptions& compute,
                   const JobControl& job);

// A dataset from arrays: images (N, 3, H, W) float32 (already normalised as the model expects) and targets:
// (N, outputs) 0/1 for "binary"/"multilabel", or (N) class ids for "multiclass"; mask (binary/multilabel, optional):
// (N, outputs) 1 = label known, 0 = masked in the loss and in AUC. `source` names the data in info().
std::shared_ptr<Dataset> datasetFromArrays(const TensorData& images, const std::vector<float>& targets,
                                           const std::vector<float>& mask, const std::string& task, int outputs,
                                           const std::string& source);
// A dataset over a memory-mapped file of uint8 RGB images: see MappedDatasetOptions in core/data/options.h.
std::shared_ptr<Dataset> openMappedDataset(const MappedDatasetOptions& options);

// ---- distributed ----------------------------------------------------------------------------------------------
// DistributedOptions: core/distributed/options.h
// [blocking] Joins a process group; see core/distributed/group.h.
std::shared_ptr<ProcessGroup> joinProcessGroup(const DistributedOptions& options);
int groupRank(const ProcessGroup& group);
int groupSize(const ProcessGroup& group);

TrainResult train(Model& model, const Dataset& trainSet, const Dataset& valSet, const TrainOptions& options,
                  const JobControl& job);
Metrics evaluate(Model& model, const Dataset& data, int batchSize, const ComputeOptions& compute, const JobControl& job,
                 int threads = 0);

// ---- representational similarity -----------------------------------------------------------------------------
// ArrayData, SimilarityOptions, SimilarityResult, CompareOptions, StageComparison: core/similarity/options.h
// Compares inputs[i] with inputs[j] for every (i, j) in pairs; each input is prepared (centred, factorised) once.
std::vector<SimilarityResult> similarityBatch(const std::vector<ArrayData>& inputs,
                                              const std::vector<std::pair<int, int>>& pairs,
                                              const SimilarityOptions& options, const JobControl& job);
// Minibatch linear CKA (Nguyen, Raghu and Kornblith 2021) between every stage of a and every stage of b (all stages
// where a list is empty): each image one datapoint, its activations flattened; the unbiased HSIC of each minibatch's
// Gram matrices averaged over minibatches, so no stage's activations are held beyond one batch. With allLayers, the
// names are layers (NetworkImpl::layerNames: every block and conv output), each reduced as the forward pass makes it.
MinibatchCka minibatchCka(Model& a, Model& b, const Dataset& data, const std::vector<std::string>& stagesA,
                          const std::vector<std::string>& stagesB, int batchSize, bool allLayers,
                          const JobControl& job);
// ---- what is transferred (core/analysis/transfer.cc) -----------------------------------------------------------
// out's every parameter and buffer := (1 - alpha) a + alpha b (integer buffers: a's; alpha 0 and 1 copy exactly); the
// three models one architecture. ERR_INVALID_ARG otherwise.
void interpolateWeights(Model& out, Model& a, Model& b, double alpha);
// BatchNorm's running statistics reset and recomputed as the cumulative average over `batches` minibatches of
// `batchSize` images of data (from its first image, in order), in training mode with no gradient; the modules' modes
// and momenta restored after. Returns the images used.
int64_t recomputeBatchNorm(Model& model, const Dataset& data, int batches, int batchSize, const JobControl& job);
// Every parameter and buffer of the named stages copied from `from` (same architecture). Returns the tensors copied.
int64_t copyStages(Model& to, Model& from, const std::vector<std::string>& stages);
// Gaussian noise of standard deviation sigma (drawn on the CPU from `seed`) added to every parameter of the named
// stages, BatchNorm's statistics untouched (Chatterji et al.'s perturbation). Returns the elements perturbed.
int64_t perturbStages(Model& model, const std::vector<std::string>& stages, double sigma, uint64_t seed);
// The squared Frobenius distance between a's and b's parameters of the named stages (same architecture).
double stageDistance(Model& a, Model& b, const std::vector<std::string>& stages);
// k-NN classification of `queries` from each stage's pooled, L2-normalised features, `bank` the memory: the k most
// cosine-similar bank items weighted exp(similarity / temperature), an output's score their weighted positive share;
// AUC per output. Binary and multi-label sets.
KnnResult knnEvaluate(Model& model, const Dataset& bank, const Dataset& queries, const std::vector<std::string>& stages,
                      int k, double temperature, int batchSize, const JobControl& job);

// Runs every model once over the data, capturing the stages (the same positions for every model), then compares each
// pair (i, j) of models at each stage: each model's activations at a stage are prepared once for all its pairs.
// Results come stage by stage, pairs in the order given.
std::vector<StageComparison> compareModels(const std::vector<Model*>& models, const Dataset& data,
                                           const std::vector<std::string>& stages,
                                           const std::vector<std::pair<int, int>>& pairs, const CompareOptions& options,
                                           const JobControl& job);

}  // namespace tn
