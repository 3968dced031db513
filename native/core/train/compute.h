// Applies ComputeOptions for the length of a job: channels-last weights and inputs, and bf16 autocast.
#pragma once
#include <memory>
#include <optional>

#include "core/compat.h"
#include "core/models/model.h"

namespace tn {

class ComputeScope {
 public:
  ComputeScope(Model& model, const ComputeOptions& options);
  // A batch on the model's device in the chosen memory format.
  torch::Tensor input(const torch::Tensor& x) const;

 private:
  Model& model_;
  bool channelsLast_;
  std::optional<compat::AutocastGuard> autocast_;
};

}  // namespace tn
