#include "core/weights/bounds.h"

#include "core/error.h"

namespace tn {

uint64_t checkTensorBounds(const TensorRecord& t, uint64_t elementSize, uint64_t storageBytes, const std::string& file,
                           const std::string& key) {
  const auto bad = [&](const std::string& why) {
    return Error("ERR_BAD_WEIGHTS", "\"" + file + "\": tensor \"" + key + "\" " + why + " (corrupt or crafted file)");
  };
  if (elementSize == 0) throw bad("has elements of no size");
  if (t.sizes.size() != t.strides.size()) throw bad("has " + std::to_string(t.sizes.size()) + " sizes but " +
                                                     std::to_string(t.strides.size()) + " strides");
  if (t.sizes.size() > kMaxTensorDims)
    throw bad("has " + std::to_string(t.sizes.size()) + " dimensions, more than " + std::to_string(kMaxTensorDims));
  if (t.offset < 0) throw bad("has a negative storage offset " + std::to_string(t.offset));
  const uint64_t available = storageBytes / elementSize;  // whole elements in the storage record
  uint64_t numel = 1, last = static_cast<uint64_t>(t.offset);  // `last`: the highest element addressed
  for (size_t d = 0; d < t.sizes.size(); ++d) {
    if (t.sizes[d] < 0) throw bad("has a negative size " + std::to_string(t.sizes[d]) + " in dimension " + std::to_string(d));
    if (t.strides[d] < 0)
      throw bad("has a negative stride " + std::to_string(t.strides[d]) + " in dimension " + std::to_string(d));
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(t.sizes[d]), &numel))
      throw bad("has more elements than 64 bits count");
  }
  if (numel == 0) {
    if (static_cast<uint64_t>(t.offset) > available) throw bad("starts past the end of its storage");
    return 0;
  }
  for (size_t d = 0; d < t.sizes.size(); ++d) {
    uint64_t reach = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(t.sizes[d] - 1), static_cast<uint64_t>(t.strides[d]), &reach) ||
        __builtin_add_overflow(last, reach, &last))
      throw bad("addresses elements beyond 64-bit offsets");
  }
  if (last >= available)
    throw bad("reaches element " + std::to_string(last) + " of a storage holding " + std::to_string(available));
  // A view whose strides overlap (torch.save of x.expand(n): stride 0) materialises more than its storage holds. A real
  // expanded view is read, as torch.load reads it, up to a bound; a crafted one asking for gigabytes is refused.
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(numel, elementSize, &bytes) || (bytes > storageBytes && bytes > kMaxExpandedBytes))
    throw bad("would materialise " + std::to_string(numel) + " elements from a storage of " + std::to_string(available) +
              " (overlapping strides), more than the 256 MiB an expanded view may take");
  return bytes;
}

}  // namespace tn
