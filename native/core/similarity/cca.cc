#include "core/similarity/cca.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include <ATen/Parallel.h>

#include "core/compat.h"
#include "core/error.h"
#include "core/memory/pages.h"
#include "core/similarity/gram.h"
#include "core/similarity/pair.h"

namespace tn {
namespace {

// Finite values whose squared deviations pass float64's range (|x| above ~1e154): told apart from constant neurons,
// which they were reported as (issue 28).
Error overflow(const std::string& what) {
  return Error("ERR_NUMERICS", "The activations of " + what +
                                   " are too large: their variance overflows float64 (values beyond ~1e154); rescale them");
}

// Eigenvalues below this x the largest span no direction (singular values below ~1e-7 x the largest).
constexpr double kRankTolerance = 1e-14;

// The Gram route's kernel (gram.h), chosen by measurement the first time one is asked for: the SIMD kernels against
// LibTorch's BLAS, each on one thread (compareInputs holds the BLAS to one thread), as every product here runs.
const char* kernel() {
  gramCalibration();
  return gram::kernelName();
}

// X^T Y over blocks of datapoints, one block per LibTorch thread. On the CPU the SIMD kernel of gram.cc runs it
// (exploiting symmetry for X^T X); elsewhere, or on a CPU without one, each block's product goes to the BLAS on its
// own thread and the partial sums are added (parallel even where that BLAS is single-threaded). `meter` counts it.
torch::Tensor crossProduct(const torch::Tensor& x, const torch::Tensor& y, WorkMeter* meter = nullptr) {
  const auto start = std::chrono::steady_clock::now();
  const bool symmetric = x.is_same(y);
  const int64_t n = x.size(0), parts = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), n / 2048));
  torch::Tensor out;
  if (x.device().is_cpu() && x.scalar_type() == torch::kFloat64 && kernel()) {
    const auto xc = x.contiguous(), yc = symmetric ? xc : y.contiguous();
    out = torch::empty({x.size(1), y.size(1)}, xc.options());
    gram::crossProduct(xc.data_ptr<double>(), xc.size(1), xc.size(1), yc.data_ptr<double>(), yc.size(1), yc.size(1), n,
                       symmetric, out.data_ptr<double>(), parts, [](int64_t count, const std::function<void(int64_t, int64_t)>& body) {
                         at::parallel_for(0, count, /*grain_size=*/1, body);
                       });
  } else if (parts <= 1 || !x.device().is_cpu()) {
    out = x.t().mm(y);
  } else {
    std::vector<torch::Tensor> partial(parts);
    at::parallel_for(0, parts, /*grain_size=*/1, [&](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k) {
        const int64_t lo = n * k / parts, hi = n * (k + 1) / parts;
        partial[k] = x.slice(0, lo, hi).t().mm(y.slice(0, lo, hi));
      }
    });
    out = partial[0];
    for (int64_t k = 1; k < parts; ++k) out = out + partial[k];
  }
  if (meter) {
    if (!x.device().is_cpu()) torch::cuda::synchronize();
    // Inside a parallel region (one item per thread) at::parallel_for runs on the calling thread alone.
    const int64_t threads = at::in_parallel_region() || !x.device().is_cpu() ? 1 : parts;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
    const int64_t p = x.size(1), q = y.size(1);
    meter->products += 1;
    meter->flops += symmetric ? n * p * (p + 1) : 2 * n * p * q;
    meter->threadNanoseconds += ns * threads;
  }
  return out;
}



// An uninitialised (rows, cols) float64 CPU tensor on huge pages (core/memory/pages.h: its first touch is the cost
// otherwise; with TRANSFUSION_CPU_CACHE=0 torch::empty would not give it them).
torch::Tensor hugeEmpty(int64_t rows, int64_t cols) {
  const size_t count = static_cast<size_t>(rows * cols);
  double* data = HugePageAllocator<double>().allocate(count);
  return torch::from_blob(data, {rows, cols}, [count](void* d) { HugePageAllocator<double>().deallocate(static_cast<double*>(d), count); },
                          torch::TensorOptions(torch::kFloat64));
}

// Sums over datapoints in blocks of this many, each block summed on its own: rounding grows with the block and the
// block count, not with n.
constexpr int64_t kSumBlock = 256;

