// A training run's whole state between two steps, so an interrupted run continues where it stopped: weights and
// buffers, the optimizer's state, the random generator of the model's device, the batch order and the curve so far.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/models/model.h"
#include "core/train/options.h"

namespace tn {

struct TrainCheckpoint {
  int64_t step = 0;  // steps completed
  // The batch sampler: this epoch's order, the position in it, its generator, and the next batch already drawn.
  std::vector<int64_t> order;
  int64_t position = 0;
  uint64_t rngState = 0;
  torch::Tensor next;  // (batchSize) int64, or undefined after the last step
  std::vector<double> losses;
  std::vector<CurvePoint> curve;
  double trainSeconds = 0;
};

// Writes the checkpoint to a temporary file beside `path`, then renames it over `path`: a reader sees the old
// checkpoint or the new one, never a torn file. Throws ERR_IO naming the file (full disk, unwritable directory).
void saveCheckpoint(const std::string& path, const Model& model, const torch::optim::Optimizer& optimizer,
                    const TrainCheckpoint& state, const TrainOptions& options);

// Loads `path` into model and optimizer and returns the rest. Throws ERR_BAD_DATA naming the file when it is not a
// checkpoint of this run (another model, seed, batch size, schedule or training set), ERR_IO when it cannot be read.
TrainCheckpoint loadCheckpoint(const std::string& path, Model& model, torch::optim::Optimizer& optimizer,
                               const TrainOptions& options, const std::string& task);

bool checkpointExists(const std::string& path);

}  // namespace tn
