// minibatchCka: every stage of one model against every stage of another (core/similarity/minibatch.cc), as a job.
#pragma once
#include <napi.h>

namespace tn::napi {

// Adds minibatchCka to the addon's exports.
void exportCka(Napi::Env env, Napi::Object exports);

}  // namespace tn::napi
