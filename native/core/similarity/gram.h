// X^T Y for the similarity engine's Gram route, in float64 on the CPU, with a register-blocked SIMD kernel.
// This header and gram.cc never see LibTorch: the product is the one pass over the datapoints (n x p by n x q, n in
// the tens of thousands), and a system's reference BLAS (Debian's libblas3, which LibTorch and numpy both use there)
// runs it an order of magnitude below what the cores can do. Everything after it stays in LibTorch.
#pragma once
#include <cstdint>
#include <functional>

namespace tn::gram {

// Runs body(begin, end) over [0, count) on the caller's thread pool.
using ParallelFor = std::function<void(int64_t count, const std::function<void(int64_t, int64_t)>& body)>;

// The kernel this CPU gets ("avx512", "avx2") or nullptr where there is none (the caller uses its BLAS).
const char* kernelName();

// out (p x q, row-major, overwritten) = x^T y for x (n x p, row stride ldx) and y (n x q, row stride ldy), split over
// `parts` blocks of datapoints run through `parallel`. With symmetric (x == y, p == q) only the upper half is
// computed and then mirrored. Returns false, touching nothing, when kernelName() is nullptr.
bool crossProduct(const double* x, int64_t ldx, int64_t p, const double* y, int64_t ldy, int64_t q, int64_t n,
                  bool symmetric, double* out, int64_t parts, const ParallelFor& parallel);

}  // namespace tn::gram
