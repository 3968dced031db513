#include "napi/convert.h"

#include <cmath>
#include <limits>

#include "napi/errors.h"

namespace tn::napi {
namespace {

std::string describe(Napi::Value v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsString()) return "\"" + v.As<Napi::String>().Utf8Value() + "\"";
  if (v.IsNumber()) {
    const double d = v.As<Napi::Number>().DoubleValue();
    if (d == std::floor(d) && std::abs(d) < 1e15) return std::to_string(static_cast<int64_t>(d));
    return std::to_string(d);
  }
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  if (v.IsArray()) return "an array";
  if (v.IsFunction()) return "a function";
  return "an object";
}

Napi::Object objectOf(Napi::Value value, const char* what) {
  if (value.IsUndefined() || value.IsNull()) return Napi::Object::New(value.Env());
  if (!value.IsObject()) throw tn::invalidArg(std::string("Expected ") + what + " to be an object but received " + describe(value));
  return value.As<Napi::Object>();
}

double number(Napi::Object o, const char* key, double fallback, double min, double max, bool integer) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  const bool ok = v.IsNumber() && std::isfinite(v.As<Napi::Number>().DoubleValue()) &&
                  v.As<Napi::Number>().DoubleValue() >= min && v.As<Napi::Number>().DoubleValue() <= max &&
                  (!integer || std::floor(v.As<Napi::Number>().DoubleValue()) == v.As<Napi::Number>().DoubleValue());
  if (!ok) {
    std::string range = (integer ? "an integer" : "a number") + std::string(" in [") +
                        (min == -std::numeric_limits<double>::max() ? "-inf" : describe(Napi::Number::New(o.Env(), min))) +
                        ", " + describe(Napi::Number::New(o.Env(), max)) + "]";
    throw tn::invalidArg(std::string("Expected `") + key + "` to be " + range + " but received " + describe(v));
  }
  return v.As<Napi::Number>().DoubleValue();
}

int integer(Napi::Object o, const char* key, int fallback, int min, int max) {
  return static_cast<int>(number(o, key, fallback, min, max, true));
}

uint64_t seed(Napi::Object o, const char* key) {
  return static_cast<uint64_t>(number(o, key, 0, 0, 9007199254740991.0, true));
}

std::string text(Napi::Object o, const char* key, const std::string& fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsString()) throw tn::invalidArg(std::string("Expected `") + key + "` to be a string but received " + describe(v));
  return v.As<Napi::String>().Utf8Value();
}

bool flag(Napi::Object o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) throw tn::invalidArg(std::string("Expected `") + key + "` to be a boolean but received " + describe(v));
  return v.As<Napi::Boolean>().Value();
}

std::vector<double> numbers(Napi::Value v, const std::string& key) {
  std::vector<double> out;
  if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_float64_array) {
    auto a = v.As<Napi::Float64Array>();
    out.assign(a.Data(), a.Data() + a.ElementLength());
  } else if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array) {
    auto a = v.As<Napi::Float32Array>();
    out.assign(a.Data(), a.Data() + a.ElementLength());
  } else if (v.IsArray()) {
    auto a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      Napi::Value e = a.Get(i);
      if (!e.IsNumber())
        throw tn::invalidArg("Expected `" + key + "[" + std::to_string(i) + "]` to be a number but received " + describe(e));
      out.push_back(e.As<Napi::Number>().DoubleValue());
    }
  } else {
    throw tn::invalidArg("Expected `" + key + "` to be an array of numbers or a Float64Array but received " + describe(v));
  }
  return out;
}


// A shape: non-negative integers, from an array or typed array.
std::vector<int64_t> shapeOf(Napi::Value value, const std::string& name) {
  std::vector<int64_t> shape;
  for (double d : numbers(value, name)) {
    if (d < 0 || d != std::floor(d)) throw tn::invalidArg("Expected `" + name + "` to hold non-negative integers");
    shape.push_back(static_cast<int64_t>(d));
  }
  return shape;
}

Napi::Value numberOrNull(Napi::Env env, double v) { return std::isfinite(v) ? Napi::Number::New(env, v) : env.Null(); }

}  // namespace

Napi::Array integersToJs(Napi::Env env, const std::vector<int64_t>& values) {
  Napi::Array a = Napi::Array::New(env, values.size());
  for (uint32_t i = 0; i < values.size(); ++i) a.Set(i, static_cast<double>(values[i]));
  return a;
}


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

