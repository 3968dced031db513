#include "core/train/sealed.h"

#include <cstdint>

#include "core/error.h"
#include "core/weights/zip.h"

namespace tn {
namespace {

constexpr std::string_view kMagic("TNCKPT\x01\n", 8);
constexpr uint64_t kTrailerBytes = 20;

void putLe(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}
uint64_t getLe(std::string_view in, uint64_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(in[at + i]);
  return v;
}

}  // namespace

std::string sealCheckpoint(std::string archive) {
  const uint64_t length = archive.size();
  const uint32_t crc = crc32(archive.data(), length);
  archive += kMagic;
  putLe(archive, length, 8);
  putLe(archive, crc, 4);
  return archive;
}

std::string_view openSealedCheckpoint(std::string_view bytes, const std::string& file) {
  const auto bad = [&](const std::string& why) { return Error("ERR_BAD_DATA", "Cannot read the checkpoint " + file + ": " + why); };
  if (bytes.size() < kTrailerBytes) throw bad("too short to be a checkpoint");
  const uint64_t length = bytes.size() - kTrailerBytes;
  if (bytes.substr(length, kMagic.size()) != kMagic)
    throw bad("it carries no checksum trailer (written by an older version, or damaged); remove it to train from the start");
  if (getLe(bytes, length + 8, 8) != length)
    throw bad("its recorded length disagrees with the file's (truncated or damaged); remove it to train from the start");
  const std::string_view archive = bytes.substr(0, length);
  if (getLe(bytes, length + 16, 4) != crc32(archive.data(), archive.size()))
    throw bad("it fails its CRC-32 checksum (damaged); remove it to train from the start");
  return archive;
}

}  // namespace tn
