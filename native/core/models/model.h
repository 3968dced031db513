// What a JS model handle owns: a network, the device it lives on and the options it was built with.
#pragma once
#include <atomic>
#include <string>

#include "core/error.h"
#include "core/models/network.h"
#include "core/models/options.h"

namespace tn {

struct Model;

// Throws ERR_INVALID_ARG unless (height, width) reaches the model's minimum input size.
void checkInputSize(const Model& model, int64_t height, int64_t width);

struct Model {
  std::string name;
  ModelOptions options;
  Network net;
  torch::Device device{torch::kCPU};
  std::atomic<bool> busy{false};  // one job at a time per model: see reserve() in api.h
};

inline void checkInputSize(const Model& model, int64_t height, int64_t width) {
  const int minSize = model.net->minInputSize();
  if (height < minSize || width < minSize)
    throw invalidArg("Model \"" + model.name + "\" needs inputs of at least " + std::to_string(minSize) + "x" +
                     std::to_string(minSize) + " but received " + std::to_string(height) + "x" + std::to_string(width));
}

}  // namespace tn
