// Training and evaluation loops (mechanism only: the learning-rate schedule, the data and the model come from TS).
#pragma once
#include <string>

#include "core/data/dataset.h"
#include "core/job.h"
#include "core/models/model.h"
#include "core/train/options.h"

namespace tn {

// Evaluation with the checks impl::evaluate makes, for use inside training.
// With a group, every rank evaluates its share of the rows, the outputs are gathered, and the metrics are computed over
// the whole set, the same on every rank.
Metrics evaluateHeld(Model& model, const Dataset& data, int batchSize, const ComputeOptions& compute, const JobControl& job,
                     ProcessGroup* group = nullptr);

}  // namespace tn

namespace tn {

namespace impl {
Metrics evaluate(Model& model, const Dataset& data, int batchSize, const ComputeOptions& compute, const JobControl& job);
TensorData forward(Model& model, const TensorData& input, const std::string& stage, const ComputeOptions& compute,
                        const JobControl& job);
TrainResult train(Model& model, const Dataset& trainSet, const Dataset& valSet, const TrainOptions& options,
                       const JobControl& job);
}  // namespace impl

}  // namespace tn
