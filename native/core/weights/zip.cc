#include "core/weights/zip.h"

#include <array>
#include <cstring>

#include "core/error.h"

namespace tn {
namespace {

uint16_t u16(std::string_view b, uint64_t at) {
  return static_cast<uint16_t>(static_cast<unsigned char>(b[at]) | static_cast<unsigned char>(b[at + 1]) << 8);
}
uint32_t u32(std::string_view b, uint64_t at) { return u16(b, at) | static_cast<uint32_t>(u16(b, at + 2)) << 16; }
uint64_t u64(std::string_view b, uint64_t at) { return u32(b, at) | static_cast<uint64_t>(u32(b, at + 4)) << 32; }

constexpr uint32_t kLocalHeader = 0x04034b50, kCentralHeader = 0x02014b50, kEndOfCentral = 0x06054b50;
constexpr uint32_t kZip64EndOfCentral = 0x06064b50, kZip64Locator = 0x07064b50;

// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zip records it for each entry.
uint32_t crc32(const void* data, uint64_t size) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  const auto* p = static_cast<const unsigned char*>(data);
  for (uint64_t i = 0; i < size; ++i) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

// Little-endian fields appended to a header under construction.
void le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

constexpr uint64_t kAlignment = 64;        // PyTorchStreamWriter's kFieldAlignment: tensor data can be mapped
constexpr uint64_t kZip32Limit = 0xFFFFFFFFu;

}  // namespace

bool ZipArchive::looksLikeZip(std::string_view bytes) { return bytes.size() >= 4 && u32(bytes, 0) == kLocalHeader; }

ZipArchive::ZipArchive(std::string_view bytes, std::string file) : bytes_(bytes), file_(std::move(file)) {
  auto bad = [&](const std::string& why) { return Error("ERR_BAD_WEIGHTS", "\"" + file_ + "\": " + why); };
  if (!looksLikeZip(bytes_)) throw bad("not a zip archive");
  // The end-of-central-directory record sits in the last 22 + 65535 bytes.
  if (bytes_.size() < 22) throw bad("truncated zip archive (no end-of-central-directory record)");
  int64_t eocd = -1;
  const int64_t lowest = std::max<int64_t>(0, static_cast<int64_t>(bytes_.size()) - 22 - 65535);
  for (int64_t at = static_cast<int64_t>(bytes_.size()) - 22; at >= lowest; --at)
    if (u32(bytes_, at) == kEndOfCentral) {
      eocd = at;
      break;
    }
  if (eocd < 0) throw bad("truncated zip archive (no end-of-central-directory record)");
  uint64_t count = u16(bytes_, eocd + 10), dirOffset = u32(bytes_, eocd + 16);
  if ((count == 0xFFFF || dirOffset == 0xFFFFFFFF) && eocd >= 20 && u32(bytes_, eocd - 20) == kZip64Locator) {
    const uint64_t z64 = u64(bytes_, eocd - 20 + 8);
    if (z64 + 56 > bytes_.size() || u32(bytes_, z64) != kZip64EndOfCentral) throw bad("corrupt zip64 directory");
    count = u64(bytes_, z64 + 32);
    dirOffset = u64(bytes_, z64 + 48);
  }
  uint64_t at = dirOffset;
  for (uint64_t i = 0; i < count; ++i) {
    if (at + 46 > bytes_.size() || u32(bytes_, at) != kCentralHeader) throw bad("corrupt zip central directory");
    Entry e;
    e.method = u16(bytes_, at + 10);
    const uint32_t compressed = u32(bytes_, at + 20), size = u32(bytes_, at + 24);
    const uint16_t nameLen = u16(bytes_, at + 28), extraLen = u16(bytes_, at + 30), commentLen = u16(bytes_, at + 32);
    e.size = size;
    e.localHeader = u32(bytes_, at + 42);
    if (at + 46 + nameLen + extraLen > bytes_.size()) throw bad("corrupt zip central directory");
    std::string name(bytes_.substr(at + 46, nameLen));
    // Zip64 extra field: the 64-bit values appear in order for each 32-bit field that is 0xFFFFFFFF.
    for (uint64_t x = at + 46 + nameLen; x + 4 <= at + 46 + nameLen + extraLen;) {
      const uint16_t id = u16(bytes_, x), len = u16(bytes_, x + 2);
      if (id == 0x0001) {
        uint64_t p = x + 4;
        if (size == 0xFFFFFFFF) e.size = u64(bytes_, p), p += 8;
        if (compressed == 0xFFFFFFFF) p += 8;
        if (e.localHeader == 0xFFFFFFFF) e.localHeader = u64(bytes_, p);
      }
      x += 4 + len;
    }
    if (e.method != 0 && compressed != size)
      throw bad("entry \"" + name + "\" is compressed (method " + std::to_string(e.method) +
                "); only stored entries, as torch.save writes them, are supported");
    entries_[name] = e;
    names_.push_back(name);
    at += 46 + nameLen + extraLen + commentLen;
  }
}

std::string_view ZipArchive::read(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) throw Error("ERR_BAD_WEIGHTS", "\"" + file_ + "\": no entry \"" + name + "\" in the archive");
  const Entry& e = it->second;
  if (e.localHeader + 30 > bytes_.size() || u32(bytes_, e.localHeader) != kLocalHeader)
    throw Error("ERR_BAD_WEIGHTS", "\"" + file_ + "\": corrupt local header for \"" + name + "\"");
  const uint64_t start = e.localHeader + 30 + u16(bytes_, e.localHeader + 26) + u16(bytes_, e.localHeader + 28);
  if (start + e.size > bytes_.size())
    throw Error("ERR_BAD_WEIGHTS", "\"" + file_ + "\": entry \"" + name + "\" runs past the end of the file (truncated?)");
  return bytes_.substr(start, e.size);
}

