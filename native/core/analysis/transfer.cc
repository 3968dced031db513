// What is transferred, and where (issue 30): the pieces the follow-ups of the paper compose. Neyshabur, Sedghi and
// Zhang (2020): points on the straight line between two trained models, with BatchNorm's statistics recomputed at each;
// a stage reset to its initial weights or re-drawn (criticality). Matsoukas et al. (2022): k-NN classification from
// each stage's pooled features. The TypeScript layer (src/analysis/transfer.ts) sweeps and scores them.
#include <cmath>
#include <limits>
#include <unordered_set>

#include "core/api.h"
#include "core/compat.h"
#include "core/data/dataset.h"
#include "core/error.h"
#include "core/models/mode.h"
#include "core/models/model.h"
#include "core/similarity/cca.h"
#include "core/train/auc.h"
#include "core/weights/formats.h"
#include "core/weights/state.h"

namespace tn {
namespace {

// Both models one architecture, their tensors (their state, as stateOf lists it) the same names and shapes.
void checkSameArchitecture(const Model& a, const NamedTensors& sa, const Model& b, const NamedTensors& sb, const char* what) {
  bool same = a.name == b.name && sa.size() == sb.size();
  for (size_t i = 0; same && i < sa.size(); ++i) same = sa[i].first == sb[i].first && sa[i].second.sizes() == sb[i].second.sizes();
  if (!same) throw invalidArg(std::string(what) + ": the models must be the same architecture with the same tensors, but \"" + a.name + "\" and \"" + b.name + "\" differ");
}

// Each BatchNorm's statistics reset and its momentum unset (the cumulative average over the batches that follow) for
// the scope; the momenta back after.
class CumulativeBatchNorm {
 public:
  explicit CumulativeBatchNorm(torch::nn::Module& net) {
    for (const auto& m : net.modules(/*include_self=*/false))
      if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get())) {
        norms_.emplace_back(bn, bn->options.momentum());
        bn->options.momentum(Momentum());
        bn->reset_running_stats();
      }
  }
  ~CumulativeBatchNorm() {
    for (auto& [bn, momentum] : norms_) bn->options.momentum(momentum);
  }
  CumulativeBatchNorm(const CumulativeBatchNorm&) = delete;
  CumulativeBatchNorm& operator=(const CumulativeBatchNorm&) = delete;

 private:
  // c10::optional in LibTorch 1.13, std::optional later: the options' own type.
  using Momentum = std::decay_t<decltype(std::declval<torch::nn::BatchNormOptions&>().momentum())>;
  std::vector<std::pair<torch::nn::BatchNorm2dImpl*, Momentum>> norms_;
};

}  // namespace

void impl::interpolateWeights(Model& out, Model& a, Model& b, double alpha) {
  if (!std::isfinite(alpha)) throw invalidArg("Expected `alpha` to be a finite number");
  const auto to = stateOf(*out.net), from = stateOf(*a.net), other = stateOf(*b.net);
  checkSameArchitecture(out, to, a, from, "interpolateWeights");
  checkSameArchitecture(out, to, b, other, "interpolateWeights");
  torch::NoGradGuard noGrad;
  for (size_t i = 0; i < to.size(); ++i) {
    auto& t = const_cast<torch::Tensor&>(to[i].second);
    const auto x = from[i].second.to(t.device()), y = other[i].second.to(t.device());
    // Integer buffers (BatchNorm's batch count) are not interpolated: a's is kept. alpha = 0 and 1 copy exactly.
    if (!t.is_floating_point()) t.copy_(x);
    else if (alpha == 0) t.copy_(x);
    else if (alpha == 1) t.copy_(y);
    else t.copy_(torch::lerp(x, y, alpha));  // x + alpha (y - x): two equal models give exactly their weights
  }
}

