// Applies ComputeOptions for the length of a job: channels-last weights and inputs, bf16 autocast, TF32 on or off (a
// CUDA setting: "tf32" allows it, "fp32" and "bf16" keep full float32 matmuls), cuDNN's benchmark mode on CUDA. Unset
// options take the device's defaults: bf16 and channels-last on CUDA, fp32 and NCHW on the CPU.
#pragma once
#include <memory>
#include <optional>

#include "core/compat.h"
#include "core/models/model.h"
#include "core/train/options.h"

namespace tn {

class ComputeScope {
 public:
  ComputeScope(Model& model, const ComputeOptions& options);
  // A batch on the model's device in the chosen memory format.
  torch::Tensor input(const torch::Tensor& x) const;

 private:
  Model& model_;
  std::string precision_;
  bool channelsLast_;
  compat::Tf32Scope tf32_;
  std::optional<compat::AutocastGuard> autocast_;
};

}  // namespace tn
