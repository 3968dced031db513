// Storage for the similarity engine's large arrays (the activations as they arrive, their centred float64 copies:
// tens of MB each) on transparent huge pages, recycled within a batch. Fresh memory is paid for at first touch: on a
// virtualised host ~18 us per 4 KiB page (measured on this project's machine: 0.40 s to first-touch 20,000 x 512
// doubles, 13 ms on huge pages), and even huge pages are zeroed by the kernel on every fresh mapping (a quarter of a
// batch's time here before blocks were reused). numpy advises huge pages for its large arrays the same way. Torch-free.
#pragma once
#include <cstddef>
#include <new>

namespace tn {

namespace hugePages {
// bytes (>= kMin: 2 MiB-aligned, MADV_HUGEPAGE-advised; smaller: plain malloc), from the blocks a running batch has
// given back where one fits. Throws std::bad_alloc.
void* allocate(size_t bytes);
void release(void* p, size_t bytes);
constexpr size_t kMin = size_t{1} << 20;
}  // namespace hugePages

// While one or more exist, large blocks released are kept (up to a bound) and handed out again instead of going back
// to the system; the last one to go frees those kept. A batch holds one for its duration.
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
