// What a JS dataset handle owns: images and targets as tensors on the CPU (batches move to the model's device).
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

namespace tn {

struct Dataset {
  std::string source;  // "retina", "natural", "chest", or a user's format
  std::string task;    // "binary", "multilabel", "multiclass"
  // (N, 3, H, W): float32 normalised with kImageMean / kImageStd, or uint8 RGB viewing a memory-mapped file (a user's
  // decoded dataset, paged in by the OS as batches touch it). Read through imageRows / imageRange.
  torch::Tensor images;
  torch::Tensor targets;  // binary / multilabel: (N, K) float32 in {0, 1}; multiclass: (N) int64
  torch::Tensor mask;     // (N, K) float32, 1 = label known; undefined = all known
  std::vector<int32_t> grades;
  int outputs = 1;
  // multiclass on ordered grades: classes >= referableFrom form a derived binary label (referable DR = grade >= 2),
  // scored by the summed softmax P(class >= referableFrom) for AUC-ROC, AUC-PR and the bootstrap interval; 0: none
  int referableFrom = 0;
  // multiclass on unordered classes (a user's task: an image folder of 3+ classes, a MedMNIST set): each class one
  // against the rest, scored by its softmax probability, for AUC-ROC and AUC-PR per class (their means: the macro
  // averages, as scikit-learn's roc_auc_score(multi_class="ovr")) and the bootstrap interval; no kappa (unordered)
  bool classAuc = false;
};

// Per-channel normalisation of every embedded image (ImageNet's constants, as torchvision uses).
constexpr float kImageMean[3] = {0.485f, 0.456f, 0.406f};
constexpr float kImageStd[3] = {0.229f, 0.224f, 0.225f};

// Images as models take them (float32, normalised) for the given rows (int64) or for rows [begin, end).
torch::Tensor imageRows(const Dataset& d, const torch::Tensor& rows);
torch::Tensor imageRange(const Dataset& d, int64_t begin, int64_t end);
// Rows as stored (float32 already normalised, or uint8 RGB) as models take them, on the rows' device.
torch::Tensor normalised(const torch::Tensor& rows);
// Asks the OS to page in these rows ahead of use (memory-mapped datasets; a no-op otherwise).
void prefetchRows(const Dataset& d, const torch::Tensor& rows);

}  // namespace tn
