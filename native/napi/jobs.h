// Long native work as a Promise: the work runs on its own thread; progress events reach a JS callback through a
// thread-safe function, one call per event, in order; the promise settles from the same queue after the last
// event, so no event arrives after the promise resolves. cancel() sets an atomic flag the core checks between steps.
#pragma once
#include <napi.h>

#include <functional>

#include "core/api.h"

namespace tn::napi {

// Runs on the job's thread; returns a closure that builds the JS result on the main thread.
using Settle = std::function<Napi::Value(Napi::Env)>;
using Work = std::function<Settle(const tn::JobControl&)>;

// Returns { promise, cancel }. onProgress may be undefined. If onProgress throws, the job is cancelled and the
// promise rejects with that exception.
Napi::Object startJob(Napi::Env env, Napi::Value onProgress, Work work);

}  // namespace tn::napi
