// Minibatch linear CKA (Nguyen, Raghu and Kornblith 2021, "Do wide and deep networks learn the same things?"): every
// stage of one model against every stage of another over a probe set, each image a datapoint with its activations
// flattened, without holding any stage's activations beyond one batch. Per minibatch, each stage's Gram matrix
// K = X X^T (batch x batch, float64) with its diagonal zeroed; the unbiased HSIC of Song et al. (2012) of each pair of
// them; CKA = mean HSIC(K, L) / sqrt(mean HSIC(K, K) mean HSIC(L, L)) over the minibatches. With one batch holding
// every image it is the full data's debiased linear CKA (Kornblith et al.'s, which compare() computes).
#include "core/compat.h"
#include "core/data/dataset.h"
#include "core/error.h"
#include "core/models/model.h"
#include "core/similarity/cca.h"

namespace tn {
namespace {

// (n, features) -> K = X X^T with a zero diagonal, float64 on the rows' device.
torch::Tensor zeroDiagonalGram(const torch::Tensor& activations) {
  const auto x = activations.reshape({activations.size(0), -1}).to(torch::kFloat64);
  auto k = x.mm(x.t());
  k.fill_diagonal_(0);
  return k;
}

// Song et al.'s unbiased HSIC of two zero-diagonal Gram matrices of n >= 4 datapoints:
// [tr(K L) + 1'K1 1'L1 / ((n-1)(n-2)) - 2/(n-2) 1'K L1] / (n (n-3)).
double unbiasedHsic(const torch::Tensor& k, const torch::Tensor& l) {
  const double n = static_cast<double>(k.size(0));
  const double trace = (k * l).sum().item<double>();
  const auto rowsK = k.sum(1), rowsL = l.sum(1);
  const double sums = rowsK.sum().item<double>() * rowsL.sum().item<double>() / ((n - 1) * (n - 2));
  const double cross = 2.0 / (n - 2) * rowsK.dot(rowsL).item<double>();
  return (trace + sums - cross) / (n * (n - 3));
}

}  // namespace

MinibatchCka impl::minibatchCka(Model& a, Model& b, const Dataset& data, const std::vector<std::string>& stagesA,
                                const std::vector<std::string>& stagesB, int batchSize, bool allLayers,
                          const JobControl& job) {
  if (&a == &b) throw invalidArg("a and b are the same model (compare a model with a copy of itself instead)");
  if (batchSize < 4) throw invalidArg("Expected `batchSize` to be at least 4 (the unbiased HSIC needs 4 datapoints) but received " + std::to_string(batchSize));
  MinibatchCka out;
  out.stagesA = stagesOf(a, stagesA, "a", allLayers);
  out.stagesB = stagesOf(b, stagesB, "b", allLayers);
  const size_t la = out.stagesA.size(), lb = out.stagesB.size();
  std::vector<double> cross(la * lb, 0.0), selfA(la, 0.0), selfB(lb, 0.0);
  torch::NoGradGuard noGrad;
  compat::Tf32Scope fullFloat32(a.device.is_cuda() || b.device.is_cuda(), /*allow=*/false);
  a.net->eval();
  b.net->eval();
  const int64_t n = data.images.size(0);
  if (n < 4) throw invalidArg("Expected at least 4 images to compare (the unbiased HSIC needs 4 datapoints) but the data hold " + std::to_string(n));
  // Each batch's Gram matrices of one model's stages (or layers), in the order asked, on the first model's device. Each
  // output is reduced to its Gram matrix as the forward pass hands it over, and let go of.
  const auto grams = [&](Model& m, const torch::Tensor& x, const std::vector<std::string>& stages) {
    std::vector<torch::Tensor> g(stages.size());
    const auto keep = [&](const std::string& name, const torch::Tensor& value) {
      for (size_t i = 0; i < stages.size(); ++i)
        if (stages[i] == name) g[i] = zeroDiagonalGram(value.to(a.device));
    };
    if (allLayers) {
      m.net->visitLayers(x.to(m.device), keep);
    } else {
      for (const auto& [name, value] : m.net->forwardStages(x.to(m.device))) keep(name, value);
    }
    return g;
  };
  for (int64_t begin = 0; begin + 4 <= n; begin += batchSize) {
    job.check();
    const int64_t end = std::min(n, begin + batchSize);
    const auto x = imageRange(data, begin, end);
    const auto ga = grams(a, x, out.stagesA), gb = grams(b, x, out.stagesB);
    for (size_t i = 0; i < la; ++i) selfA[i] += unbiasedHsic(ga[i], ga[i]);
    for (size_t j = 0; j < lb; ++j) selfB[j] += unbiasedHsic(gb[j], gb[j]);
    for (size_t i = 0; i < la; ++i)
      for (size_t j = 0; j < lb; ++j) cross[i * lb + j] += unbiasedHsic(ga[i], gb[j]);
    out.batches += 1;
    out.images += end - begin;
    job.report({"batch", {{"done", static_cast<double>(out.images)}, {"total", static_cast<double>(n)}}});
  }
  out.values.resize(la * lb);
  for (size_t i = 0; i < la; ++i)
    for (size_t j = 0; j < lb; ++j) {
      const double v = cross[i * lb + j] / std::sqrt(selfA[i] * selfB[j]);
      out.values[i * lb + j] = std::isfinite(v) ? v : std::numeric_limits<double>::quiet_NaN();  // a constant stage
    }
  return out;
}

}  // namespace tn
