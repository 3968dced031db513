// Datasets from arrays a caller already holds (tests, user code, loaders that decode elsewhere).
#pragma once
#include <memory>

#include "core/api.h"
#include "core/data/dataset.h"

namespace tn {

std::shared_ptr<Dataset> makeArrayDataset(const TensorData& images, const std::vector<float>& targets,
                                          const std::vector<float>& mask, const std::string& task, int outputs,
                                          const std::string& source);

}  // namespace tn
