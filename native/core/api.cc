// The facade of api.h: argument checks that need torch, and the one place where c10::Error and other C++ exceptions
// become tn::Error (code plus a message without a backtrace).
#include "core/api.h"

#include <omp.h>

#include <ATen/Version.h>


#include "core/compat.h"
#include "core/unforeseen.h"
#include "core/data/arrays.h"
#include "core/data/chest.h"
#include "core/data/embedded.h"
#include "core/distributed/gloo_log.h"
#include "core/distributed/group.h"
#include "core/models/flops.h"
#include "core/models/registry.h"
#include "core/memory/cpu_allocator.h"
#include "core/memory/pages.h"
#include "core/similarity/cca.h"
#include "core/train/evaluate.h"
#include "core/train/trainer.h"
#include "core/weights/meanvar.h"
#include "core/weights/state.h"

namespace tn {
namespace {

template <class F>
auto guard(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Error("ERR_TORCH", compat::messageOf(e));
  } catch (const std::bad_alloc&) {
    throw Error("ERR_OUT_OF_MEMORY", "Out of memory");
  } catch (const std::exception& e) {
    throw unforeseen(e.what());
  }
}

torch::Device parseDevice(const std::string& device) {
  torch::Device d(torch::kCPU);
  try {
    d = torch::Device(device);
  } catch (const c10::Error&) {
    throw invalidArg("Expected `device` to be \"cpu\" or \"cuda\" (or \"cuda:N\") but received \"" + device + "\"");
  }
  if (d.is_cuda() && !torch::cuda::is_available())
    throw Error("ERR_NO_CUDA", "Device \"" + device + "\" was asked for but this LibTorch (" + compat::version() +
                                   ") sees no CUDA device; use --device cpu");
  if (!d.is_cpu() && !d.is_cuda()) throw invalidArg("Unsupported device \"" + device + "\": use cpu or cuda");
  return d;
}

ModelInfo infoOf(const std::string& name, const ModelOptions& options, NetworkImpl& net) {
  ModelInfo info;
  for (const auto& e : registryEntries())
    if (e.name == canonicalName(name)) {
      info.name = e.name;
      info.displayName = e.displayName;
      info.family = e.family;
      info.description = e.description;
    }
  info.padding = options.padding;
  info.device = options.device;
  info.numClasses = net.numClasses();
  info.stages = net.stageNames();
  info.layers = net.layerNames();
  for (const auto& p : net.parameters()) info.numel += p.numel();
  info.paperParams = net.paperParamCount();
  info.minInputSize = net.minInputSize();
  info.inputConv = net.inputConvKey();
  return info;
}

}  // namespace

Reservation reserve(const std::shared_ptr<Model>& model) {
  if (model->busy.exchange(true))
    throw Error("ERR_BUSY", "Model \"" + model->name + "\" is already running a job; await it before starting another");
  return Reservation(nullptr, [model](void*) { model->busy = false; });
}

void initRuntime() {
  compat::capOneDnnWhereUnsafe();
  installCpuAllocator();
  dropGlooInfoLines();
}

bool reusingCpuAllocator() { return cpuAllocatorInstalled(); }

std::string torchVersion() { return compat::version(); }

std::string torchConfig() { return at::show_config(); }

int cxxStandard() { return static_cast<int>(__cplusplus / 100 % 100); }  // 201703L -> 17, 202002L -> 20

std::string oneDnnMaxIsa() {
  const char* cap = std::getenv("ONEDNN_MAX_CPU_ISA");
  return cap ? cap : "";
}

size_t reusedMemoryBytes() { return hugePages::keptBytes(); }

namespace {
std::atomic<int> configuredThreads{0};  // 0: LibTorch's own default
}  // namespace

void setThreads(int count) {
  if (count < 1) throw invalidArg("Expected `threads` to be a positive integer but received " + std::to_string(count));
  guard([&] {
    torch::set_num_threads(count);
    omp_set_num_threads(count);
  });
  configuredThreads = count;
}

void adoptThreadSettings() {
  // OpenMP's thread count is per calling thread: a job's thread takes the process-wide setting explicitly.
  // omp_set_num_threads also reaches this library's own OpenMP runtime where LibTorch bundles another (pip wheels).
  if (const int count = configuredThreads.load(); count > 0) {
    if (torch::get_num_threads() != count) torch::set_num_threads(count);
    omp_set_num_threads(count);
  }
}

