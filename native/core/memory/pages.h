// Storage for the addon's large blocks: the similarity engine's arrays (the activations as they arrive, their centred
// float64 copies: tens of MB each) and, through core/memory/cpu_allocator.h, every LibTorch CPU tensor of 64 KiB and
// more (a training step's activations, gradients, optimizer temporaries), recycled within a batch or job and from one
// to the next. Fresh memory is paid for at first touch: on a virtualised host ~18 us per 4 KiB page (measured on this
// project's machine: 0.40 s to first-touch 20,000 x 512 doubles, 13 ms on huge pages), and even huge pages are zeroed
// by the kernel on every fresh mapping (a quarter of a similarity batch's time here before blocks were reused; up to a
// third of a training step's, where glibc unmapped a step's tensors for the next to fault in again). numpy advises
// huge pages for its large arrays the same way. Torch-free.
#pragma once
#include <cstddef>
#include <new>

namespace tn {

namespace hugePages {
// bytes (>= kMin: 2 MiB-aligned, MADV_HUGEPAGE-advised; from kPooledMin: page-aligned; smaller: plain malloc), from
// the blocks a running batch or job has given back where one of the same rounded size is kept. Throws std::bad_alloc.
void* allocate(size_t bytes);
void release(void* p, size_t bytes);
// The bytes kept for reuse now (see HugePageReuse).
size_t keptBytes();
constexpr size_t kMin = size_t{1} << 20;
constexpr size_t kPooledMin = size_t{64} << 10;
}  // namespace hugePages

// While one or more exist, and for 3 s after the last one goes, large blocks released are kept (up to an eighth of the
// memory, 1-16 GiB; the oldest freed first beyond that) and handed out again instead of going back to the system; a
// background thread frees those kept once 3 s pass with none held. Every native job (native/napi/jobs.cc) and every
// similarity batch holds one for its duration; the blocks of the inputs the addon copied for it come back after it
// ends, inside those 3 s, so a loop of batches reuses them too.
class HugePageReuse {
 public:
  HugePageReuse();
  ~HugePageReuse();
  HugePageReuse(const HugePageReuse&) = delete;
  HugePageReuse& operator=(const HugePageReuse&) = delete;
};

// A std::allocator over hugePages. Stateless: any two compare equal.
template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}
  T* allocate(size_t count) { return static_cast<T*>(hugePages::allocate(count * sizeof(T))); }
  void deallocate(T* p, size_t count) { hugePages::release(p, count * sizeof(T)); }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const { return true; }
  template <class U>
  bool operator!=(const HugePageAllocator<U>&) const { return false; }
};

}  // namespace tn
