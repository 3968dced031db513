#include "core/weights/meanvar.h"

#include <map>

#include "core/compat.h"
#include "core/error.h"
#include "core/weights/formats.h"
#include "core/weights/state.h"

namespace tn {
namespace {

TensorData toData(const torch::Tensor& t) {
  const auto c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  return {std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel()), c.sizes().vec()};
}

torch::Tensor find(Model& model, const std::string& name) {
  for (auto& [key, tensor] : stateOf(*model.net))
    if (key == name) return tensor;
  throw invalidArg("Model \"" + model.name + "\" has no parameter or buffer \"" + name + "\"");
}

// Fills `dst` i.i.d. from N(mean, var) of `src` (population variance).
void drawLike(torch::Tensor& dst, const torch::Tensor& src, at::Generator& gen) {
  const auto s = src.to(torch::kFloat64);
  const double mean = s.mean().item<double>(), std = s.numel() > 1 ? s.std(/*unbiased=*/false).item<double>() : 0.0;
  auto draw = torch::empty(dst.sizes(), torch::kFloat32).normal_(mean, std, gen);
  dst.copy_(draw.to(dst.device(), dst.scalar_type()));
}

// Fills `dst` with the values of `src` at positions permuted by `gen`.
void shuffleLike(torch::Tensor& dst, const torch::Tensor& src, at::Generator& gen) {
  const auto flat = src.to(torch::kCPU, torch::kFloat32).reshape({-1});
  const auto order = torch::randperm(flat.numel(), gen, torch::TensorOptions().dtype(torch::kInt64));
  dst.copy_(flat.index_select(0, order).reshape(dst.sizes()).to(dst.device(), dst.scalar_type()));
}

}  // namespace

TensorData impl::getParameter(Model& model, const std::string& name) { return toData(find(model, name)); }

void impl::setParameter(Model& model, const std::string& name, const TensorData& value) {
  auto dst = find(model, name);
  if (c10::IntArrayRef(value.shape) != dst.sizes())
    throw invalidArg("Parameter \"" + name + "\" has shape " + c10::str(dst.sizes()) + " but the value has shape " +
                     c10::str(c10::IntArrayRef(value.shape)));
  int64_t numel = 1;
  for (int64_t d : value.shape) numel *= d;
  if (numel != static_cast<int64_t>(value.data.size()))
    throw invalidArg("The value for \"" + name + "\" has " + std::to_string(value.data.size()) + " numbers for shape " +
                     c10::str(c10::IntArrayRef(value.shape)));
  torch::NoGradGuard noGrad;
  const auto src = torch::from_blob(const_cast<float*>(value.data.data()), value.shape, torch::kFloat32);
  dst.copy_(src.to(dst.device(), dst.scalar_type()));
}

TensorData impl::readTensor(const std::string& path, const std::string& key) {
  for (const auto& [name, tensor] : readWeightFile(path))
    if (name == key) return toData(tensor);
  throw invalidArg("Weight file \"" + path + "\" has no tensor \"" + key + "\"");
}

MeanVarReport impl::meanVarInit(Model& model, const std::string& path, const MeanVarOptions& o) {
  if (o.batchNorm != "meanvar" && o.batchNorm != "default")
    throw invalidArg("Expected `batchNorm` to be \"meanvar\" or \"default\" but received \"" + o.batchNorm + "\"");
  if (o.draw != "normal" && o.draw != "shuffle")
    throw invalidArg("Expected `draw` to be \"normal\" or \"shuffle\" but received \"" + o.draw + "\"");
  NetworkImpl& net = *model.net;
  const auto file = readAsModelNames(net, path);
  auto gen = compat::cpuGenerator(o.seed);
  MeanVarReport report;
  torch::NoGradGuard noGrad;
  // named_modules() is ordered, so the draws are reproducible for a seed.
  for (const auto& item : net.named_modules()) {
    torch::nn::Module* m = item.value().get();
    const std::string prefix = item.key().empty() ? "" : item.key() + ".";
    const bool weighted = dynamic_cast<torch::nn::Conv2dImpl*>(m) || dynamic_cast<torch::nn::LinearImpl*>(m);
    auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m);
    if (!weighted && !bn) continue;
    for (auto& p : m->named_parameters(/*recurse=*/false)) {
      const std::string key = prefix + p.key();
      auto dst = p.value();
      if (net.isHeadKey(key)) {
        report.kept.push_back(key);
      } else if (bn && o.batchNorm == "default") {
        dst.fill_(p.key() == "weight" ? 1.0 : 0.0);
        report.reset.push_back(key);
      } else {
        auto it = file.find(key);
        if (it == file.end())
          throw Error("ERR_WEIGHTS_MISMATCH", "Mean Var: \"" + path + "\" has no tensor \"" + key + "\" to take statistics from");
        if (o.draw == "shuffle" && it->second.tensor.numel() != dst.numel())  // Mean Var takes statistics of any size
          throw Error("ERR_WEIGHTS_MISMATCH", "\"" + path + "\"'s \"" + key + "\" has " + std::to_string(it->second.tensor.numel()) + " values but the model's has " + std::to_string(dst.numel()));
        if (o.draw == "shuffle") shuffleLike(dst, it->second.tensor, gen);
        else drawLike(dst, it->second.tensor, gen);
        report.drawn.push_back(key);
      }
    }
    if (bn) {
      bn->running_mean.zero_();
      bn->running_var.fill_(1.0);
      bn->num_batches_tracked.zero_();
      report.reset.push_back(prefix + "running_mean");
      report.reset.push_back(prefix + "running_var");
    }
  }
  return report;
}

}  // namespace tn
