#include "core/memory/pages.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include <unistd.h>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace tn {
namespace {

constexpr size_t kHugePageBytes = size_t{2} << 20;
// Kept for reuse at most: the working sets of what runs at once (a similarity batch's inputs and a few prepared ones;
// 70-270 MB per CBR training job at the quick preset's shape, one job per core by default), not their whole history:
// an eighth of the machine's memory, from 1 GiB to 16 GiB.
size_t keepLimit() {
  static const size_t limit = [] {
    size_t memory = 0;
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) memory = static_cast<size_t>(pages) * static_cast<size_t>(page);
#endif
    return std::min(std::max(memory / 8, size_t{1} << 30), size_t{16} << 30);
  }();
  return limit;
}
// How long blocks are kept once no batch is running: long enough for the next call of a loop of batches (and for the
// addon's copy of the next call's inputs, made before its batch starts), short enough that memory goes back soon.
constexpr auto kLinger = std::chrono::seconds(3);

constexpr size_t kPageBytes = size_t{4} << 10;

// The size a block is kept under: whole huge pages from kMin, whole pages from kPooledMin.
size_t rounded(size_t bytes) {
  const size_t unit = bytes >= hugePages::kMin ? kHugePageBytes : kPageBytes;
  return (bytes + unit - 1) / unit * unit;
}

struct KeptBlock {
  void* p;
  size_t bytes;  // rounded
};

// One pool per process, made on first use and never destroyed: the reaper thread may still hold its lock while the
// process exits, so no static destructor may run on it.
struct Pool {
  std::mutex mutex;
  std::condition_variable wake;
  int reusers = 0;
  std::chrono::steady_clock::time_point lingerUntil{};
  bool reaperStarted = false;
  std::vector<KeptBlock> kept;
  size_t keptBytes = 0;

  // Blocks released now are kept: while a batch runs, or for kLinger after the last one ended.
  bool keeping() const { return reusers > 0 || std::chrono::steady_clock::now() < lingerUntil; }

  // Frees what is kept once no batch has run for kLinger (under `lock`; frees outside it).
  void reap() {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      wake.wait(lock, [&] { return reusers == 0 && !kept.empty(); });
      if (wake.wait_until(lock, lingerUntil, [&] { return reusers > 0; })) continue;  // a batch started
      if (std::chrono::steady_clock::now() < lingerUntil) continue;                  // lingerUntil moved on
      std::vector<KeptBlock> toFree;
      toFree.swap(kept);
      keptBytes = 0;
      lock.unlock();
      for (const KeptBlock& b : toFree) std::free(b.p);
      lock.lock();
    }
  }
};

Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

}  // namespace

void* hugePages::allocate(size_t bytes) {
  if (bytes < kPooledMin) {
    void* p = std::malloc(bytes ? bytes : 1);
    if (!p) throw std::bad_alloc();
    return p;
  }
  const size_t size = rounded(bytes);
  {
    Pool& s = pool();
    std::lock_guard<std::mutex> lock(s.mutex);
    for (size_t i = s.kept.size(); i-- > 0;)  // newest first: the block released last is the warmest
      if (s.kept[i].bytes == size) {
        void* p = s.kept[i].p;
        s.keptBytes -= size;
        s.kept.erase(s.kept.begin() + static_cast<std::ptrdiff_t>(i));
        return p;
      }
  }
  const bool huge = bytes >= kMin;
  void* p = std::aligned_alloc(huge ? kHugePageBytes : kPageBytes, size);
  if (!p) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (huge) madvise(p, size, MADV_HUGEPAGE);  // advice only: without transparent huge pages they are ordinary pages
#endif
  return p;
}

void hugePages::release(void* p, size_t bytes) {
  if (bytes >= kPooledMin) {
    const size_t size = rounded(bytes);
    Pool& s = pool();
    std::unique_lock<std::mutex> lock(s.mutex);
    if (s.keeping() && size <= keepLimit()) {
      // Full: the blocks kept longest go, so a study's next model (other sizes) is not starved by the last one's.
      size_t evict = 0, evictBytes = 0;
      while (s.keptBytes - evictBytes + size > keepLimit()) evictBytes += s.kept[evict++].bytes;
      std::vector<KeptBlock> toFree(s.kept.begin(), s.kept.begin() + static_cast<std::ptrdiff_t>(evict));
      s.kept.erase(s.kept.begin(), s.kept.begin() + static_cast<std::ptrdiff_t>(evict));
      s.keptBytes -= evictBytes;
      s.kept.push_back({p, size});
      s.keptBytes += size;
      s.wake.notify_all();
      lock.unlock();
      for (const KeptBlock& b : toFree) std::free(b.p);
      return;
    }
  }
  std::free(p);
}

size_t hugePages::keptBytes() {
  Pool& s = pool();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.keptBytes;
}

HugePageReuse::HugePageReuse() {
  Pool& s = pool();
  std::lock_guard<std::mutex> lock(s.mutex);
  ++s.reusers;
  if (!s.reaperStarted) {
    s.reaperStarted = true;
    std::thread([&s] { s.reap(); }).detach();
  }
  s.wake.notify_all();
}

HugePageReuse::~HugePageReuse() {
  Pool& s = pool();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (--s.reusers == 0) s.lingerUntil = std::chrono::steady_clock::now() + kLinger;
  s.wake.notify_all();
}

}  // namespace tn
