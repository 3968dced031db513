// The addon's flat export list. bindings/native.ts mirrors it one to one (a test checks that they agree).
// Long calls return a Job: { promise, cancel }.
#include <napi.h>

#include <algorithm>
#include <cmath>

#include "core/api.h"
#include "napi/convert.h"
#include "napi/errors.h"
#include "napi/handles.h"
#include "napi/jobs.h"
#include "napi/cka.h"
#include "napi/transfer.h"
#include "napi/metrics.h"

namespace tn::napi {
namespace {

// version() -> { torch, cxxStandard, napi, oneDnnMaxIsa, cpuAllocator, config }: config, at::show_config(); cxxStandard, the C++ standard the core was
// compiled as (17 or 20); oneDnnMaxIsa, the cap on oneDNN's CPU kernels (null: none; compat.h caps it where this CPU
// makes the faster ones unsafe).
Napi::Value version(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("torch", tn::torchVersion());
  o.Set("cxxStandard", tn::cxxStandard());
  o.Set("napi", NAPI_VERSION);
  const std::string cap = tn::oneDnnMaxIsa();
  o.Set("oneDnnMaxIsa", cap.empty() ? info.Env().Null() : Napi::String::New(info.Env(), cap));
  o.Set("cpuAllocator", tn::reusingCpuAllocator() ? "reusing" : "libtorch");
  o.Set("config", tn::torchConfig());
  return o;
}

// errorCodes() -> string[]: every code the addon raises (core/error.h's kErrorCodes).
Napi::Value errorCodes(const Napi::CallbackInfo& info) {
  Napi::Array out = Napi::Array::New(info.Env());
  uint32_t i = 0;
  for (const char* code : tn::kErrorCodes) out.Set(i++, Napi::String::New(info.Env(), code));
  return out;
}

// setThreads(count): LibTorch's intra-op thread count for this process. Throws ERR_INVALID_ARG.
Napi::Value setThreads(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    tn::setThreads(intArg(info, 0, "threads", 1, 1024));
    return info.Env().Undefined();
  });
}

// getThreads() -> number
Napi::Value getThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), tn::threads()); }

// cudaAvailable() -> boolean
Napi::Value cudaAvailable(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), tn::cudaAvailable()); }

// liveHandles() -> number of model and dataset handles neither disposed nor collected
Napi::Value liveHandles(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(tn::napi::liveHandles()));
}

// reusedMemoryBytes() -> number
Napi::Value reusedMemoryBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(tn::reusedMemoryBytes()));
}

// similarityMetrics() -> MetricInfo[]: the metric table (core/similarity/metrics.h), in its order
Napi::Value similarityMetrics(const Napi::CallbackInfo& info) { return tn::napi::metricTableToJs(info.Env()); }

// listModels() -> ModelInfo[] (each with a 5-way head, as Table 1 counts them)
Napi::Value listModels(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    const auto models = tn::listModels();
    Napi::Array out = Napi::Array::New(env, models.size());
    for (uint32_t i = 0; i < models.size(); ++i) out.Set(i, modelInfoToJs(env, models[i]));
    return out;
  });
}

// createModel(name, { numClasses, seed, padding, device }) -> NativeModel.
// Throws ERR_UNKNOWN_MODEL, ERR_INVALID_ARG, ERR_NO_CUDA.
Napi::Value createModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    const std::string name = stringArg(info, 0, "name");
    return ModelHandle::wrap(env, tn::createModel(name, modelOptions(info[1])));
  });
}

Settle datasetSettle(std::shared_ptr<tn::Dataset> data) {
  return [data](Napi::Env env) -> Napi::Value { return DatasetHandle::wrap(env, data); };
}

// [async] generateRetina({ count, size, seed, gradeWeights }, onProgress?) -> Job<NativeDataset>
Napi::Value generateRetina(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    const tn::RetinaOptions options = retinaOptions(info[0]);
    return startJob(env, info[1], [options](const tn::JobControl& job) { return datasetSettle(tn::generateRetina(options, job)); });
  });
}

// [async] generateChest({ count, size, seed, uncertainRate, policy }, onProgress?) -> Job<NativeDataset>
Napi::Value generateChest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    const tn::ChestOptions options = chestOptions(info[0]);
    return startJob(env, info[1], [options](const tn::JobControl& job) { return datasetSettle(tn::generateChest(options, job)); });
  });
}

