// libFuzzer target: the tensor bounds check (native/core/weights/bounds.cc). The input is read as a tensor record
// (dimensions, offset, sizes, strides, element size, storage bytes). Oracle: when the check accepts, every element
// the tensor addresses, computed in 128-bit arithmetic, lies inside the storage, the bytes returned are numel times the
// element size, and a tensor taking more bytes than its storage holds (an expanded, overlapping view) takes at most
// kMaxExpandedBytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "core/weights/bounds.h"

namespace {

struct Reader {
  const uint8_t* p;
  size_t n;
  int64_t next() {
    int64_t v = 0;
    const size_t k = n < 8 ? n : 8;
    std::memcpy(&v, p, k);
    p += k;
    n -= k;
    return v;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  Reader r{data + 2, size - 2};
  const uint64_t elementSize = uint64_t{1} << (data[0] & 3);
  const size_t dims = data[1] % 8;
  tn::TensorRecord t;
  t.dtype = "float32";
  t.offset = r.next();
  for (size_t d = 0; d < dims; ++d) t.sizes.push_back(r.next());
  for (size_t d = 0; d < dims; ++d) t.strides.push_back(r.next());
  const uint64_t storageBytes = static_cast<uint64_t>(r.next()) % (uint64_t{1} << 40);
  uint64_t bytes = 0;
  try {
    bytes = tn::checkTensorBounds(t, elementSize, storageBytes, "fuzz.pt", "t");
  } catch (const tn::Error&) {
    return 0;
  }
  // Accepted means every size and stride is >= 0, so the sums and (zero-free) products below fit 128 bits.
  __int128 numel = 1, last = t.offset;
  for (size_t d = 0; d < dims; ++d)
    if (t.sizes[d] == 0) numel = 0;
  for (size_t d = 0; d < dims && numel != 0; ++d) {
    numel *= t.sizes[d];
    last += static_cast<__int128>(t.sizes[d] - 1) * t.strides[d];
  }
  if (numel * static_cast<__int128>(elementSize) != static_cast<__int128>(bytes)) abort();
  if (bytes > storageBytes && bytes > tn::kMaxExpandedBytes) abort();
  if (numel > 0 && (t.offset < 0 || last >= static_cast<__int128>(storageBytes / elementSize))) abort();
  return 0;
}
