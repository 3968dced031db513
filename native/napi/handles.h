// JS handles over native objects. Each owns a shared_ptr; dispose() drops it (jobs already running keep their own
// reference), and liveHandles() counts handles neither disposed nor garbage-collected, for leak tests.
#pragma once
#include <napi.h>

#include <atomic>
#include <memory>

#include "core/api.h"

namespace tn::napi {

int64_t liveHandles();

class ModelHandle : public Napi::ObjectWrap<ModelHandle> {
 public:
  static Napi::Function define(Napi::Env env);
  static Napi::Object wrap(Napi::Env env, std::shared_ptr<tn::Model> model);
  // The model behind a JS value; throws ERR_INVALID_ARG for anything else and ERR_DISPOSED after dispose().
  static std::shared_ptr<tn::Model> from(Napi::Value value, const char* name);

  explicit ModelHandle(const Napi::CallbackInfo& info);
  ~ModelHandle() override;

 private:
  Napi::Value info(const Napi::CallbackInfo& info);
  Napi::Value stageShapes(const Napi::CallbackInfo& info);
  Napi::Value save(const Napi::CallbackInfo& info);
  Napi::Value load(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);
  Napi::Value disposed(const Napi::CallbackInfo& info);
  std::shared_ptr<tn::Model> get(Napi::Env env) const;
  std::shared_ptr<tn::Model> model_;
};

class DatasetHandle : public Napi::ObjectWrap<DatasetHandle> {
 public:
  static Napi::Function define(Napi::Env env);
  static Napi::Object wrap(Napi::Env env, std::shared_ptr<tn::Dataset> data);
  static std::shared_ptr<tn::Dataset> from(Napi::Value value, const char* name);

  explicit DatasetHandle(const Napi::CallbackInfo& info);
  ~DatasetHandle() override;

 private:
  Napi::Value info(const Napi::CallbackInfo& info);
  Napi::Value targets(const Napi::CallbackInfo& info);
  Napi::Value grades(const Napi::CallbackInfo& info);
  Napi::Value meanColour(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);
  Napi::Value disposed(const Napi::CallbackInfo& info);
  std::shared_ptr<tn::Dataset> get(Napi::Env env) const;
  std::shared_ptr<tn::Dataset> data_;
};

// Per-environment constructors (worker_threads each load their own copy of the addon).
struct AddonData {
  Napi::FunctionReference modelConstructor;
  Napi::FunctionReference datasetConstructor;
};

}  // namespace tn::napi