// A job's own intra-op thread count, on the job's thread only. With the OpenMP backend (Debian's LibTorch) the count
// is OpenMP's nthreads setting, which is per thread: at::parallel_for's `omp parallel` and oneDNN read the calling
// thread's, so jobs on their own threads each run at theirs while the process-wide count (at::set_num_threads) is
// left alone. at::get_num_threads() first: it runs LibTorch's once-per-thread initialisation, which would otherwise
// reset this thread's count to the process-wide one at the first parallel region.
namespace {
void adoptJobThreads(int count) {
  if (count <= 0) return;
  (void)torch::get_num_threads();
  omp_set_num_threads(count);
}
}  // namespace

int threads() { return torch::get_num_threads(); }

bool cudaAvailable() { return torch::cuda::is_available(); }

std::vector<ModelInfo> listModels() {
  return guard([&] {
    std::vector<ModelInfo> out;
    for (const auto& e : registryEntries()) {
      ModelOptions options;
      options.numClasses = 5;  // Table 1's heads are 5-way
      auto net = buildNetwork(e.name, options);
      out.push_back(infoOf(e.name, options, *net));
    }
    return out;
  });
}

std::shared_ptr<Model> createModel(const std::string& name, const ModelOptions& options) {
  return guard([&] {
    const torch::Device device = parseDevice(options.device);
    auto model = std::make_shared<Model>();
    model->net = buildNetwork(name, options);
    model->name = infoOf(name, options, *model->net).name;
    model->options = options;
    model->device = device;
    model->net->to(device);
    return model;
  });
}

ModelInfo describe(const Model& model) {
  return guard([&] { return infoOf(model.name, model.options, *model.net); });
}

std::vector<std::pair<std::string, std::vector<int64_t>>> stageShapes(Model& model, int height, int width) {
  return guard([&] {
    checkInputSize(model, height, width);
    torch::NoGradGuard noGrad;
    model.net->eval();
    std::vector<std::pair<std::string, std::vector<int64_t>>> out;
    for (const auto& [stage, t] : model.net->forwardStages(torch::zeros({1, 3, height, width}, model.device)))
      out.emplace_back(stage, t.sizes().vec());
    return out;
  });
}

int64_t forwardFlops(Model& model, int height, int width) {
  return guard([&] { return impl::forwardFlops(model, height, width); });
}

void saveWeights(Model& model, const std::string& path, const std::string& format) {
  guard([&] { impl::saveWeights(model, path, format); });
}

LoadReport loadWeights(Model& model, const std::string& path, const LoadOptions& options) {
  return guard([&] { return impl::loadWeights(model, path, options); });
}

TensorData getParameter(Model& model, const std::string& name) {
  return guard([&] { return impl::getParameter(model, name); });
}

void setParameter(Model& model, const std::string& name, const TensorData& value) {
  guard([&] { impl::setParameter(model, name, value); });
}

TensorData readTensor(const std::string& path, const std::string& key) {
  return guard([&] { return impl::readTensor(path, key); });
}

MeanVarReport meanVarInit(Model& model, const std::string& path, const MeanVarOptions& options) {
  return guard([&] { return impl::meanVarInit(model, path, options); });
}

std::vector<SimilarityResult> similarityBatch(const std::vector<ArrayData>& inputs,
                                              const std::vector<std::pair<int, int>>& pairs,
                                              const SimilarityOptions& options, const JobControl& job) {
  return guard([&] { return impl::similarityBatch(inputs, pairs, options, job); });
}

std::vector<StageComparison> compareModels(const std::vector<Model*>& models, const Dataset& data,
                                           const std::vector<std::string>& stages,
                                           const std::vector<std::pair<int, int>>& pairs, const CompareOptions& options,
                                           const JobControl& job) {
  return guard([&] { return impl::compareModels(models, data, stages, pairs, options, job); });
}

void interpolateWeights(Model& out, Model& a, Model& b, double alpha) {
  guard([&] { impl::interpolateWeights(out, a, b, alpha); });
}

int64_t recomputeBatchNorm(Model& model, const Dataset& data, int batches, int batchSize, const JobControl& job) {
  return guard([&] { return impl::recomputeBatchNorm(model, data, batches, batchSize, job); });
}

int64_t copyStages(Model& to, Model& from, const std::vector<std::string>& stages) {
  return guard([&] { return impl::copyStages(to, from, stages); });
}

int64_t perturbStages(Model& model, const std::vector<std::string>& stages, double sigma, uint64_t seed) {
  return guard([&] { return impl::perturbStages(model, stages, sigma, seed); });
}

