// Evaluation, and what training shares with it: the loss over known labels and the checks that a model and a dataset
// fit together.
#pragma once
#include <torch/torch.h>

#include <string>

#include "core/data/dataset.h"
#include "core/job.h"
#include "core/models/model.h"
#include "core/train/options.h"

namespace tn {

bool isMulticlass(const Dataset& d);

// Mean loss over known labels. logits (B, K); targets (B, K) float or (B) int64; mask (B, K) or undefined.
torch::Tensor lossOf(const Dataset& d, const torch::Tensor& logits, const torch::Tensor& y, const torch::Tensor& mask);

// Throws ERR_INVALID_ARG naming the role ("training", "validation", "evaluation") when the set's outputs or image
// size do not fit the model.
void checkCompatible(const Model& model, const Dataset& d, const char* role);

// AUC is defined only where an output has both classes among its known labels: ERR_INVALID_ARG otherwise.
void checkBothClasses(const Dataset& d, const char* role);

// The bootstrap interval of the mean AUC an evaluation adds (core/train/bootstrap.h); resamples 0: none.
struct BootstrapRequest {
  int64_t resamples = 0;
  uint64_t seed = 0;
};

// Evaluation with the checks impl::evaluate makes, for use inside training. batchSize 0: defaultEvalBatch(device).
// With a group, every rank evaluates its share of the rows, the outputs are gathered, and the metrics are computed over
// the whole set, the same on every rank.
Metrics evaluateHeld(Model& model, const Dataset& data, int batchSize, const ComputeOptions& compute, const JobControl& job,
                     ProcessGroup* group = nullptr, const BootstrapRequest& bootstrap = {});

namespace impl {
Metrics evaluate(Model& model, const Dataset& data, int batchSize, const ComputeOptions& compute, const JobControl& job);
TensorData forward(Model& model, const TensorData& input, const std::string& stage, const ComputeOptions& compute,
                   const JobControl& job);
}  // namespace impl

}  // namespace tn
