#include "core/memory/cpu_allocator.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>

#include "core/memory/pages.h"

namespace tn {
namespace {

// c10's own alignment for CPU tensors (gAlignment): vectorised kernels and oneDNN expect it.
constexpr size_t kAlignment = 64;

// The size of each pooled block handed out, for its release (the deleter gets only the pointer).
struct LiveBlocks {
  std::mutex mutex;
  std::unordered_map<void*, size_t> bytes;
};

LiveBlocks& live() {
  static LiveBlocks* l = new LiveBlocks();  // never destroyed: tensors may be freed by static destructors at exit
  return *l;
}

// Small blocks' deleter: plain memory, no lookup (most of a step's frees).
void freeSmall(void* p) { std::free(p); }

// Pooled blocks' deleter, and raw_deleter() for any block: one not in the map is small.
void releaseBlock(void* p) {
  if (!p) return;
  size_t bytes = 0;
  {
    LiveBlocks& l = live();
    std::lock_guard<std::mutex> lock(l.mutex);
    auto it = l.bytes.find(p);
    if (it != l.bytes.end()) {
      bytes = it->second;
      l.bytes.erase(it);
    }
  }
  if (bytes) hugePages::release(p, bytes);
  else std::free(p);
}

c10::DataPtr allocateBlock(size_t n) {
  const c10::Device cpu(c10::DeviceType::CPU);
  if (n == 0) return {nullptr, nullptr, &freeSmall, cpu};
  if (n >= hugePages::kPooledMin) {
    void* p = hugePages::allocate(n);
    LiveBlocks& l = live();
    std::lock_guard<std::mutex> lock(l.mutex);
    l.bytes.emplace(p, n);
    return {p, p, &releaseBlock, cpu};
  }
  void* p = nullptr;
  if (posix_memalign(&p, kAlignment, n) != 0) throw std::bad_alloc();
  return {p, p, &freeSmall, cpu};
}

struct CachingCpuAllocator final : c10::Allocator {
  c10::DataPtr make(size_t n) const { return allocateBlock(n); }
  // LibTorch 1.13 declares allocate() const, 2.3 and later not; both are defined so either overrides.
  c10::DataPtr allocate(size_t n) const { return make(n); }
  c10::DataPtr allocate(size_t n) { return make(n); }
  c10::DeleterFnPtr raw_deleter() const override { return &releaseBlock; }
  // Pure virtual from LibTorch 2.3 (clone()'s copy); a plain member before.
  void copy_data(void* dest, const void* src, std::size_t count) const { std::memcpy(dest, src, count); }
};

std::once_flag installed;
bool ours = false;

}  // namespace

void installCpuAllocator() {
  std::call_once(installed, [] {
    const char* setting = std::getenv("TRANSFUSION_CPU_CACHE");
    if (setting && std::string(setting) == "0") return;
    static CachingCpuAllocator allocator;
    c10::SetCPUAllocator(&allocator, /*priority=*/1);
    ours = c10::GetCPUAllocator() == &allocator;
  });
}

bool cpuAllocatorInstalled() { return ours; }

}  // namespace tn
