#include "napi/handles.h"

#include "napi/convert.h"
#include "napi/errors.h"
#include "napi/jobs.h"

namespace tn::napi {
namespace {

std::atomic<int64_t> live{0};

// Handles are made only from C++: JS passes this token through `new` so user code cannot build an empty one.
template <class T>
struct Token {
  std::shared_ptr<T> value;
};

template <class T>
std::shared_ptr<T> takeToken(const Napi::CallbackInfo& info, const char* what) {
  if (info.Length() != 1 || !info[0].IsExternal())
    throw toJsError(info.Env(), tn::Error("ERR_ILLEGAL_CONSTRUCTOR", std::string(what) + " handles are created by the library, not with new"));
  return info[0].As<Napi::External<Token<T>>>().Data()->value;
}

Napi::Error disposedError(Napi::Env env, const char* what) {
  return toJsError(env, tn::Error("ERR_DISPOSED", std::string("This ") + what + " was disposed"));
}

}  // namespace

int64_t liveHandles() { return live.load(); }

// ---- models ----------------------------------------------------------------------------------------------------

Napi::Function ModelHandle::define(Napi::Env env) {
  return DefineClass(env, "NativeModel",
                     {InstanceMethod<&ModelHandle::info>("info"), InstanceMethod<&ModelHandle::stageShapes>("stageShapes"),
                      InstanceMethod<&ModelHandle::save>("save"), InstanceMethod<&ModelHandle::load>("load"),
                      InstanceMethod<&ModelHandle::dispose>("dispose"),
                      InstanceAccessor<&ModelHandle::disposed>("disposed")});
}

Napi::Object ModelHandle::wrap(Napi::Env env, std::shared_ptr<tn::Model> model) {
  Token<tn::Model> token{std::move(model)};
  return env.GetInstanceData<AddonData>()->modelConstructor.New({Napi::External<Token<tn::Model>>::New(env, &token)});
}

std::shared_ptr<tn::Model> ModelHandle::from(Napi::Value value, const char* name) {
  Napi::Env env = value.Env();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(env.GetInstanceData<AddonData>()->modelConstructor.Value()))
    throw toJsError(env, tn::invalidArg(std::string("Expected `") + name + "` to be a model from createModel()"));
  return Unwrap(value.As<Napi::Object>())->get(env);
}

ModelHandle::ModelHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelHandle>(info) {
  model_ = takeToken<tn::Model>(info, "Model");
  ++live;
}

ModelHandle::~ModelHandle() {
  if (model_) --live;
}

std::shared_ptr<tn::Model> ModelHandle::get(Napi::Env env) const {
  if (!model_) throw disposedError(env, "model");
  return model_;
}

// info() -> { name, displayName, family, stages, params: { numel, paper }, numClasses, padding, device, minInputSize }
Napi::Value ModelHandle::info(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] { return modelInfoToJs(info.Env(), tn::describe(*get(info.Env()))); });
}

// stageShapes(height, width) -> [[stage, shape[]], ...]. Throws ERR_INVALID_ARG below the model's minimum size.
Napi::Value ModelHandle::stageShapes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const int h = intArg(info, 0, "height", 1, 8192), w = intArg(info, 1, "width", 1, 8192);
    auto model = get(env);
    auto hold = tn::reserve(model);
    auto shapes = tn::stageShapes(*model, h, w);
    Napi::Array out = Napi::Array::New(env, shapes.size());
    for (uint32_t i = 0; i < shapes.size(); ++i) {
      Napi::Array dims = Napi::Array::New(env, shapes[i].second.size());
      for (uint32_t d = 0; d < shapes[i].second.size(); ++d) dims.Set(d, static_cast<double>(shapes[i].second[d]));
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(0u, shapes[i].first);
      pair.Set(1u, dims);
      out.Set(i, pair);
    }
    return out;
  });
}

// [async] save(path) -> Job<void>. Throws (rejects) ERR_IO.
Napi::Value ModelHandle::save(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    auto model = get(env);
    const std::string path = stringArg(info, 0, "path");
    auto hold = tn::reserve(model);
    return startJob(env, env.Undefined(), [model, hold, path](const tn::JobControl&) -> Settle {
      tn::saveWeights(*model, path);
      return [](Napi::Env e) { return e.Undefined(); };
    });
  });
}

