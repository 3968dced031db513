// Storage for the similarity engine's large arrays (the activations as they arrive, their centred float64 copies:
// tens of MB each) on transparent huge pages. Fresh memory is paid for page by page at first touch; on a virtualised
// host that costs ~18 us per 4 KiB page (measured on this project's machine: 0.40 s to first-touch 20,000 x 512
// doubles, 13 ms with huge pages), more than the Gram products over the same data. numpy advises huge pages for its
// large arrays the same way. Torch-free.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace tn {

// A std::allocator that places blocks of kHugePageMin bytes or more on 2 MiB-aligned, MADV_HUGEPAGE-advised memory
// (smaller blocks, and systems without the advice, get plain malloc). Stateless: any two compare equal.
template <class T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr size_t kHugePage = size_t{2} << 20;
  static constexpr size_t kHugePageMin = size_t{1} << 20;

  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}

  T* allocate(size_t count) {
    const size_t bytes = count * sizeof(T);
    void* p = nullptr;
    if (bytes >= kHugePageMin) {
      const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
      p = std::aligned_alloc(kHugePage, rounded);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
      if (p) madvise(p, rounded, MADV_HUGEPAGE);  // advice only: without THP the pages are ordinary ones
#endif
    } else {
      p = std::malloc(bytes ? bytes : 1);
    }
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) { std::free(p); }

  template <class U>
  bool operator==(const HugePageAllocator<U>&) const { return true; }
  template <class U>
  bool operator!=(const HugePageAllocator<U>&) const { return false; }
};

}  // namespace tn
