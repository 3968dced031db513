// The metric table (core/similarity/metrics.h): each metric a function of the pair's shared pieces, and its row.
#include "core/similarity/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/similarity/pair.h"

namespace tn {
namespace {

// Mean over min(p, q) correlations: directions a rank-deficient side lacks count as 0.
double meanOver(const torch::Tensor& rho, int64_t count) {
  return count == 0 ? 0.0 : rho.sum().item<double>() / static_cast<double>(count);
}

// The leading directions explaining `variance` of the side (sum of squared singular values), or a fixed count.
int64_t svccaKeep(const torch::Tensor& energy, const SimilarityOptions& o) {
  const int64_t r = energy.size(0);
  if (o.svccaDirections > 0) return std::min<int64_t>(o.svccaDirections, r);
  const auto cumulative = energy.cumsum(0) / energy.sum();
  const auto below = (cumulative < o.svccaVariance - 1e-12).sum().item<int64_t>();
  return std::min(r, below + 1);
}

// Kornblith et al.'s debiased estimator of <X X^T, Y Y^T> on centred features (Nguyen et al.'s unbiased HSIC).
double debiasedDot(double xty, const torch::Tensor& rowsX, const torch::Tensor& rowsY, double normX, double normY, double n) {
  return xty - n / (n - 2.0) * rowsX.dot(rowsY).item<double>() + normX * normY / ((n - 1.0) * (n - 2.0));
}

double meanCca(PairWork& w) {
  const auto& c = w.canonical();
  w.result.cca.assign(c.rho.data_ptr<double>(), c.rho.data_ptr<double>() + c.rho.numel());
  return meanOver(c.rho, std::min(w.a.neurons - w.a.dead, w.b.neurons - w.b.dead));
}

double svccaMean(PairWork& w) {
  w.result.svccaKeptA = svccaKeep(w.a.energy, w.options);
  w.result.svccaKeptB = svccaKeep(w.b.energy, w.options);
  // Whitening maps are ordered by energy: SVCCA's matrix for the leading directions is a corner of the full one.
  const auto corner = w.whitened().narrow(0, 0, w.result.svccaKeptA).narrow(1, 0, w.result.svccaKeptB);
  return meanOver(canonicalOf(corner, corner.size(0) <= corner.size(1), false).rho, std::min(w.result.svccaKeptA, w.result.svccaKeptB));
}

// PWCCA on the side with fewer live neurons: unit canonical variates h_i = X W u_i, weighted by sum_j |<h_i, x_j>|,
// and X^T h_i = (X^T X) W u_i = V sqrt(E) u_i (X^T X = V E V^T, W = V E^-1/2) needs no pass over the datapoints.
double pwcca(PairWork& w) {
  const auto& c = w.canonical();
  const auto& side = w.smallerSide();
  const auto weights = smallProduct(side.basis * side.energy.sqrt().unsqueeze(0), c.rotation).abs().sum(0);
  return (weights * c.rho).sum().item<double>() / weights.sum().item<double>();
}

// Linear CKA, plain and debiased, from the Gram products (dead neurons are zero columns and change nothing).
double linearCka(PairWork& w) {
  return w.crossSquares() / std::sqrt(w.a.gramSquares * w.b.gramSquares);
}

double debiasedLinearCka(PairWork& w) {
  const auto &a = w.a, &b = w.b;
  const double n = static_cast<double>(a.datapoints);
  const double normX = a.rowNorms.sum().item<double>(), normY = b.rowNorms.sum().item<double>();
  const double num = debiasedDot(w.crossSquares(), a.rowNorms, b.rowNorms, normX, normY, n);
  const double dx = debiasedDot(a.gramSquares, a.rowNorms, a.rowNorms, normX, normX, n);
  const double dy = debiasedDot(b.gramSquares, b.rowNorms, b.rowNorms, normY, normY, n);
  const double v = num / std::sqrt(dx * dy);
  return std::isfinite(v) ? v : std::numeric_limits<double>::quiet_NaN();  // n <= 3 or zero HSIC: undefined
}

// Orthogonal Procrustes distance between the centred activations scaled to unit Frobenius norm: min over orthogonal
// Q of ||X - Y Q||_F = sqrt(2 - 2 ||X^T Y||_*) (the narrower side padded with zero columns). ||X^T Y||_* is the sum
// of the cross product's singular values, from the eigenvalues of its smaller Gram.
// The sum of a small matrix's singular values, from the eigenvalues of its smaller Gram.
double nuclearNorm(const torch::Tensor& c) {
  const auto g = c.size(0) <= c.size(1) ? smallProduct(c, c.t().contiguous()) : smallProduct(c.t().contiguous(), c);
  return torch::linalg_eigvalsh(g, "L").clamp_min(0.0).sqrt().sum().item<double>();
}

double procrustes(PairWork& w) {
  const double nuclear = nuclearNorm(w.cross());
  const double scale = std::sqrt(w.a.liveSquares * w.b.liveSquares);  // ||X||_F ||Y||_F, from the centring
  return std::sqrt(std::max(0.0, 2.0 - 2.0 * nuclear / scale));
}

// numpy's median of every entry (the mean of the two middle ones for an even count), by selection on a copy.
double medianOf(const torch::Tensor& t) {
  const auto cpu = t.to(torch::kCPU).contiguous();
  std::vector<double> v(cpu.data_ptr<double>(), cpu.data_ptr<double>() + cpu.numel());
  const size_t m = v.size(), upper = m / 2;
  std::nth_element(v.begin(), v.begin() + upper, v.end());
  if (m % 2) return v[upper];
  return 0.5 * (v[upper] + *std::max_element(v.begin(), v.begin() + upper));
}

// A side's centred RBF kernel and its squared norm, made on first use and kept for the side's other pairs: Kornblith
// et al.'s gram_rbf (sigma = bandwidth x the median pairwise distance, the median over all n^2 squared distances as
// numpy takes it) and center_gram (H K H).
std::pair<torch::Tensor, double> rbfKernel(const PreparedActivations& side, double bandwidth) {
  std::lock_guard<std::mutex> hold(side.lazy->mutex);
  auto& lazy = *side.lazy;
  if (!lazy.rbfKernel.defined()) {
    const int64_t n = side.datapoints;
    if (n > kRbfMaxDatapoints)
      throw invalidArg("rbfCka keeps an n x n kernel per side: at most " + std::to_string(kRbfMaxDatapoints) + " datapoints, but this pair has " +
                       std::to_string(n) + "; subsample the datapoints or leave rbfCka out");
    // In place throughout: at n = 8192 each n x n array is 512 MiB.
    auto k = side.live.mm(side.live.t());
    const auto norms = k.diagonal().clone();
    k.mul_(-2.0).add_(norms.unsqueeze(1)).add_(norms.unsqueeze(0));  // squared distances
    const double median = medianOf(k);
    k.mul_(-1.0 / (2.0 * bandwidth * bandwidth * median)).exp_();
    auto means = k.mean(0);
    means -= means.mean() / 2;
    k.sub_(means.unsqueeze(1)).sub_(means.unsqueeze(0));
    const auto flat = k.reshape({-1});
    lazy.rbfSelf = flat.dot(flat).item<double>();
    lazy.rbfKernel = std::move(k);
  }
  return {lazy.rbfKernel, lazy.rbfSelf};
}

// CKA of the RBF kernels: <Kc, Lc> / sqrt(<Kc, Kc> <Lc, Lc>) (the HSIC normalisation cancels).
double rbfCka(PairWork& w) {
  const auto [k, selfK] = rbfKernel(w.a, w.options.rbfBandwidth);
  const auto [l, selfL] = rbfKernel(w.b, w.options.rbfBandwidth);
  return k.reshape({-1}).dot(l.reshape({-1})).item<double>() / std::sqrt(selfK * selfL);
}

// Williams et al.'s generalised shape metric (netrep's LinearMetric, angular): each side partially whitened,
// X -> X V diag(d) V^T with d = alpha + (1 - alpha) lambda^-1/2 (lambda: the eigenvalues of X^T X, floored at 1e-7),
// then the angle arccos(||Xw^T Yw||_* / (||Xw||_F ||Yw||_F)) after the best rotation. alpha = 1 is Procrustes' angle,
// alpha = 0 that of CCA (sum of canonical correlations over sqrt(ra rb)). Xw^T Yw is, up to rotations, which leave
// its singular values alone, diag(d_a sqrt(lambda_a)) (Wa^T A^T B Wb) diag(d_b sqrt(lambda_b)): the whitened cross
// product CCA already made.
double shapeMetric(PairWork& w) {
  const double alpha = w.options.shapeAlpha;
  const auto& m = w.whitened();
  const auto side = [&](const PreparedActivations& s) {
    const auto energy = s.energy.to(m.device());
    const auto d = alpha + (1.0 - alpha) * energy.clamp_min(1e-7).rsqrt();
    return std::make_pair(d * energy.sqrt(), (energy * d * d).sum().item<double>());
  };
  const auto [ga, varianceA] = side(w.a);
  const auto [gb, varianceB] = side(w.b);
  const double cosine = nuclearNorm(ga.unsqueeze(1) * m * gb.unsqueeze(0)) / std::sqrt(varianceA * varianceB);
  return std::acos(std::clamp(cosine, -1.0, 1.0));
}

struct Entry {
  MetricInfo info;
  double (*compute)(PairWork&);
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> table = {
      {{"meanCca", "similarity", 0, 1, "whitening (each side's Gram eigendecomposition), the cross product",
        "the mean of the canonical correlations, over the smaller side's live neurons", "Raghu et al. 2017, SVCCA", true, false, true, Preparation::factorised},
       meanCca},
      {{"svccaMean", "similarity", 0, 1, "whitening, the cross product",
        "mean CCA after keeping each side's leading singular directions (svccaVariance of its variance)", "Raghu et al. 2017, SVCCA", true, false, true, Preparation::factorised},
       svccaMean},
      {{"pwcca", "similarity", 0, 1, "whitening, the cross product, the canonical rotation",
        "canonical correlations weighted by how much of the smaller side each canonical variate accounts for", "Morcos et al. 2018", true, false, true, Preparation::factorised},
       pwcca},
      {{"linearCka", "similarity", 0, 1, "Gram products", "HSIC of the linear kernels, normalised", "Kornblith et al. 2019", false, false, true, Preparation::gram},
       linearCka},
      {{"debiasedLinearCka", "similarity", -1, 1, "Gram products, each datapoint's squared norm",
        "linear CKA on the unbiased HSIC estimator (null with fewer than 4 datapoints)", "Kornblith et al. 2019; Nguyen et al. 2021", false, true, true, Preparation::gram},
       debiasedLinearCka},
      {{"procrustes", "distance", 0, 1.4142135623730951, "Gram traces, the cross product",
        "orthogonal Procrustes distance between the centred activations scaled to unit Frobenius norm, sqrt(2 - 2 ||X^T Y||_*)",
        "Ding, Denain and Steinhardt 2021; Williams et al. 2021", false, false, true, Preparation::centred},
       procrustes},
      {{"shapeMetric", "distance", 0, 1.5707963267948966, "whitening (each side's Gram eigendecomposition), the cross product",
        "Williams et al.'s angular shape distance after partial whitening by shapeAlpha (1: Procrustes' angle; 0: CCA's)",
        "Williams, Kunz, Kornblith and Linderman 2021", false, false, true, Preparation::factorised},
       shapeMetric},
      {{"rbfCka", "similarity", 0, 1, "kernel matrices: each side's n x n RBF kernel, centred (at most 8192 datapoints)",
        "CKA of Gaussian RBF kernels, sigma = rbfBandwidth x the median pairwise distance (computed when asked for)",
        "Kornblith et al. 2019", false, false, false, Preparation::centred},
       rbfCka},
  };
  return table;
}

}  // namespace

const std::vector<MetricInfo>& metricTable() {
  static const std::vector<MetricInfo> infos = [] {
    std::vector<MetricInfo> v;
    for (const auto& e : entries()) v.push_back(e.info);
    return v;
  }();
  return infos;
}

int metricIndex(const char* name) {
  const auto& t = metricTable();
  for (size_t i = 0; i < t.size(); ++i)
    if (std::strcmp(t[i].name, name) == 0) return static_cast<int>(i);
  return -1;
}

std::vector<bool> selectedMetrics(const std::vector<std::string>& names) {
  const auto& t = metricTable();
  std::vector<bool> chosen(t.size(), names.empty());
  if (names.empty()) {
    for (size_t i = 0; i < t.size(); ++i) chosen[i] = t[i].byDefault;
    return chosen;
  }
  for (const auto& name : names) {
    const int i = metricIndex(name.c_str());
    if (i < 0) {
      std::string known;
      for (const auto& m : t) known += (known.empty() ? "" : ", ") + std::string(m.name);
      throw invalidArg("Expected `metrics` to name metrics from: " + known + " but received \"" + name + "\"");
    }
    chosen[i] = true;
  }
  return chosen;
}

Preparation preparationFor(const std::vector<std::string>& names) {
  const auto chosen = selectedMetrics(names);
  Preparation most = Preparation::centred;
  for (size_t i = 0; i < chosen.size(); ++i)
    if (chosen[i]) most = std::max(most, metricTable()[i].preparation);
  return most;
}

void computeMetrics(PairWork& w) {
  w.result.values.clear();
  w.result.computed = selectedMetrics(w.options.metrics);
  size_t i = 0;
  for (const auto& e : entries()) {
    if (!w.result.computed[i++]) {
      w.result.values.push_back(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    double v;
    {
      const PhaseTimer timer(w.meter(), std::string("metric:") + e.info.name);
      v = e.compute(w);
    }
    if (!std::isfinite(v) && !e.info.nullable)
      throw Error("ERR_NUMERICS", std::string("The similarity ") + e.info.name + " came out non-finite; the inputs are degenerate");
    w.result.values.push_back(v);
  }
}

}  // namespace tn
