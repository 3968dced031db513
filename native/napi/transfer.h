// The transfer analyses' native pieces (core/analysis/transfer.cc): interpolation, BatchNorm recomputation, stage
// copies and k-NN evaluation.
#pragma once
#include <napi.h>

namespace tn::napi {

// Adds interpolateWeights, recomputeBatchNorm, copyStages and knnEvaluate to the addon's exports.
void exportTransfer(Napi::Env env, Napi::Object exports);

}  // namespace tn::napi
