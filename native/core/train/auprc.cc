#include "core/train/auprc.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/train/auc.h"

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
  auto items = checkedItems("averagePrecision", scores, labels, count);
  const double ap = fromItems(items);
  if (std::isnan(ap)) throw invalidArg("averagePrecision: needs at least one positive label (got " + std::to_string(count) + " negative)");
  return ap;
}

double maskedAveragePrecision(const float* scores, const float* labels, const float* mask, size_t count, size_t stride) {
  auto items = maskedItems(scores, labels, mask, count, stride);
  return fromItems(items);
}

}  // namespace tn
