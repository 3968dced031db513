// What a JS dataset handle owns: images and targets as tensors on the CPU (batches move to the model's device).
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

namespace tn {

struct Dataset {
  std::string source;  // "retina", "natural"
  std::string task;    // "binary", "multilabel", "multiclass"
  torch::Tensor images;   // (N, 3, H, W) float32, normalised with kImageMean / kImageStd
  torch::Tensor targets;  // binary / multilabel: (N, K) float32 in {0, 1}; multiclass: (N) int64
  torch::Tensor mask;     // (N, K) float32, 1 = label known; undefined = all known
  std::vector<int32_t> grades;
  int outputs = 1;
};

// Per-channel normalisation of every embedded image (ImageNet's constants, as torchvision uses).
constexpr float kImageMean[3] = {0.485f, 0.456f, 0.406f};
constexpr float kImageStd[3] = {0.229f, 0.224f, 0.225f};

}  // namespace tn
