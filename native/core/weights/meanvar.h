// Mean Var initialisation and single-tensor access (see api.h).
#pragma once
#include <string>

#include "core/job.h"
#include "core/models/model.h"
#include "core/weights/options.h"

namespace tn {

MeanVarReport applyMeanVar(Model& model, const std::string& path, const MeanVarOptions& options);
TensorData parameterOf(Model& model, const std::string& name);
void assignParameter(Model& model, const std::string& name, const TensorData& value);
TensorData tensorFromFile(const std::string& path, const std::string& key);

}  // namespace tn