tn::TrainOptions trainOptions(Napi::Value value) {
  Napi::Object o = objectOf(value, "train options");
  tn::TrainOptions t;
  if (!o.Has("learningRates")) throw tn::invalidArg("Expected `learningRates` (one learning rate per step)");
  t.learningRates = numbers(o.Get("learningRates"), "learningRates");
  t.batchSize = integer(o, "batchSize", t.batchSize, 1, 1 << 20);
  t.optimizer = text(o, "optimizer", t.optimizer);
  t.momentum = number(o, "momentum", t.momentum, 0, 1, false);
  t.weightDecay = number(o, "weightDecay", t.weightDecay, 0, 1, false);
  t.nesterov = flag(o, "nesterov", t.nesterov);
  t.beta1 = number(o, "beta1", t.beta1, 0, 1, false);
  t.beta2 = number(o, "beta2", t.beta2, 0, 1, false);
  t.seed = seed(o, "seed");
  t.evalEvery = integer(o, "evalEvery", t.evalEvery, 0, 1 << 30);
  t.evalBatchSize = integer(o, "evalBatchSize", t.evalBatchSize, 1, 1 << 20);
  t.compute = computeOptions(o);
  Napi::Value augment = o.Get("augment");
  if (!augment.IsUndefined()) {
    Napi::Object a = objectOf(augment, "augment");
    t.augment.rotate = number(a, "rotate", 0, 0, 180, false);
    t.augment.translate = number(a, "translate", 0, 0, 0.5, false);
    t.augment.scale = number(a, "scale", 0, 0, 0.5, false);
    t.augment.flip = flag(a, "flip", false);
  }
  t.checkpointPath = text(o, "checkpointPath", "");
  t.checkpointEvery = integer(o, "checkpointEvery", 0, 0, 1 << 30);
  t.resume = flag(o, "resume", false);
  t.syncBatchNorm = flag(o, "syncBatchNorm", false);
  t.bucketMegabytes = number(o, "bucketMegabytes", t.bucketMegabytes, 1e-6, 1e6, false);
  t.syncEvery = integer(o, "syncEvery", 0, 0, 1 << 30);
  t.residentMegabytes = number(o, "residentMegabytes", t.residentMegabytes, 0, 1e9, false);
  t.foreach = flag(o, "foreach", t.foreach);
  t.cudaGraph = flag(o, "cudaGraph", t.cudaGraph);
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
  return d;
}

tn::RetinaOptions retinaOptions(Napi::Value value) {
  Napi::Object o = objectOf(value, "retina options");
  tn::RetinaOptions r;
  r.count = integer(o, "count", 0, 1, 1 << 24);
  r.size = integer(o, "size", r.size, 16, 1024);
  r.seed = seed(o, "seed");
  if (o.Has("gradeWeights") && !o.Get("gradeWeights").IsUndefined()) r.gradeWeights = numbers(o.Get("gradeWeights"), "gradeWeights");
  return r;
}

tn::ChestOptions chestOptions(Napi::Value value) {
  Napi::Object o = objectOf(value, "chest options");
  tn::ChestOptions c;
  c.count = integer(o, "count", 0, 1, 1 << 24);
  c.size = integer(o, "size", c.size, 16, 1024);
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
  n.size = integer(o, "size", n.size, 16, 1024);
  n.seed = seed(o, "seed");
  n.classes = integer(o, "classes", n.classes, 2, 1 << 16);
  return n;
}

tn::ComputeOptions computeOptions(Napi::Value value) {
  Napi::Object o = objectOf(value, "compute options");
  tn::ComputeOptions c;
  if (!o.Get("channelsLast").IsUndefined()) c.channelsLast = flag(o, "channelsLast", false);
  c.precision = text(o, "precision", c.precision);
  return c;
}

std::string stageOption(Napi::Value value) { return text(objectOf(value, "forward options"), "stage", ""); }

