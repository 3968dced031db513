// Option objects in, in the order of the core's options headers (models, weights, data, train, distributed,
// similarity); every bad field named in the error.
#include "napi/convert.h"

#include <cmath>

#include "napi/errors.h"
#include "napi/values.h"

namespace tn::napi {

tn::ModelOptions modelOptions(Napi::Value value) {
  Napi::Object o = objectOf(value, "model options");
  tn::ModelOptions m;
  m.numClasses = integer(o, "numClasses", 1, 1, 100000);
  m.seed = seed(o, "seed");
  m.padding = text(o, "padding", "same");
  m.device = text(o, "device", "cpu");
  m.auxLogits = flag(o, "auxLogits", m.auxLogits);
  m.dropout = number(o, "dropout", m.dropout, 0, 1, false);
  return m;
}

tn::LoadOptions loadOptions(Napi::Value value) {
  Napi::Object o = objectOf(value, "load options");
  tn::LoadOptions l;
  l.strict = flag(o, "strict", l.strict);
  const std::string head = text(o, "head", "keep");
  if (head != "keep" && head != "replace")
    throw tn::invalidArg("Expected `head` to be \"keep\" or \"replace\" but received \"" + head + "\"");
  l.replaceHead = head == "replace";
  l.headSeed = seed(o, "seed");
  l.upTo = text(o, "upTo", "");
  return l;
}

tn::MeanVarOptions meanVarOptions(Napi::Value value) {
  Napi::Object o = objectOf(value, "Mean Var options");
  tn::MeanVarOptions m;
  m.seed = seed(o, "seed");
  m.batchNorm = text(o, "batchNorm", m.batchNorm);
  m.draw = text(o, "draw", m.draw);
  return m;
}

tn::RetinaOptions retinaOptions(Napi::Value value) {
  Napi::Object o = objectOf(value, "retina options");
  tn::RetinaOptions r;
  r.count = integer(o, "count", 0, 1, 1 << 24);
  r.size = integer(o, "size", r.size, tn::limits::imageSize);
  r.seed = seed(o, "seed");
  if (o.Has("gradeWeights") && !o.Get("gradeWeights").IsUndefined()) r.gradeWeights = numbers(o.Get("gradeWeights"), "gradeWeights");
  return r;
}

tn::ChestOptions chestOptions(Napi::Value value) {
  Napi::Object o = objectOf(value, "chest options");
  tn::ChestOptions c;
  c.count = integer(o, "count", 0, 1, 1 << 24);
  c.size = integer(o, "size", c.size, tn::limits::imageSize);
  c.seed = seed(o, "seed");
  c.uncertainRate = number(o, "uncertainRate", c.uncertainRate, 0, 1, false);
  Napi::Value policy = o.Get("policy");
  if (!policy.IsUndefined()) {
    if (!policy.IsArray()) throw tn::invalidArg("Expected `policy` to be an array of \"ignore\" | \"zeros\" | \"ones\", one per finding");
    auto a = policy.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      if (!a.Get(i).IsString()) throw tn::invalidArg("Expected `policy[" + std::to_string(i) + "]` to be a string");
      c.policy.push_back(a.Get(i).As<Napi::String>().Utf8Value());
    }
  }
  return c;
}

tn::NaturalOptions naturalOptions(Napi::Value value) {
  Napi::Object o = objectOf(value, "natural options");
  tn::NaturalOptions n;
  n.count = integer(o, "count", 0, 1, 1 << 24);
  n.size = integer(o, "size", n.size, tn::limits::imageSize);
  n.seed = seed(o, "seed");
  n.classes = integer(o, "classes", n.classes, tn::limits::classes);
  return n;
}

tn::MappedDatasetOptions mappedDatasetOptions(Napi::Value value) {
  Napi::Object o = objectOf(value, "mapped dataset options");
  tn::MappedDatasetOptions m;
  m.file = text(o, "file", "");
  if (m.file.empty()) throw tn::invalidArg("Expected `file` to name a file of uint8 images");
  m.count = static_cast<int64_t>(number(o, "count", 0, 1, 9007199254740991.0, true));
  m.size = integer(o, "size", 0, 1, 1 << 16);
  auto floats = [&](const char* key, bool required) {
    Napi::Value v = o.Get(key);
    std::vector<float> out;
    if (v.IsUndefined() && !required) return out;
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw tn::invalidArg(std::string("Expected `") + key + "` to be a Float32Array but received " + describe(v));
    auto a = v.As<Napi::Float32Array>();
    out.assign(a.Data(), a.Data() + a.ElementLength());
    return out;
  };
  m.targets = floats("targets", true);
  m.mask = floats("mask", false);
  m.task = text(o, "task", "binary");
  m.source = text(o, "source", "mapped");
  m.outputs = integer(o, "outputs", 1, 1, 1 << 20);
  m.referableFrom = integer(o, "referableFrom", 0, 0, 1 << 20);
  m.classAuc = flag(o, "classAuc", false);
  return m;
}

