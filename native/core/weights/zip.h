// Uncompressed ("stored") zip archives as PyTorch's torch.save writes them (it never compresses): ZipArchive, a
// read-only view of one held in memory; ZipWriter, which writes one. Torch-free. Throws tn::Error naming the file.
// Ours rather than LibTorch's caffe2::serialize::PyTorchStreamReader: issue 16 reports that a checkpoint with one
// flipped bit takes the process down inside LibTorch's InputArchive::load_from, which reads through that reader; a
// reader of our own is where bounds and CRC checks can refuse such a file with a named error (issue 16's work).
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tn {

// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) as zip records it for each entry; `crc` continues a running
// value (0 to start).
uint32_t crc32(const void* data, uint64_t size, uint32_t crc = 0);

class ZipArchive {
 public:
  // bytes must outlive the archive. `file` names the source in error messages. Every offset and length of the
  // directory (zip64 ones included) is checked against `bytes` with overflow-safe arithmetic.
  ZipArchive(std::string_view bytes, std::string file);
  static bool looksLikeZip(std::string_view bytes);

  const std::vector<std::string>& names() const { return names_; }
  bool has(const std::string& name) const { return entries_.count(name) != 0; }
  // The entry's bytes, verified once against the CRC-32 the directory records. Throws ERR_BAD_WEIGHTS naming the
  // file and the entry.
  std::string_view read(const std::string& name) const;

 private:
  struct Entry {
    uint64_t localHeader = 0, size = 0;
    uint32_t crc = 0;
    uint16_t method = 0;
  };
  std::string_view bytes_;
  std::string file_;
  std::map<std::string, Entry> entries_;
  std::vector<std::string> names_;
  mutable std::mutex verifiedMutex_;
  mutable std::set<std::string> verified_;  // entries whose CRC-32 has been checked
};

// Writes a zip as PyTorch's PyTorchStreamWriter does: every entry stored, with its CRC-32, its data starting on a
// 64-byte boundary (padding in the local header's "FB" extra field), no zip64 (an archive past 4 GiB is refused:
// safetensors has no such limit). Each add() writes through to `out`; finish() writes the central directory.
class ZipWriter {
 public:
  // `file` names the destination in error messages.
  ZipWriter(std::ostream& out, std::string file) : out_(out), file_(std::move(file)) {}
  void add(const std::string& name, const void* data, uint64_t size);
  void add(const std::string& name, std::string_view data) { add(name, data.data(), data.size()); }
  void finish();

 private:
  struct Entry {
    std::string name;
    uint32_t crc = 0;
    uint64_t size = 0, localHeader = 0;
  };
  std::ostream& out_;
  std::string file_;
  uint64_t written_ = 0;
  std::vector<Entry> entries_;
  void put(const void* data, uint64_t size);
};

}  // namespace tn
