// Forward FLOPs of one image, counted from the ops a forward pass really runs: 2 x the multiply-adds of every
// convolution and linear layer, the convention of bench/train_step.py's forward hooks (and of most papers' tables).
// A linear layer is counted as the matrix product it runs, so any other matrix product in a forward pass would count
// too; the registered models have none.
#pragma once
#include <cstdint>

#include "core/models/model.h"

namespace tn::impl {

// One eval-mode, no-grad forward pass of a (1, 3, height, width) image on the model's device; every module's
// training flag is restored afterwards, so BatchNorm's running statistics are untouched. Throws ERR_INVALID_ARG
// below the model's minimum input size.
int64_t forwardFlops(Model& model, int height, int width);

}  // namespace tn::impl
