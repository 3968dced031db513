// Inputs, options and results of representational similarity and model comparison. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/memory/pages.h"

namespace tn {

// An activation array as it arrives: float32 or float64 (exactly one of the two is filled), row-major, on huge pages.
struct ArrayData {
  std::vector<float, HugePageAllocator<float>> f32;
  std::vector<double, HugePageAllocator<double>> f64;
  std::vector<int64_t> shape;
};
struct SimilarityOptions {
  std::string layout = "datapoints-first";  // "datapoints-first", "neurons-first" (svcca's), "nchw"
  int64_t subsample = 0;   // nchw: datapoints kept (0: all, up to max(20000, 10 x neurons)); same positions both sides
  uint64_t seed = 0;       // of the position subsample
  double epsilon = 1e-10;  // dead-neuron threshold, relative to the largest variance
  double svccaVariance = 0.99;
  int svccaDirections = 0;  // > 0: SVCCA keeps this many directions instead of the variance rule
  std::string device = "cpu";
  // The metrics to compute, by their table names (core/similarity/metrics.h); empty: every entry computed by default.
  std::vector<std::string> metrics;
  double rbfBandwidth = 1.0;  // rbfCka: the kernel's sigma as a fraction of the median pairwise distance
  double shapeAlpha = 0.5;    // shapeMetric: 1 aligns by rotations alone (Procrustes), 0 by any linear map (CCA)
};
// What a batch did, the same on every result of the batch: for benchmarks, and for tests that an input shared by
// many pairs is prepared once.
struct SimilarityWork {
  int64_t prepared = 0;  // inputs centred, multiplied (X^T X) and factorised, once each however many pairs use them
  int64_t products = 0;  // products over the datapoints: one X^T X per prepared input, one X^T Y per pair
  double gramFlops = 0;  // their floating-point operations: 2 n p q, and n p (p + 1) for a symmetric X^T X
  double gramThreadSeconds = 0;  // their time, each product's wall time x the threads it ran on, summed
  double seconds = 0;            // the batch's wall time, from the first input made to the last pair compared
  int threads = 1;               // the threads the batch ran on
  // Where the threads' time went (seconds x threads = the sum): each phase's thread time (WorkMeter's phases: gram,
  // input, centre, factorise, metric:<name>), then "idle": thread time in none of them (waiting at a wave's end for
  // its slowest item, and the little work between phases).
  std::vector<std::pair<std::string, double>> phases;
  // How the CPU ran its products: each Gram route's measured GFLOP/s (the fastest chosen; empty on a GPU).
  std::vector<std::pair<std::string, double>> kernels;
};
struct SimilarityResult {
  std::vector<double> values;  // one per metric, in the table's order (core/similarity/metrics.h); NaN: undefined
  std::vector<bool> computed;  // per metric: asked for (SimilarityOptions::metrics) and computed
  std::vector<double> cca;     // canonical correlations, descending
  int64_t svccaKeptA = 0, svccaKeptB = 0, deadA = 0, deadB = 0, neuronsA = 0, neuronsB = 0, datapoints = 0;
  // Datapoints per live neuron of the wider side, and whether that is enough for the CCA family (kReliableRatio):
  // with fewer, CCA is biased upwards (it fits noise), and results say so rather than look like any other.
  double datapointsPerNeuron = 0;
  bool reliable = false;
  std::string route;  // how the products over datapoints ran: "gram/avx512", "gram/avx2", "gram/blas", "gram/cuda"
  SimilarityWork work;
};
// Runs both models (eval mode) over the dataset and compares their activations at each stage (all stages when empty).
// Conv outputs keep a seeded budget of positions (the same for both models); other outputs keep every image.
struct CompareOptions {
  int64_t maxDatapoints = 0;  // per stage; 0: max(20000, 10 x channels)
  uint64_t seed = 0;
  int batchSize = 64;
};
struct StageComparison {
  std::string stage;
  int pair = 0;  // index into the pairs given
  SimilarityResult result;
  std::string skipped;  // non-empty: the stage was not compared (not asked for by name, too few datapoints), and why
};
// Minibatch linear CKA between every stage of one model and every stage of another (core/similarity/minibatch.cc).
struct MinibatchCka {
  std::vector<std::string> stagesA, stagesB;
  std::vector<double> values;  // stagesA.size() x stagesB.size(), row-major: values[i * stagesB.size() + j]
  int64_t batches = 0, images = 0;  // minibatches used, and their images (a last batch under 4 images is left out)
};
// The CCA family's reliability rule: at least this many datapoints per neuron.
constexpr double kReliableRatio = 10;

}  // namespace tn
