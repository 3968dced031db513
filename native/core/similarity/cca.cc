#include "core/similarity/cca.h"

#include <cmath>
#include <limits>

#include <ATen/Parallel.h>

#include "core/compat.h"

namespace tn {
namespace {

// Eigenvalues below this x the largest span no direction (singular values below ~1e-7 x the largest).
constexpr double kRankTolerance = 1e-14;

// CCA of two prepared sides from their cross-Gram S_ab = A^T B: with whitening maps Wa, Wb (A Wa, B Wb orthonormal),
// Wa^T S_ab Wb = U diag(rho) V^T. rho are the canonical correlations (descending); A Wa U are A's unit canonical variates.
struct Canonical {
  torch::Tensor rho, rotationA, rotationB;
};
Canonical canonical(const torch::Tensor& cross, const torch::Tensor& whitenA, const torch::Tensor& whitenB) {
  auto [u, rho, vh] = compat::thinSvd(whitenA.t().mm(cross).mm(whitenB));
  return {rho.clamp(0.0, 1.0), u, vh.t()};
}

// Mean over min(p, q) correlations: directions a rank-deficient side lacks count as 0.
double meanOver(const torch::Tensor& rho, int64_t count) {
  return count == 0 ? 0.0 : rho.sum().item<double>() / static_cast<double>(count);
}

// The leading directions explaining `variance` of the side (sum of squared singular values), or a fixed count.
int64_t svccaKeep(const torch::Tensor& singular, const SimilarityOptions& o) {
  const int64_t r = singular.size(0);
  if (o.svccaDirections > 0) return std::min<int64_t>(o.svccaDirections, r);
  const auto energy = singular.pow(2);
  const auto cumulative = energy.cumsum(0) / energy.sum();
  const auto below = (cumulative < o.svccaVariance - 1e-12).sum().item<int64_t>();
  return std::min(r, below + 1);
}

// Kornblith et al.'s debiased estimator of <X X^T, Y Y^T> on centred features (Nguyen et al.'s unbiased HSIC).
double debiasedDot(double xty, const torch::Tensor& rowsX, const torch::Tensor& rowsY, double normX, double normY, double n) {
  return xty - n / (n - 2.0) * rowsX.dot(rowsY).item<double>() + normX * normY / ((n - 1.0) * (n - 2.0));
}

// X^T Y over blocks of datapoints, one block per LibTorch thread: each block's product goes to BLAS on its own thread
// and the partial sums are added. Parallel even where the BLAS is single-threaded (Debian's reference libblas).
torch::Tensor crossProduct(const torch::Tensor& x, const torch::Tensor& y) {
  const int64_t n = x.size(0), parts = std::min<int64_t>(at::get_num_threads(), n / 2048);
  if (parts <= 1 || !x.device().is_cpu()) return x.t().mm(y);
  std::vector<torch::Tensor> partial(parts);
  at::parallel_for(0, parts, /*grain_size=*/1, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      const int64_t lo = n * k / parts, hi = n * (k + 1) / parts;
      partial[k] = x.slice(0, lo, hi).t().mm(y.slice(0, lo, hi));
    }
  });
  auto sum = partial[0];
  for (int64_t k = 1; k < parts; ++k) sum = sum + partial[k];
  return sum;
}

}  // namespace

PreparedActivations prepareActivations(const torch::Tensor& data, double epsilon, const std::string& what) {
  if (!torch::isfinite(data).all().item<bool>())
    throw invalidArg("The activations of " + what + " contain NaN or Inf");
  PreparedActivations p;
  p.datapoints = data.size(0);
  p.neurons = data.size(1);
  const auto centred = data - data.mean(0, /*keepdim=*/true);
  const auto variance = centred.pow(2).sum(0);
  const double largest = variance.max().item<double>();
  const auto alive = variance > epsilon * largest;
  p.dead = p.neurons - alive.sum().item<int64_t>();
  if (largest == 0 || p.dead == p.neurons) throw invalidArg("Every neuron of " + what + " is constant: no similarity is defined");
  if (p.datapoints <= p.neurons - p.dead)
    throw invalidArg("CCA needs more datapoints than neurons, but " + what + " has " + std::to_string(p.datapoints) +
                     " datapoints for " + std::to_string(p.neurons - p.dead) + " live neurons (keep >= 10x as many)");
  p.live = p.dead ? centred.index({torch::indexing::Slice(), alive}) : centred;
  p.gram = crossProduct(p.live, p.live);
  p.rowNorms = centred.pow(2).sum(1);
  auto [values, vectors] = torch::linalg::eigh(p.gram, "L");  // ascending
  values = values.flip(0);
  vectors = vectors.flip(1);
  const int64_t rank = (values > kRankTolerance * values[0].item<double>()).sum().item<int64_t>();
  p.energy = values.narrow(0, 0, rank);
  p.whiten = vectors.narrow(1, 0, rank) / p.energy.sqrt().unsqueeze(0);
  return p;
}

