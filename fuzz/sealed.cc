// libFuzzer target: checkpoint verification (native/core/train/sealed.cc), over any bytes and over the input sealed
// with a correct trailer (so the fuzzer also reaches the zip checks behind the checksum). Oracle: a sealed input
// with any one byte changed is always refused.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/train/sealed.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string raw(reinterpret_cast<const char*>(data), size);
  try {
    tn::openSealedCheckpoint(raw, "fuzz.ckpt");
  } catch (const tn::Error&) {
  }
  std::string sealed = tn::sealCheckpoint(raw);
  try {
    tn::openSealedCheckpoint(sealed, "fuzz.ckpt");
  } catch (const tn::Error&) {
  }
  if (size == 0) return 0;
  const size_t at = (data[0] * 131u + size) % sealed.size();
  sealed[at] = static_cast<char>(sealed[at] ^ (data[size - 1] | 1));
  try {
    tn::openSealedCheckpoint(sealed, "fuzz.ckpt");
  } catch (const tn::Error&) {
    return 0;
  }
  abort();  // a damaged checkpoint was accepted
}
