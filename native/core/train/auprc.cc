#include "core/train/auprc.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace tn {
namespace {

// items: (score, positive). NaN when there is no positive.
template <class Score>
double fromItems(std::vector<std::pair<Score, bool>>& items) {
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  double positives = 0;
  for (const auto& item : items) positives += item.second;
  if (positives == 0) return std::numeric_limits<double>::quiet_NaN();
  double truePositives = 0, seen = 0, ap = 0;
  size_t i = 0;
  while (i < items.size()) {
    double added = 0;  // positives at this threshold (a block of tied scores)
    size_t j = i;
    for (; j < items.size() && items[j].first == items[i].first; ++j) {
      added += items[j].second;
      seen += 1;
    }
    truePositives += added;
    ap += (added / positives) * (truePositives / seen);  // recall step x precision at the threshold
    i = j;
  }
  return ap;
}

}  // namespace

double averagePrecision(const double* scores, const double* labels, size_t count) {
  std::vector<std::pair<double, bool>> items(count);
  for (size_t i = 0; i < count; ++i) {
    if (!std::isfinite(scores[i])) throw invalidArg("averagePrecision: score " + std::to_string(i) + " is not finite");
    if (labels[i] != 0.0 && labels[i] != 1.0)
      throw invalidArg("averagePrecision: label " + std::to_string(i) + " is " + std::to_string(labels[i]) + ", expected 0 or 1");
    items[i] = {scores[i], labels[i] == 1.0};
  }
  const double ap = fromItems(items);
  if (std::isnan(ap)) throw invalidArg("averagePrecision: needs at least one positive label (got " + std::to_string(count) + " negative)");
  return ap;
}

double maskedAveragePrecision(const float* scores, const float* labels, const float* mask, size_t count, size_t stride) {
  std::vector<std::pair<float, bool>> items;
  items.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    if (mask && mask[i * stride] == 0.f) continue;
    items.emplace_back(scores[i * stride], labels[i * stride] > 0.5f);
  }
  return fromItems(items);
}

}  // namespace tn
