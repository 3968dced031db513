// AUC-ROC as the Mann-Whitney U statistic: tied scores share their average rank, so a tie between a positive
// and a negative counts one half. Torch-free.
#pragma once
#include <cstddef>

namespace tn {

// labels: 1 = positive, 0 = negative. Throws tn::Error (ERR_INVALID_ARG) on a non-finite score, a label other
// than 0/1, or a set without both classes.
double auc(const double* scores, const double* labels, size_t count);

// As above but counting only entries with mask[i] != 0; returns NaN when the masked set lacks a class.
double maskedAuc(const float* scores, const float* labels, const float* mask, size_t count, size_t stride);

}  // namespace tn
