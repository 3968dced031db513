// compareModels: run a set of models over a dataset, capture the activations of named stages with a bounded budget
// of datapoints (conv positions subsampled as the batches pass, the same positions for every model), and compare
// pairs of them stage by stage, each model's activations prepared once per stage.
#include "core/compat.h"
#include "core/data/dataset.h"
#include "core/error.h"
#include "core/models/model.h"
#include "core/similarity/cca.h"

namespace tn {

std::vector<std::string> stagesOf(Model& model, const std::vector<std::string>& asked, const std::string& label, bool layers) {
  const auto names = layers ? model.net->layerNames() : model.net->stageNames();
  if (asked.empty()) return names;
  for (const auto& s : asked)
    if (std::find(names.begin(), names.end(), s) == names.end())
      throw invalidArg("Model \"" + model.name + "\"" + (label.empty() ? "" : " (" + label + ")") + " has no " + (layers ? "layer" : "stage") + " \"" + s + "\"");
  return asked;
}

std::vector<StageComparison> impl::compareModels(const std::vector<Model*>& models, const Dataset& data,
                                               const std::vector<std::string>& requested,
                                               const std::vector<std::pair<int, int>>& pairs,
                                               const CompareOptions& o, const JobControl& job) {
  if (models.empty()) throw invalidArg("Expected at least one model to compare");
  for (size_t i = 0; i < models.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (models[i] == models[j])
        throw invalidArg("models[" + std::to_string(j) + "] and models[" + std::to_string(i) +
                         "] are the same model (compare a model with a copy of itself instead)");
  for (const auto& [i, j] : pairs)
    if (i < 0 || j < 0 || i >= static_cast<int>(models.size()) || j >= static_cast<int>(models.size()))
      throw invalidArg("A pair refers to model " + std::to_string(std::max(i, j)) + " but there are " + std::to_string(models.size()));
  const auto stages = stagesOf(*models[0], requested, "");
  for (Model* m : models) stagesOf(*m, stages, "");
  if (o.batchSize < 1) throw invalidArg("Expected `batchSize` to be a positive integer");
  const int64_t n = data.images.size(0);
  // kept[s][m]: the batches' kept rows of stage s for model m, (rows, channels) float32 on the first model's device,
  // where the comparison then runs (a GPU's cuBLAS and cuSOLVER, or the CPU kernel).
  const torch::Device where = models[0]->device;
  std::vector<std::vector<std::vector<torch::Tensor>>> kept(stages.size(), std::vector<std::vector<torch::Tensor>>(models.size()));
  torch::NoGradGuard noGrad;
  bool onGpu = false;
  for (Model* m : models) onGpu = onGpu || m->device.is_cuda();
  compat::Tf32Scope fullFloat32(onGpu, /*allow=*/false);
  for (Model* m : models) m->net->eval();
  for (int64_t begin = 0, batch = 0; begin < n; begin += o.batchSize, ++batch) {
    job.check();
    const int64_t end = std::min(n, begin + o.batchSize);
    const auto x = imageRange(data, begin, end);
    std::vector<torch::Tensor> pick(stages.size());  // this batch's positions per stage, shared by every model
    std::vector<std::vector<int64_t>> shapeOf(stages.size());
    for (size_t m = 0; m < models.size(); ++m) {
      auto outputs = models[m]->net->forwardStages(x.to(models[m]->device));
      for (size_t s = 0; s < stages.size(); ++s) {
        torch::Tensor t;
        for (auto& [name, value] : outputs)
          if (name == stages[s]) t = value.to(where, torch::kFloat32);
        if (m == 0) shapeOf[s] = t.sizes().vec();
        if (t.sizes().vec() != shapeOf[s])
          throw invalidArg("Stage \"" + stages[s] + "\" has output " + c10::str(t.sizes()) + " in \"" + models[m]->name + "\" but " +
                           c10::str(c10::IntArrayRef(shapeOf[s])) + " in \"" + models[0]->name + "\": compare models with the same layout");
        if (t.dim() == 4) {
          // (B, C, H, W) -> (B*H*W, C), keeping this batch's share of the stage's budget of positions.
          const int64_t c = t.size(1), positions = t.size(0) * t.size(2) * t.size(3);
          if (!pick[s].defined()) {
            const int64_t budget = o.maxDatapoints > 0 ? o.maxDatapoints : std::max<int64_t>(20000, 10 * c);
            const int64_t share = std::min(positions, (budget * (end - begin) + n - 1) / n);
            auto gen = compat::cpuGenerator(o.seed * 1000003ull + s * 7919ull + static_cast<uint64_t>(batch));
            pick[s] = torch::randperm(positions, gen, torch::TensorOptions(torch::kInt64)).narrow(0, 0, share).to(where);
          }
          t = t.permute({0, 2, 3, 1}).reshape({-1, c}).index_select(0, pick[s]);
        } else {
          t = t.reshape({t.size(0), -1});
        }
        kept[s][m].push_back(t);
      }
    }
  }
  std::vector<StageComparison> out;
  const SimilarityOptions so;  // the engine's defaults: compareModels takes no similarity settings
  for (size_t s = 0; s < stages.size(); ++s) {
    job.check();
    std::vector<SimilarityResult> results;
    try {
      results = compareInputs(
          models.size(), [&](int m) { return torch::cat(kept[s][m]); },  // float32; centred into float64 when prepared
          [&](int m) { return "\"" + models[m]->name + "\" (models[" + std::to_string(m) + "]) at " + stages[s]; }, pairs, so, job,
          [](int64_t) {});
    } catch (const UndefinedSimilarity& e) {
      // A stage asked for by name is refused with the numbers; one the caller did not name (every stage) is left
      // out and said so, and the others are compared.
      if (!requested.empty()) throw;
      kept[s].clear();
      StageComparison skip;
      skip.stage = stages[s];
      skip.skipped = e.what();
      out.push_back(skip);
      continue;
    }
    kept[s].clear();
    for (size_t k = 0; k < pairs.size(); ++k) out.push_back({stages[s], static_cast<int>(k), results[k], {}});
    job.report({"stage", {{"done", static_cast<double>(s + 1)}, {"total", static_cast<double>(stages.size())}}});
  }
  return out;
}

}  // namespace tn
