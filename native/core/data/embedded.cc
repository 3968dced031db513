// The embedded sources as datasets: images drawn in parallel (each from its own seeded stream, so the result does
// not depend on the thread count), normalised and stored as tensors.
#include <ATen/Parallel.h>

#include <atomic>

#include "core/data/embedded.h"
#include "core/data/chest.h"
#include "core/data/dataset.h"
#include "core/data/natural.h"
#include "core/data/retina.h"
#include "core/error.h"

namespace tn {
namespace {

void checkShape(int64_t count, int size) {
  if (count < 1) throw invalidArg("Expected `count` to be a positive integer but received " + std::to_string(count));
  if (size < 16 || size > 1024)
    throw invalidArg("Expected `size` to be an integer in [16, 1024] but received " + std::to_string(size));
}

// Copies a planar [0, 1] image into slot i of a normalised (N, 3, S, S) tensor.
void store(torch::Tensor& images, int64_t i, const std::vector<float>& pixels) {
  const int64_t plane = images.size(2) * images.size(3);
  float* dst = images.data_ptr<float>() + i * 3 * plane;
  for (int ch = 0; ch < 3; ++ch)
    for (int64_t p = 0; p < plane; ++p)
      dst[ch * plane + p] = (pixels[ch * plane + p] - kImageMean[ch]) / kImageStd[ch];
}

}  // namespace

std::shared_ptr<Dataset> impl::generateRetina(const RetinaOptions& o, const JobControl& job) {
  checkShape(o.count, o.size);
  if (!o.gradeWeights.empty()) {
    double total = 0;
    for (double w : o.gradeWeights) {
      if (!(w >= 0)) throw invalidArg("Expected `gradeWeights` to be non-negative numbers");
      total += w;
    }
    if (o.gradeWeights.size() != 5 || total <= 0)
      throw invalidArg("Expected `gradeWeights` to be 5 non-negative numbers (grades 0-4) with a positive sum");
  }
  auto data = std::make_shared<Dataset>();
  data->source = "retina";
  data->task = "binary";
  data->images = torch::empty({o.count, 3, o.size, o.size}, torch::kFloat32);
  data->targets = torch::empty({o.count, 1}, torch::kFloat32);
  data->grades.resize(o.count);
  float* target = data->targets.data_ptr<float>();
  at::parallel_for(0, o.count, /*grain_size=*/16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      job.check();
      const FundusImage img = drawFundus(o.size, o.seed, static_cast<uint64_t>(i), o.gradeWeights);
      store(data->images, i, img.pixels);
      data->grades[i] = img.grade;
      target[i] = img.grade >= 2 ? 1.f : 0.f;  // referable DR
    }
  });
  return data;
}

std::shared_ptr<Dataset> impl::generateNatural(const NaturalOptions& o, const JobControl& job) {
  checkShape(o.count, o.size);
  if (o.classes < 2 || o.classes > kNaturalMaxClasses)
    throw invalidArg("Expected `classes` to be an integer in [2, " + std::to_string(kNaturalMaxClasses) +
                     "] but received " + std::to_string(o.classes));
  auto data = std::make_shared<Dataset>();
  data->source = "natural";
  data->task = "multiclass";
  data->outputs = o.classes;
  data->images = torch::empty({o.count, 3, o.size, o.size}, torch::kFloat32);
  data->targets = torch::empty({o.count}, torch::kInt64);
  int64_t* target = data->targets.data_ptr<int64_t>();
  at::parallel_for(0, o.count, /*grain_size=*/16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      job.check();
      const NaturalImage img = drawNatural(o.size, o.classes, o.seed, static_cast<uint64_t>(i));
      store(data->images, i, img.pixels);
      target[i] = img.label;
    }
  });
  return data;
}

std::shared_ptr<Dataset> impl::generateChest(const ChestOptions& o, const JobControl& job) {
  checkShape(o.count, o.size);
  if (!(o.uncertainRate >= 0 && o.uncertainRate <= 1))
    throw invalidArg("Expected `uncertainRate` to be a number in [0, 1] but received " + std::to_string(o.uncertainRate));
  // Per finding: the target an uncertain label becomes (-1 = masked).
  std::array<float, kChestFindings> uncertainTo = {1.f, 0.f, 0.f, 1.f, 0.f};
  if (!o.policy.empty()) {
    if (o.policy.size() != kChestFindings)
      throw invalidArg("Expected `policy` to name one policy per finding (" + std::to_string(kChestFindings) + ") but it has " +
                       std::to_string(o.policy.size()));
    for (int f = 0; f < kChestFindings; ++f) {
      const auto& p = o.policy[f];
      if (p != "ignore" && p != "zeros" && p != "ones")
        throw invalidArg("Expected `policy[" + std::to_string(f) + "]` (" + kChestFindingNames[f] +
                         ") to be \"ignore\", \"zeros\" or \"ones\" but received \"" + p + "\"");
      uncertainTo[f] = p == "ignore" ? -1.f : p == "ones" ? 1.f : 0.f;
    }
  }
  auto data = std::make_shared<Dataset>();
  data->source = "chest";
  data->task = "multilabel";
  data->outputs = kChestFindings;
  data->images = torch::empty({o.count, 3, o.size, o.size}, torch::kFloat32);
  data->targets = torch::empty({o.count, kChestFindings}, torch::kFloat32);
  auto mask = torch::ones({o.count, kChestFindings}, torch::kFloat32);
  float* target = data->targets.data_ptr<float>();
  float* known = mask.data_ptr<float>();
  std::atomic<bool> anyMasked{false};
  at::parallel_for(0, o.count, /*grain_size=*/16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      job.check();
      const ChestImage img = drawChest(o.size, o.seed, static_cast<uint64_t>(i), o.uncertainRate);
      store(data->images, i, img.pixels);
      for (int f = 0; f < kChestFindings; ++f) {
        float t = static_cast<float>(img.label[f]);
        if (img.label[f] < 0) t = uncertainTo[f];
        if (t < 0) {
          known[i * kChestFindings + f] = 0.f;
          anyMasked = true;
          t = 0.f;
        }
        target[i * kChestFindings + f] = t;
      }
    }
  });
  if (anyMasked) data->mask = mask;
  return data;
}

}  // namespace tn
