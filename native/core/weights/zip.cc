#include "core/weights/zip.h"

#include <algorithm>
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

// Little-endian fields appended to a header under construction.
void le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

constexpr uint64_t kAlignment = 64;        // PyTorchStreamWriter's kFieldAlignment: tensor data can be mapped
constexpr uint64_t kZip32Limit = 0xFFFFFFFFu;

// Whether [at, at + length) lies inside a buffer of `size` bytes, without the sum overflowing.
bool fits(uint64_t at, uint64_t length, uint64_t size) { return at <= size && length <= size - at; }

}  // namespace

uint32_t crc32(const void* data, uint64_t size, uint32_t crc) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  uint32_t c = crc ^ 0xFFFFFFFFu;
  const auto* p = static_cast<const unsigned char*>(data);
  for (uint64_t i = 0; i < size; ++i) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

bool ZipArchive::looksLikeZip(std::string_view bytes) { return bytes.size() >= 4 && u32(bytes, 0) == kLocalHeader; }

ZipArchive::ZipArchive(std::string_view bytes, std::string file) : bytes_(bytes), file_(std::move(file)) {
  auto bad = [&](const std::string& why) { return Error("ERR_BAD_WEIGHTS", "\"" + file_ + "\": " + why); };
  const uint64_t size = bytes_.size();
  if (!looksLikeZip(bytes_)) throw bad("not a zip archive");
  // The end-of-central-directory record sits in the last 22 + 65535 bytes.
  if (size < 22) throw bad("truncated zip archive (no end-of-central-directory record)");
  int64_t eocd = -1;
  const int64_t lowest = std::max<int64_t>(0, static_cast<int64_t>(size) - 22 - 65535);
  for (int64_t at = static_cast<int64_t>(size) - 22; at >= lowest; --at)
    if (u32(bytes_, at) == kEndOfCentral) {
      eocd = at;
      break;
    }
  if (eocd < 0) throw bad("truncated zip archive (no end-of-central-directory record)");
  uint64_t count = u16(bytes_, eocd + 10), dirOffset = u32(bytes_, eocd + 16);
  if ((count == 0xFFFF || dirOffset == 0xFFFFFFFF) && eocd >= 20 && u32(bytes_, eocd - 20) == kZip64Locator) {
    const uint64_t z64 = u64(bytes_, eocd - 20 + 8);
    if (!fits(z64, 56, size) || u32(bytes_, z64) != kZip64EndOfCentral) throw bad("corrupt zip64 directory");
    count = u64(bytes_, z64 + 32);
    dirOffset = u64(bytes_, z64 + 48);
  }
  if (count > size / 46) throw bad("corrupt zip central directory (" + std::to_string(count) + " entries claimed)");
  uint64_t at = dirOffset;
  for (uint64_t i = 0; i < count; ++i) {
    if (!fits(at, 46, size) || u32(bytes_, at) != kCentralHeader) throw bad("corrupt zip central directory");
    Entry e;
    e.method = u16(bytes_, at + 10);
    e.crc = u32(bytes_, at + 16);
    const uint32_t compressed = u32(bytes_, at + 20), size32 = u32(bytes_, at + 24);
    const uint16_t nameLen = u16(bytes_, at + 28), extraLen = u16(bytes_, at + 30), commentLen = u16(bytes_, at + 32);
    e.size = size32;
    e.localHeader = u32(bytes_, at + 42);
    const uint64_t recordLength = 46 + uint64_t{nameLen} + extraLen + commentLen;
    if (!fits(at, recordLength, size)) throw bad("corrupt zip central directory");
    std::string name(bytes_.substr(at + 46, nameLen));
    // Zip64 extra field: the 64-bit values appear in order for each 32-bit field that is 0xFFFFFFFF, each inside
    // the field's own length.
    const uint64_t extraEnd = at + 46 + nameLen + extraLen;
    for (uint64_t x = at + 46 + nameLen; x + 4 <= extraEnd;) {
      const uint16_t id = u16(bytes_, x), len = u16(bytes_, x + 2);
      const uint64_t fieldEnd = x + 4 + len;
      if (fieldEnd > extraEnd) throw bad("corrupt zip extra field for \"" + name + "\"");
      if (id == 0x0001) {
        uint64_t p = x + 4;
        const auto next = [&]() {
          if (p + 8 > fieldEnd) throw bad("corrupt zip64 extra field for \"" + name + "\"");
          const uint64_t v = u64(bytes_, p);
          p += 8;
          return v;
        };
        if (size32 == 0xFFFFFFFF) e.size = next();
        if (compressed == 0xFFFFFFFF) next();
        if (e.localHeader == 0xFFFFFFFF) e.localHeader = next();
      }
      x = fieldEnd;
    }
    if (e.method != 0 && compressed != size32)
      throw bad("entry \"" + name + "\" is compressed (method " + std::to_string(e.method) +
                "); only stored entries, as torch.save writes them, are supported");
    if (!fits(e.localHeader, 30, size) || !fits(e.localHeader + 30, e.size, size))
      throw bad("entry \"" + name + "\" runs past the end of the file (truncated?)");
    if (entries_.count(name)) throw bad("entry \"" + name + "\" appears twice in the zip directory");
    entries_[name] = e;
    names_.push_back(name);
    at += recordLength;
  }
}

std::string_view ZipArchive::read(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) throw Error("ERR_BAD_WEIGHTS", "\"" + file_ + "\": no entry \"" + name + "\" in the archive");
  const Entry& e = it->second;
  const uint64_t size = bytes_.size();
  if (!fits(e.localHeader, 30, size) || u32(bytes_, e.localHeader) != kLocalHeader)
    throw Error("ERR_BAD_WEIGHTS", "\"" + file_ + "\": corrupt local header for \"" + name + "\"");
  const uint64_t start = e.localHeader + 30 + u16(bytes_, e.localHeader + 26) + u16(bytes_, e.localHeader + 28);
  if (!fits(start, e.size, size))
    throw Error("ERR_BAD_WEIGHTS", "\"" + file_ + "\": entry \"" + name + "\" runs past the end of the file (truncated?)");
  const std::string_view data = bytes_.substr(start, e.size);
  std::lock_guard<std::mutex> lock(verifiedMutex_);
  if (!verified_.count(name)) {
    if (crc32(data.data(), data.size()) != e.crc)
      throw Error("ERR_BAD_WEIGHTS", "\"" + file_ + "\": entry \"" + name + "\" fails its CRC-32 check (corrupt file)");
    verified_.insert(name);
  }
  return data;
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