// The CPU's preparation up to the Gram product, straight from the data as it arrives (x: (n, p) of T, strides s0, s1):
// the neurons' means and variances, the dead ones, then the live neurons centred in float64 on huge pages and each
// datapoint's squared centred norm (over every neuron), in three passes and no other array of the data's size.
// Contiguous rows (s1 == 1) get loops the compiler vectorises.
template <class T, bool kRows>
void centreOnCpu(const T* x, int64_t s0, int64_t s1, double epsilon, const std::string& what, PreparedActivations& p) {
  const int64_t n = p.datapoints, np = p.neurons;
  const auto at = [&](int64_t i, int64_t j) { return static_cast<double>(x[i * s0 + (kRows ? j : j * s1)]); };
  std::vector<double> sums(np, 0.0), block(np);
  bool finite = true;
  for (int64_t i0 = 0; i0 < n; i0 += kSumBlock) {
    std::fill(block.begin(), block.end(), 0.0);
    for (int64_t i = i0; i < std::min(n, i0 + kSumBlock); ++i)
      for (int64_t j = 0; j < np; ++j) {
        const double v = at(i, j);
        finite &= std::abs(v) <= std::numeric_limits<double>::max();
        block[j] += v;
      }
    for (int64_t j = 0; j < np; ++j) sums[j] += block[j];
  }
  if (!finite) throw invalidArg("The activations of " + what + " contain NaN or Inf");
  std::vector<double> mean(np), variance(np);  // value-initialised: zeros
  for (int64_t j = 0; j < np; ++j) mean[j] = sums[j] / static_cast<double>(n);
  for (int64_t i0 = 0; i0 < n; i0 += kSumBlock) {
    std::fill(block.begin(), block.end(), 0.0);
    for (int64_t i = i0; i < std::min(n, i0 + kSumBlock); ++i)
      for (int64_t j = 0; j < np; ++j) {
        const double c = at(i, j) - mean[j];
        block[j] += c * c;
      }
    for (int64_t j = 0; j < np; ++j) variance[j] += block[j];
  }
  const double largest = *std::max_element(variance.begin(), variance.end());
  if (!std::isfinite(largest)) throw overflow(what);
  std::vector<int64_t> live;
  for (int64_t j = 0; j < np; ++j)
    if (variance[j] > epsilon * largest) live.push_back(j);
  p.dead = np - static_cast<int64_t>(live.size());
  if (largest == 0 || live.empty()) throw UndefinedSimilarity("Every neuron of " + what + " is constant: no similarity is defined");
  if (n <= static_cast<int64_t>(live.size()))
    throw UndefinedSimilarity("CCA needs more datapoints than neurons, but " + what + " has " + std::to_string(n) + " datapoints for " +
                     std::to_string(live.size()) + " live neurons (keep >= 10x as many)");
  const int64_t pl = static_cast<int64_t>(live.size());
  p.live = hugeEmpty(n, pl);
  p.rowNorms = torch::empty({n}, torch::kFloat64);
  double* out = p.live.data_ptr<double>();
  double* norms = p.rowNorms.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i) {
    double norm = 0;
    double* row = out + i * pl;
    if (p.dead == 0) {
      for (int64_t j = 0; j < np; ++j) {  // written and summed in one loop
        const double c = at(i, j) - mean[j];
        row[j] = c;
        norm += c * c;
      }
    } else {
      for (int64_t j = 0; j < np; ++j) {
        const double c = at(i, j) - mean[j];
        norm += c * c;
      }
      for (int64_t k = 0; k < pl; ++k) row[k] = at(i, live[k]) - mean[live[k]];
    }
    norms[i] = norm;
  }
  for (int64_t j : live) p.liveSquares += variance[j];
}

template <class T>
void centreOnCpu(const torch::Tensor& data, double epsilon, const std::string& what, PreparedActivations& p) {
  const T* x = data.data_ptr<T>();
  if (data.stride(1) == 1)
    centreOnCpu<T, true>(x, data.stride(0), 1, epsilon, what, p);
  else
    centreOnCpu<T, false>(x, data.stride(0), data.stride(1), epsilon, what, p);
}

