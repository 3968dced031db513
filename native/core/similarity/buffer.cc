#include "core/similarity/buffer.h"

#include <cstdlib>
#include <mutex>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace tn {
namespace {

constexpr size_t kHugePageBytes = size_t{2} << 20;
// Kept for reuse at most: a batch's working set of a few prepared inputs, not its whole history.
constexpr size_t kKeepBytes = size_t{1} << 30;

size_t hugeRounded(size_t bytes) { return (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes; }

struct KeptBlock {
  void* p;
  size_t bytes;  // rounded
};
std::mutex keptMutex;
int reusers = 0;
std::vector<KeptBlock> kept;
size_t keptBytes = 0;

}  // namespace

void* hugePages::allocate(size_t bytes) {
  if (bytes < kMin) {
    void* p = std::malloc(bytes ? bytes : 1);
    if (!p) throw std::bad_alloc();
    return p;
  }
  const size_t size = hugeRounded(bytes);
  {
    std::lock_guard<std::mutex> lock(keptMutex);
    for (size_t i = 0; i < kept.size(); ++i)
      if (kept[i].bytes == size) {
        void* p = kept[i].p;
        keptBytes -= size;
        kept.erase(kept.begin() + static_cast<std::ptrdiff_t>(i));
        return p;
      }
  }
  void* p = std::aligned_alloc(kHugePageBytes, size);
  if (!p) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  madvise(p, size, MADV_HUGEPAGE);  // advice only: without transparent huge pages they are ordinary pages
#endif
  return p;
}

void hugePages::release(void* p, size_t bytes) {
  if (bytes >= kMin) {
    const size_t size = hugeRounded(bytes);
    std::lock_guard<std::mutex> lock(keptMutex);
    if (reusers > 0 && keptBytes + size <= kKeepBytes) {
      kept.push_back({p, size});
      keptBytes += size;
      return;
    }
  }
  std::free(p);
}

HugePageReuse::HugePageReuse() {
  std::lock_guard<std::mutex> lock(keptMutex);
  ++reusers;
}

HugePageReuse::~HugePageReuse() {
  std::vector<KeptBlock> toFree;
  {
    std::lock_guard<std::mutex> lock(keptMutex);
    if (--reusers > 0) return;
    toFree.swap(kept);
    keptBytes = 0;
  }
  for (const KeptBlock& b : toFree) std::free(b.p);
}

}  // namespace tn
