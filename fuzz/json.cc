// libFuzzer target: the JSON reader of safetensors headers (native/core/weights/json.cc) over any text.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "core/weights/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const tn::json::Value v = tn::json::parse(std::string_view(reinterpret_cast<const char*>(data), size));
    (void)v;
  } catch (const std::runtime_error&) {
  }
  return 0;
}
