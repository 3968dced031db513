// libFuzzer target: the state-dict unpickler (native/core/weights/pickle.cc) over any bytes. Its memory budget and
// arena are what keep a deeply nested or self-referencing pickle from overflowing the stack or the 2 GB RSS limit.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "core/weights/pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    tn::readStateDict(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz/data.pkl");
  } catch (const tn::Error&) {
  }
  return 0;
}
