// Cohen's kappa with quadratic weights between two ratings of the same items on an ordered scale of `classes` levels
// (the Kaggle EyePACS metric on DR grades 0-4): 1 - sum(w * observed) / sum(w * expected), w_ij = (i - j)^2, expected
// the outer product of the two ratings' histograms over the items. The weights use the whole scale 0..classes-1,
// levels no one chose included (scikit-learn's cohen_kappa_score(weights='quadratic', labels=range(classes))).
// Torch-free.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tn {

// a, b: level ids 0..classes-1. Throws tn::Error (ERR_INVALID_ARG) on classes < 2 or an id outside the scale.
// NaN when the expected disagreement is 0 (both ratings put every item on one and the same level).
double quadraticKappa(const int64_t* a, const int64_t* b, size_t count, int64_t classes);

}  // namespace tn
