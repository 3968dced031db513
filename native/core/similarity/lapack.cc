#include "core/similarity/lapack.h"

#include <dlfcn.h>

#include <cstddef>
#include <cstdlib>
#include <string>
#include <vector>

namespace tn::lapack {
namespace {

// Fortran's dsyevr, with gfortran's hidden lengths of its three character arguments.
using Dsyevr = void (*)(const char* jobz, const char* range, const char* uplo, const int* n, double* a, const int* lda,
                        const double* vl, const double* vu, const int* il, const int* iu, const double* abstol, int* m,
                        double* w, double* z, const int* ldz, int* isuppz, double* work, const int* lwork, int* iwork,
                        const int* liwork, int* info, size_t, size_t, size_t);

// Looked up among the libraries already loaded: LibTorch's LAPACK, by its soname, then the global scope.
Dsyevr dsyevr() {
  static const Dsyevr found = [] {
    void* symbol = nullptr;
    for (const char* name : {"liblapack.so.3", "libopenblas.so.0", "libopenblasp.so.0"}) {
      if (void* handle = dlopen(name, RTLD_NOW | RTLD_NOLOAD)) {
        symbol = dlsym(handle, "dsyevr_");
        dlclose(handle);  // NOLOAD took a reference; the library stays loaded through LibTorch's own
        if (symbol) break;
      }
    }
    if (!symbol) symbol = dlsym(RTLD_DEFAULT, "dsyevr_");
    return reinterpret_cast<Dsyevr>(symbol);
  }();
  return found;
}

}  // namespace

bool haveSymmetricEigen() {
  // TRANSFUSION_EIGENSOLVER=torch turns it off (torch::linalg_eigh then), for measuring and checking the two agree.
  static const bool off = [] {
    const char* e = std::getenv("TRANSFUSION_EIGENSOLVER");
    return e && std::string(e) == "torch";
  }();
  return !off && dsyevr() != nullptr;
}

bool symmetricEigen(int64_t n64, double* a, double* values, double* vectors) {
  const Dsyevr f = dsyevr();
  if (!f || n64 <= 0 || n64 > (1 << 20)) return false;
  const int n = static_cast<int>(n64), il = 0, iu = 0;
  const double vl = 0, vu = 0, abstol = 0;  // 0: LAPACK's default tolerance (dlamch('S'), full accuracy)
  int m = 0, info = 0, lwork = -1, liwork = -1, iworkSize = 0;
  std::vector<int> isuppz(2 * static_cast<size_t>(n));
  double workSize = 0;
  f("V", "A", "L", &n, a, &n, &vl, &vu, &il, &iu, &abstol, &m, values, vectors, &n, isuppz.data(), &workSize, &lwork, &iworkSize,
    &liwork, &info, 1, 1, 1);  // the workspace query
  if (info != 0) return false;
  lwork = static_cast<int>(workSize);
  liwork = iworkSize;
  std::vector<double> work(static_cast<size_t>(lwork));
  std::vector<int> iwork(static_cast<size_t>(liwork));
  f("V", "A", "L", &n, a, &n, &vl, &vu, &il, &iu, &abstol, &m, values, vectors, &n, isuppz.data(), work.data(), &lwork, iwork.data(),
    &liwork, &info, 1, 1, 1);
  return info == 0 && m == n;
}

}  // namespace tn::lapack