void ZipWriter::put(const void* data, uint64_t size) {
  out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out_) throw Error("ERR_IO", "Failed writing \"" + file_ + "\" (disk full?)");
  written_ += size;
}

void ZipWriter::add(const std::string& name, const void* data, uint64_t size) {
  // Padding so that the data after the 30-byte header, the name and the extra field starts on kAlignment; an extra
  // field needs 4 bytes of its own, so a shorter gap takes a whole kAlignment more.
  const uint64_t unpadded = written_ + 30 + name.size();
  uint64_t padding = (kAlignment - unpadded % kAlignment) % kAlignment;
  if (padding != 0 && padding < 4) padding += kAlignment;
  if (written_ + 30 + name.size() + padding + size > kZip32Limit)
    throw invalidArg("\"" + file_ + "\" would pass 4 GiB, beyond what this .pt writer supports; save as .safetensors");
  Entry e{name, crc32(data, size), size, written_};
  std::string header;
  le(header, kLocalHeader, 4);
  le(header, 20, 2);      // version needed to extract: 2.0
  le(header, 0, 2);       // flags
  le(header, 0, 2);       // method: stored
  le(header, 0, 4);       // modification time and date
  le(header, e.crc, 4);
  le(header, size, 4);    // compressed size
  le(header, size, 4);    // uncompressed size
  le(header, name.size(), 2);
  le(header, padding, 2);
  header += name;
  if (padding != 0) {
    le(header, 0x4246, 2);  // "FB", PyTorch's padding field
    le(header, padding - 4, 2);
    header.append(padding - 4, 'Z');
  }
  put(header.data(), header.size());
  put(data, size);
  entries_.push_back(std::move(e));
}

void ZipWriter::finish() {
  const uint64_t directory = written_;
  std::string central;
  for (const auto& e : entries_) {
    le(central, kCentralHeader, 4);
    le(central, 20, 2);   // version made by
    le(central, 20, 2);   // version needed to extract
    le(central, 0, 2);    // flags
    le(central, 0, 2);    // method: stored
    le(central, 0, 4);    // modification time and date
    le(central, e.crc, 4);
    le(central, e.size, 4);
    le(central, e.size, 4);
    le(central, e.name.size(), 2);
    le(central, 0, 2);    // extra field length
    le(central, 0, 2);    // comment length
    le(central, 0, 2);    // disk number
    le(central, 0, 2);    // internal attributes
    le(central, 0, 4);    // external attributes
    le(central, e.localHeader, 4);
    central += e.name;
  }
  const uint64_t directorySize = central.size();
  if (entries_.size() >= 0xFFFF || directory + directorySize + 22 > kZip32Limit)
    throw invalidArg("\"" + file_ + "\" would need zip64, beyond what this .pt writer supports; save as .safetensors");
  le(central, kEndOfCentral, 4);
  le(central, 0, 2);      // this disk
  le(central, 0, 2);      // the disk with the directory
  le(central, entries_.size(), 2);
  le(central, entries_.size(), 2);
  le(central, directorySize, 4);
  le(central, directory, 4);
  le(central, 0, 2);      // comment length
  put(central.data(), central.size());
}

}  // namespace tn