ArrayDataset arrayDataset(Napi::Value value) {
  Napi::Object o = objectOf(value, "dataset options");
  ArrayDataset d;
  d.images = tensorData(o.Get("images"), "images");
  Napi::Value targets = o.Get("targets");
  if (!targets.IsTypedArray() || targets.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw tn::invalidArg("Expected `targets` to be a Float32Array but received " + describe(targets));
  auto t = targets.As<Napi::Float32Array>();
  d.targets.assign(t.Data(), t.Data() + t.ElementLength());
  Napi::Value mask = o.Get("mask");
  if (!mask.IsUndefined()) {
    if (!mask.IsTypedArray() || mask.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw tn::invalidArg("Expected `mask` to be a Float32Array but received " + describe(mask));
    auto m = mask.As<Napi::Float32Array>();
    d.mask.assign(m.Data(), m.Data() + m.ElementLength());
  }
  d.task = text(o, "task", "binary");
  d.source = text(o, "source", "arrays");
  d.outputs = integer(o, "outputs", 1, 1, 1 << 20);
  return d;
}

tn::ComputeOptions computeOptions(Napi::Value value) {
  Napi::Object o = objectOf(value, "compute options");
  tn::ComputeOptions c;
  if (!o.Get("channelsLast").IsUndefined()) c.channelsLast = flag(o, "channelsLast", false);
  c.precision = text(o, "precision", c.precision);
  return c;
}

std::string stageOption(Napi::Value value) { return text(objectOf(value, "forward options"), "stage", ""); }

int evalBatchSize(Napi::Value value) {
  return integer(objectOf(value, "evaluate options"), "batchSize", 0, 1, 1 << 20);  // 0: tn::defaultEvalBatch
}

int jobThreads(Napi::Value value) { return integer(objectOf(value, "evaluate options"), "threads", 0, 1, 1024); }

tn::TrainOptions trainOptions(Napi::Value value) {
  Napi::Object o = objectOf(value, "train options");
  tn::TrainOptions t;
  if (!o.Has("learningRates")) throw tn::invalidArg("Expected `learningRates` (one learning rate per step)");
  t.learningRates = numbers(o.Get("learningRates"), "learningRates");
  // One rate per step: at most limits.json's steps, as the TypeScript edge bounds them. The rates themselves are only
  // finite and non-negative (trainer.cc): an explicit per-step array may go past a schedule's largest peak.
  if (t.learningRates.size() > static_cast<size_t>(tn::limits::steps.max))
    throw tn::invalidArg("Expected `learningRates` to hold at most " + std::to_string(static_cast<int64_t>(tn::limits::steps.max)) +
                         " steps but received " + std::to_string(t.learningRates.size()));
  t.batchSize = integer(o, "batchSize", t.batchSize, tn::limits::batchSize);
  t.optimizer = text(o, "optimizer", t.optimizer);
  t.momentum = number(o, "momentum", t.momentum, tn::limits::momentum);
  t.weightDecay = number(o, "weightDecay", t.weightDecay, tn::limits::weightDecay);
  t.nesterov = flag(o, "nesterov", t.nesterov);
  t.beta1 = number(o, "beta1", t.beta1, 0, 1, false);
  t.beta2 = number(o, "beta2", t.beta2, 0, 1, false);
  t.seed = seed(o, "seed");
  t.evalEvery = integer(o, "evalEvery", t.evalEvery, tn::limits::evalEvery);
  t.evalAtStart = flag(o, "evalAtStart", false);
  t.evalBatchSize = integer(o, "evalBatchSize", t.evalBatchSize, 1, 1 << 20);
  t.compute = computeOptions(o);
  Napi::Value augment = o.Get("augment");
  if (!augment.IsUndefined()) {
    Napi::Object a = objectOf(augment, "augment");
    t.augment.rotate = number(a, "rotate", 0, tn::limits::rotate);
    t.augment.translate = number(a, "translate", 0, tn::limits::translate);
    t.augment.scale = number(a, "scale", 0, tn::limits::scale);
    t.augment.flip = flag(a, "flip", false);
  }
  t.checkpointPath = text(o, "checkpointPath", "");
  t.checkpointEvery = integer(o, "checkpointEvery", 0, 0, 1 << 30);
  t.weightsPrefix = text(o, "weightsPrefix", "");
  if (Napi::Value steps = o.Get("weightSteps"); !steps.IsUndefined()) {
    if (!steps.IsArray()) throw tn::invalidArg("Expected `weightSteps` to be an array of step numbers but received " + describe(steps));
    auto a = steps.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      Napi::Value v = a.Get(i);
      const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
      const double last = static_cast<double>(t.learningRates.size());
      if (!(d >= 0 && d <= last && d == std::floor(d)))
        throw tn::invalidArg("Expected `weightSteps[" + std::to_string(i) + "]` to be a step from 0 to " + std::to_string(t.learningRates.size()) + " but received " + describe(v));
      t.weightSteps.push_back(static_cast<int>(d));
    }
    if (!t.weightSteps.empty() && t.weightsPrefix.empty()) throw tn::invalidArg("Expected `weightsPrefix` with `weightSteps` (where to write the weights)");
  }
  t.resume = flag(o, "resume", false);
  t.syncBatchNorm = flag(o, "syncBatchNorm", false);
  t.bucketMegabytes = number(o, "bucketMegabytes", t.bucketMegabytes, 1e-6, 1e6, false);
  t.syncEvery = integer(o, "syncEvery", 0, 0, 1 << 30);
  t.residentMegabytes = number(o, "residentMegabytes", t.residentMegabytes, 0, 1e9, false);
  t.foreach = flag(o, "foreach", t.foreach);
  t.cudaGraph = flag(o, "cudaGraph", t.cudaGraph);
  t.bootstrapResamples = integer(o, "bootstrapResamples", t.bootstrapResamples, 0, 1 << 20);
  t.threads = integer(o, "threads", 0, 0, 1024);
  t.patience = integer(o, "patience", 0, 0, 1 << 30);
  t.keepBest = flag(o, "keepBest", false);
  if (t.checkpointEvery > 0 && t.checkpointPath.empty())
    throw tn::invalidArg("Expected `checkpointPath` with `checkpointEvery` (where to write the checkpoints)");
  if (t.resume && t.checkpointPath.empty()) throw tn::invalidArg("Expected `checkpointPath` with `resume` (the checkpoint to resume from)");
  return t;
}

tn::DistributedOptions distributedOptions(Napi::Value value) {
  Napi::Object o = objectOf(value, "process group options");
  tn::DistributedOptions d;
  d.backend = text(o, "backend", d.backend);
  d.masterAddr = text(o, "masterAddr", d.masterAddr);
  d.masterPort = integer(o, "masterPort", d.masterPort, 1, 65535);
  d.worldSize = integer(o, "worldSize", d.worldSize, 1, 1 << 20);
  d.rank = integer(o, "rank", d.rank, 0, d.worldSize - 1);
  d.localRank = integer(o, "localRank", d.rank, 0, 1 << 20);
  d.timeoutSeconds = number(o, "timeoutSeconds", d.timeoutSeconds, 0.001, 1e7, false);
  d.identity = text(o, "identity", d.identity);
  return d;
}

tn::SimilarityOptions similarityOptions(Napi::Value value) {
  Napi::Object o = objectOf(value, "similarity options");
  tn::SimilarityOptions s;
  s.layout = text(o, "layout", s.layout);
  s.subsample = static_cast<int64_t>(number(o, "subsample", 0, 0, 9007199254740991.0, true));
  s.seed = seed(o, "seed");
  s.epsilon = number(o, "epsilon", s.epsilon, 0, 1, false);
  s.svccaVariance = number(o, "svccaVariance", s.svccaVariance, 0, 1, false);
  s.svccaDirections = integer(o, "svccaDirections", 0, 0, 1 << 20);
  s.device = text(o, "device", s.device);
  s.metrics = stageList(o, "metrics", "metric");
  tn::selectedMetrics(s.metrics);  // an unknown name is refused here, before any work
  s.rbfBandwidth = number(o, "rbfBandwidth", s.rbfBandwidth, 1e-6, 1e6, false);
  s.shapeAlpha = number(o, "shapeAlpha", s.shapeAlpha, 0, 1, false);
  return s;
}

std::vector<std::string> stageList(Napi::Object o, const char* key, const std::string& what) { return nameList(o.Get(key), key, what); }

std::vector<std::string> nameList(Napi::Value list, const char* key, const std::string& what) {
  std::vector<std::string> stages;
  if (list.IsUndefined()) return stages;
  if (!list.IsArray()) throw tn::invalidArg(std::string("Expected `") + key + "` to be an array of " + what + " names but received " + describe(list));
  auto a = list.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    if (!a.Get(i).IsString()) throw tn::invalidArg(std::string("Expected `") + key + "[" + std::to_string(i) + "]` to be a " + what + " name");
    stages.push_back(a.Get(i).As<Napi::String>().Utf8Value());
  }
  return stages;
}

std::pair<std::vector<std::string>, tn::CompareOptions> compareOptions(Napi::Value value) {
  Napi::Object o = objectOf(value, "compare options");
  const auto stages = stageList(o, "stages");
  tn::CompareOptions c;
  c.maxDatapoints = static_cast<int64_t>(number(o, "maxDatapoints", 0, 0, 9007199254740991.0, true));
  c.seed = seed(o, "seed");
  c.batchSize = integer(o, "batchSize", c.batchSize, 1, 1 << 20);
  return {stages, c};
}

std::vector<std::pair<int, int>> pairsArg(Napi::Value value) {
  if (!value.IsArray()) throw tn::invalidArg("Expected `pairs` to be an array of [i, j] index pairs");
  std::vector<std::pair<int, int>> out;
  auto a = value.As<Napi::Array>();
  for (uint32_t k = 0; k < a.Length(); ++k) {
    const auto ij = numbers(a.Get(k), "pairs[" + std::to_string(k) + "]");
    if (ij.size() != 2) throw tn::invalidArg("Expected `pairs[" + std::to_string(k) + "]` to be [i, j]");
    out.emplace_back(static_cast<int>(ij[0]), static_cast<int>(ij[1]));
  }
  return out;
}

}  // namespace tn::napi