// The centred float64 live neurons of `data` into p (live, dead, rowNorms): in one pass on the CPU, with tensor ops
// elsewhere. Throws as prepareActivations says.
void centre(const torch::Tensor& data, double epsilon, const std::string& what, PreparedActivations& p) {
  if (data.device().is_cpu() && (data.scalar_type() == torch::kFloat32 || data.scalar_type() == torch::kFloat64)) {
    if (data.scalar_type() == torch::kFloat32)
      centreOnCpu<float>(data, epsilon, what, p);
    else
      centreOnCpu<double>(data, epsilon, what, p);
  } else {
    const auto x = data.to(torch::kFloat64);
    if (!torch::isfinite(x).all().item<bool>()) throw invalidArg("The activations of " + what + " contain NaN or Inf");
    const auto centred = x - x.mean(0, /*keepdim=*/true);
    const auto variance = centred.pow(2).sum(0);
    const double largest = variance.max().item<double>();
    if (!std::isfinite(largest)) throw overflow(what);
    const auto alive = variance > epsilon * largest;
    p.dead = p.neurons - alive.sum().item<int64_t>();
    if (largest == 0 || p.dead == p.neurons) throw UndefinedSimilarity("Every neuron of " + what + " is constant: no similarity is defined");
    if (p.datapoints <= p.neurons - p.dead)
      throw UndefinedSimilarity("CCA needs more datapoints than neurons, but " + what + " has " + std::to_string(p.datapoints) +
                       " datapoints for " + std::to_string(p.neurons - p.dead) + " live neurons (keep >= 10x as many)");
    p.live = p.dead ? centred.index({torch::indexing::Slice(), alive}) : centred;
    p.rowNorms = centred.pow(2).sum(1);
    p.liveSquares = variance.masked_select(alive).sum().item<double>();
  }
}

// The eigenvalues of symmetric g, descending, and their unit eigenvectors as columns in the same order. (LAPACK's
// dsyevr, called directly, measured no faster than the dsyevd behind torch::linalg_eigh on these Grams: 33 against
// 30 ms at 512 x 512, one thread, 2026-12-07.)
std::pair<torch::Tensor, torch::Tensor> eighDescending(const torch::Tensor& g) {
  auto [values, vectors] = torch::linalg_eigh(g, "L");  // ascending
  return {values.flip(0), vectors.flip(1)};
}

}  // namespace

const std::vector<gram::Timing>& gramCalibration() {
  static const std::vector<gram::Timing>& timings = gram::calibrate([](const double* x, const double* y, int64_t n, int64_t p, double* out) {
    const auto f64 = torch::TensorOptions(torch::kFloat64);
    auto result = torch::from_blob(out, {p, p}, f64);
    torch::mm_out(result, torch::from_blob(const_cast<double*>(x), {n, p}, f64).t(), torch::from_blob(const_cast<double*>(y), {n, p}, f64));
  });
  return timings;
}

void WorkMeter::add(const std::string& phase, int64_t nanoseconds) {
  const std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [name, total] : nanoseconds_)
    if (name == phase) {
      total += nanoseconds;
      return;
    }
  nanoseconds_.emplace_back(phase, nanoseconds);
}

std::vector<std::pair<std::string, double>> WorkMeter::phaseSeconds() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::pair<std::string, double>> out = {{"gram", static_cast<double>(threadNanoseconds) * 1e-9}};
  for (const auto& [name, total] : nanoseconds_) out.emplace_back(name, static_cast<double>(total) * 1e-9);
  return out;
}

PreparedActivations prepareActivations(const torch::Tensor& data, double epsilon, const std::string& what, WorkMeter* meter, Preparation level) {
  PreparedActivations p;
  p.datapoints = data.size(0);
  p.neurons = data.size(1);
  // (n, 0) or (0, p): nothing to centre, and no largest variance to compare with (the CPU path would read past it).
  if (p.datapoints == 0 || p.neurons == 0)
    throw invalidArg("The activations of " + what + " are empty (" + std::to_string(p.datapoints) + " datapoints x " +
                     std::to_string(p.neurons) + " neurons): no similarity is defined");
  {
    const PhaseTimer centring(meter, "centre");
    centre(data, epsilon, what, p);
  }
  if (level == Preparation::centred) return p;
  p.gram = crossProduct(p.live, p.live, meter);
  p.gramSquares = p.gram.pow(2).sum().item<double>();
  if (level == Preparation::gram) return p;
  const PhaseTimer factorising(meter, "factorise");
  const auto [values, vectors] = eighDescending(p.gram);
  const int64_t rank = (values > kRankTolerance * values[0].item<double>()).sum().item<int64_t>();
  p.energy = values.narrow(0, 0, rank);
  p.basis = vectors.narrow(1, 0, rank);
  p.whiten = p.basis / p.energy.sqrt().unsqueeze(0);
  return p;
}

