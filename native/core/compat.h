// Everything that differs between LibTorch 1.13 (Debian, CPU) and 2.x (pip, CUDA) lives here and nowhere else.
#pragma once
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <string>

namespace tn::compat {

// A private CPU generator: model initialisation and sampling never touch the global RNG, so jobs running
// concurrently in one process stay deterministic.
inline at::Generator cpuGenerator(uint64_t seed) { return at::detail::createCPUGenerator(seed); }

// Gradients are reset to "none" (not zero-filled) in both versions: 1.13's Optimizer::zero_grad() fills with zeros,
// 2.x's defaults to set_to_none.
inline void clearGrads(const std::vector<torch::Tensor>& params) {
  for (const auto& p : params) {
    if (p.grad().defined()) const_cast<torch::Tensor&>(p).mutable_grad() = torch::Tensor();
  }
}

// c10::Error's message without the C++ backtrace that 1.13 appends to what().
inline std::string messageOf(const c10::Error& e) { return e.what_without_backtrace(); }

inline std::string version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

}  // namespace tn::compat
