// AUC-ROC as the Mann-Whitney U statistic: tied scores share their average rank, so a tie between a positive
// and a negative counts one half. Torch-free.
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

namespace tn {

// The (score, positive) items of a score/label list, shared by auc and averagePrecision. `metric` names the caller in
// errors: a non-finite score or a label other than 0/1 throws tn::Error (ERR_INVALID_ARG).
std::vector<std::pair<double, bool>> checkedItems(const char* metric, const double* scores, const double* labels, size_t count);

// The items with mask[i * stride] != 0 (every entry without a mask), every `stride`-th value; labels > 0.5 positive.
std::vector<std::pair<float, bool>> maskedItems(const float* scores, const float* labels, const float* mask, size_t count, size_t stride);

// labels: 1 = positive, 0 = negative. Throws tn::Error (ERR_INVALID_ARG) on a non-finite score, a label other
// than 0/1, or a set without both classes.
double auc(const double* scores, const double* labels, size_t count);

// As above but counting only entries with mask[i] != 0; returns NaN when the masked set lacks a class.
double maskedAuc(const float* scores, const float* labels, const float* mask, size_t count, size_t stride);

}  // namespace tn
