// The training loop (mechanism only: the learning-rate schedule, the data and the model come from TS). Evaluation is
// core/train/evaluate.h; the batch order core/train/sampler.h.
#pragma once
#include "core/data/dataset.h"
#include "core/job.h"
#include "core/models/model.h"
#include "core/train/options.h"

namespace tn::impl {

TrainResult train(Model& model, const Dataset& trainSet, const Dataset& valSet, const TrainOptions& options,
                  const JobControl& job);

}  // namespace tn::impl
