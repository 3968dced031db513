// How a model is built (ModelOptions) and what describes it (ModelInfo). Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tn {

struct ModelOptions {
  int numClasses = 1;
  uint64_t seed = 0;              // initialisation draws from a private generator seeded here
  std::string padding = "same";   // CBR convs: "same" (k/2, pools padded) or "valid" (as unpadded TF-slim)
  std::string device = "cpu";     // "cpu" or "cuda[:i]"
  bool auxLogits = true;          // Inception-v3: build the auxiliary classifier
  double dropout = 0.5;           // Inception-v3: dropout before fc (torchvision's default)
};
struct ModelInfo {
  std::string name, displayName, family, description, padding, device;
  int numClasses = 0;
  std::vector<std::string> stages;  // bottom to top, ending with the classifier ("head")
  std::vector<std::string> layers;  // every block and conv output, bottom to top (NetworkImpl::layerNames)
  int64_t numel = 0;                // every parameter of this model, as built
  int64_t paperParams = 0;          // Table 1's convention (see models/cbr.cc)
  int minInputSize = 1;             // smallest square input that survives every conv and pool
  std::string inputConv;            // the first convolution's weight, e.g. "conv1.weight"
};

}  // namespace tn
