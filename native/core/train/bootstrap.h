// A bootstrap percentile interval of the (mean over outputs) AUC-ROC on a validation set. Torch-free.
//
// Resampling: whole rows (images) with replacement, not stratified by class: a multi-label row keeps its findings and
// its mask together, and the interval includes the variation of the set's prevalence that drawing a validation set of
// this size from the same population brings. A resample in which an output's known labels hold one class only has no
// AUC and is skipped (counted in `resamples`, the resamples kept).
//
// The rows, so that an independent implementation can draw the same ones: one splitmix64 stream seeded with `seed`
// (raster::Rng), draw j = 0, 1, ... being row next() % count (the bias of the modulo is below count / 2^64); resample
// r takes draws r*count .. r*count+count-1, skipped resamples included. Each resample's AUC is exactly the
// Mann-Whitney AUC of the resampled multiset (ties one half), computed in one pass over the rows sorted once.
// The interval: the (1-level)/2 and (1+level)/2 quantiles of the kept AUCs, linearly interpolated (numpy.percentile's
// default).
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>

namespace tn {

struct AucInterval {
  double low = std::numeric_limits<double>::quiet_NaN(), high = std::numeric_limits<double>::quiet_NaN();
  int64_t resamples = 0;  // resamples kept (every output with both classes)
};

// scores, labels (and mask, or null): (count, outputs) row-major; labels > 0.5 positive; mask 0 = unknown.
// Throws tn::Error (ERR_INVALID_ARG) on resamples < 1 or a level outside (0, 1).
AucInterval bootstrapAucInterval(const float* scores, const float* labels, const float* mask, size_t count, size_t outputs,
                                 int64_t resamples, uint64_t seed, double level = 0.95);

// One output, double scores and 0/1 labels (the library's aucInterval): also throws on a non-finite score or a label
// other than 0/1.
AucInterval bootstrapAucInterval(const double* scores, const double* labels, size_t count, int64_t resamples, uint64_t seed,
                                 double level = 0.95);

}  // namespace tn