double stageDistance(Model& a, Model& b, const std::vector<std::string>& stages) {
  return guard([&] { return impl::stageDistance(a, b, stages); });
}

KnnResult knnEvaluate(Model& model, const Dataset& bank, const Dataset& queries, const std::vector<std::string>& stages,
                      int k, double temperature, int batchSize, const JobControl& job) {
  return guard([&] { return impl::knnEvaluate(model, bank, queries, stages, k, temperature, batchSize, job); });
}

MinibatchCka minibatchCka(Model& a, Model& b, const Dataset& data, const std::vector<std::string>& stagesA,
                          const std::vector<std::string>& stagesB, int batchSize, bool allLayers,
                          const JobControl& job) {
  return guard([&] { return impl::minibatchCka(a, b, data, stagesA, stagesB, batchSize, allLayers, job); });
}


std::shared_ptr<Dataset> generateRetina(const RetinaOptions& options, const JobControl& job) {
  return guard([&] { return impl::generateRetina(options, job); });
}

std::shared_ptr<Dataset> openMappedDataset(const MappedDatasetOptions& options) {
  return guard([&] { return impl::openMappedDataset(options); });
}

std::shared_ptr<Dataset> generateChest(const ChestOptions& options, const JobControl& job) {
  return guard([&] { return impl::generateChest(options, job); });
}

std::vector<std::string> chestFindings() { return {kChestFindingNames.begin(), kChestFindingNames.end()}; }

std::shared_ptr<Dataset> generateNatural(const NaturalOptions& options, const JobControl& job) {
  return guard([&] { return impl::generateNatural(options, job); });
}

DatasetInfo describe(const Dataset& d) {
  DatasetInfo info;
  info.source = d.source;
  info.task = d.task;
  info.count = d.images.size(0);
  info.channels = static_cast<int>(d.images.size(1));
  info.height = static_cast<int>(d.images.size(2));
  info.width = static_cast<int>(d.images.size(3));
  info.outputs = d.outputs;
  return info;
}

std::vector<float> targets(const Dataset& d) {
  return guard([&] {
    const auto t = d.targets.to(torch::kFloat32).contiguous();
    return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  });
}

std::vector<int32_t> grades(const Dataset& d) { return d.grades; }

TensorData images(const Dataset& d) {
  return guard([&] {
    const auto all = imageRange(d, 0, d.images.size(0)).to(torch::kFloat32).contiguous();
    TensorData out;
    out.shape.assign(all.sizes().begin(), all.sizes().end());
    out.data.assign(all.data_ptr<float>(), all.data_ptr<float>() + all.numel());
    return out;
  });
}

std::vector<float> meanColour(const Dataset& d) {
  return guard([&] {
    std::vector<float> out;
    for (int64_t begin = 0; begin < d.images.size(0); begin += 256) {  // in chunks: a mapped dataset may not fit in memory
      const auto m = imageRange(d, begin, std::min<int64_t>(d.images.size(0), begin + 256)).mean({2, 3}).contiguous();
      out.insert(out.end(), m.data_ptr<float>(), m.data_ptr<float>() + m.numel());
    }
    return out;
  });
}

std::shared_ptr<ProcessGroup> joinProcessGroup(const DistributedOptions& options) { return createProcessGroup(options); }
int groupRank(const ProcessGroup& group) { return group.rank(); }
int groupSize(const ProcessGroup& group) { return group.size(); }

TrainResult train(Model& model, const Dataset& trainSet, const Dataset& valSet, const TrainOptions& options,
                  const JobControl& job) {
  return guard([&] { adoptJobThreads(options.threads); return impl::train(model, trainSet, valSet, options, job); });
}

Metrics evaluate(Model& model, const Dataset& data, int batchSize, const ComputeOptions& compute, const JobControl& job,
                 int threads) {
  return guard([&] { adoptJobThreads(threads); return impl::evaluate(model, data, batchSize, compute, job); });
}

TensorData forward(Model& model, const TensorData& input, const std::string& stage, const ComputeOptions& compute,
                   const JobControl& job) {
  return guard([&] { return impl::forward(model, input, stage, compute, job); });
}

std::shared_ptr<Dataset> datasetFromArrays(const TensorData& images, const std::vector<float>& targets,
                                           const std::vector<float>& mask, const std::string& task, int outputs,
                                           const std::string& source) {
  return guard([&] { return impl::datasetFromArrays(images, targets, mask, task, outputs, source); });
}

}  // namespace tn
