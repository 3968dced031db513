// The order a training run draws its batches in, saved in and restored from checkpoints.
#pragma once
#include <torch/torch.h>

#include <numeric>
#include <string>
#include <vector>

#include "core/data/raster.h"
#include "core/error.h"
#include "core/train/checkpoint.h"

namespace tn {

// Batch order: a fresh seeded shuffle every epoch (Fisher-Yates on our own generator: identical on every platform).
class BatchSampler {
 public:
  BatchSampler(int64_t n, uint64_t seed) : order_(n), rng_(seed) { reshuffle(); }
  void saveTo(TrainCheckpoint& c) const {
    c.order = order_;
    c.position = static_cast<int64_t>(pos_);
    c.rngState = rng_.state();
  }
  void restore(const TrainCheckpoint& c, const std::string& path) {
    if (c.order.size() != order_.size() || c.position < 0 || c.position > static_cast<int64_t>(order_.size()))
      throw Error("ERR_BAD_DATA", "The checkpoint " + path + " is not one of this run (its training set has " +
                                      std::to_string(c.order.size()) + " images, this one " + std::to_string(order_.size()) +
                                      "); remove it to train from the start");
    order_ = c.order;
    pos_ = static_cast<size_t>(c.position);
    rng_ = raster::Rng(c.rngState);
  }
  torch::Tensor next(int batch) {
    std::vector<int64_t> idx(batch);
    for (int i = 0; i < batch; ++i) {
      if (pos_ == order_.size()) reshuffle();
      idx[i] = order_[pos_++];
    }
    return torch::tensor(idx, torch::kInt64);
  }

 private:
  void reshuffle() {
    std::iota(order_.begin(), order_.end(), 0);
    for (size_t i = order_.size() - 1; i > 0; --i) std::swap(order_[i], order_[rng_.next() % (i + 1)]);
    pos_ = 0;
  }
  std::vector<int64_t> order_;
  raster::Rng rng_;
  size_t pos_ = 0;
};

}  // namespace tn
