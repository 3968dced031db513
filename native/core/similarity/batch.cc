// The batched similarity job: every input prepared once, then every pair compared.
#include <map>

#include "core/compat.h"
#include "core/data/raster.h"
#include "core/similarity/cca.h"

namespace tn {
namespace {

// The seeded subsample of positions (datapoints) for an nchw input with `total` positions, shared by every input
// with the same count so that paired activations keep the same datapoints.
torch::Tensor positionsFor(int64_t total, int64_t neurons, const SimilarityOptions& o) {
  const int64_t keep = o.subsample > 0 ? o.subsample : std::max<int64_t>(20000, 10 * neurons);
  if (keep >= total) return torch::Tensor();
  std::vector<int64_t> order(total);
  for (int64_t i = 0; i < total; ++i) order[i] = i;
  raster::Rng rng(o.seed ^ 0x5EEDC0DEull);
  for (int64_t i = 0; i < keep; ++i) std::swap(order[i], order[i + static_cast<int64_t>(rng.next() % static_cast<uint64_t>(total - i))]);
  std::vector<int64_t> chosen(order.begin(), order.begin() + keep);
  std::sort(chosen.begin(), chosen.end());
  return torch::tensor(chosen, torch::kInt64);
}

}  // namespace

std::vector<SimilarityResult> similarityBatchImpl(const std::vector<ArrayData>& inputs,
                                                  const std::vector<std::pair<int, int>>& pairs,
                                                  const SimilarityOptions& o, const JobControl& job) {
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(o.device);
  } catch (const c10::Error&) {
    throw invalidArg("Expected `device` to be \"cpu\" or \"cuda\" but received \"" + o.device + "\"");
  }
  if (device.is_cuda() && !torch::cuda::is_available()) throw Error("ERR_NO_CUDA", "No CUDA device for similarity");
  for (const auto& [i, j] : pairs)
    if (i < 0 || j < 0 || i >= static_cast<int>(inputs.size()) || j >= static_cast<int>(inputs.size()))
      throw invalidArg("A pair refers to input " + std::to_string(std::max(i, j)) + " but there are " + std::to_string(inputs.size()));
  // nchw: the largest channel count decides the default subsample, so every input keeps the same positions.
  int64_t maxNeurons = 0;
  for (const auto& in : inputs)
    if (o.layout == "nchw" && in.shape.size() == 4) maxNeurons = std::max(maxNeurons, in.shape[1]);
  std::map<int, PreparedActivations> prepared;
  auto get = [&](int i) -> const PreparedActivations& {
    auto it = prepared.find(i);
    if (it != prepared.end()) return it->second;
    job.check();
    const auto& in = inputs[i];
    torch::Tensor positions;
    if (o.layout == "nchw" && in.shape.size() == 4) positions = positionsFor(in.shape[0] * in.shape[2] * in.shape[3], maxNeurons, o);
    const std::string what = "input " + std::to_string(i);
    return prepared.emplace(i, prepareActivations(asDatapointsByNeurons(in, o.layout, positions, device, what), o.epsilon, what)).first->second;
  };
  std::vector<SimilarityResult> out;
  torch::NoGradGuard noGrad;
  for (size_t k = 0; k < pairs.size(); ++k) {
    job.check();
    const PreparedActivations& a = get(pairs[k].first);  // in order, so errors name the first bad input
    const PreparedActivations& b = get(pairs[k].second);
    out.push_back(compare(a, b, o));
    job.report({"pair", {{"done", static_cast<double>(k + 1)}, {"total", static_cast<double>(pairs.size())}}});
  }
  return out;
}

}  // namespace tn
