// The embedded, generated datasets (see retina.h and natural.h for what the images show).
#pragma once
#include <memory>

#include "core/data/dataset.h"
#include "core/data/options.h"
#include "core/job.h"

namespace tn {

std::shared_ptr<Dataset> drawRetinaSet(const RetinaOptions& options, const JobControl& job);
std::shared_ptr<Dataset> drawNaturalSet(const NaturalOptions& options, const JobControl& job);
std::shared_ptr<Dataset> drawChestSet(const ChestOptions& options, const JobControl& job);

}  // namespace tn
