// Options of the embedded and memory-mapped datasets, and DatasetInfo. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tn {

struct RetinaOptions {
  int64_t count = 0;
  int size = 64;
  uint64_t seed = 0;
  std::vector<double> gradeWeights;  // P(grade = 0..4); empty = the documented default
};
// The embedded CheXpert-like chest radiographs (see data/chest.h): five findings, multi-label. Uncertain labels
// (CheXpert's -1, at uncertainRate) become targets by each finding's policy: "ignore" (masked in the loss and in
// AUC), "zeros" or "ones".
struct ChestOptions {
  int64_t count = 0;
  int size = 64;
  uint64_t seed = 0;
  double uncertainRate = 0.1;
  std::vector<std::string> policy;  // per finding; empty = ones for Atelectasis and Edema, zeros for the rest
};
struct NaturalOptions {
  int64_t count = 0;
  int size = 64;
  uint64_t seed = 0;
  int classes = 20;
};
struct DatasetInfo {
  std::string source;  // "retina", "natural"
  std::string task;    // "binary", "multilabel", "multiclass"
  int64_t count = 0;
  int channels = 0, height = 0, width = 0;
  int outputs = 0;     // logits a model needs: 1 for binary, K for multilabel / multiclass
};
// A dataset over a file of uint8 RGB images (count x 3 x size x size, row-major), memory-mapped: a user's images
// decoded once (the TypeScript loaders write it). Targets and mask as for datasetFromArrays.
struct MappedDatasetOptions {
  std::string file, task = "binary", source;
  int64_t count = 0;
  int size = 0;
  std::vector<float> targets, mask;
  int outputs = 1;
  int referableFrom = 0;  // multiclass grades: see Dataset::referableFrom (core/data/dataset.h); 0: none
  bool classAuc = false;  // multiclass on unordered classes: see Dataset::classAuc
};

}  // namespace tn