// chestFindings() -> string[]: the chest task's five findings, in its column order.
Napi::Value chestFindings(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    const auto names = tn::chestFindings();
    Napi::Array out = Napi::Array::New(env, names.size());
    for (uint32_t i = 0; i < names.size(); ++i) out.Set(i, names[i]);
    return out;
  });
}

// [async] generateNatural({ count, size, seed, classes }, onProgress?) -> Job<NativeDataset>
Napi::Value generateNatural(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    const tn::NaturalOptions options = naturalOptions(info[0]);
    return startJob(env, info[1], [options](const tn::JobControl& job) { return datasetSettle(tn::generateNatural(options, job)); });
  });
}

// [async] train(model, trainSet, valSet, TrainOptions, onProgress?) -> Job<TrainResult>.
// Events: { kind: 'step', step, steps, loss, lr, imagesPerSecond } and { kind: 'eval', step, loss, auc | top1, top5 }.
// Rejects ERR_INVALID_ARG, ERR_BUSY, ERR_DIVERGED, ERR_TORCH, ABORT_ERR.
Napi::Value train(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    auto model = ModelHandle::from(info[0], "model");
    auto trainSet = DatasetHandle::from(info[1], "trainSet");
    auto valSet = DatasetHandle::from(info[2], "valSet");
    tn::TrainOptions options = trainOptions(info[3]);
    if (info[3].IsObject() && !info[3].As<Napi::Object>().Get("group").IsUndefined())
      options.group = GroupHandle::from(info[3].As<Napi::Object>().Get("group"), "group");
    auto hold = tn::reserve(model);
    return startJob(env, info[4], [model, hold, trainSet, valSet, options](const tn::JobControl& job) -> Settle {
      auto result = std::make_shared<tn::TrainResult>(tn::train(*model, *trainSet, *valSet, options, job));
      return [result](Napi::Env e) -> Napi::Value { return trainResultToJs(e, *result); };
    });
  });
}

// [async] evaluate(model, dataset, { batchSize, channelsLast, precision, threads }) -> Job<Metrics>. Rejects as train
// does. threads: this job's intra-op threads (0: the process's).
Napi::Value evaluate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    auto model = ModelHandle::from(info[0], "model");
    auto data = DatasetHandle::from(info[1], "dataset");
    const int batchSize = evalBatchSize(info[2]);
    const int threads = jobThreads(info[2]);
    const tn::ComputeOptions compute = computeOptions(info[2]);
    auto hold = tn::reserve(model);
    return startJob(env, env.Undefined(), [model, hold, data, batchSize, compute, threads](const tn::JobControl& job) -> Settle {
      auto metrics = std::make_shared<tn::Metrics>(tn::evaluate(*model, *data, batchSize, compute, job, threads));
      return [metrics](Napi::Env e) -> Napi::Value { return metricsToJs(e, *metrics); };
    });
  });
}

// [async] forward(model, { data: Float32Array, shape: [N, 3, H, W] }, { stage, channelsLast, precision })
//   -> Job<{ data: Float32Array, shape }>: eval-mode logits (N, classes), or the activations of `stage`.
//   Rejects ERR_INVALID_ARG, ERR_BUSY, ERR_TORCH.
Napi::Value forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    auto model = ModelHandle::from(info[0], "model");
    auto input = std::make_shared<tn::TensorData>(tensorData(info[1], "input"));
    const tn::ComputeOptions compute = computeOptions(info[2]);
    const std::string stage = stageOption(info[2]);
    auto hold = tn::reserve(model);
    return startJob(env, env.Undefined(), [model, hold, input, stage, compute](const tn::JobControl& job) -> Settle {
      auto out = std::make_shared<tn::TensorData>(tn::forward(*model, *input, stage, compute, job));
      return [out](Napi::Env e) -> Napi::Value { return tensorDataToJs(e, *out); };
    });
  });
}

// [async] forwardFlops(model, height, width) -> Job<number>: forward FLOPs of one (3, height, width) image, 2 x the
//   multiply-adds of every convolution and linear layer an eval-mode forward pass runs (the model's modes are kept).
//   Rejects ERR_INVALID_ARG (below the model's minimum size), ERR_BUSY, ERR_TORCH.
Napi::Value forwardFlops(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    auto model = ModelHandle::from(info[0], "model");
    const int height = intArg(info, 1, "height", 1, 8192), width = intArg(info, 2, "width", 1, 8192);
    auto hold = tn::reserve(model);
    return startJob(env, env.Undefined(), [model, hold, height, width](const tn::JobControl&) -> Settle {
      const int64_t flops = tn::forwardFlops(*model, height, width);
      return [flops](Napi::Env e) -> Napi::Value { return Napi::Number::New(e, static_cast<double>(flops)); };
    });
  });
}

