// .npy files: "\x93NUMPY", version, header length (2 bytes in 1.0, 4 in 2.0/3.0), a Python-literal header dict, data.
#include <cstring>
#include <fstream>
#include <iterator>

#include "core/error.h"
#include "core/similarity/npy.h"

namespace tn {
namespace {

Error badNpy(const std::string& path, const std::string& why) { return Error("ERR_BAD_NPY", "\"" + path + "\": " + why); }

// The text after `'key':` in the header dict, up to the next top-level comma or closing brace.
std::string field(const std::string& header, const std::string& key, const std::string& path) {
  const auto at = header.find("'" + key + "'");
  if (at == std::string::npos) throw badNpy(path, "the header has no '" + key + "'");
  auto begin = header.find(':', at) + 1;
  while (begin < header.size() && header[begin] == ' ') ++begin;
  int depth = 0;
  size_t end = begin;
  for (; end < header.size(); ++end) {
    const char ch = header[end];
    if (ch == '(' || ch == '[') ++depth;
    if (ch == ')' || ch == ']') --depth;
    if (depth == 0 && (ch == ',' || ch == '}')) break;
    if (depth < 0) break;
  }
  if (end < header.size() && header[end] == ')') ++end;
  return header.substr(begin, end - begin);
}

}  // namespace

ArrayData impl::readNpy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("ERR_IO", "Cannot open \"" + path + "\"");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) throw badNpy(path, "not a .npy file (no \\x93NUMPY magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t headerLen = 0, start = 0;
  if (major == 1) {
    headerLen = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw badNpy(path, "truncated header");
    for (int i = 3; i >= 0; --i) headerLen = headerLen << 8 | static_cast<unsigned char>(bytes[8 + i]);
    start = 12;
  } else {
    throw badNpy(path, "unsupported .npy format version " + std::to_string(major));
  }
  if (start + headerLen > bytes.size()) throw badNpy(path, "truncated header");
  const std::string header = bytes.substr(start, headerLen);
  const std::string descr = field(header, "descr", path);
  const std::string fortran = field(header, "fortran_order", path);
  const std::string shapeText = field(header, "shape", path);
  if (fortran != "False") throw badNpy(path, "Fortran-order arrays are not supported (save with C order)");
  const bool f32 = descr == "'<f4'" || descr == "'=f4'", f64 = descr == "'<f8'" || descr == "'=f8'";
  if (!f32 && !f64) throw badNpy(path, "dtype " + descr + " is not supported (little-endian float32 or float64 only)");
  ArrayData out;
  int64_t numel = 1;
  std::string digits;
  for (const char ch : shapeText + ",") {
    if (ch >= '0' && ch <= '9') {
      digits += ch;
    } else if (!digits.empty()) {
      out.shape.push_back(std::stoll(digits));
      numel *= out.shape.back();
      digits.clear();
    }
  }
  const size_t dataStart = start + headerLen, need = static_cast<size_t>(numel) * (f32 ? 4 : 8);
  if (bytes.size() - dataStart < need)
    throw badNpy(path, "holds " + std::to_string(bytes.size() - dataStart) + " data bytes but its shape needs " + std::to_string(need) + " (truncated?)");
  if (f32) {
    out.f32.resize(numel);
    std::memcpy(out.f32.data(), bytes.data() + dataStart, need);
  } else {
    out.f64.resize(numel);
    std::memcpy(out.f64.data(), bytes.data() + dataStart, need);
  }
  return out;
}

}  // namespace tn
