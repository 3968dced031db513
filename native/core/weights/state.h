// Saving and loading a model's parameters and buffers by name.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/models/model.h"
#include "core/weights/options.h"

namespace tn {

// Parameters and buffers by their full dotted names ("layer1.conv.weight", "layer1.bn.running_mean", ...).
std::vector<std::pair<std::string, torch::Tensor>> stateOf(torch::nn::Module& net);

// A tensor of a weight file, under the name the model gives it, with the file's own name for it.
struct FileTensor {
  std::string fileKey;
  torch::Tensor tensor;
};
// A weight file's tensors keyed as `net` names them (NetworkImpl::modelKey). ERR_BAD_WEIGHTS when two of the file's
// keys name one of the model's (an old-style and a new-style name for the same tensor).
std::map<std::string, FileTensor> readAsModelNames(const NetworkImpl& net, const std::string& path);

namespace impl {
void saveWeights(Model& model, const std::string& path, const std::string& format);
LoadReport loadWeights(Model& model, const std::string& path, const LoadOptions& options);
}  // namespace impl

}  // namespace tn
