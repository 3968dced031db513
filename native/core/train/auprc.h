// AUC-PR as average precision, the way scikit-learn's average_precision_score computes it: the sum over distinct score
// thresholds (high to low) of the precision at each times the recall it adds, step-wise, no interpolation. Tied
// scores form one threshold. Torch-free.
#pragma once
#include <cstddef>

namespace tn {

// labels: 1 = positive, 0 = negative. Throws tn::Error (ERR_INVALID_ARG) on a non-finite score, a label other than
// 0/1, or a set without a positive (precision at every recall is then undefined).
double averagePrecision(const double* scores, const double* labels, size_t count);

// As maskedAuc: only entries with mask[i] != 0, every `stride`-th value; NaN when the masked set has no positive.
double maskedAveragePrecision(const float* scores, const float* labels, const float* mask, size_t count, size_t stride);

}  // namespace tn
