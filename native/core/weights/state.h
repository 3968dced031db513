// Saving and loading a model's parameters and buffers by name.
#pragma once
#include "core/api.h"
#include "core/models/model.h"

namespace tn {

void saveState(Model& model, const std::string& path, const std::string& format);
LoadReport loadState(Model& model, const std::string& path, const LoadOptions& options);

}  // namespace tn
