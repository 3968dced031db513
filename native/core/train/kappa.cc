#include "core/train/kappa.h"

#include <limits>
#include <string>
#include <vector>

#include "core/error.h"

namespace tn {

double quadraticKappa(const int64_t* a, const int64_t* b, size_t count, int64_t classes) {
  if (classes < 2) throw invalidArg("quadraticKappa: needs at least 2 classes but received " + std::to_string(classes));
  const auto k = static_cast<size_t>(classes);
  std::vector<double> observed(k * k, 0.0), histA(k, 0.0), histB(k, 0.0);
  for (size_t i = 0; i < count; ++i) {
    for (const int64_t v : {a[i], b[i]})
      if (v < 0 || v >= classes)
        throw invalidArg("quadraticKappa: rating " + std::to_string(i) + " is " + std::to_string(v) + ", expected 0-" + std::to_string(classes - 1));
    observed[static_cast<size_t>(a[i]) * k + static_cast<size_t>(b[i])] += 1;
    histA[static_cast<size_t>(a[i])] += 1;
    histB[static_cast<size_t>(b[i])] += 1;
  }
  const double n = static_cast<double>(count);
  double disagree = 0, chance = 0;
  for (size_t i = 0; i < k; ++i)
    for (size_t j = 0; j < k; ++j) {
      const double w = (static_cast<double>(i) - static_cast<double>(j)) * (static_cast<double>(i) - static_cast<double>(j));
      disagree += w * observed[i * k + j];
      chance += w * histA[i] * histB[j] / n;
    }
  if (count == 0 || chance == 0) return std::numeric_limits<double>::quiet_NaN();
  return 1.0 - disagree / chance;
}

}  // namespace tn