SimilarityResult compare(const PreparedActivations& a, const PreparedActivations& b, const SimilarityOptions& o) {
  if (a.datapoints != b.datapoints)
    throw invalidArg("The two activation sets must share their datapoints, but have " + std::to_string(a.datapoints) +
                     " and " + std::to_string(b.datapoints));
  SimilarityResult r;
  r.neuronsA = a.neurons;
  r.neuronsB = b.neurons;
  r.deadA = a.dead;
  r.deadB = b.dead;
  r.datapoints = a.datapoints;
  const int64_t liveA = a.neurons - a.dead, liveB = b.neurons - b.dead;
  const auto cross = crossProduct(a.live, b.live);  // (pa, pb): the only product over datapoints per pair

  const Canonical c = canonical(cross, a.whiten, b.whiten);
  const auto& rho = c.rho;
  r.cca.assign(rho.data_ptr<double>(), rho.data_ptr<double>() + rho.numel());
  r.meanCca = meanOver(rho, std::min(liveA, liveB));

  r.svccaKeptA = svccaKeep(a.energy.sqrt(), o);
  r.svccaKeptB = svccaKeep(b.energy.sqrt(), o);
  const auto svccaRho = canonical(cross, a.whiten.narrow(1, 0, r.svccaKeptA), b.whiten.narrow(1, 0, r.svccaKeptB)).rho;
  r.svccaMean = meanOver(svccaRho, std::min(r.svccaKeptA, r.svccaKeptB));

  // PWCCA on the side with fewer live neurons: unit canonical variates h_i = X W u_i, weighted by sum_j |<h_i, x_j>|,
  // and X^T h_i = (X^T X) W u_i needs no pass over the datapoints.
  const bool aSide = liveA <= liveB;
  const auto& side = aSide ? a : b;
  const auto weights = side.gram.mm(side.whiten).mm(aSide ? c.rotationA : c.rotationB).abs().sum(0);  // (k)
  r.pwcca = (weights * rho).sum().item<double>() / weights.sum().item<double>();

  // Linear CKA, plain and debiased, from the Gram products (dead neurons are zero columns and change nothing).
  const double xty = cross.pow(2).sum().item<double>();
  const double xtx = a.gram.pow(2).sum().item<double>(), yty = b.gram.pow(2).sum().item<double>();
  r.linearCka = xty / std::sqrt(xtx * yty);
  const double n = static_cast<double>(a.datapoints);
  const double normX = a.rowNorms.sum().item<double>(), normY = b.rowNorms.sum().item<double>();
  const double num = debiasedDot(xty, a.rowNorms, b.rowNorms, normX, normY, n);
  const double dx = debiasedDot(xtx, a.rowNorms, a.rowNorms, normX, normX, n);
  const double dy = debiasedDot(yty, b.rowNorms, b.rowNorms, normY, normY, n);
  r.debiasedCka = num / std::sqrt(dx * dy);

  for (double v : {r.meanCca, r.svccaMean, r.pwcca, r.linearCka})
    if (!std::isfinite(v)) throw Error("ERR_NUMERICS", "A similarity came out non-finite; the inputs are degenerate");
  if (!std::isfinite(r.debiasedCka)) r.debiasedCka = std::numeric_limits<double>::quiet_NaN();  // n <= 3 or zero HSIC
  return r;
}

torch::Tensor asDatapointsByNeurons(const ArrayData& input, const std::string& layout, const torch::Tensor& positions,
                                    const torch::Device& device, const std::string& what) {
  const auto& s = input.shape;
  int64_t numel = 1;
  for (int64_t d : s) numel *= d;
  const int64_t have = static_cast<int64_t>(input.f32.empty() ? input.f64.size() : input.f32.size());
  if (numel != have)
    throw invalidArg("The shape of " + what + " " + c10::str(c10::IntArrayRef(s)) + " needs " + std::to_string(numel) +
                     " values but the data has " + std::to_string(have));
  auto t = input.f32.empty()
               ? torch::from_blob(const_cast<double*>(input.f64.data()), s, torch::kFloat64).to(device, torch::kFloat64, false, true)
               : torch::from_blob(const_cast<float*>(input.f32.data()), s, torch::kFloat32).to(device, torch::kFloat64);
  if (layout == "datapoints-first" || layout == "neurons-first") {
    if (s.size() != 2) throw invalidArg("Expected " + what + " to be 2-D for layout \"" + layout + "\" but its shape is " + c10::str(c10::IntArrayRef(s)));
    return layout == "datapoints-first" ? t : t.t().contiguous();
  }
  if (layout == "nchw") {
    if (s.size() != 4) throw invalidArg("Expected " + what + " to be 4-D (N, C, H, W) for layout \"nchw\" but its shape is " + c10::str(c10::IntArrayRef(s)));
    // (N, C, H, W) -> (N*H*W, C): every position of every image is a datapoint, every channel a neuron.
    auto flat = t.permute({0, 2, 3, 1}).reshape({-1, s[1]});
    return positions.defined() ? flat.index_select(0, positions.to(device)) : flat;
  }
  throw invalidArg("Expected `layout` to be \"datapoints-first\", \"neurons-first\" or \"nchw\" but received \"" + layout + "\"");
}

}  // namespace tn
