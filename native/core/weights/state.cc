// A model's parameters and buffers in and out of weight files (formats.h). Loading matches names, shapes and dtypes
// and reports what it did, like timm's load_pretrained.
#include "core/weights/state.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/compat.h"
#include "core/error.h"
#include "core/weights/formats.h"

namespace tn {
namespace {

// Which keys a load may touch: all, or those of the stages up to and including `upTo`.
class StageFilter {
 public:
  StageFilter(const NetworkImpl& net, const std::string& upTo) : net_(net) {
    if (upTo.empty()) return;
    const auto stages = net.stageNames();
    bool found = false;
    for (const auto& s : stages) {
      allowed_.insert(s);
      if (s == upTo) {
        found = true;
        break;
      }
    }
    if (!found) {
      std::string known;
      for (const auto& s : stages) known += (known.empty() ? "" : ", ") + s;
      throw invalidArg("Expected `upTo` to be a stage of this model (" + known + ") but received \"" + upTo + "\"");
    }
    limited_ = true;
  }
  bool allows(const std::string& key) const { return !limited_ || allowed_.count(net_.stageOf(key)) != 0; }

 private:
  const NetworkImpl& net_;
  bool limited_ = false;
  std::set<std::string> allowed_;
};

std::string dtypeName(torch::Dtype dtype) { return c10::toString(dtype); }

bool isCounter(const std::string& key) {
  static const std::string suffix = ".num_batches_tracked";
  return key.size() > suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::map<std::string, FileTensor> readAsModelNames(const NetworkImpl& net, const std::string& path) {
  std::map<std::string, FileTensor> file;
  for (auto& [key, tensor] : readWeightFile(path)) {
    std::string name = net.modelKey(key);
    auto [it, fresh] = file.emplace(name, FileTensor{key, tensor});
    if (!fresh)
      throw Error("ERR_BAD_WEIGHTS", "\"" + path + "\": tensors \"" + it->second.fileKey + "\" and \"" + key +
                                         "\" are both the model's \"" + name + "\"");
  }
  return file;
}

NamedTensors stateOf(torch::nn::Module& net) {
  NamedTensors out;
  for (const auto& p : net.named_parameters()) out.emplace_back(p.key(), p.value());
  for (const auto& b : net.named_buffers()) out.emplace_back(b.key(), b.value());
  return out;
}

void impl::saveWeights(Model& model, const std::string& path, const std::string& format) {
  writeWeightFile(path, stateOf(*model.net), format);
}

LoadReport impl::loadWeights(Model& model, const std::string& path, const LoadOptions& o) {
  NetworkImpl& net = *model.net;
  const StageFilter filter(net, o.upTo);
  const auto file = readAsModelNames(net, path);
  // A file with no BatchNorm counter at all was written before PyTorch 0.4.1 (torchvision's DenseNet files): as
  // PyTorch's BatchNorm does for such files, the counters stay as they are (reported as kept), not missing.
  const bool hasCounters = std::any_of(file.begin(), file.end(), [](const auto& f) { return isCounter(f.first); });

  auto skipped = [&](const std::string& key) { return (o.replaceHead && net.isHeadKey(key)) || !filter.allows(key); };
  LoadReport report;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // (destination, source)
  std::set<std::string> seen;
  for (const auto& [key, dst] : stateOf(net)) {
    if (skipped(key)) {
      if (!filter.allows(key)) report.kept.push_back(key);
      continue;
    }
    auto it = file.find(key);
    if (it == file.end() && !hasCounters && isCounter(key)) {
      report.kept.push_back(key);
      continue;
    }
    if (it == file.end()) {
      report.missing.push_back(key);
      continue;
    }
    seen.insert(key);
    const torch::Tensor& src = it->second.tensor;
    if (src.sizes() != dst.sizes()) {
      report.mismatched.push_back(key + " (shape " + c10::str(src.sizes()) + " in the file, " + c10::str(dst.sizes()) + " in the model)");
      continue;
    }
    if (src.scalar_type() != dst.scalar_type() && !(src.is_floating_point() && dst.is_floating_point())) {
      report.mismatched.push_back(key + " (dtype " + dtypeName(src.scalar_type()) + " in the file, " +
                                  dtypeName(dst.scalar_type()) + " in the model)");
      continue;
    }
    copies.emplace_back(dst, src);
    report.loaded.push_back(key);
  }
  for (const auto& [key, entry] : file)
    if (!seen.count(key) && !skipped(key)) report.unexpected.push_back(entry.fileKey);

  if (o.strict && (!report.missing.empty() || !report.unexpected.empty() || !report.mismatched.empty())) {
    auto first = [](const std::vector<std::string>& v) { return v.empty() ? std::string("none") : v.front(); };
    throw Error("ERR_WEIGHTS_MISMATCH",
                "Strict load of \"" + path + "\" into \"" + model.name + "\" failed: " +
                    std::to_string(report.missing.size()) + " missing (first: " + first(report.missing) + "), " +
                    std::to_string(report.unexpected.size()) + " unexpected (first: " + first(report.unexpected) + "), " +
                    std::to_string(report.mismatched.size()) + " mismatched (first: " + first(report.mismatched) + ")");
  }
  {
    torch::NoGradGuard noGrad;
    for (auto& [dst, src] : copies) dst.copy_(src.to(dst.device(), dst.scalar_type()));
  }
  if (o.replaceHead) {
    auto gen = compat::cpuGenerator(o.headSeed);
    net.replaceHead(net.numClasses(), gen);
    for (const auto& [key, tensor] : stateOf(net))
      if (net.isHeadKey(key)) report.reinitialised.push_back(key);
  }
  return report;
}

}  // namespace tn
