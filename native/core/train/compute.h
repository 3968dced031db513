// Applies ComputeOptions for the length of a job: channels-last weights and inputs, bf16 autocast, TF32 on or off (a
// CUDA setting: "tf32" allows it, "fp32" and "bf16" keep full float32 matmuls), cuDNN's benchmark mode on CUDA. Unset
// options take the device's defaults: bf16 and channels-last on CUDA, fp32 and NCHW on the CPU (channels-last for
// evaluation there too).
#pragma once
#include <memory>
#include <optional>
#include <vector>

#include "core/compat.h"
#include "core/models/model.h"
#include "core/train/options.h"

namespace tn {

// Validation images per forward pass when none is asked for: 32 on the CPU, where a batch's activations then stay in
// cache, 128 on CUDA. (CBR models at 40 px, LibTorch 1.13, 2 threads: evaluation 1.7-3.9x faster at 32 in NHWC than at
// 128 in NCHW, bench/eval-format.js.)
inline int defaultEvalBatch(const torch::Device& device) { return device.is_cuda() ? 128 : 32; }

// What a scope is for. Evaluation defaults to channels-last on the CPU too (oneDNN's no-grad forward is faster in
// NHWC), and gives the weights back in the format it found them, so training around it is untouched.
enum class ComputeUse { kTraining, kEvaluation };

class ComputeScope {
 public:
  ComputeScope(Model& model, const ComputeOptions& options, ComputeUse use = ComputeUse::kTraining);
  ~ComputeScope();
  ComputeScope(const ComputeScope&) = delete;
  ComputeScope& operator=(const ComputeScope&) = delete;
  // A batch on the model's device in the chosen memory format.
  torch::Tensor input(const torch::Tensor& x) const;

 private:
  Model& model_;
  std::string precision_;
  bool channelsLast_;
  std::vector<torch::Tensor> converted_;  // evaluation: the weights it moved to channels-last, moved back at the end
  compat::Tf32Scope tf32_;
  std::optional<compat::AutocastGuard> autocast_;
};

}  // namespace tn