// [async] load(path, { strict, head: 'keep'|'replace', seed }) -> Job<LoadReport>.
// Rejects ERR_IO, ERR_BAD_WEIGHTS, ERR_WEIGHTS_MISMATCH (strict).
Napi::Value ModelHandle::load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    auto model = get(env);
    const std::string path = stringArg(info, 0, "path");
    const tn::LoadOptions options = loadOptions(info[1]);
    auto hold = tn::reserve(model);
    return startJob(env, env.Undefined(), [model, hold, path, options](const tn::JobControl&) -> Settle {
      auto report = std::make_shared<tn::LoadReport>(tn::loadWeights(*model, path, options));
      return [report](Napi::Env e) -> Napi::Value { return loadReportToJs(e, *report); };
    });
  });
}

Napi::Value ModelHandle::dispose(const Napi::CallbackInfo& info) {
  if (model_) {
    model_.reset();
    --live;
  }
  return info.Env().Undefined();
}

Napi::Value ModelHandle::disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !model_); }

// ---- datasets --------------------------------------------------------------------------------------------------

Napi::Function DatasetHandle::define(Napi::Env env) {
  return DefineClass(env, "NativeDataset",
                     {InstanceMethod<&DatasetHandle::info>("info"), InstanceMethod<&DatasetHandle::targets>("targets"),
                      InstanceMethod<&DatasetHandle::grades>("grades"),
                      InstanceMethod<&DatasetHandle::meanColour>("meanColour"),
                      InstanceMethod<&DatasetHandle::dispose>("dispose"),
                      InstanceAccessor<&DatasetHandle::disposed>("disposed")});
}

Napi::Object DatasetHandle::wrap(Napi::Env env, std::shared_ptr<tn::Dataset> data) {
  Token<tn::Dataset> token{std::move(data)};
  return env.GetInstanceData<AddonData>()->datasetConstructor.New({Napi::External<Token<tn::Dataset>>::New(env, &token)});
}

std::shared_ptr<tn::Dataset> DatasetHandle::from(Napi::Value value, const char* name) {
  Napi::Env env = value.Env();
  if (!value.IsObject() ||
      !value.As<Napi::Object>().InstanceOf(env.GetInstanceData<AddonData>()->datasetConstructor.Value()))
    throw toJsError(env, tn::invalidArg(std::string("Expected `") + name + "` to be a dataset from a generator or loader"));
  return Unwrap(value.As<Napi::Object>())->get(env);
}

DatasetHandle::DatasetHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DatasetHandle>(info) {
  data_ = takeToken<tn::Dataset>(info, "Dataset");
  ++live;
}

DatasetHandle::~DatasetHandle() {
  if (data_) --live;
}

std::shared_ptr<tn::Dataset> DatasetHandle::get(Napi::Env env) const {
  if (!data_) throw disposedError(env, "dataset");
  return data_;
}

// info() -> { source, task, count, channels, height, width, outputs }
Napi::Value DatasetHandle::info(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] { return datasetInfoToJs(info.Env(), tn::describe(*get(info.Env()))); });
}

// targets() -> Float32Array (count x outputs, or count class ids for multiclass)
Napi::Value DatasetHandle::targets(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] { return float32ArrayOf(info.Env(), tn::targets(*get(info.Env()))); });
}

// grades() -> Int32Array (empty where the source has no grades)
Napi::Value DatasetHandle::grades(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    const auto g = tn::grades(*get(info.Env()));
    Napi::Int32Array a = Napi::Int32Array::New(info.Env(), g.size());
    std::copy(g.begin(), g.end(), a.Data());
    return a;
  });
}

// meanColour() -> Float32Array (count x channels) of per-image channel means, in normalised units
Napi::Value DatasetHandle::meanColour(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] { return float32ArrayOf(info.Env(), tn::meanColour(*get(info.Env()))); });
}

Napi::Value DatasetHandle::dispose(const Napi::CallbackInfo& info) {
  if (data_) {
    data_.reset();
    --live;
  }
  return info.Env().Undefined();
}

Napi::Value DatasetHandle::disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !data_); }

}  // namespace tn::napi
