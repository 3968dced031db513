// Reading .npy files into ArrayData (the facade's readNpy). Torch-free.
#pragma once
#include <string>

#include "core/similarity/options.h"

namespace tn {

// A .npy file (format 1.0-3.0, little-endian float32 or float64, C order). Throws ERR_BAD_NPY naming the file.
namespace impl {
ArrayData readNpy(const std::string& path);
}  // namespace impl

}  // namespace tn