tn::TensorData tensorData(Napi::Value value, const char* name) {
  if (!value.IsObject()) throw tn::invalidArg(std::string("Expected `") + name + "` to be { data: Float32Array, shape } but received " + describe(value));
  Napi::Object o = value.As<Napi::Object>();
  Napi::Value data = o.Get("data");
  if (!data.IsTypedArray() || data.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw tn::invalidArg(std::string("Expected `") + name + ".data` to be a Float32Array but received " + describe(data));
  tn::TensorData t;
  auto a = data.As<Napi::Float32Array>();
  t.data.assign(a.Data(), a.Data() + a.ElementLength());
  t.shape = shapeOf(o.Get("shape"), std::string(name) + ".shape");
  return t;
}

tn::ArrayData arrayData(Napi::Value value, const std::string& name) {
  if (!value.IsObject()) throw tn::invalidArg("Expected `" + name + "` to be { data: Float32Array | Float64Array, shape } but received " + describe(value));
  Napi::Object o = value.As<Napi::Object>();
  Napi::Value data = o.Get("data");
  tn::ArrayData a;
  const auto type = data.IsTypedArray() ? data.As<Napi::TypedArray>().TypedArrayType() : napi_int8_array;
  if (type == napi_float32_array) {
    auto f = data.As<Napi::Float32Array>();
    a.f32.assign(f.Data(), f.Data() + f.ElementLength());
  } else if (type == napi_float64_array) {
    auto f = data.As<Napi::Float64Array>();
    a.f64.assign(f.Data(), f.Data() + f.ElementLength());
  } else {
    throw tn::invalidArg("Expected `" + name + ".data` to be a Float32Array or Float64Array but received " + describe(data));
  }
  a.shape = shapeOf(o.Get("shape"), name + ".shape");
  return a;
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
  return s;
}

std::pair<std::vector<std::string>, tn::CompareOptions> compareOptions(Napi::Value value) {
  Napi::Object o = objectOf(value, "compare options");
  std::vector<std::string> stages;
  Napi::Value list = o.Get("stages");
  if (!list.IsUndefined()) {
    if (!list.IsArray()) throw tn::invalidArg("Expected `stages` to be an array of stage names but received " + describe(list));
    auto a = list.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      if (!a.Get(i).IsString()) throw tn::invalidArg("Expected `stages[" + std::to_string(i) + "]` to be a stage name");
      stages.push_back(a.Get(i).As<Napi::String>().Utf8Value());
    }
  }
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

Napi::Object arrayDataToJs(Napi::Env env, const tn::ArrayData& a) {
  Napi::Object o = Napi::Object::New(env);
  if (a.f64.empty()) {
    o.Set("data", float32ArrayOf(env, a.f32));
  } else {
    Napi::Float64Array d = Napi::Float64Array::New(env, a.f64.size());
    std::copy(a.f64.begin(), a.f64.end(), d.Data());
    o.Set("data", d);
  }
  o.Set("shape", integersToJs(env, a.shape));
  return o;
}

Napi::Object similarityResultToJs(Napi::Env env, const tn::SimilarityResult& r) {
  Napi::Object o = Napi::Object::New(env);
  Napi::Array cca = Napi::Array::New(env, r.cca.size());
  for (uint32_t i = 0; i < r.cca.size(); ++i) cca.Set(i, r.cca[i]);
  o.Set("cca_coefficients", cca);
  o.Set("mean_cca", r.meanCca);
  o.Set("svcca_mean", r.svccaMean);
  o.Set("pwcca", r.pwcca);
  o.Set("linear_cka", r.linearCka);
  o.Set("debiased_linear_cka", numberOrNull(env, r.debiasedCka));
  o.Set("svcca_kept", integersToJs(env, {r.svccaKeptA, r.svccaKeptB}));
  o.Set("dead_neurons", integersToJs(env, {r.deadA, r.deadB}));
  o.Set("neurons", integersToJs(env, {r.neuronsA, r.neuronsB}));
  o.Set("datapoints", static_cast<double>(r.datapoints));
  o.Set("route", r.route);
  return o;
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

Napi::Object tensorDataToJs(Napi::Env env, const tn::TensorData& t) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("data", float32ArrayOf(env, t.data));
  o.Set("shape", integersToJs(env, t.shape));
  return o;
}

int evalBatchSize(Napi::Value value) {
  return integer(objectOf(value, "evaluate options"), "batchSize", 128, 1, 1 << 20);
}

Napi::Array stringsToJs(Napi::Env env, const std::vector<std::string>& items) {
  Napi::Array a = Napi::Array::New(env, items.size());
  for (uint32_t i = 0; i < items.size(); ++i) a.Set(i, items[i]);
  return a;
}

tn::MeanVarOptions meanVarOptions(Napi::Value value) {
  Napi::Object o = objectOf(value, "Mean Var options");
  tn::MeanVarOptions m;
  m.seed = seed(o, "seed");
  m.batchNorm = text(o, "batchNorm", m.batchNorm);
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

std::string stringArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsString())
    throw tn::invalidArg(std::string("Expected `") + name + "` to be a string but received " + describe(info[index]));
  return info[index].As<Napi::String>().Utf8Value();
}

