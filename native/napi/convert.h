// The one place values cross between JS and the core: option objects in (options.cc, each bad field named in the
// error), results and events out (results.cc); the field-level readers and plain values are napi/values.h. TS
// validates first (src/); these checks are the cheap native re-check.
#pragma once
#include <napi.h>

#include "core/api.h"
#include "napi/values.h"

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
int evalBatchSize(Napi::Value options);  // { batchSize } -> batch size, 0 (tn::defaultEvalBatch) where absent
int jobThreads(Napi::Value options);     // { threads } -> a job's intra-op threads, 0 (the process's) where absent
tn::ComputeOptions computeOptions(Napi::Value options);  // { channelsLast, precision }
std::string stageOption(Napi::Value options);             // { stage } -> stage name, "" for the logits
struct ArrayDataset {
  tn::TensorData images;
  std::vector<float> targets;
  std::vector<float> mask;  // empty: every label known
  std::string task, source;
  int outputs = 1;
};
ArrayDataset arrayDataset(Napi::Value options);
tn::MappedDatasetOptions mappedDatasetOptions(Napi::Value options);  // { images: { data, shape }, targets: Float32Array, task, outputs }

tn::SimilarityOptions similarityOptions(Napi::Value options);
std::vector<std::pair<int, int>> pairsArg(Napi::Value value);      // [[i, j], ...]
// { stages, maxDatapoints, seed, batchSize } -> (stages, options)
std::pair<std::vector<std::string>, tn::CompareOptions> compareOptions(Napi::Value options);
// A list of stage names at o[key] (empty where absent); ERR_INVALID_ARG naming the key otherwise.
// o[key] as a list of names (absent: empty); `what` names one in errors ("stage", "metric").
std::vector<std::string> stageList(Napi::Object o, const char* key, const std::string& what = "stage");
// The same for a value given as it is (an argument), named `key` in errors.
std::vector<std::string> nameList(Napi::Value list, const char* key, const std::string& what = "stage");

// Writing results.
Napi::Value eventToJs(Napi::Env env, const tn::Event& event);
Napi::Object modelInfoToJs(Napi::Env env, const tn::ModelInfo& info);
Napi::Object datasetInfoToJs(Napi::Env env, const tn::DatasetInfo& info);
Napi::Object metricsToJs(Napi::Env env, const tn::Metrics& metrics);
Napi::Object trainResultToJs(Napi::Env env, const tn::TrainResult& result);
Napi::Object loadReportToJs(Napi::Env env, const tn::LoadReport& report);
Napi::Object meanVarReportToJs(Napi::Env env, const tn::MeanVarReport& report);
Napi::Object similarityResultToJs(Napi::Env env, const tn::SimilarityResult& r);
Napi::Array metricTableToJs(Napi::Env env);
Napi::Object stageComparisonToJs(Napi::Env env, const tn::StageComparison& r, const std::vector<std::pair<int, int>>& pairs);

}  // namespace tn::napi
