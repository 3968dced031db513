#include "napi/transfer.h"

#include "core/api.h"
#include "napi/convert.h"
#include "napi/errors.h"
#include "napi/handles.h"
#include "napi/jobs.h"
#include "napi/values.h"

namespace tn::napi {
namespace {

// Each distinct model reserved once (the same model twice is one reservation).
std::vector<tn::Reservation> reserveAll(const std::vector<std::shared_ptr<tn::Model>>& models) {
  std::vector<tn::Reservation> holds;
  for (size_t i = 0; i < models.size(); ++i) {
    bool seen = false;
    for (size_t j = 0; j < i; ++j) seen |= models[j] == models[i];
    if (!seen) holds.push_back(tn::reserve(models[i]));
  }
  return holds;
}

// interpolateWeights(out, a, b, alpha): out := (1 - alpha) a + alpha b. Throws ERR_INVALID_ARG (other architectures), ERR_BUSY.
Napi::Value interpolateWeights(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    auto out = ModelHandle::from(info[0], "out"), a = ModelHandle::from(info[1], "a"), b = ModelHandle::from(info[2], "b");
    if (!info[3].IsNumber()) throw tn::invalidArg("Expected `alpha` to be a number but received " + describe(info[3]));
    auto holds = reserveAll({out, a, b});
    tn::interpolateWeights(*out, *a, *b, info[3].As<Napi::Number>().DoubleValue());
    return env.Undefined();
  });
}

// copyStages(to, from, stages[]) -> tensors copied. Throws ERR_INVALID_ARG (unknown stage, other architectures), ERR_BUSY.
Napi::Value copyStages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    auto to = ModelHandle::from(info[0], "to"), from = ModelHandle::from(info[1], "from");
    const auto stages = nameList(info[2], "stages");
    auto holds = reserveAll({to, from});
    return Napi::Number::New(env, static_cast<double>(tn::copyStages(*to, *from, stages)));
  });
}

// perturbStages(model, stages[], sigma, seed) -> elements perturbed. Throws ERR_INVALID_ARG, ERR_BUSY.
Napi::Value perturbStages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    auto model = ModelHandle::from(info[0], "model");
    const auto stages = nameList(info[1], "stages");
    if (!info[2].IsNumber()) throw tn::invalidArg("Expected `sigma` to be a number but received " + describe(info[2]));
    const auto seed = static_cast<uint64_t>(numberArg(info, 3, "seed", 0, 9007199254740991.0, true));
    auto hold = tn::reserve(model);
    const auto n = tn::perturbStages(*model, stages, info[2].As<Napi::Number>().DoubleValue(), seed);
    return Napi::Number::New(env, static_cast<double>(n));
  });
}

// stageDistance(a, b, stages[]) -> squared Frobenius distance. Throws ERR_INVALID_ARG, ERR_BUSY.
Napi::Value stageDistance(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    auto a = ModelHandle::from(info[0], "a"), b = ModelHandle::from(info[1], "b");
    const auto stages = nameList(info[2], "stages");
    auto holds = reserveAll({a, b});
    return Napi::Number::New(env, tn::stageDistance(*a, *b, stages));
  });
}

// [async] recomputeBatchNorm(model, data, { batches, batchSize }, onProgress?) -> Job<images used>.
Napi::Value recomputeBatchNorm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    auto model = ModelHandle::from(info[0], "model");
    auto data = DatasetHandle::from(info[1], "data");
    Napi::Object o = objectOf(info[2], "BatchNorm options");
    const int batches = integer(o, "batches", 8, 1, 1 << 20), batchSize = integer(o, "batchSize", 64, 1, 1 << 16);
    auto hold = tn::reserve(model);
    return startJob(env, info[3], [model, hold, data, batches, batchSize](const tn::JobControl& job) -> Settle {
      const int64_t used = tn::recomputeBatchNorm(*model, *data, batches, batchSize, job);
      return [used](Napi::Env e) -> Napi::Value { return Napi::Number::New(e, static_cast<double>(used)); };
    });
  });
}

// [async] knnEvaluate(model, bank, queries, { stages, k, temperature, batchSize }, onProgress?) -> Job<{ stages:
//   [{ stage, dimensions, aucs, meanAuc }], k, bank, queries }>.
Napi::Value knnEvaluate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    auto model = ModelHandle::from(info[0], "model");
    auto bank = DatasetHandle::from(info[1], "bank"), queries = DatasetHandle::from(info[2], "queries");
    Napi::Object o = objectOf(info[3], "k-NN options");
    const auto stages = stageList(o, "stages");
    const int k = integer(o, "k", 200, 1, 1 << 20), batchSize = integer(o, "batchSize", 64, 1, 1 << 16);
    const double temperature = number(o, "temperature", 0.1, 1e-6, 1e6, false);
    auto hold = tn::reserve(model);
    return startJob(env, info[4], [model, hold, bank, queries, stages, k, temperature, batchSize](const tn::JobControl& job) -> Settle {
      auto r = std::make_shared<tn::KnnResult>(tn::knnEvaluate(*model, *bank, *queries, stages, k, temperature, batchSize, job));
      return [r](Napi::Env e) -> Napi::Value {
        Napi::Object out = Napi::Object::New(e);
        Napi::Array rows = Napi::Array::New(e, r->stages.size());
        for (size_t s = 0; s < r->stages.size(); ++s) {
          const auto& st = r->stages[s];
          Napi::Object row = Napi::Object::New(e);
          row.Set("stage", st.stage);
          row.Set("dimensions", static_cast<double>(st.dimensions));
          Napi::Array aucs = Napi::Array::New(e, st.aucs.size());
          for (size_t i = 0; i < st.aucs.size(); ++i) aucs.Set(static_cast<uint32_t>(i), numberOrNull(e, st.aucs[i]));
          row.Set("aucs", aucs);
          row.Set("meanAuc", numberOrNull(e, st.meanAuc));
          rows.Set(static_cast<uint32_t>(s), row);
        }
        out.Set("stages", rows);
        out.Set("k", r->k);
        out.Set("bank", static_cast<double>(r->bank));
        out.Set("queries", static_cast<double>(r->queries));
        return out;
      };
    });
  });
}

}  // namespace

void exportTransfer(Napi::Env env, Napi::Object exports) {
  exports.Set("interpolateWeights", Napi::Function::New(env, interpolateWeights, "interpolateWeights"));
  exports.Set("copyStages", Napi::Function::New(env, copyStages, "copyStages"));
  exports.Set("perturbStages", Napi::Function::New(env, perturbStages, "perturbStages"));
  exports.Set("stageDistance", Napi::Function::New(env, stageDistance, "stageDistance"));
  exports.Set("recomputeBatchNorm", Napi::Function::New(env, recomputeBatchNorm, "recomputeBatchNorm"));
  exports.Set("knnEvaluate", Napi::Function::New(env, knnEvaluate, "knnEvaluate"));
}

}  // namespace tn::napi
