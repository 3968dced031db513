// Weight files: a dict of name -> tensor written with torch::pickle_save (the zip format that Python's torch.load
// reads too). Loading matches names and shapes and reports what it did, like timm's load_pretrained.
#include "core/weights/state.h"

#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "core/compat.h"

namespace tn {
namespace {

// Parameters and buffers by their full dotted names ("layer1.conv.weight", "layer1.bn.running_mean", ...).
std::vector<std::pair<std::string, torch::Tensor>> stateOf(torch::nn::Module& net) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : net.named_parameters()) out.emplace_back(p.key(), p.value());
  for (const auto& b : net.named_buffers()) out.emplace_back(b.key(), b.value());
  return out;
}

bool underStage(const std::string& key, const std::string& stage) {
  return key.size() > stage.size() && key.compare(0, stage.size(), stage) == 0 && key[stage.size()] == '.';
}

}  // namespace

void saveState(Model& model, const std::string& path) {
  c10::Dict<std::string, torch::Tensor> dict;
  for (const auto& [key, tensor] : stateOf(*model.net)) dict.insert(key, tensor.detach().to(torch::kCPU).clone());
  const std::vector<char> bytes = torch::pickle_save(dict);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error("ERR_IO", "Cannot open \"" + path + "\" for writing");
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw Error("ERR_IO", "Failed writing \"" + path + "\" (disk full?)");
}

LoadReport loadState(Model& model, const std::string& path, const LoadOptions& o) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("ERR_IO", "Cannot open weight file \"" + path + "\"");
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  torch::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const c10::Error& e) {
    throw Error("ERR_BAD_WEIGHTS", "\"" + path + "\" is not a weight file this library wrote: " + compat::messageOf(e));
  }
  if (!value.isGenericDict()) throw Error("ERR_BAD_WEIGHTS", "\"" + path + "\" does not hold a dict of tensors");
  std::map<std::string, torch::Tensor> file;
  for (const auto& item : value.toGenericDict()) {
    if (!item.key().isString() || !item.value().isTensor())
      throw Error("ERR_BAD_WEIGHTS", "\"" + path + "\" holds an entry that is not a name -> tensor pair");
    file[item.key().toStringRef()] = item.value().toTensor();
  }

  const std::string head = model.net->headName();
  LoadReport report;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // (destination, source)
  std::set<std::string> seen;
  for (const auto& [key, dst] : stateOf(*model.net)) {
    if (o.replaceHead && underStage(key, head)) continue;
    auto it = file.find(key);
    if (it == file.end()) {
      report.missing.push_back(key);
      continue;
    }
    seen.insert(key);
    if (it->second.sizes() != dst.sizes()) {
      report.mismatched.push_back(key + " (file " + c10::str(it->second.sizes()) + ", model " + c10::str(dst.sizes()) + ")");
      continue;
    }
    copies.emplace_back(dst, it->second);
    report.loaded.push_back(key);
  }
  for (const auto& [key, tensor] : file)
    if (!seen.count(key) && !(o.replaceHead && underStage(key, head))) report.unexpected.push_back(key);

  if (o.strict && (!report.missing.empty() || !report.unexpected.empty() || !report.mismatched.empty())) {
    auto first = [](const std::vector<std::string>& v) { return v.empty() ? std::string() : v.front(); };
    throw Error("ERR_WEIGHTS_MISMATCH",
                "Strict load of \"" + path + "\" failed: " + std::to_string(report.missing.size()) + " missing (" +
                    first(report.missing) + "), " + std::to_string(report.unexpected.size()) + " unexpected (" +
                    first(report.unexpected) + "), " + std::to_string(report.mismatched.size()) + " shape-mismatched (" +
                    first(report.mismatched) + ")");
  }
  {
    torch::NoGradGuard noGrad;
    for (auto& [dst, src] : copies) dst.copy_(src.to(dst.device(), dst.scalar_type()));
  }
  if (o.replaceHead) {
    auto gen = compat::cpuGenerator(o.headSeed);
    model.net->replaceHead(model.net->numClasses(), gen);
    for (const auto& [key, tensor] : stateOf(*model.net))
      if (underStage(key, head)) report.reinitialised.push_back(key);
  }
  return report;
}

}  // namespace tn
