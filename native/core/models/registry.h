// Models are created by name. Names are case-insensitive ("CBR-LargeT" and "cbr-larget" are the same model). One
// table: each entry carries its metadata and its builder, and every registered model passes the same contract test
// (test/native/model-contract.test.ts), as timm's registry does.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/models/network.h"
#include "core/models/options.h"

namespace tn {

struct RegistryEntry {
  std::string name, displayName, family, description;
  // The network for these options, not yet initialised (buildNetwork initialises it).
  std::function<Network(const ModelOptions&)> build;
};

const std::vector<RegistryEntry>& registryEntries();
// The registry id for a user-supplied name (lower case).
std::string canonicalName(const std::string& name);
// Builds the network on the CPU, initialised from a generator seeded with options.seed.
Network buildNetwork(const std::string& name, const ModelOptions& options);

}  // namespace tn
