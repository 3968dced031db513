// The similarity metrics as one table: each entry's name is its one spelling from here to the report (results.cc
// writes a result's values under these names, `similarityMetrics()` lists the table to TypeScript), with what it
// reads of the prepared inputs, its range and direction, and its reference. compare() (cca.cc) computes every entry
// from the pair's shared pieces (PairWork), each made once on first use. Adding a metric is one entry in metrics.cc
// (its function and its row) plus its test. Torch-free.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace tn {

// How far each input must be prepared for a metric (core/similarity/cca.h's PreparedActivations), in order: centred
// (live neurons, row norms), its Gram X^T X, that Gram's eigendecomposition (whitening).
enum class Preparation { centred = 0, gram = 1, factorised = 2 };

struct MetricInfo {
  const char* name;       // camelCase, the result's key everywhere
  const char* direction;  // "similarity" (higher: more alike) or "distance" (lower: more alike)
  double low, high;       // its range
  const char* needs;      // what it reads of the prepared inputs (core/similarity/cca.h)
  const char* what;       // its computation, in a sentence
  const char* reference;  // where it comes from
  bool ccaFamily;         // biased upwards with few datapoints per neuron: the reliability rule applies
  bool nullable;          // NaN is an answer ("undefined here"), written as null; otherwise non-finite is ERR_NUMERICS
  bool byDefault;         // computed when no metrics are named (false: costly, computed when asked for)
  Preparation preparation;  // what it reads of each prepared input
};

const std::vector<MetricInfo>& metricTable();
// The entry's index by name, or -1.
int metricIndex(const char* name);
// Which entries to compute for `names` (empty: the default ones); ERR_INVALID_ARG naming an unknown one and the table.
std::vector<bool> selectedMetrics(const std::vector<std::string>& names);
// The preparation the metrics named (empty: the default ones) need: the most any of them needs.
Preparation preparationFor(const std::vector<std::string>& names);
// rbfCka keeps each side's n x n kernel while its pairs run: at most this many datapoints.
constexpr int64_t kRbfMaxDatapoints = 8192;

}  // namespace tn
