#include "core/train/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "core/data/raster.h"
#include "core/error.h"

namespace tn {
namespace {

// One output's known entries in ascending score order, grouped into blocks of tied scores.
struct Ranked {
  std::vector<uint32_t> rows;     // row of each entry, ascending score
  std::vector<uint8_t> positive;  // its label
  std::vector<uint32_t> blockEnd; // one past the last entry of each tie block
};

template <class Score, class Label>
Ranked rank(const Score* scores, const Label* labels, const Label* mask, size_t count, size_t stride) {
  std::vector<uint32_t> rows;
  rows.reserve(count);
  for (size_t i = 0; i < count; ++i)
    if (!mask || mask[i * stride] != 0) rows.push_back(static_cast<uint32_t>(i));
  std::stable_sort(rows.begin(), rows.end(), [&](uint32_t a, uint32_t b) { return scores[a * stride] < scores[b * stride]; });
  Ranked r;
  r.rows = rows;
  r.positive.resize(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    r.positive[i] = labels[rows[i] * stride] > 0.5;
    if (i + 1 == rows.size() || scores[rows[i + 1] * stride] != scores[rows[i] * stride]) r.blockEnd.push_back(static_cast<uint32_t>(i + 1));
  }
  return r;
}

// The AUC of the multiset in which row i appears weight[i] times; NaN without both classes.
double weightedAuc(const Ranked& r, const std::vector<uint32_t>& weight) {
  double below = 0, pairs = 0, positives = 0;  // negatives at lower scores; positive-negative pairs won (ties 1/2)
  size_t begin = 0;
  for (const uint32_t end : r.blockEnd) {
    double pos = 0, neg = 0;
    for (size_t i = begin; i < end; ++i) (r.positive[i] ? pos : neg) += weight[r.rows[i]];
    pairs += pos * (below + 0.5 * neg);
    below += neg;
    positives += pos;
    begin = end;
  }
  if (positives == 0 || below == 0) return std::numeric_limits<double>::quiet_NaN();
  return pairs / (positives * below);
}

double quantile(const std::vector<double>& sorted, double q) {
  const double at = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(at));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (at - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

AucInterval interval(const std::vector<Ranked>& outputs, size_t count, int64_t resamples, uint64_t seed, double level) {
  if (resamples < 1) throw invalidArg("Expected `resamples` to be a positive integer but received " + std::to_string(resamples));
  if (!(level > 0 && level < 1)) throw invalidArg("Expected `level` to be in (0, 1) but received " + std::to_string(level));
  AucInterval result;
  if (count == 0) return result;
  raster::Rng rng(seed);
  std::vector<uint32_t> weight(count);
  std::vector<double> kept;
  kept.reserve(static_cast<size_t>(resamples));
  for (int64_t b = 0; b < resamples; ++b) {
    std::fill(weight.begin(), weight.end(), 0u);
    for (size_t i = 0; i < count; ++i) ++weight[rng.next() % count];
    double sum = 0;
    for (const auto& r : outputs) sum += weightedAuc(r, weight);
    if (std::isfinite(sum)) kept.push_back(sum / static_cast<double>(outputs.size()));
  }
  result.resamples = static_cast<int64_t>(kept.size());
  if (kept.empty()) return result;
  std::sort(kept.begin(), kept.end());
  result.low = quantile(kept, (1 - level) / 2);
  result.high = quantile(kept, (1 + level) / 2);
  return result;
}

}  // namespace

AucInterval bootstrapAucInterval(const float* scores, const float* labels, const float* mask, size_t count, size_t outputs,
                                 int64_t resamples, uint64_t seed, double level) {
  std::vector<Ranked> ranked;
  for (size_t k = 0; k < outputs; ++k) ranked.push_back(rank(scores + k, labels + k, mask ? mask + k : nullptr, count, outputs));
  return interval(ranked, count, resamples, seed, level);
}

AucInterval bootstrapAucInterval(const double* scores, const double* labels, size_t count, int64_t resamples, uint64_t seed,
                                 double level) {
  for (size_t i = 0; i < count; ++i) {
    if (!std::isfinite(scores[i])) throw invalidArg("bootstrapAucInterval: score " + std::to_string(i) + " is not finite");
    if (labels[i] != 0.0 && labels[i] != 1.0)
      throw invalidArg("bootstrapAucInterval: label " + std::to_string(i) + " is " + std::to_string(labels[i]) + ", expected 0 or 1");
  }
  const std::vector<Ranked> ranked{rank<double, double>(scores, labels, nullptr, count, 1)};
  return interval(ranked, count, resamples, seed, level);
}

}  // namespace tn
