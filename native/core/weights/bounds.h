// The bytes a tensor of a .pt file reads from its storage record, checked before one is read. Torch-free, so the
// fuzzer reaches it (fuzz/bounds.cc). Issue 16: a 300-byte .pt whose tensor had a huge offset and stride overflowed
// the old arithmetic (SIGSEGV, or bytes copied from outside the tensor data), and a stride-0 one asked for 10 GB.
#pragma once
#include <cstdint>
#include <string>

#include "core/weights/pickle.h"

namespace tn {

inline constexpr size_t kMaxTensorDims = 64;
// The most bytes a view whose strides overlap (torch.save of x.expand(n): stride 0) may materialise beyond its storage.
inline constexpr uint64_t kMaxExpandedBytes = uint64_t{256} << 20;

// Checks that `t`, of elements `elementSize` bytes wide, addresses only elements of a storage record `storageBytes`
// long: offset, sizes and strides not negative, at most kMaxTensorDims dimensions, no overflow in any product or sum,
// the highest element addressed inside the storage, and no more bytes materialised than the storage holds unless the
// view is an expanded one of at most kMaxExpandedBytes (a stride-0 tensor of 10 GB over 4 bytes is a crafted file).
// Returns the bytes the tensor takes once materialised (numel * elementSize). Throws tn::Error(ERR_BAD_WEIGHTS) naming `file` and `key`.
uint64_t checkTensorBounds(const TensorRecord& t, uint64_t elementSize, uint64_t storageBytes, const std::string& file,
                           const std::string& key);

}  // namespace tn