// [async] readTensor(path, key) -> Job<{ data: Float32Array, shape }>: one tensor of a weight file, as float32.
Napi::Value readTensor(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    const std::string path = stringArg(info, 0, "path"), key = stringArg(info, 1, "key");
    return startJob(env, env.Undefined(), [path, key](const tn::JobControl&) -> Settle {
      auto out = std::make_shared<tn::TensorData>(tn::readTensor(path, key));
      return [out](Napi::Env e) -> Napi::Value { return tensorDataToJs(e, *out); };
    });
  });
}

// [async] similarity(inputs: { data: Float32Array | Float64Array, shape }[], pairs: [i, j][], options, onProgress?)
//   -> Job<SimilarityResult[]>: each input prepared once (centred, dead neurons dropped, factorised), then every pair
//   compared, in float64. Options: { layout, subsample, seed, epsilon, svccaVariance, svccaDirections, device }.
//   Rejects ERR_INVALID_ARG (bad shapes, NaN/Inf, too few datapoints, mismatched datapoints), ERR_NUMERICS.
Napi::Value similarity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    if (!info[0].IsArray()) throw tn::invalidArg("Expected `inputs` to be an array of activation arrays");
    auto list = info[0].As<Napi::Array>();
    auto inputs = std::make_shared<std::vector<tn::ArrayData>>();
    for (uint32_t i = 0; i < list.Length(); ++i) inputs->push_back(arrayData(list.Get(i), "inputs[" + std::to_string(i) + "]"));
    const auto pairs = pairsArg(info[1]);
    const tn::SimilarityOptions options = similarityOptions(info[2]);
    return startJob(env, info[3], [inputs, pairs, options](const tn::JobControl& job) -> Settle {
      auto results = std::make_shared<std::vector<tn::SimilarityResult>>(tn::similarityBatch(*inputs, pairs, options, job));
      return [results](Napi::Env e) -> Napi::Value {
        Napi::Array out = Napi::Array::New(e, results->size());
        for (uint32_t i = 0; i < results->size(); ++i) out.Set(i, similarityResultToJs(e, (*results)[i]));
        return out;
      };
    });
  });
}

// [async] compareModels(models: NativeModel[], dataset, pairs: [i, j][], { stages, maxDatapoints, seed, batchSize },
//   onProgress?) -> Job<{ stage, pair, ...SimilarityResult }[]>, stage by stage, pairs in the order given.
//   Rejects ERR_INVALID_ARG (unknown stage, different layouts, a model listed twice, a bad pair), ERR_BUSY.
Napi::Value compareModels(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    if (!info[0].IsArray()) throw tn::invalidArg("Expected `models` to be an array of models");
    const auto list = info[0].As<Napi::Array>();
    std::vector<std::shared_ptr<tn::Model>> models;
    for (uint32_t i = 0; i < list.Length(); ++i) {
      const std::string name = "models[" + std::to_string(i) + "]";
      models.push_back(ModelHandle::from(list.Get(i), name.c_str()));
    }
    auto data = DatasetHandle::from(info[1], "data");
    const auto pairs = pairsArg(info[2]);
    const auto [stages, options] = compareOptions(info[3]);
    std::vector<tn::Reservation> holds;
    for (size_t i = 0; i < models.size(); ++i)
      if (std::find(models.begin(), models.begin() + static_cast<std::ptrdiff_t>(i), models[i]) == models.begin() + static_cast<std::ptrdiff_t>(i))
        holds.push_back(tn::reserve(models[i]));
    return startJob(env, info[4], [models, holds, data, pairs, stages = stages, options = options](const tn::JobControl& job) -> Settle {
      std::vector<tn::Model*> raw;
      for (const auto& m : models) raw.push_back(m.get());
      auto results = std::make_shared<std::vector<tn::StageComparison>>(tn::compareModels(raw, *data, stages, pairs, options, job));
      return [results, pairs](Napi::Env e) -> Napi::Value {
        Napi::Array out = Napi::Array::New(e, results->size());
        for (uint32_t i = 0; i < results->size(); ++i) out.Set(i, stageComparisonToJs(e, (*results)[i], pairs));
        return out;
      };
    });
  });
}