int64_t impl::recomputeBatchNorm(Model& model, const Dataset& data, int batches, int batchSize, const JobControl& job) {
  if (batches < 1 || batchSize < 1) throw invalidArg("Expected `batches` and `batchSize` to be positive integers");
  const int64_t n = data.images.size(0);
  torch::NoGradGuard noGrad;
  const CumulativeBatchNorm cumulative(*model.net);
  const ModeScope training(*model.net, /*training=*/true);
  int64_t used = 0;
  for (int k = 0; k < batches && used < n; ++k) {
    job.check();
    const int64_t end = std::min(n, used + batchSize);
    model.net->forward(imageRange(data, used, end).to(model.device));
    used = end;
    job.report({"batch", {{"done", static_cast<double>(k + 1)}, {"total", static_cast<double>(batches)}}});
  }
  return used;
}

int64_t impl::copyStages(Model& to, Model& from, const std::vector<std::string>& stages) {
  const auto target = stateOf(*to.net), source = stateOf(*from.net);
  checkSameArchitecture(to, target, from, source, "copyStages");
  if (!stages.empty()) stagesOf(to, stages, "");  // each one of its stages (none: nothing to copy, the check alone)
  const std::unordered_set<std::string> wanted(stages.begin(), stages.end());
  torch::NoGradGuard noGrad;
  int64_t copied = 0;
  for (size_t i = 0; i < target.size(); ++i)
    if (wanted.count(to.net->stageOf(target[i].first))) {
      const_cast<torch::Tensor&>(target[i].second).copy_(source[i].second);
      ++copied;
    }
  return copied;
}

namespace {
// The parameters (not buffers: the trainable variables of Chatterji et al.) of the named stages, every one checked.
std::vector<torch::Tensor> stageParameters(Model& model, const std::vector<std::string>& stages, const char* what) {
  if (stages.empty()) throw invalidArg(std::string(what) + ": expected at least one stage");
  stagesOf(model, stages, "");
  const std::unordered_set<std::string> wanted(stages.begin(), stages.end());
  std::vector<torch::Tensor> out;
  for (const auto& p : model.net->named_parameters(/*recurse=*/true))
    if (wanted.count(model.net->stageOf(p.key())) && p.value().is_floating_point()) out.push_back(p.value());
  return out;
}
}  // namespace

int64_t impl::perturbStages(Model& model, const std::vector<std::string>& stages, double sigma, uint64_t seed) {
  if (!(sigma >= 0) || !std::isfinite(sigma)) throw invalidArg("Expected `sigma` to be a finite number >= 0");
  auto params = stageParameters(model, stages, "perturbStages");
  auto gen = compat::cpuGenerator(seed);
  torch::NoGradGuard noGrad;
  int64_t n = 0;
  for (auto& p : params) {  // drawn on the CPU in float32, so one seed gives one draw on every device
    const auto noise = torch::empty(p.sizes(), torch::kFloat32).normal_(0.0, sigma, gen);
    p.add_(noise.to(p.device(), p.scalar_type()));
    n += p.numel();
  }
  return n;
}

double impl::stageDistance(Model& a, Model& b, const std::vector<std::string>& stages) {
  checkSameArchitecture(a, stateOf(*a.net), b, stateOf(*b.net), "stageDistance");
  const auto x = stageParameters(a, stages, "stageDistance"), y = stageParameters(b, stages, "stageDistance");
  torch::NoGradGuard noGrad;
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i)
    sum += (x[i].to(torch::kCPU, torch::kFloat64) - y[i].to(torch::kCPU, torch::kFloat64)).pow(2).sum().item<double>();
  return sum;
}