int intArg(const Napi::CallbackInfo& info, size_t index, const char* name, int min, int max) {
  Napi::Object holder = Napi::Object::New(info.Env());
  holder.Set(name, info[index]);
  if (info[index].IsUndefined()) throw tn::invalidArg(std::string("Expected `") + name + "` but received undefined");
  return integer(holder, name, 0, min, max);
}

std::vector<double> numbersArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  return numbers(info[index], name);
}

Napi::Value eventToJs(Napi::Env env, const tn::Event& event) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("kind", event.kind);
  for (const auto& [key, value] : event.fields) o.Set(key, numberOrNull(env, value));
  return o;
}

Napi::Object modelInfoToJs(Napi::Env env, const tn::ModelInfo& info) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", info.name);
  o.Set("displayName", info.displayName);
  o.Set("family", info.family);
  o.Set("description", info.description);
  o.Set("padding", info.padding);
  o.Set("device", info.device);
  o.Set("numClasses", info.numClasses);
  o.Set("stages", stringsToJs(env, info.stages));
  Napi::Object params = Napi::Object::New(env);
  params.Set("numel", static_cast<double>(info.numel));
  params.Set("paper", static_cast<double>(info.paperParams));
  o.Set("params", params);
  o.Set("minInputSize", info.minInputSize);
  o.Set("inputConv", info.inputConv);
  return o;
}

Napi::Object datasetInfoToJs(Napi::Env env, const tn::DatasetInfo& info) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("source", info.source);
  o.Set("task", info.task);
  o.Set("count", static_cast<double>(info.count));
  o.Set("channels", info.channels);
  o.Set("height", info.height);
  o.Set("width", info.width);
  o.Set("outputs", info.outputs);
  return o;
}

Napi::Object metricsToJs(Napi::Env env, const tn::Metrics& m) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("task", m.task);
  o.Set("count", static_cast<double>(m.count));
  o.Set("loss", numberOrNull(env, m.loss));
  if (m.task == "multiclass") {
    o.Set("top1", m.top1);
    o.Set("top5", m.top5);
  } else {
    Napi::Array aucs = Napi::Array::New(env, m.auc.size());
    for (uint32_t i = 0; i < m.auc.size(); ++i) aucs.Set(i, numberOrNull(env, m.auc[i]));
    o.Set("auc", aucs);
    o.Set("meanAuc", numberOrNull(env, m.meanAuc));
  }
  return o;
}

Napi::Object trainResultToJs(Napi::Env env, const tn::TrainResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("steps", static_cast<double>(r.steps));
  Napi::Float64Array losses = Napi::Float64Array::New(env, r.losses.size());
  std::copy(r.losses.begin(), r.losses.end(), losses.Data());
  o.Set("losses", losses);
  Napi::Array curve = Napi::Array::New(env, r.curve.size());
  for (uint32_t i = 0; i < r.curve.size(); ++i) {
    Napi::Object point = metricsToJs(env, r.curve[i].metrics);
    point.Set("step", static_cast<double>(r.curve[i].step));
    curve.Set(i, point);
  }
  o.Set("curve", curve);
  o.Set("final", metricsToJs(env, r.final));
  o.Set("wallSeconds", r.wallSeconds);
  o.Set("imagesPerSecond", r.imagesPerSecond);
  o.Set("resumedFrom", static_cast<double>(r.resumedFrom));
  o.Set("hostReads", static_cast<double>(r.hostReads));
  o.Set("resident", r.resident);
  o.Set("prefetched", static_cast<double>(r.prefetched));
  o.Set("graphed", static_cast<double>(r.graphed));
  return o;
}

Napi::Object loadReportToJs(Napi::Env env, const tn::LoadReport& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("loaded", stringsToJs(env, r.loaded));
  o.Set("missing", stringsToJs(env, r.missing));
  o.Set("unexpected", stringsToJs(env, r.unexpected));
  o.Set("mismatched", stringsToJs(env, r.mismatched));
  o.Set("reinitialised", stringsToJs(env, r.reinitialised));
  o.Set("kept", stringsToJs(env, r.kept));
  return o;
}

Napi::Float32Array float32ArrayOf(Napi::Env env, const std::vector<float>& values) {
  Napi::Float32Array a = Napi::Float32Array::New(env, values.size());
  std::copy(values.begin(), values.end(), a.Data());
  return a;
}

}  // namespace tn::napi
