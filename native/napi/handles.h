// JS handles over native objects. Each owns a shared_ptr; dispose() drops it (jobs already running keep their own
// reference), and liveHandles() counts handles neither disposed nor garbage-collected, for leak tests.
#pragma once
#include <napi.h>

#include <memory>

#include "core/api.h"

namespace tn::napi {

int64_t liveHandles();

// Per-environment constructors (worker_threads each load their own copy of the addon).
struct AddonData {
  Napi::FunctionReference modelConstructor;
  Napi::FunctionReference datasetConstructor;
  Napi::FunctionReference groupConstructor;
};

// What every handle shares. Self supplies kWhat ("model"), kFrom (where valid ones come from) and
// constructorIn(AddonData&). Handles are made only from C++ (wrap); `new` from JS throws ERR_ILLEGAL_CONSTRUCTOR.
template <class Self, class T>
class Handle : public Napi::ObjectWrap<Self> {
 public:
  static Napi::Object wrap(Napi::Env env, std::shared_ptr<T> value);
  // The object behind a JS value; throws ERR_INVALID_ARG for anything else and ERR_DISPOSED after dispose().
  static std::shared_ptr<T> from(Napi::Value value, const char* name);

  explicit Handle(const Napi::CallbackInfo& info);
  ~Handle() override;

 protected:
  std::shared_ptr<T> get(Napi::Env env) const;
  Napi::Value dispose(const Napi::CallbackInfo& info);
  Napi::Value disposed(const Napi::CallbackInfo& info);
  // dispose() and the `disposed` accessor, for Self::define.
  static std::vector<typename Napi::ObjectWrap<Self>::PropertyDescriptor> lifetimeProperties();

 private:
  std::shared_ptr<T> value_;
};

class ModelHandle : public Handle<ModelHandle, tn::Model> {
 public:
  static constexpr const char* kWhat = "model";
  static constexpr const char* kFrom = "a model from createModel()";
  static Napi::FunctionReference& constructorIn(AddonData& data) { return data.modelConstructor; }
  static Napi::Function define(Napi::Env env);
  using Handle::Handle;

 private:
  Napi::Value info(const Napi::CallbackInfo& info);
  Napi::Value stageShapes(const Napi::CallbackInfo& info);
  Napi::Value saveWeights(const Napi::CallbackInfo& info);
  Napi::Value loadWeights(const Napi::CallbackInfo& info);
  Napi::Value getParameter(const Napi::CallbackInfo& info);
  Napi::Value setParameter(const Napi::CallbackInfo& info);
  Napi::Value meanVarInit(const Napi::CallbackInfo& info);
};

class DatasetHandle : public Handle<DatasetHandle, tn::Dataset> {
 public:
  static constexpr const char* kWhat = "dataset";
  static constexpr const char* kFrom = "a dataset from a generator or loader";
  static Napi::FunctionReference& constructorIn(AddonData& data) { return data.datasetConstructor; }
  static Napi::Function define(Napi::Env env);
  using Handle::Handle;

 private:
  Napi::Value info(const Napi::CallbackInfo& info);
  Napi::Value targets(const Napi::CallbackInfo& info);
  Napi::Value grades(const Napi::CallbackInfo& info);
  Napi::Value meanColour(const Napi::CallbackInfo& info);
  Napi::Value images(const Napi::CallbackInfo& info);
};

class GroupHandle : public Handle<GroupHandle, tn::ProcessGroup> {
 public:
  static constexpr const char* kWhat = "process group";
  static constexpr const char* kFrom = "a process group from joinProcessGroup()";
  static Napi::FunctionReference& constructorIn(AddonData& data) { return data.groupConstructor; }
  static Napi::Function define(Napi::Env env);
  using Handle::Handle;

 private:
  Napi::Value info(const Napi::CallbackInfo& info);
};

}  // namespace tn::napi