KnnResult impl::knnEvaluate(Model& model, const Dataset& bank, const Dataset& queries, const std::vector<std::string>& asked,
                            int k, double temperature, int batchSize, const JobControl& job) {
  if (bank.task == "multiclass" || queries.task == "multiclass")
    throw invalidArg("k-NN evaluation scores binary and multi-label tasks (a neighbour's vote per output)");
  if (bank.outputs != queries.outputs)
    throw invalidArg("The memory bank has " + std::to_string(bank.outputs) + " outputs but the queries " + std::to_string(queries.outputs));
  if (k < 1) throw invalidArg("Expected `k` to be a positive integer");
  if (!(temperature > 0) || !std::isfinite(temperature)) throw invalidArg("Expected `temperature` to be a positive number");
  if (batchSize < 1) throw invalidArg("Expected `batchSize` to be a positive integer");
  const auto stages = stagesOf(model, asked, "");
  torch::NoGradGuard noGrad;
  const ModeScope eval(*model.net, /*training=*/false);
  // Each stage's output pooled over its positions (a conv map's mean per channel), rows L2-normalised, float32.
  const auto features = [&](const Dataset& d) {
    std::vector<std::vector<torch::Tensor>> parts(stages.size());
    const int64_t n = d.images.size(0);
    for (int64_t begin = 0; begin < n; begin += batchSize) {
      job.check();
      for (const auto& [name, value] : model.net->forwardStages(imageRange(d, begin, std::min(n, begin + batchSize)).to(model.device)))
        for (size_t s = 0; s < stages.size(); ++s)
          if (stages[s] == name) parts[s].push_back((value.dim() == 4 ? value.mean({2, 3}) : value.flatten(1)).to(torch::kFloat32));
    }
    std::vector<torch::Tensor> out;
    for (auto& p : parts) out.push_back(torch::nn::functional::normalize(torch::cat(p), torch::nn::functional::NormalizeFuncOptions().dim(1)));
    return out;
  };
  KnnResult r;
  r.k = static_cast<int>(std::min<int64_t>(k, bank.images.size(0)));
  {
    const auto memory = features(bank), asking = features(queries);
    const auto labels = bank.targets.to(model.device, torch::kFloat32);
    const auto known = bank.mask.defined() ? bank.mask.to(model.device, torch::kFloat32) : torch::ones_like(labels);
    const auto qTargets = queries.targets.to(torch::kFloat32).contiguous();
    const auto qMask = queries.mask.defined() ? queries.mask.to(torch::kFloat32).contiguous() : torch::ones_like(qTargets);
    const int64_t m = qTargets.size(0), outputs = qTargets.size(1);
    for (size_t s = 0; s < stages.size(); ++s) {
      job.check();
      // Cosine similarity to every bank item, the k nearest, each weighted exp(similarity / T); an output's score is
      // the weighted share of the neighbours with a known label that are positive.
      const auto [similar, index] = asking[s].mm(memory[s].t()).topk(r.k, 1);
      const auto weight = (similar / temperature).exp().unsqueeze(2);                // (m, k, 1)
      const auto got = labels.index_select(0, index.reshape({-1})).reshape({m, r.k, -1});
      const auto have = known.index_select(0, index.reshape({-1})).reshape({m, r.k, -1});
      const auto scores = ((weight * got * have).sum(1) / (weight * have).sum(1).clamp_min(1e-30)).to(torch::kCPU).contiguous();
      KnnStage st;
      st.stage = stages[s];
      st.dimensions = memory[s].size(1);
      double sum = 0;
      int counted = 0;
      for (int64_t o = 0; o < outputs; ++o) {
        const double a = maskedAuc(scores.data_ptr<float>() + o, qTargets.data_ptr<float>() + o, qMask.data_ptr<float>() + o,
                                   static_cast<size_t>(m), static_cast<size_t>(outputs));
        st.aucs.push_back(a);
        if (std::isfinite(a)) sum += a, ++counted;
      }
      st.meanAuc = counted ? sum / counted : std::numeric_limits<double>::quiet_NaN();
      r.stages.push_back(std::move(st));
      job.report({"stage", {{"done", static_cast<double>(s + 1)}, {"total", static_cast<double>(stages.size())}}});
    }
  }
  r.bank = bank.images.size(0);
  r.queries = queries.images.size(0);
  return r;
}

}  // namespace tn
