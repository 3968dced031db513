// The one place values cross between JS and the core: option objects in (each bad field named in the error),
// results and events out. TS validates first (src/); these checks are the cheap native re-check.
#pragma once
#include <napi.h>

#include "core/api.h"

namespace tn::napi {

// Reading options. `where` prefixes messages, e.g. "train options".
tn::ModelOptions modelOptions(Napi::Value value);
tn::TrainOptions trainOptions(Napi::Value value);
tn::DistributedOptions distributedOptions(Napi::Value value);
tn::RetinaOptions retinaOptions(Napi::Value value);
tn::ChestOptions chestOptions(Napi::Value value);
tn::NaturalOptions naturalOptions(Napi::Value value);
tn::LoadOptions loadOptions(Napi::Value value);
tn::MeanVarOptions meanVarOptions(Napi::Value value);  // { seed, batchNorm }
Napi::Array stringsToJs(Napi::Env env, const std::vector<std::string>& items);
Napi::Array integersToJs(Napi::Env env, const std::vector<int64_t>& values);
int evalBatchSize(Napi::Value options);  // { batchSize } -> batch size, default 128
tn::ComputeOptions computeOptions(Napi::Value options);  // { channelsLast, precision }
std::string stageOption(Napi::Value options);             // { stage } -> stage name, "" for the logits
tn::TensorData tensorData(Napi::Value value, const char* name);  // { data: Float32Array, shape: number[] }
struct ArrayDataset {
  tn::TensorData images;
  std::vector<float> targets;
  std::vector<float> mask;  // empty: every label known
  std::string task, source;
  int outputs = 1;
};
ArrayDataset arrayDataset(Napi::Value options);
tn::MappedDatasetOptions mappedDatasetOptions(Napi::Value options);  // { images: { data, shape }, targets: Float32Array, task, outputs }
std::string stringArg(const Napi::CallbackInfo& info, size_t index, const char* name);
int intArg(const Napi::CallbackInfo& info, size_t index, const char* name, int min, int max);
std::vector<double> numbersArg(const Napi::CallbackInfo& info, size_t index, const char* name);

tn::ArrayData arrayData(Napi::Value value, const std::string& name);  // { data: Float32Array | Float64Array, shape }
tn::SimilarityOptions similarityOptions(Napi::Value options);
std::vector<std::pair<int, int>> pairsArg(Napi::Value value);      // [[i, j], ...]
// { stages, maxDatapoints, seed, batchSize } -> (stages, options)
std::pair<std::vector<std::string>, tn::CompareOptions> compareOptions(Napi::Value options);

// Writing results.
Napi::Value eventToJs(Napi::Env env, const tn::Event& event);
Napi::Object modelInfoToJs(Napi::Env env, const tn::ModelInfo& info);
Napi::Object datasetInfoToJs(Napi::Env env, const tn::DatasetInfo& info);
Napi::Object metricsToJs(Napi::Env env, const tn::Metrics& metrics);
Napi::Object trainResultToJs(Napi::Env env, const tn::TrainResult& result);
Napi::Object loadReportToJs(Napi::Env env, const tn::LoadReport& report);
Napi::Float32Array float32ArrayOf(Napi::Env env, const std::vector<float>& values);
Napi::Object tensorDataToJs(Napi::Env env, const tn::TensorData& t);
Napi::Object arrayDataToJs(Napi::Env env, const tn::ArrayData& a);
Napi::Object similarityResultToJs(Napi::Env env, const tn::SimilarityResult& r);

}  // namespace tn::napi
