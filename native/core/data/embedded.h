// The embedded, generated datasets (see retina.h and natural.h for what the images show).
#pragma once
#include <memory>

#include "core/data/dataset.h"
#include "core/data/options.h"
#include "core/job.h"

namespace tn {

namespace impl {
std::shared_ptr<Dataset> generateRetina(const RetinaOptions& options, const JobControl& job);
std::shared_ptr<Dataset> generateNatural(const NaturalOptions& options, const JobControl& job);
std::shared_ptr<Dataset> generateChest(const ChestOptions& options, const JobControl& job);
}  // namespace impl

}  // namespace tn
