// Mean Var initialisation and single-tensor access (see api.h).
#pragma once
#include <string>

#include "core/job.h"
#include "core/models/model.h"
#include "core/weights/options.h"

namespace tn {

namespace impl {
MeanVarReport meanVarInit(Model& model, const std::string& path, const MeanVarOptions& options);
TensorData getParameter(Model& model, const std::string& name);
void setParameter(Model& model, const std::string& name, const TensorData& value);
TensorData readTensor(const std::string& path, const std::string& key);
}  // namespace impl

}  // namespace tn
