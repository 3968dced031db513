#include "core/similarity/gram.h"

#include "core/memory/pages.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TN_GRAM_X86 1
#endif

namespace tn::gram {
namespace {

// The partial sums and packed panels (1-2 MB each, every product): on huge pages, and reused within a batch
// (core/memory/pages.h) instead of faulted in afresh by every product.
using Buffer = std::vector<double, HugePageAllocator<double>>;

// c (mr x nr, row stride ldc) += a^T b over kc datapoints of packed panels: a holds kc rows of mr values, b kc rows
// of nr values.
using Kernel = void (*)(int64_t kc, const double* a, const double* b, double* c, int64_t ldc);

struct Variant {
  int64_t mr, nr;
  Kernel kernel;
  const char* name;
};

#ifdef TN_GRAM_X86
// 8 x 16 tile: 16 zmm accumulators, each step broadcasts 8 values of a against two vectors of b.
__attribute__((target("avx512f"))) void kernelAvx512(int64_t kc, const double* a, const double* b, double* c, int64_t ldc) {
  __m512d acc[8][2];
#pragma GCC unroll 8
  for (int r = 0; r < 8; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_pd();
  for (int64_t k = 0; k < kc; ++k, a += 8, b += 16) {
    const __m512d b0 = _mm512_loadu_pd(b), b1 = _mm512_loadu_pd(b + 8);
#pragma GCC unroll 8
    for (int r = 0; r < 8; ++r) {
      const __m512d ar = _mm512_set1_pd(a[r]);
      acc[r][0] = _mm512_fmadd_pd(ar, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_pd(ar, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < 8; ++r) {
    double* row = c + r * ldc;
    _mm512_storeu_pd(row, _mm512_add_pd(_mm512_loadu_pd(row), acc[r][0]));
    _mm512_storeu_pd(row + 8, _mm512_add_pd(_mm512_loadu_pd(row + 8), acc[r][1]));
  }
}

// 6 x 8 tile: 12 ymm accumulators (of 16 registers).
__attribute__((target("avx2,fma"))) void kernelAvx2(int64_t kc, const double* a, const double* b, double* c, int64_t ldc) {
  __m256d acc[6][2];
#pragma GCC unroll 6
  for (int r = 0; r < 6; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_pd();
  for (int64_t k = 0; k < kc; ++k, a += 6, b += 8) {
    const __m256d b0 = _mm256_loadu_pd(b), b1 = _mm256_loadu_pd(b + 4);
#pragma GCC unroll 6
    for (int r = 0; r < 6; ++r) {
      const __m256d ar = _mm256_set1_pd(a[r]);
      acc[r][0] = _mm256_fmadd_pd(ar, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_pd(ar, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < 6; ++r) {
    double* row = c + r * ldc;
    _mm256_storeu_pd(row, _mm256_add_pd(_mm256_loadu_pd(row), acc[r][0]));
    _mm256_storeu_pd(row + 4, _mm256_add_pd(_mm256_loadu_pd(row + 4), acc[r][1]));
  }
}
#endif

// The kernels this CPU can run, widest first.
std::vector<const Variant*> supported() {
  std::vector<const Variant*> out;
#ifdef TN_GRAM_X86
  static const Variant avx512{8, 16, kernelAvx512, "avx512"}, avx2{6, 8, kernelAvx2, "avx2"};
  if (__builtin_cpu_supports("avx512f")) out.push_back(&avx512);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) out.push_back(&avx2);
#endif
  return out;
}

// A kernel with its blocking: kc datapoints per packed block, and row panels in blocks of mc rows (0: all of them).
struct Candidate {
  const Variant* variant;
  int64_t kc, mc;
  std::string name;
};

std::mutex chosenMutex;
const Candidate* chosenCandidate = nullptr;  // set once by calibrate(); nullptr before it and where BLAS won
bool calibrated = false;

// Rows [k0, k0 + kc) of m (row stride ld, `cols` columns) as panels of `width` columns, zero-padded past the last
// column: panel j holds kc rows of `width` values.
void pack(const double* m, int64_t ld, int64_t cols, int64_t k0, int64_t kc, int64_t width, double* out) {
  const int64_t panels = (cols + width - 1) / width;
  for (int64_t j = 0; j < panels; ++j) {
    const int64_t c0 = j * width, w = std::min(width, cols - c0);
    double* dst = out + j * kc * width;
    for (int64_t k = 0; k < kc; ++k, dst += width) {
      std::memcpy(dst, m + (k0 + k) * ld + c0, static_cast<size_t>(w) * sizeof(double));
      std::fill(dst + w, dst + width, 0.0);
    }
  }
}

// The product with candidate c's kernel and blocking (crossProduct's contract).
bool run(const Candidate& c, const double* x, int64_t ldx, int64_t p, const double* y, int64_t ldy, int64_t q, int64_t n,
         bool symmetric, double* out, int64_t parts, const ParallelFor& parallel) {
  const Variant* v = c.variant;
  const int64_t kcMax = c.kc, mcPanels = c.mc > 0 ? std::max<int64_t>(1, c.mc / v->mr) : (p + v->mr - 1) / v->mr;
  parts = std::max<int64_t>(1, std::min(parts, n));
  const int64_t mr = v->mr, nr = v->nr, rowPanels = (p + mr - 1) / mr, colPanels = (q + nr - 1) / nr;
  // Part 0 accumulates into `out`, every other part into its own buffer; they are summed at the end.
  std::vector<Buffer> partial(parts - 1, Buffer(p * q, 0.0));
  std::fill(out, out + p * q, 0.0);
  parallel(parts, [&](int64_t begin, int64_t end) {
    Buffer packedA(rowPanels * mr * kcMax), packedB(colPanels * nr * kcMax), tile(mr * nr);
    for (int64_t part = begin; part < end; ++part) {
      double* sum = part == 0 ? out : partial[part - 1].data();
      const int64_t lo = n * part / parts, hi = n * (part + 1) / parts;
      for (int64_t k0 = lo; k0 < hi; k0 += kcMax) {
        const int64_t kc = std::min(kcMax, hi - k0);
        pack(x, ldx, p, k0, kc, mr, packedA.data());
        pack(y, ldy, q, k0, kc, nr, packedB.data());
        // Row panels in blocks of mc rows: a block's packed panels (mc x kc) stay in L2 while every column panel
        // (kc x nr, in L1) passes over them.
        for (int64_t ib0 = 0; ib0 < rowPanels; ib0 += mcPanels) {
          const int64_t ib1 = std::min(rowPanels, ib0 + mcPanels);
          for (int64_t jb = 0; jb < colPanels; ++jb) {
            const int64_t j0 = jb * nr, w = std::min(nr, q - j0);
            for (int64_t ib = ib0; ib < ib1; ++ib) {
              const int64_t i0 = ib * mr, h = std::min(mr, p - i0);
              if (symmetric && i0 >= j0 + w) break;  // the tile lies wholly below the diagonal
              const double* a = packedA.data() + ib * kc * mr;
              const double* b = packedB.data() + jb * kc * nr;
              if (h == mr && w == nr) {
                v->kernel(kc, a, b, sum + i0 * q + j0, q);  // a whole tile: accumulated in place
                continue;
              }
              std::fill(tile.begin(), tile.end(), 0.0);
              v->kernel(kc, a, b, tile.data(), nr);
              for (int64_t r = 0; r < h; ++r)
                for (int64_t col = 0; col < w; ++col) sum[(i0 + r) * q + j0 + col] += tile[r * nr + col];
            }
          }
        }
      }
    }
  });
  for (const auto& part : partial)
    for (int64_t i = 0; i < p * q; ++i) out[i] += part[i];
  if (symmetric)
    for (int64_t i = 0; i < p; ++i)
      for (int64_t j = 0; j < i; ++j) out[i * q + j] = out[j * q + i];
  return true;
}


// The machine's float64 rate of `product` (`flops` of work) on one thread: the best of three after one untimed run.
double gflopsOf(const std::function<void()>& product, double flops) {
  product();
  double best = 1e30;
  for (int r = 0; r < 3; ++r) {
    const auto start = std::chrono::steady_clock::now();
    product();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return flops / best * 1e-9;
}

}  // namespace

const std::vector<Timing>& calibrate(const BlasProduct& blas) {
  static std::vector<Timing> timings;
  const std::lock_guard<std::mutex> lock(chosenMutex);
  if (calibrated) return timings;
  static std::vector<Candidate> candidates;
  for (const Variant* v : supported()) {
    candidates.push_back({v, 256, 0, v->name});
    candidates.push_back({v, 256, 16 * v->mr, std::string(v->name) + "/mc" + std::to_string(16 * v->mr)});
  }
  // One X^T Y the shape of a block of a layer's activations: 2048 datapoints x 256 neurons per side, 0.27 GFLOP.
  const int64_t n = 2048, p = 256;
  std::vector<double> x(static_cast<size_t>(n * p)), y(x.size()), out(static_cast<size_t>(p * p));
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = static_cast<double>((i * 2654435761u) % 1000) * 1e-3 - 0.5;
    y[i] = static_cast<double>((i * 40503u) % 997) * 1e-3 - 0.5;
  }
  const double flops = 2.0 * static_cast<double>(n * p * p);
  const ParallelFor serial = [](int64_t count, const std::function<void(int64_t, int64_t)>& body) { body(0, count); };
  // The rate of one X^T X and one X^T Y, each counted as a whole product.
  const auto pairRate = [&](const std::function<void(const double*, bool)>& product) {
    const double self = flops / gflopsOf([&] { product(x.data(), true); }, flops);
    const double cross = flops / gflopsOf([&] { product(y.data(), false); }, flops);
    return 2 * flops / (self + cross);
  };
  // Two rounds over the candidates, each keeping its better one: the first candidate timed no longer pays alone for
  // what the machine warms up (it measured 30% below its own second timing here).
  std::vector<double> rates(candidates.size() + (blas ? 1 : 0), 0.0);
  for (int round = 0; round < 2; ++round) {
    for (size_t k = 0; k < candidates.size(); ++k) {
      const Candidate& c = candidates[k];
      rates[k] = std::max(rates[k], pairRate([&](const double* other, bool symmetric) { run(c, x.data(), p, p, other, p, p, n, symmetric, out.data(), 1, serial); }));
    }
    if (blas) rates.back() = std::max(rates.back(), pairRate([&](const double* other, bool) { blas(x.data(), other, n, p, out.data()); }));
  }
  const Candidate* best = nullptr;
  double bestRate = 0;
  for (size_t k = 0; k < rates.size(); ++k) {
    const bool isBlas = k == candidates.size();
    timings.push_back({isBlas ? "blas" : candidates[k].name, rates[k]});
    if (rates[k] > bestRate) best = isBlas ? nullptr : &candidates[k], bestRate = rates[k];
  }
  // TRANSFUSION_GRAM_KERNEL names a candidate (or "blas") to use whatever the timings say.
  if (const char* forced = std::getenv("TRANSFUSION_GRAM_KERNEL")) {
    best = nullptr;
    for (const auto& c : candidates)
      if (c.name == forced) best = &c;
  }
  chosenCandidate = best;
  calibrated = true;
  return timings;
}

const char* kernelName() {
  const std::lock_guard<std::mutex> lock(chosenMutex);
  return chosenCandidate ? chosenCandidate->name.c_str() : nullptr;
}

bool crossProduct(const double* x, int64_t ldx, int64_t p, const double* y, int64_t ldy, int64_t q, int64_t n,
                  bool symmetric, double* out, int64_t parts, const ParallelFor& parallel) {
  const Candidate* c;
  {
    const std::lock_guard<std::mutex> lock(chosenMutex);
    c = chosenCandidate;
  }
  return c && run(*c, x, ldx, p, y, ldy, q, n, symmetric, out, parts, parallel);
}

}  // namespace tn::gram
