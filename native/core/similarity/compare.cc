// compareModels: run two models over a dataset, capture the activations of named stages with a bounded budget of
// datapoints (conv positions subsampled as the batches pass, the same positions for both models), and compare them.
#include "core/compat.h"
#include "core/data/dataset.h"
#include "core/models/model.h"
#include "core/similarity/cca.h"

namespace tn {

std::vector<std::pair<std::string, SimilarityResult>> compareModelsImpl(Model& a, Model& b, const Dataset& data,
                                                                        const std::vector<std::string>& requested,
                                                                        const CompareOptions& o, const JobControl& job) {
  auto stages = requested;
  if (stages.empty()) stages = a.net->stageNames();
  for (Model* m : {&a, &b}) {
    const auto names = m->net->stageNames();
    for (const auto& s : stages)
      if (std::find(names.begin(), names.end(), s) == names.end())
        throw invalidArg("Model \"" + m->name + "\" has no stage \"" + s + "\"");
  }
  if (o.batchSize < 1) throw invalidArg("Expected `batchSize` to be a positive integer");
  const int64_t n = data.images.size(0);
  std::vector<std::vector<torch::Tensor>> keptA(stages.size()), keptB(stages.size());
  torch::NoGradGuard noGrad;
  a.net->eval();
  b.net->eval();
  for (int64_t begin = 0, batch = 0; begin < n; begin += o.batchSize, ++batch) {
    job.check();
    const int64_t end = std::min(n, begin + o.batchSize);
    const auto x = data.images.slice(0, begin, end);
    auto outA = a.net->forwardStages(x.to(a.device)), outB = b.net->forwardStages(x.to(b.device));
    for (size_t s = 0; s < stages.size(); ++s) {
      auto find = [&](std::vector<std::pair<std::string, torch::Tensor>>& out) {
        for (auto& [name, t] : out)
          if (name == stages[s]) return t.to(torch::kCPU, torch::kFloat32);
        return torch::Tensor();
      };
      auto ta = find(outA), tb = find(outB);
      if (ta.sizes() != tb.sizes())
        throw invalidArg("Stage \"" + stages[s] + "\" has output " + c10::str(ta.sizes()) + " in \"" + a.name + "\" but " +
                         c10::str(tb.sizes()) + " in \"" + b.name + "\": compare models with the same layout");
      if (ta.dim() == 4) {
        // (B, C, H, W) -> (B*H*W, C), keeping this batch's share of the stage's budget of positions.
        const int64_t c = ta.size(1), positions = ta.size(0) * ta.size(2) * ta.size(3);
        const int64_t budget = o.maxDatapoints > 0 ? o.maxDatapoints : std::max<int64_t>(20000, 10 * c);
        const int64_t share = std::min(positions, (budget * (end - begin) + n - 1) / n);
        auto gen = compat::cpuGenerator(o.seed * 1000003ull + s * 7919ull + static_cast<uint64_t>(batch));
        const auto pick = torch::randperm(positions, gen, torch::TensorOptions(torch::kInt64)).narrow(0, 0, share);
        ta = ta.permute({0, 2, 3, 1}).reshape({-1, c}).index_select(0, pick);
        tb = tb.permute({0, 2, 3, 1}).reshape({-1, c}).index_select(0, pick);
      } else {
        ta = ta.reshape({ta.size(0), -1});
        tb = tb.reshape({tb.size(0), -1});
      }
      keptA[s].push_back(ta);
      keptB[s].push_back(tb);
    }
  }
  std::vector<std::pair<std::string, SimilarityResult>> out;
  for (size_t s = 0; s < stages.size(); ++s) {
    job.check();
    const auto pa = prepareActivations(torch::cat(keptA[s]).to(torch::kFloat64), o.epsilon, "\"" + a.name + "\" at " + stages[s]);
    const auto pb = prepareActivations(torch::cat(keptB[s]).to(torch::kFloat64), o.epsilon, "\"" + b.name + "\" at " + stages[s]);
    SimilarityOptions so;
    out.emplace_back(stages[s], compare(pa, pb, so));
    job.report({"stage", {{"done", static_cast<double>(s + 1)}, {"total", static_cast<double>(stages.size())}}});
  }
  return out;
}

}  // namespace tn
