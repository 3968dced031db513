// libFuzzer target: a safetensors file's header checks (native/core/weights/safetensors.cc). Oracle: whatever the
// reader accepts, its tensors lie inside the data, match their shapes, and cover the data without overlap.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/weights/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  tn::SafetensorsHeader h;
  try {
    h = tn::readSafetensorsHeader(bytes, "fuzz.safetensors");
  } catch (const tn::Error&) {
    return 0;
  }
  const uint64_t dataSize = size - h.dataStart;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& e : h.tensors) {
    if (e.begin > e.end || e.end > dataSize) abort();
    ranges.emplace_back(e.begin, e.end);
  }
  std::sort(ranges.begin(), ranges.end());
  uint64_t covered = 0;
  for (const auto& [begin, end] : ranges) {
    if (begin != covered) abort();
    covered = end;
  }
  if (covered != dataSize) abort();
  return 0;
}
