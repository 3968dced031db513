#include "core/data/arrays.h"

#include <cmath>

#include "core/error.h"

namespace tn {

void attachTargets(Dataset& d, int64_t n, const std::vector<float>& targets, const std::vector<float>& mask,
                   const std::string& task, int outputs) {
  if (task != "binary" && task != "multilabel" && task != "multiclass")
    throw invalidArg("Expected `task` to be \"binary\", \"multilabel\" or \"multiclass\" but received \"" + task + "\"");
  if (outputs < 1 || (task == "binary" && outputs != 1))
    throw invalidArg("Expected `outputs` to be 1 for a binary task and >= 1 otherwise but received " + std::to_string(outputs));
  const int64_t perItem = task == "multiclass" ? 1 : outputs;
  if (static_cast<int64_t>(targets.size()) != n * perItem)
    throw invalidArg("Expected `targets` to hold " + std::to_string(n * perItem) + " values (" + std::to_string(n) +
                     " images x " + std::to_string(perItem) + ") but received " + std::to_string(targets.size()));
  for (size_t i = 0; i < targets.size(); ++i) {
    const float t = targets[i];
    const bool ok = task == "multiclass" ? (t >= 0 && t < outputs && t == std::floor(t)) : (t == 0.f || t == 1.f);
    if (!ok)
      throw invalidArg("Target " + std::to_string(i) + " is " + std::to_string(t) +
                       (task == "multiclass" ? ", not a class id in [0, " + std::to_string(outputs) + ")" : ", not 0 or 1"));
  }
  if (!mask.empty()) {
    if (task == "multiclass") throw invalidArg("A `mask` applies to binary and multilabel targets, not multiclass");
    if (mask.size() != targets.size())
      throw invalidArg("Expected `mask` to hold one value per target (" + std::to_string(targets.size()) + ") but received " +
                       std::to_string(mask.size()));
    for (size_t i = 0; i < mask.size(); ++i)
      if (mask[i] != 0.f && mask[i] != 1.f) throw invalidArg("Mask value " + std::to_string(i) + " is " + std::to_string(mask[i]) + ", not 0 or 1");
  }
  d.task = task;
  d.outputs = outputs;
  auto t = torch::from_blob(const_cast<float*>(targets.data()), {n, perItem}, torch::kFloat32).clone();
  d.targets = task == "multiclass" ? t.squeeze(1).to(torch::kInt64) : t;
  if (!mask.empty()) d.mask = torch::from_blob(const_cast<float*>(mask.data()), {n, perItem}, torch::kFloat32).clone();
}

std::shared_ptr<Dataset> impl::datasetFromArrays(const TensorData& images, const std::vector<float>& targets,
                                          const std::vector<float>& mask, const std::string& task, int outputs,
                                          const std::string& source) {
  const auto& s = images.shape;
  int64_t numel = 1;
  for (int64_t d : s) numel *= d;
  if (s.size() != 4 || s[0] < 1 || s[1] != 3 || numel != static_cast<int64_t>(images.data.size()))
    throw invalidArg("Expected `images` of shape (N, 3, H, W) with N*3*H*W values but received shape " +
                     c10::str(c10::IntArrayRef(s)) + " with " + std::to_string(images.data.size()) + " values");
  auto d = std::make_shared<Dataset>();
  attachTargets(*d, s[0], targets, mask, task, outputs);
  d->source = source.empty() ? "arrays" : source;
  d->images = torch::from_blob(const_cast<float*>(images.data.data()), s, torch::kFloat32).clone();
  return d;
}

}  // namespace tn