// [async] joinProcessGroup({ backend, masterAddr, masterPort, rank, worldSize, timeoutSeconds }) -> Job<NativeProcessGroup>.
// Resolves once every rank has joined; rejects ERR_DISTRIBUTED (naming the address) when they do not within the timeout.
Napi::Value joinProcessGroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    const tn::DistributedOptions options = distributedOptions(info[0]);
    return startJob(env, env.Undefined(), [options](const tn::JobControl&) -> Settle {
      auto group = tn::joinProcessGroup(options);
      return [group](Napi::Env e) -> Napi::Value { return GroupHandle::wrap(e, group); };
    });
  });
}

// createDataset({ images: { data, shape: [N, 3, H, W] }, targets: Float32Array, task, outputs }) -> NativeDataset.
// Images are used as given (normalise them first). Throws ERR_INVALID_ARG naming the bad field or target.
Napi::Value createDataset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    const ArrayDataset d = arrayDataset(info[0]);
    return DatasetHandle::wrap(env, tn::datasetFromArrays(d.images, d.targets, d.mask, d.task, d.outputs, d.source));
  });
}

// openDataset({ file, count, size, targets: Float32Array, mask?, task, outputs, source }) -> NativeDataset over a
// memory-mapped file of uint8 RGB images (count x 3 x size x size). Throws ERR_INVALID_ARG (wrong file size, bad
// targets), ERR_IO.
Napi::Value openDataset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] { return DatasetHandle::wrap(env, tn::openMappedDataset(mappedDatasetOptions(info[0]))); });
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  tn::initRuntime();
  auto* data = new AddonData();
  data->modelConstructor = Napi::Persistent(ModelHandle::define(env));
  data->datasetConstructor = Napi::Persistent(DatasetHandle::define(env));
  data->groupConstructor = Napi::Persistent(GroupHandle::define(env));
  env.SetInstanceData(data);

  exports.Set("version", Napi::Function::New(env, version, "version"));
  exports.Set("errorCodes", Napi::Function::New(env, errorCodes, "errorCodes"));
  exports.Set("setThreads", Napi::Function::New(env, setThreads, "setThreads"));
  exports.Set("getThreads", Napi::Function::New(env, getThreads, "getThreads"));
  exports.Set("cudaAvailable", Napi::Function::New(env, cudaAvailable, "cudaAvailable"));
  exports.Set("liveHandles", Napi::Function::New(env, liveHandles, "liveHandles"));
  exports.Set("reusedMemoryBytes", Napi::Function::New(env, reusedMemoryBytes, "reusedMemoryBytes"));
  exports.Set("similarityMetrics", Napi::Function::New(env, similarityMetrics, "similarityMetrics"));
  exports.Set("listModels", Napi::Function::New(env, listModels, "listModels"));
  exports.Set("createModel", Napi::Function::New(env, createModel, "createModel"));
  exports.Set("generateRetina", Napi::Function::New(env, generateRetina, "generateRetina"));
  exports.Set("generateNatural", Napi::Function::New(env, generateNatural, "generateNatural"));
  exports.Set("generateChest", Napi::Function::New(env, generateChest, "generateChest"));
  exports.Set("chestFindings", Napi::Function::New(env, chestFindings, "chestFindings"));
  exports.Set("train", Napi::Function::New(env, train, "train"));
  exports.Set("joinProcessGroup", Napi::Function::New(env, joinProcessGroup, "joinProcessGroup"));
  exports.Set("evaluate", Napi::Function::New(env, evaluate, "evaluate"));
  exports.Set("forward", Napi::Function::New(env, forward, "forward"));
  exports.Set("forwardFlops", Napi::Function::New(env, forwardFlops, "forwardFlops"));
  exports.Set("createDataset", Napi::Function::New(env, createDataset, "createDataset"));
  exports.Set("readTensor", Napi::Function::New(env, readTensor, "readTensor"));
  exports.Set("similarity", Napi::Function::New(env, similarity, "similarity"));
  exports.Set("compareModels", Napi::Function::New(env, compareModels, "compareModels"));
  exports.Set("openDataset", Napi::Function::New(env, openDataset, "openDataset"));
  exportMetrics(env, exports);
  exportCka(env, exports);
  exportTransfer(env, exports);
  return exports;
}

}  // namespace
}  // namespace tn::napi

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return tn::napi::init(env, exports); }

NODE_API_MODULE(transfusion_native, Init)
