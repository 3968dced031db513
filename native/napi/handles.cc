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

}  // namespace

int64_t liveHandles() { return live.load(); }

// ---- what every handle shares ---------------------------------------------------------------------------------

template <class Self, class T>
Napi::Object Handle<Self, T>::wrap(Napi::Env env, std::shared_ptr<T> value) {
  Token<T> token{std::move(value)};
  return Self::constructorIn(*env.GetInstanceData<AddonData>()).New({Napi::External<Token<T>>::New(env, &token)});
}

template <class Self, class T>
std::shared_ptr<T> Handle<Self, T>::from(Napi::Value value, const char* name) {
  Napi::Env env = value.Env();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(Self::constructorIn(*env.GetInstanceData<AddonData>()).Value()))
    throw toJsError(env, tn::invalidArg(std::string("Expected `") + name + "` to be " + Self::kFrom));
  return Self::Unwrap(value.As<Napi::Object>())->get(env);
}

template <class Self, class T>
Handle<Self, T>::Handle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Self>(info) {
  if (info.Length() != 1 || !info[0].IsExternal())
    throw toJsError(info.Env(), tn::Error("ERR_ILLEGAL_CONSTRUCTOR",
                                          std::string(Self::kWhat) + " handles are created by the library, not with new"));
  value_ = info[0].As<Napi::External<Token<T>>>().Data()->value;
  ++live;
}

template <class Self, class T>
Handle<Self, T>::~Handle() {
  if (value_) --live;
}

template <class Self, class T>
std::shared_ptr<T> Handle<Self, T>::get(Napi::Env env) const {
  if (!value_) throw toJsError(env, tn::Error("ERR_DISPOSED", std::string("This ") + Self::kWhat + " was disposed"));
  return value_;
}

// dispose(): idempotent; running jobs keep their own reference.
template <class Self, class T>
Napi::Value Handle<Self, T>::dispose(const Napi::CallbackInfo& info) {
  if (value_) {
    value_.reset();
    --live;
  }
  return info.Env().Undefined();
}

template <class Self, class T>
Napi::Value Handle<Self, T>::disposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !value_);
}

template <class Self, class T>
std::vector<typename Napi::ObjectWrap<Self>::PropertyDescriptor> Handle<Self, T>::lifetimeProperties() {
  using Method = Napi::Value (Self::*)(const Napi::CallbackInfo&);
  return {Self::InstanceMethod("dispose", static_cast<Method>(&Handle::dispose)),
          Self::InstanceAccessor("disposed", static_cast<Method>(&Handle::disposed), nullptr)};
}

template class Handle<ModelHandle, tn::Model>;
template class Handle<GroupHandle, tn::ProcessGroup>;
template class Handle<DatasetHandle, tn::Dataset>;

// ---- models ----------------------------------------------------------------------------------------------------

Napi::Function ModelHandle::define(Napi::Env env) {
  auto properties = lifetimeProperties();
  properties.insert(properties.end(), {InstanceMethod<&ModelHandle::info>("info"), InstanceMethod<&ModelHandle::stageShapes>("stageShapes"),
                                       InstanceMethod<&ModelHandle::saveWeights>("saveWeights"), InstanceMethod<&ModelHandle::loadWeights>("loadWeights"),
                                       InstanceMethod<&ModelHandle::getParameter>("getParameter"),
                                       InstanceMethod<&ModelHandle::setParameter>("setParameter"),
                                       InstanceMethod<&ModelHandle::meanVarInit>("meanVarInit")});
  return DefineClass(env, "NativeModel", properties);
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
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(0u, shapes[i].first);
      pair.Set(1u, integersToJs(env, shapes[i].second));
      out.Set(i, pair);
    }
    return out;
  });
}

// [async] save(path, format: 'pt' | 'safetensors') -> Job<void>. Rejects ERR_IO, ERR_INVALID_ARG.
Napi::Value ModelHandle::saveWeights(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    auto model = get(env);
    const std::string path = stringArg(info, 0, "path");
    const std::string format = stringArg(info, 1, "format");
    auto hold = tn::reserve(model);
    return startJob(env, env.Undefined(), [model, hold, path, format](const tn::JobControl&) -> Settle {
      tn::saveWeights(*model, path, format);
      return [](Napi::Env e) { return e.Undefined(); };
    });
  });
}

// [async] load(path, { strict, head: 'keep'|'replace', seed, upTo }) -> Job<LoadReport>.
// Rejects ERR_IO, ERR_BAD_WEIGHTS, ERR_WEIGHTS_MISMATCH (strict).
Napi::Value ModelHandle::loadWeights(const Napi::CallbackInfo& info) {
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

// getParameter(name) -> { data: Float32Array, shape }: one parameter or buffer, as float32 (for small tensors).
Napi::Value ModelHandle::getParameter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    auto model = get(env);
    auto hold = tn::reserve(model);
    return tensorDataToJs(env, tn::getParameter(*model, stringArg(info, 0, "name")));
  });
}

// setParameter(name, { data: Float32Array, shape }): overwrite one parameter or buffer. Throws ERR_INVALID_ARG.
Napi::Value ModelHandle::setParameter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    auto model = get(env);
    const std::string name = stringArg(info, 0, "name");
    const tn::TensorData value = tensorData(info[1], "value");
    auto hold = tn::reserve(model);
    tn::setParameter(*model, name, value);
    return env.Undefined();
  });
}

// [async] meanVar(path, { seed, batchNorm: 'meanvar'|'default' }) -> Job<{ drawn, reset, kept }>.
Napi::Value ModelHandle::meanVarInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    auto model = get(env);
    const std::string path = stringArg(info, 0, "path");
    const tn::MeanVarOptions options = meanVarOptions(info[1]);
    auto hold = tn::reserve(model);
    return startJob(env, env.Undefined(), [model, hold, path, options](const tn::JobControl&) -> Settle {
      auto report = std::make_shared<tn::MeanVarReport>(tn::meanVarInit(*model, path, options));
      return [report](Napi::Env e) -> Napi::Value { return meanVarReportToJs(e, *report); };
    });
  });
}

// ---- datasets --------------------------------------------------------------------------------------------------

Napi::Function DatasetHandle::define(Napi::Env env) {
  auto properties = lifetimeProperties();
  properties.insert(properties.end(), {InstanceMethod<&DatasetHandle::info>("info"), InstanceMethod<&DatasetHandle::targets>("targets"),
                                       InstanceMethod<&DatasetHandle::grades>("grades"),
                                       InstanceMethod<&DatasetHandle::meanColour>("meanColour"),
                                       InstanceMethod<&DatasetHandle::images>("images")});
  return DefineClass(env, "NativeDataset", properties);
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

// images() -> { data: Float32Array, shape: [count, 3, H, W] }, normalised as models take them (for peers: bench study)
Napi::Value DatasetHandle::images(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] { return tensorDataToJs(info.Env(), tn::images(*get(info.Env()))); });
}

// ---- process groups --------------------------------------------------------------------------------------------

Napi::Function GroupHandle::define(Napi::Env env) {
  auto properties = lifetimeProperties();
  properties.push_back(InstanceMethod<&GroupHandle::info>("info"));
  return DefineClass(env, "NativeProcessGroup", properties);
}

// info() -> { rank, size }
Napi::Value GroupHandle::info(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    const auto group = get(info.Env());
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("rank", tn::groupRank(*group));
    o.Set("size", tn::groupSize(*group));
    return o;
  });
}

}  // namespace tn::napi
