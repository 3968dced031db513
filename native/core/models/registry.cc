#include "core/models/registry.h"

#include <algorithm>
#include <cctype>

#include "core/compat.h"
#include "core/error.h"
#include "core/models/cbr.h"
#include "core/models/densenet.h"
#include "core/models/inception.h"
#include "core/models/resnet.h"
#include "core/models/init.h"

namespace tn {
namespace {

Padding parsePadding(const std::string& padding) {
  if (padding == "same") return Padding::Same;
  if (padding == "valid") return Padding::Valid;
  throw invalidArg("Expected `padding` to be \"same\" or \"valid\" but received \"" + padding + "\"");
}

}  // namespace

std::string canonicalName(const std::string& name) {
  std::string s = name;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

const std::vector<RegistryEntry>& registryEntries() {
  static const std::vector<RegistryEntry> entries = [] {
    std::vector<RegistryEntry> out;
    for (const auto& spec : cbrSpecs())
      out.push_back({spec.name, spec.displayName, "cbr", spec.description, [spec](const ModelOptions& o) -> Network {
                       return std::make_shared<CbrNetImpl>(spec, o.numClasses, parsePadding(o.padding));
                     }});
    for (const auto& spec : resnetSpecs())
      out.push_back({spec.name, spec.displayName, "resnet", spec.description,
                     [spec](const ModelOptions& o) -> Network { return std::make_shared<ResNetImpl>(spec, o.numClasses); }});
    out.push_back({"inception_v3", "Inception-v3", "inception",
                   "torchvision Inception-v3 (stem convs, Mixed_5b..Mixed_7c, optional AuxLogits); inputs >= 75 px",
                   [](const ModelOptions& o) -> Network { return std::make_shared<InceptionV3Impl>(o.numClasses, o.auxLogits, o.dropout); }});
    for (const auto& spec : densenetSpecs())
      out.push_back({spec.name, spec.displayName, "densenet", spec.description,
                     [spec](const ModelOptions& o) -> Network { return std::make_shared<DenseNetImpl>(spec, o.numClasses); }});
    return out;
  }();
  return entries;
}

Network buildNetwork(const std::string& name, const ModelOptions& options) {
  if (options.numClasses < 1)
    throw invalidArg("Expected `numClasses` to be a positive integer but received " + std::to_string(options.numClasses));
  const std::string id = canonicalName(name);
  for (const auto& entry : registryEntries()) {
    if (entry.name != id) continue;
    Network net = entry.build(options);
    auto gen = compat::cpuGenerator(options.seed);
    initialiseModule(*net, gen);
    return net;
  }
  std::string known;
  for (const auto& e : registryEntries()) known += (known.empty() ? "" : ", ") + e.name;
  throw Error("ERR_UNKNOWN_MODEL", "Unknown model \"" + name + "\"; known models: " + known);
}

}  // namespace tn
