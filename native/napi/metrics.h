// The evaluation metrics on plain arrays (auc, averagePrecision, bootstrapAucInterval, quadraticKappa): torch-free
// exports of the addon, apart from addon.cc's models, data, training and similarity.
#pragma once
#include <napi.h>

namespace tn::napi {

// Adds the four metric functions to the addon's exports.
void exportMetrics(Napi::Env env, Napi::Object exports);

}  // namespace tn::napi
