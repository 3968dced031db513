// Models are created by name. Names are case-insensitive ("CBR-LargeT" and "cbr-larget" are the same model).
#pragma once
#include <string>
#include <vector>

#include "core/models/network.h"
#include "core/models/options.h"

namespace tn {

struct RegistryEntry {
  std::string name, displayName, family, description;
};

const std::vector<RegistryEntry>& registryEntries();
// The registry id for a user-supplied name (lower case).
std::string canonicalName(const std::string& name);
// Builds the network on the CPU, initialised from a generator seeded with options.seed.
Network buildNetwork(const std::string& name, const ModelOptions& options);

}  // namespace tn
