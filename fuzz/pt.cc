// libFuzzer target: the torch-free half of reading a .pt file, as native/core/weights/formats.cc does it: the zip,
// its data.pkl through the unpickler, and every tensor's bounds against its storage record.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/weights/bounds.h"
#include "core/weights/pickle.h"
#include "core/weights/zip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (!tn::ZipArchive::looksLikeZip(bytes)) return 0;
  try {
    tn::ZipArchive zip(bytes, "fuzz.pt");
    std::string pickle;
    for (const auto& name : zip.names())
      if (name.size() >= 8 && name.compare(name.size() - 8, 8, "data.pkl") == 0) pickle = name;
    if (pickle.empty()) return 0;
    const std::string prefix = pickle.substr(0, pickle.size() - 8);
    for (const auto& [key, record] : tn::readStateDict(zip.read(pickle), "fuzz.pt")) {
      const std::string storage = prefix + "data/" + record.storage;
      if (!zip.has(storage)) continue;
      tn::checkTensorBounds(record, tn::dtypeSize(record.dtype), zip.read(storage).size(), "fuzz.pt", key);
    }
  } catch (const tn::Error&) {
  }
  return 0;
}
