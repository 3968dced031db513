#include "core/train/auc.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "core/error.h"

namespace tn {
namespace {

// Sum of the (1-based, tie-averaged) ranks of the positives, and the class sizes.
struct RankSum {
  double positives = 0, negatives = 0, rankSum = 0;
};

template <class Score, class Label>
RankSum rankPositives(std::vector<std::pair<Score, Label>>& items) {
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  RankSum r;
  size_t i = 0;
  while (i < items.size()) {
    size_t j = i;
    while (j + 1 < items.size() && items[j + 1].first == items[i].first) ++j;
    const double averageRank = (static_cast<double>(i + 1) + static_cast<double>(j + 1)) / 2.0;
    for (size_t k = i; k <= j; ++k) {
      if (items[k].second) {
        r.positives += 1;
        r.rankSum += averageRank;
      } else {
        r.negatives += 1;
      }
    }
    i = j + 1;
  }
  return r;
}

double fromRanks(const RankSum& r) {
  return (r.rankSum - r.positives * (r.positives + 1) / 2.0) / (r.positives * r.negatives);
}

}  // namespace

std::vector<std::pair<double, bool>> checkedItems(const char* metric, const double* scores, const double* labels, size_t count) {
  std::vector<std::pair<double, bool>> items(count);
  for (size_t i = 0; i < count; ++i) {
    if (!std::isfinite(scores[i])) throw invalidArg(std::string(metric) + ": score " + std::to_string(i) + " is not finite");
    if (labels[i] != 0.0 && labels[i] != 1.0)
      throw invalidArg(std::string(metric) + ": label " + std::to_string(i) + " is " + std::to_string(labels[i]) + ", expected 0 or 1");
    items[i] = {scores[i], labels[i] == 1.0};
  }
  return items;
}

std::vector<std::pair<float, bool>> maskedItems(const float* scores, const float* labels, const float* mask, size_t count, size_t stride) {
  std::vector<std::pair<float, bool>> items;
  items.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    if (mask && mask[i * stride] == 0.f) continue;
    items.emplace_back(scores[i * stride], labels[i * stride] > 0.5f);
  }
  return items;
}

double auc(const double* scores, const double* labels, size_t count) {
  auto items = checkedItems("auc", scores, labels, count);
  const RankSum r = rankPositives(items);
  if (r.positives == 0 || r.negatives == 0)
    throw invalidArg("auc: needs at least one positive and one negative label (got " +
                     std::to_string(static_cast<long long>(r.positives)) + " positive, " +
                     std::to_string(static_cast<long long>(r.negatives)) + " negative)");
  return fromRanks(r);
}

double maskedAuc(const float* scores, const float* labels, const float* mask, size_t count, size_t stride) {
  auto items = maskedItems(scores, labels, mask, count, stride);
  const RankSum r = rankPositives(items);
  if (r.positives == 0 || r.negatives == 0) return std::numeric_limits<double>::quiet_NaN();
  return fromRanks(r);
}

}  // namespace tn
