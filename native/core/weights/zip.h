// A read-only view of an uncompressed ("stored") zip archive held in memory, enough for PyTorch's torch.save files
// (which never compress). Torch-free. Throws tn::Error (ERR_BAD_WEIGHTS) naming the file for anything else.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tn {

class ZipArchive {
 public:
  // bytes must outlive the archive. `file` names the source in error messages.
  ZipArchive(std::string_view bytes, std::string file);
  static bool looksLikeZip(std::string_view bytes);

  const std::vector<std::string>& names() const { return names_; }
  bool has(const std::string& name) const { return entries_.count(name) != 0; }
  std::string_view read(const std::string& name) const;

 private:
  struct Entry {
    uint64_t localHeader = 0, size = 0;
    uint16_t method = 0;
  };
  std::string_view bytes_;
  std::string file_;
  std::map<std::string, Entry> entries_;
  std::vector<std::string> names_;
};

}  // namespace tn
