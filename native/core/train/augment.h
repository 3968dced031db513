// Small random affine augmentation of a training batch: rotation, translation, scale and horizontal flip drawn per
// image from a generator seeded by the run's seed and the step, so a run is reproducible.
#pragma once
#include <torch/torch.h>

#include <cstdint>

#include "core/train/options.h"

namespace tn {

// x: (B, C, H, W) float. Returns x unchanged when no augmentation is asked for.
torch::Tensor augmentBatch(const torch::Tensor& x, const AugmentOptions& o, uint64_t seed, int64_t step);

void validateAugment(const AugmentOptions& o);

}  // namespace tn
