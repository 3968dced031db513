#include "core/similarity/blas_threads.h"

#include <dlfcn.h>

#include <mutex>

namespace tn {
namespace {

using GetThreads = int (*)();
using SetThreads = void (*)(int);

struct OpenBlas {
  GetThreads get = nullptr;
  SetThreads set = nullptr;
};

// OpenBLAS's thread controls, looked up among the libraries already loaded (LibTorch's BLAS), or none.
const OpenBlas& openBlas() {
  static const OpenBlas found = [] {
    OpenBlas o;
    o.get = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    o.set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    if (!o.get || !o.set) o = OpenBlas{};
    return o;
  }();
  return found;
}

std::mutex mutex;
int holders = 0, saved = 0;

}  // namespace

SerialBlasScope::SerialBlasScope() {
  const OpenBlas& o = openBlas();
  if (!o.set) return;
  std::lock_guard<std::mutex> lock(mutex);
  if (holders++ == 0) {
    saved = o.get();
    if (saved > 1) o.set(1);
  }
}

SerialBlasScope::~SerialBlasScope() {
  const OpenBlas& o = openBlas();
  if (!o.set) return;
  std::lock_guard<std::mutex> lock(mutex);
  if (--holders == 0 && saved > 1) o.set(saved);
}

}  // namespace tn