// a b for the small (neurons x neurons) products, through the same kernel on the CPU: a = (a^T)^T.
torch::Tensor smallProduct(const torch::Tensor& a, const torch::Tensor& b) {
  return a.device().is_cpu() && kernel() ? crossProduct(a.t().contiguous(), b) : a.mm(b);
}


// Canonical correlations from M = Wa^T S_ab Wb (whitening maps Wa, Wb make A Wa, B Wb orthonormal; S_ab = A^T B):
// its singular values rho (descending, min(rows, cols) of them) are the canonical correlations, and A Wa U (left
// singular vectors) are A's unit canonical variates. Computed by the symmetric eigenproblem of M M^T or M^T M, which
// costs half an SVD with a reference LAPACK; rho = sqrt(eigenvalue) is then exact to ~1e-8 near 0 and ~1e-16 near 1.
// Whitening maps are ordered by energy, so SVCCA's M for the leading directions is a corner of the full one.
Canonical canonicalOf(const torch::Tensor& m, bool left, bool withRotation) {
  const int64_t k = std::min(m.size(0), m.size(1));
  const auto side = left ? m.t().contiguous() : m.contiguous();  // side^T side = M M^T (left) or M^T M (right)
  const auto g = crossProduct(side, side);
  Canonical c;
  torch::Tensor values;
  if (withRotation) {
    auto [w, v] = eighDescending(g);
    values = w;
    c.rotation = v.narrow(1, 0, k);
  } else {
    values = torch::linalg_eigvalsh(g, "L").flip(0);
  }
  c.rho = values.narrow(0, 0, k).clamp(0.0, 1.0).sqrt();
  return c;
}

const torch::Tensor& PairWork::cross() {
  if (!cross_.defined()) cross_ = crossProduct(a.live, b.live, meter_);
  return cross_;
}

double PairWork::crossSquares() {
  if (crossSquares_ < 0) crossSquares_ = cross().pow(2).sum().item<double>();
  return crossSquares_;
}

const torch::Tensor& PairWork::whitened() {
  if (!whitened_.defined()) whitened_ = smallProduct(smallProduct(a.whiten.t(), cross()), b.whiten);
  return whitened_;
}

const PreparedActivations& PairWork::smallerSide() const { return a.neurons - a.dead <= b.neurons - b.dead ? a : b; }

const Canonical& PairWork::canonical() {
  if (!canonical_.rho.defined()) canonical_ = canonicalOf(whitened(), &smallerSide() == &a, true);
  return canonical_;
}

SimilarityResult compare(const PreparedActivations& a, const PreparedActivations& b, const SimilarityOptions& o, WorkMeter* meter) {
  if (a.datapoints != b.datapoints)
    throw invalidArg("The two activation sets must share their datapoints, but have " + std::to_string(a.datapoints) +
                     " and " + std::to_string(b.datapoints));
  SimilarityResult r;
  r.neuronsA = a.neurons;
  r.neuronsB = b.neurons;
  r.deadA = a.dead;
  r.deadB = b.dead;
  r.datapoints = a.datapoints;
  r.route = std::string("gram/") + (!a.live.device().is_cpu() ? "cuda" : kernel() ? kernel() : "blas");
  r.datapointsPerNeuron = static_cast<double>(a.datapoints) / static_cast<double>(std::max(a.neurons - a.dead, b.neurons - b.dead));
  r.reliable = r.datapointsPerNeuron >= kReliableRatio;
  PairWork work(a, b, o, meter, r);
  work.cross();  // first: the product over datapoints is metered before any metric's small products
  computeMetrics(work);
  return r;
}

}  // namespace tn
