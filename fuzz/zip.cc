// libFuzzer target: the zip reader (native/core/weights/zip.cc) over any bytes: every entry read and CRC-checked.
// A tn::Error is the expected answer to a bad archive; anything else (a crash, a sanitizer report) is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "core/weights/zip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (!tn::ZipArchive::looksLikeZip(bytes)) return 0;
  try {
    tn::ZipArchive zip(bytes, "fuzz.pt");
    for (const auto& name : zip.names()) {
      try {
        zip.read(name);
      } catch (const tn::Error&) {
      }
    }
  } catch (const tn::Error&) {
  }
  return 0;
}
