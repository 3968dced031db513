// A safetensors file's header, read and checked before one tensor byte is touched. Torch-free, so the fuzzer reaches
// it (fuzz/safetensors.cc). The format: 8-byte little-endian header length, a JSON object of
// name -> {dtype, shape, data_offsets: [begin, end)} (and "__metadata__"), then the data, every byte of which belongs
// to exactly one tensor: offsets in range, contiguous, not overlapping (issue 16: overlapping ones loaded silently).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tn {

struct SafetensorsEntry {
  std::string key;
  std::string dtype;  // our name: "float32", "int64", ... (pickle.h's TensorRecord names)
  std::vector<int64_t> sizes;
  uint64_t begin = 0, end = 0;  // bytes, from the start of the data
};

struct SafetensorsHeader {
  uint64_t dataStart = 0;  // 8 + the header's length
  std::vector<SafetensorsEntry> tensors;  // in header order
};

// Whether `bytes` starts like a safetensors file (a plausible header length, then '{').
bool looksLikeSafetensors(std::string_view bytes);

// The header of the file `bytes`, every entry checked: a known dtype; a shape of at most kMaxTensorDims whole,
// non-negative sizes whose bytes do not overflow; offsets that match those bytes, lie inside the data and cover it
// without gap or overlap; JSON nested at most 64 levels. Throws tn::Error(ERR_BAD_WEIGHTS) naming `file` and the key.
SafetensorsHeader readSafetensorsHeader(std::string_view bytes, const std::string& file);

}  // namespace tn
