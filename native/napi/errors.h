// How native failures reach JS: a tn::Error becomes an Error with the same stable `code` (and name "AbortError"
// for ABORT_ERR); anything else becomes ERR_NATIVE. No C++ backtrace ever reaches the message.
#pragma once
#include <napi.h>

#include "core/error.h"
#include "core/unforeseen.h"

namespace tn::napi {

Napi::Error toJsError(Napi::Env env, const tn::Error& error);

// Runs f, translating tn::Error and std::exception into a thrown JS Error. Napi::Error passes through.
template <class F>
auto guarded(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const tn::Error& e) {
    throw toJsError(env, e);
  } catch (const std::exception& e) {
    throw toJsError(env, tn::unforeseen(e.what()));
  }
}

}  // namespace tn::napi
