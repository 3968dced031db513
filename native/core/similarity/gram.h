// X^T Y for the similarity engine's Gram route, in float64 on the CPU, with a register-blocked SIMD kernel.
// This header and gram.cc never see LibTorch: the product is the one pass over the datapoints (n x p by n x q, n in
// the tens of thousands), and a system's reference BLAS (Debian's libblas3, which LibTorch and numpy both use there)
// runs it an order of magnitude below what the cores can do. Everything after it stays in LibTorch.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tn::gram {

// Runs body(begin, end) over [0, count) on the caller's thread pool.
using ParallelFor = std::function<void(int64_t count, const std::function<void(int64_t, int64_t)>& body)>;

// One candidate's measured rate: "avx512", "avx512/mc128" (row panels in blocks of 128 rows), "avx2", ..., "blas".
struct Timing {
  std::string name;
  double gflops;
};
// The caller's BLAS route for the same product: out (p x p) = x^T y, x and y (n x p, row-major).
using BlasProduct = std::function<void(const double* x, const double* y, int64_t n, int64_t p, double* out)>;

// Chooses the route of every later product by measurement, once per process (later calls return the first call's
// timings): each kernel this CPU can run (AVX-512, AVX2 with FMA), with and without blocking its row panels for L2, and
// `blas` where given, timed on one thread on the products a pair makes, one X^T X and one X^T Y of 2048 x 256 blocks
// (best of 3 each, in two rounds: about 0.6 s in all). The rate counts both as whole products, so a kernel's use of X^T
// X's symmetry (half the work; the BLAS route computes all of it) counts for it, as it does in a batch: timed on X^T Y
// alone, the BLAS won here by 4% and the batch then ran 20% slower. The fastest wins. TRANSFUSION_GRAM_KERNEL=<name>
// overrides the choice ("blas" or a name no kernel has: the BLAS).
const std::vector<Timing>& calibrate(const BlasProduct& blas);

// The kernel calibrate() chose, or nullptr before it, where the BLAS won, or where the CPU has none.
const char* kernelName();

// out (p x q, row-major, overwritten) = x^T y for x (n x p, row stride ldx) and y (n x q, row stride ldy), split over
// `parts` blocks of datapoints run through `parallel`. With symmetric (x == y, p == q) only the upper half is
// computed and then mirrored. Returns false, touching nothing, when kernelName() is nullptr (the caller's BLAS then).
bool crossProduct(const double* x, int64_t ldx, int64_t p, const double* y, int64_t ldy, int64_t q, int64_t n,
                  bool symmetric, double* out, int64_t parts, const ParallelFor& parallel);

}  // namespace tn::gram
