// Saving and loading a model's parameters and buffers by name.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/models/model.h"
#include "core/weights/options.h"

namespace tn {

// Parameters and buffers by their full dotted names ("layer1.conv.weight", "layer1.bn.running_mean", ...).
std::vector<std::pair<std::string, torch::Tensor>> stateOf(torch::nn::Module& net);

namespace impl {
void saveWeights(Model& model, const std::string& path, const std::string& format);
LoadReport loadWeights(Model& model, const std::string& path, const LoadOptions& options);
}  // namespace impl

}  // namespace tn
