// What a JS model handle owns: a network, the device it lives on and the options it was built with.
#pragma once
#include <atomic>
#include <string>

#include "core/api.h"
#include "core/models/network.h"

namespace tn {

struct Model {
  std::string name;
  ModelOptions options;
  Network net;
  torch::Device device{torch::kCPU};
  std::atomic<bool> busy{false};  // one job at a time per model: see reserve() in api.h
};

}  // namespace tn
