#include "core/similarity/blas_threads.h"

#include <dlfcn.h>

#include <mutex>

namespace tn {
namespace {

using OpenBlasGet = int (*)();
using OpenBlasSet = void (*)(int);

struct OpenBlas {
  OpenBlasGet get = nullptr;
  OpenBlasSet set = nullptr;
};

// OpenBLAS's thread controls, looked up among the libraries already loaded (LibTorch's BLAS), or none.
const OpenBlas& openBlas() {
  static const OpenBlas found = [] {
    OpenBlas o;
    o.get = reinterpret_cast<OpenBlasGet>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    o.set = reinterpret_cast<OpenBlasSet>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    if (!o.get || !o.set) o = OpenBlas{};
    return o;
  }();
  return found;
}

std::mutex blasMutex;
int blasHolders = 0, blasSaved = 0;  // scopes alive, and the thread count the first one found

}  // namespace

SerialBlasScope::SerialBlasScope() {
  const OpenBlas& o = openBlas();
  if (!o.set) return;
  std::lock_guard<std::mutex> lock(blasMutex);
  if (blasHolders++ == 0) {
    blasSaved = o.get();
    if (blasSaved > 1) o.set(1);
  }
}

SerialBlasScope::~SerialBlasScope() {
  const OpenBlas& o = openBlas();
  if (!o.set) return;
  std::lock_guard<std::mutex> lock(blasMutex);
  if (--blasHolders == 0 && blasSaved > 1) o.set(blasSaved);
}

}  // namespace tn
