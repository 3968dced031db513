// Everything that differs between LibTorch 1.13 (Debian, CPU) and 2.x (pip, CUDA) lives here and nowhere else.
#pragma once
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <cstdlib>
#include <sstream>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

// True when the LibTorch being compiled against is MAJOR.MINOR or newer.
#define TN_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

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

// The key of a parameter's entry in torch::optim's per-parameter state: 1.13 keys it by the TensorImpl's address
// printed as text, 2.x by the address itself.
template <class StateMap>
typename StateMap::key_type optimizerStateKey(const torch::Tensor& p) {
  if constexpr (std::is_same_v<typename StateMap::key_type, std::string>) {
    std::ostringstream text;  // as 1.13's c10::guts::to_string prints it (2.x has no such function)
    text << static_cast<const void*>(p.unsafeGetTensorImpl());
    return text.str();
  } else {
    return p.unsafeGetTensorImpl();
  }
}

// Each tensor of a list times a 0-d tensor (on the list's device), as multi-tensor kernels: 2.1 has the overload; 1.13
// takes a list of that same tensor.
inline std::vector<torch::Tensor> foreachMul(at::TensorList list, const torch::Tensor& scalar) {
#if TN_TORCH_AT_LEAST(2, 1)
  return at::_foreach_mul(list, scalar);
#else
  return at::_foreach_mul(list, std::vector<torch::Tensor>(list.size(), scalar));
#endif
}

// c10::Error's message without the C++ backtrace that 1.13 appends to what().
inline std::string messageOf(const c10::Error& e) { return e.what_without_backtrace(); }

// bf16 autocast on one device type for the lifetime of the guard (thread-local, like Python's torch.autocast).
// 2.4 moved the per-device setters to set_autocast_enabled(device_type, ...); 1.13 has per-device functions.
// Autocast's cache of weight casts is off while the guard lives: it keys a weight's bf16 copy by the weight's
// TensorImpl and is cleared only when the outermost autocast region ends, and a guard lives for a whole training job,
// so the optimizer's in-place updates would leave every later forward on the first step's weights (Python enters
// autocast once per step, which clears it). A CUDA graph capture needs it off too.
class AutocastGuard {
 public:
  AutocastGuard(bool cuda, at::ScalarType dtype) : cuda_(cuda) {
    cacheWasEnabled_ = at::autocast::is_autocast_cache_enabled();
    at::autocast::set_autocast_cache_enabled(false);
#if TN_TORCH_AT_LEAST(2, 4)
    const auto type = cuda ? at::kCUDA : at::kCPU;
    wasEnabled_ = at::autocast::is_autocast_enabled(type);
    previous_ = at::autocast::get_autocast_dtype(type);
    at::autocast::set_autocast_enabled(type, true);
    at::autocast::set_autocast_dtype(type, dtype);
#else
    wasEnabled_ = cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
    previous_ = cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
    if (cuda) at::autocast::set_enabled(true), at::autocast::set_autocast_gpu_dtype(dtype);
    else at::autocast::set_cpu_enabled(true), at::autocast::set_autocast_cpu_dtype(dtype);
#endif
    at::autocast::increment_nesting();
  }
  ~AutocastGuard() {
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
#if TN_TORCH_AT_LEAST(2, 4)
    const auto type = cuda_ ? at::kCUDA : at::kCPU;
    at::autocast::set_autocast_enabled(type, wasEnabled_);
    at::autocast::set_autocast_dtype(type, previous_);
#else
    if (cuda_) at::autocast::set_enabled(wasEnabled_), at::autocast::set_autocast_gpu_dtype(previous_);
    else at::autocast::set_cpu_enabled(wasEnabled_), at::autocast::set_autocast_cpu_dtype(previous_);
#endif
    at::autocast::set_autocast_cache_enabled(cacheWasEnabled_);
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool cuda_;
  bool wasEnabled_ = false, cacheWasEnabled_ = true;
  at::ScalarType previous_ = at::kBFloat16;
};

// TF32 on or off for cuDNN convolutions and cuBLAS matmuls while the guard lives (process-wide, as the settings are),
// then the previous settings back: similarity work wants full float32, `precision: "tf32"` training allows TF32. The
// setters exist in 1.13 and 2.x.
class Tf32Scope {
 public:
  // active: a CUDA job (TF32 is a GPU setting); allow: whether cuBLAS and cuDNN may use TF32 until the scope ends.
  Tf32Scope(bool active, bool allow) : active_(active) {
    if (!active_) return;
    auto& ctx = at::globalContext();
    cudnn_ = ctx.allowTF32CuDNN();
    cublas_ = ctx.allowTF32CuBLAS();
    ctx.setAllowTF32CuDNN(allow);
    ctx.setAllowTF32CuBLAS(allow);
  }
  ~Tf32Scope() {
    if (!active_) return;
    at::globalContext().setAllowTF32CuDNN(cudnn_);
    at::globalContext().setAllowTF32CuBLAS(cublas_);
  }
  Tf32Scope(const Tf32Scope&) = delete;
  Tf32Scope& operator=(const Tf32Scope&) = delete;

 private:
  bool active_, cudnn_ = false, cublas_ = false;
};

// TCPStore's libuv backend: 2.2 added the option (`useLibUV`), 2.4 made it the default, and Debian (like any build
// without USE_LIBUV) has no libuv, so a store left at the default fails to start ("use_libuv was requested but
// PyTorch was build without libuv support"). The classic backend serves a handful of ranks equally well.
template <class TCPStoreOptions>
void useClassicTcpStore(TCPStoreOptions& options) {
#if TN_TORCH_AT_LEAST(2, 2)
  options.useLibUV = false;
#else
  (void)options;
#endif
}

// oneDNN 3.x (LibTorch 2.x) sizes the blocking of its AVX/AVX-512 kernels from the cache descriptors in CPUID (leaf 4;
// AMD's 0x8000001D) and divides by zero where a virtual CPU reports none: under gVisor, a strided 1x1 convolution's
// backward (ResNet-50's layer4 downsample) kills the process with SIGFPE, in PyTorch 2.6 and in the addon alike. There
// oneDNN is capped at its SSE4.1 kernels, which do not (ONEDNN_MAX_CPU_ISA, read by oneDNN at its first use; a cap the
// user set stays): still ~5x faster than ATen's own convolutions. 1.13's oneDNN 2.7 copes, and is left alone.
inline void capOneDnnWhereUnsafe() {
#if TN_TORCH_AT_LEAST(2, 0) && (defined(__x86_64__) || defined(__i386__))
  auto describesCaches = [](unsigned leaf) {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid_max(leaf & 0x80000000u, nullptr) < leaf) return false;
    __cpuid_count(leaf, 0, eax, ebx, ecx, edx);
    return (eax & 31u) != 0;  // the first cache's type; 0: no cache described
  };
  if (!describesCaches(4) && !describesCaches(0x8000001D)) setenv("ONEDNN_MAX_CPU_ISA", "SSE41", /*overwrite=*/0);
#endif
}

inline std::string version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

}  // namespace tn::compat
