#include "napi/errors.h"

namespace tn::napi {

Napi::Error toJsError(Napi::Env env, const tn::Error& error) {
  Napi::Error js = error.code == "ERR_INVALID_ARG" ? Napi::TypeError::New(env, error.what()) : Napi::Error::New(env, error.what());
  js.Set("code", Napi::String::New(env, error.code));
  if (error.code == "ABORT_ERR") js.Set("name", Napi::String::New(env, "AbortError"));
  return js;
}

}  // namespace tn::napi
