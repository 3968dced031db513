#include "napi/cka.h"

#include "core/api.h"
#include "napi/convert.h"
#include "napi/errors.h"
#include "napi/handles.h"
#include "napi/jobs.h"
#include "napi/values.h"

namespace tn::napi {
namespace {

// [async] minibatchCka(a, b, dataset, { stagesA, stagesB, batchSize, allLayers }, onProgress?) -> Job<{ stagesA, stagesB,
//   values: number[][] (a's stages by b's; null where a stage is constant), batches, images }>. Rejects
//   ERR_INVALID_ARG (unknown stage, a batch under 4, the same model twice), ERR_BUSY.
Napi::Value minibatchCka(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    auto a = ModelHandle::from(info[0], "a");
    auto b = ModelHandle::from(info[1], "b");
    if (a == b) throw tn::invalidArg("a and b are the same model (compare a model with a copy of itself instead)");
    auto data = DatasetHandle::from(info[2], "data");
    Napi::Object o = objectOf(info[3], "minibatch CKA options");
    const auto stagesA = stageList(o, "stagesA"), stagesB = stageList(o, "stagesB");
    const int batchSize = integer(o, "batchSize", 64, 4, 1 << 16);
    const bool allLayers = flag(o, "allLayers", false);
    std::vector<tn::Reservation> holds = {tn::reserve(a), tn::reserve(b)};
    return startJob(env, info[4], [a, b, holds, data, stagesA, stagesB, batchSize, allLayers](const tn::JobControl& job) -> Settle {
      auto r = std::make_shared<tn::MinibatchCka>(tn::minibatchCka(*a, *b, *data, stagesA, stagesB, batchSize, allLayers, job));
      return [r](Napi::Env e) -> Napi::Value {
        Napi::Object out = Napi::Object::New(e);
        out.Set("stagesA", stringsToJs(e, r->stagesA));
        out.Set("stagesB", stringsToJs(e, r->stagesB));
        Napi::Array rows = Napi::Array::New(e, r->stagesA.size());
        for (size_t i = 0; i < r->stagesA.size(); ++i) {
          Napi::Array row = Napi::Array::New(e, r->stagesB.size());
          for (size_t j = 0; j < r->stagesB.size(); ++j) row.Set(static_cast<uint32_t>(j), numberOrNull(e, r->values[i * r->stagesB.size() + j]));
          rows.Set(static_cast<uint32_t>(i), row);
        }
        out.Set("values", rows);
        out.Set("batches", static_cast<double>(r->batches));
        out.Set("images", static_cast<double>(r->images));
        return out;
      };
    });
  });
}

}  // namespace

void exportCka(Napi::Env env, Napi::Object exports) {
  exports.Set("minibatchCka", Napi::Function::New(env, minibatchCka, "minibatchCka"));
}

}  // namespace tn::napi
