// The similarity engine in float64 (cca.cc): each activation set prepared once (centred, dead neurons dropped, its
// Gram product factorised) and compared pair by pair through the canonical correlations and the shared pieces the
// metric table reads (metrics.cc computes every metric, CKA's included; batch.cc turns raw arrays into activation
// sets and runs the batch). A batch of layer pairs shares the factorisations.
#pragma once
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/job.h"
#include "core/similarity/gram.h"
#include "core/similarity/metrics.h"
#include "core/similarity/options.h"

namespace tn {

struct Model;    // core/models/model.h
struct Dataset;  // core/data/dataset.h

// The Gram route's calibration on this machine (gram.h: each SIMD kernel and LibTorch's BLAS, GFLOP/s on one thread),
// measured the first time it is asked for; the fastest runs every product over datapoints on the CPU.
const std::vector<gram::Timing>& gramCalibration();

// One side, ready for comparison, by the covariance (Gram) route: everything after preparation works on p x p and
// p x q matrices, never on SVDs of tall n x p data (slow on CPU and especially on GPUs).
struct PreparedActivations {
  torch::Tensor live;      // (n, p_live) centred live neurons, float64 (on huge pages on the CPU)
  torch::Tensor gram;      // (p_live, p_live) live^T live
  double gramSquares = 0;  // ||live^T live||_F^2: linear CKA's normaliser, read by every pair the side is in
  double liveSquares = 0;  // ||live||_F^2 (the live neurons' summed squared deviations): Procrustes' scale
  torch::Tensor energy;    // (r) eigenvalues of gram, descending: the squared singular values of `live`
  torch::Tensor basis;     // (p_live, r) the eigenvectors of gram for `energy`
  torch::Tensor whiten;    // (p_live, r) basis / sqrt(energy): live * whiten is an orthonormal basis
  torch::Tensor rowNorms;  // (n) squared norm of each centred datapoint (for debiased CKA)
  int64_t neurons = 0, dead = 0, datapoints = 0;
  // Pieces a costly metric makes on first use and every pair with this side reads (rbfCka's centred kernel), shared
  // by the copies of this side and guarded for the batch's parallel pairs.
  struct Lazy {
    std::mutex mutex;
    torch::Tensor rbfKernel;  // (n, n) centred RBF kernel
    double rbfSelf = 0;       // ||rbfKernel||_F^2
  };
  std::shared_ptr<Lazy> lazy = std::make_shared<Lazy>();
};

// Thrown by prepareActivations where no similarity is defined (ERR_INVALID_ARG): no more datapoints than live
// neurons, or every neuron constant. compareModels leaves out a stage the caller did not name when it meets one.
struct UndefinedSimilarity : Error {
  explicit UndefinedSimilarity(const std::string& message) : Error("ERR_INVALID_ARG", message) {}
};

// Counts a batch's work as its threads do it: the products over the datapoints (the Gram phase: SimilarityWork's gram
// fields) and every other phase's thread time (SimilarityWork::phases): "input" (making each (n, p) input: reading,
// layout conversion, a model's forward pass in compareModels), "centre" (centring into float64, the dead-neuron
// check), "factorise" (the eigendecomposition of each X^T X) and "metric:<name>" (each metric, with the small
// products it is the first of its pair to need).
class WorkMeter {
 public:
  std::atomic<int64_t> products{0}, flops{0}, threadNanoseconds{0};
  void add(const std::string& phase, int64_t nanoseconds);
  // Every phase's thread time so far, in seconds, "gram" included.
  std::vector<std::pair<std::string, double>> phaseSeconds() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, int64_t>> nanoseconds_;  // in the order first met
};

// Adds the wall time from its construction to its end, on this thread, to `meter`'s `phase` (nothing without one).
class PhaseTimer {
 public:
  PhaseTimer(WorkMeter* meter, std::string phase) : meter_(meter), phase_(std::move(phase)), start_(std::chrono::steady_clock::now()) {}
  ~PhaseTimer() {
    if (meter_) meter_->add(phase_, std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count());
  }
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

 private:
  WorkMeter* meter_;
  std::string phase_;
  std::chrono::steady_clock::time_point start_;
};

// (n, p) float32 or float64, any strides -> prepared. On the CPU the centred float64 copy is made in one pass from the
// data as it is, with no other array of its size. Neurons whose variance is below epsilon x the largest variance are
// dead: dropped and counted. Throws ERR_INVALID_ARG naming `what` for non-finite values or too few datapoints.
// `level` stops after centring or after the Gram where the metrics asked for need no more (core/similarity/metrics.h);
// the fields past it stay undefined.
PreparedActivations prepareActivations(const torch::Tensor& data, double epsilon, const std::string& what,
                                       WorkMeter* meter = nullptr, Preparation level = Preparation::factorised);

SimilarityResult compare(const PreparedActivations& a, const PreparedActivations& b, const SimilarityOptions& options,
                         WorkMeter* meter = nullptr);

// Every pair compared, in waves in the order given: each input is made (input(i), (n, p) float32/64) and prepared
// once, in parallel, by the wave that first needs it, and let go of after the last pair that uses it; a wave's pairs
// are compared in parallel; onPair(k) runs on the calling thread, in order, as pairs complete. Inputs are named by
// name(i) in errors. Every result carries the batch's SimilarityWork.
std::vector<SimilarityResult> compareInputs(size_t count, const std::function<torch::Tensor(int)>& input,
                                            const std::function<std::string(int)>& name,
                                            const std::vector<std::pair<int, int>>& pairs, const SimilarityOptions& options,
                                            const JobControl& job, const std::function<void(int64_t)>& onPair);

// The stages asked for (every stage of `model` where none is), each checked to be one of its stages; ERR_INVALID_ARG
// naming the model (as `label` calls it) and the stage otherwise. With layers, its layers (NetworkImpl::layerNames).
std::vector<std::string> stagesOf(Model& model, const std::vector<std::string>& asked, const std::string& label,
                                  bool layers = false);

namespace impl {
std::vector<StageComparison> compareModels(const std::vector<Model*>& models, const Dataset& data,
                                               const std::vector<std::string>& stages,
                                               const std::vector<std::pair<int, int>>& pairs,
                                               const CompareOptions& options, const JobControl& job);
MinibatchCka minibatchCka(Model& a, Model& b, const Dataset& data, const std::vector<std::string>& stagesA,
                          const std::vector<std::string>& stagesB, int batchSize, bool allLayers,
                          const JobControl& job);
std::vector<SimilarityResult> similarityBatch(const std::vector<ArrayData>& inputs,
                                                  const std::vector<std::pair<int, int>>& pairs,
                                                  const SimilarityOptions& options, const JobControl& job);
}  // namespace impl

}  // namespace tn
