// Datasets from arrays a caller already holds (tests, user code, loaders that decode elsewhere).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/data/options.h"
#include "core/job.h"

namespace tn {

// A dataset over a memory-mapped file of uint8 images (see MappedDatasetOptions).
namespace impl {
std::shared_ptr<Dataset> openMappedDataset(const MappedDatasetOptions& options);
}  // namespace impl

// Validates and attaches targets (and an optional mask) for n images.
void attachTargets(Dataset& d, int64_t n, const std::vector<float>& targets, const std::vector<float>& mask,
                   const std::string& task, int outputs);

namespace impl {
std::shared_ptr<Dataset> datasetFromArrays(const TensorData& images, const std::vector<float>& targets,
                                          const std::vector<float>& mask, const std::string& task, int outputs,
                                          const std::string& source);
}  // namespace impl

}  // namespace tn
