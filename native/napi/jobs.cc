#include "napi/jobs.h"

#include <optional>
#include <system_error>
#include <thread>

#include "napi/convert.h"
#include "napi/errors.h"

namespace tn::napi {
namespace {

struct Job {
  explicit Job(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise::Deferred deferred;
  std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
  Napi::ThreadSafeFunction tsfn;
  std::thread thread;
  Settle settle;                       // set by the thread on success
  std::optional<tn::Error> error;      // set by the thread on failure
  Napi::Reference<Napi::Value> callbackError;  // main thread only: the progress callback threw
};

struct Pending {
  Job* job;
  tn::Event event;
};

// Main thread: deliver one event.
void deliver(Napi::Env env, Napi::Function callback, Pending* pending) {
  Job* job = pending->job;
  if (env != nullptr && callback != nullptr && job->callbackError.IsEmpty()) {
    try {
      callback.Call({eventToJs(env, pending->event)});
    } catch (const Napi::Error& e) {
      job->callbackError = Napi::Persistent(static_cast<Napi::Value>(e.Value()));
      job->cancelled->store(true);
    }
  }
  delete pending;
}

// Main thread, after the queue has drained and the worker released the function.
void finish(Napi::Env env, void* /*unused*/, Job* job) {
  if (job->thread.joinable()) job->thread.join();
  if (!job->callbackError.IsEmpty()) {
    job->deferred.Reject(job->callbackError.Value());
  } else if (job->error) {
    job->deferred.Reject(toJsError(env, *job->error).Value());
  } else {
    try {
      job->deferred.Resolve(job->settle(env));
    } catch (const Napi::Error& e) {
      job->deferred.Reject(e.Value());
    }
  }
  delete job;
}

}  // namespace

Napi::Object startJob(Napi::Env env, Napi::Value onProgress, Work work) {
  if (!onProgress.IsUndefined() && !onProgress.IsNull() && !onProgress.IsFunction())
    throw toJsError(env, tn::invalidArg("Expected `onProgress` to be a function"));
  const bool wantsProgress = onProgress.IsFunction();
  Napi::Function callback = wantsProgress ? onProgress.As<Napi::Function>()
                                          : Napi::Function::New(env, [](const Napi::CallbackInfo&) {});
  auto* job = new Job(env);
  job->tsfn = Napi::ThreadSafeFunction::New(env, callback, "transfusion-native job", /*maxQueueSize=*/size_t{0},
                                            /*initialThreadCount=*/size_t{1}, job, &finish,
                                            static_cast<void*>(nullptr));
  auto body = [job, wantsProgress, work = std::move(work)]() {
    tn::adoptThreadSettings();
    const tn::JobMemory memory;
    tn::JobControl control;
    control.cancelled = job->cancelled.get();
    if (wantsProgress) {
      control.emit = [job](tn::Event e) {
        auto* pending = new Pending{job, std::move(e)};
        if (job->tsfn.NonBlockingCall(pending, deliver) != napi_ok) delete pending;
      };
    }
    try {
      job->settle = work(control);
    } catch (const tn::Error& e) {
      job->error = e;
    } catch (const std::exception& e) {
      job->error = tn::unforeseen(e.what());
    } catch (...) {
      job->error = tn::unforeseen(nullptr);
    }
    job->tsfn.Release();
  };
  try {
    job->thread = std::thread(std::move(body));
  } catch (const std::system_error& e) {  // no thread to be had: the promise rejects, the process lives on
    job->error = tn::Error("ERR_NATIVE", std::string("Cannot start a worker thread: ") + e.what());
    job->tsfn.Release();
  }

  Napi::Object handle = Napi::Object::New(env);
  handle.Set("promise", job->deferred.Promise());
  auto flag = job->cancelled;
  handle.Set("cancel", Napi::Function::New(env, [flag](const Napi::CallbackInfo&) { flag->store(true); }));
  return handle;
}

}  // namespace tn::napi
