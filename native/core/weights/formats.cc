#include "core/weights/formats.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>

#include "core/error.h"
#include "core/files.h"
#include "core/weights/bounds.h"
#include "core/weights/json.h"
#include "core/weights/pickle.h"
#include "core/weights/safetensors.h"
#include "core/weights/zip.h"

namespace tn {
namespace {

Error bad(const std::string& path, const std::string& why) { return Error("ERR_BAD_WEIGHTS", "\"" + path + "\": " + why); }

// Tensors of a .pt file may share a storage record (tied weights), but all of them together may materialise at most
// this many times the file's size: past that, a small file is asking for memory it does not hold.
constexpr uint64_t kMaterialisedPerFileByte = 4;

// (our dtype name, torch dtype, safetensors name)
struct DtypeName {
  const char* name;
  torch::Dtype dtype;
  const char* safetensors;
};
const std::vector<DtypeName>& dtypes() {
  static const std::vector<DtypeName> table = {
      {"float32", torch::kFloat32, "F32"}, {"float64", torch::kFloat64, "F64"}, {"float16", torch::kFloat16, "F16"},
      {"bfloat16", torch::kBFloat16, "BF16"}, {"int64", torch::kInt64, "I64"}, {"int32", torch::kInt32, "I32"},
      {"int16", torch::kInt16, "I16"}, {"int8", torch::kInt8, "I8"}, {"uint8", torch::kUInt8, "U8"},
      {"bool", torch::kBool, "BOOL"}};
  return table;
}
const DtypeName* byName(const std::string& name) {
  for (const auto& d : dtypes())
    if (name == d.name) return &d;
  return nullptr;
}
const DtypeName& byTorch(torch::Dtype dtype, const std::string& key) {
  for (const auto& d : dtypes())
    if (dtype == d.dtype) return d;
  throw invalidArg("Tensor \"" + key + "\" has a dtype no weight format here supports");
}

NamedTensors readTorchZip(const std::string& path, const std::string& bytes) {
  ZipArchive zip(bytes, path);
  std::string prefix;
  bool found = false;
  for (const auto& name : zip.names()) {
    const std::string suffix = "data.pkl";
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
        name.find("/data/") == std::string::npos) {
      prefix = name.substr(0, name.size() - suffix.size());
      found = true;
      break;
    }
  }
  if (!found) throw bad(path, "a zip without data.pkl: not a torch.save file");
  if (zip.has(prefix + "byteorder") && zip.read(prefix + "byteorder") != "little")
    throw bad(path, "big-endian tensors are not supported");
  const auto records = readStateDict(zip.read(prefix + "data.pkl"), path);
  // Every tensor checked before any is materialised: a bad last tensor costs no memory for the first ones.
  std::vector<std::string_view> storages;
  uint64_t total = 0;
  for (const auto& [key, record] : records) {
    if (!byName(record.dtype)) throw bad(path, "tensor \"" + key + "\" has an unsupported dtype " + record.dtype);
    if (!zip.has(prefix + "data/" + record.storage))
      throw bad(path, "tensor \"" + key + "\": no storage record \"" + record.storage + "\" in the archive");
    storages.push_back(zip.read(prefix + "data/" + record.storage));
    const uint64_t tensorBytes = checkTensorBounds(record, dtypeSize(record.dtype), storages.back().size(), path, key);
    if (__builtin_add_overflow(total, tensorBytes, &total) || total > kMaterialisedPerFileByte * bytes.size() + (1 << 20))
      throw bad(path, "its tensors would materialise more than " + std::to_string(kMaterialisedPerFileByte) +
                          " times the file's size (tensors overlapping in their storages: a crafted file)");
  }
  NamedTensors out;
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& [key, record] = records[i];
    const auto available = static_cast<int64_t>(storages[i].size() / dtypeSize(record.dtype));
    auto flat = torch::from_blob(const_cast<char*>(storages[i].data()), {available},
                                 torch::TensorOptions(byName(record.dtype)->dtype));
    out.emplace_back(key, flat.as_strided(record.sizes, record.strides, record.offset).clone());
  }
  return out;
}

NamedTensors readSafetensors(const std::string& path, const std::string& bytes) {
  const SafetensorsHeader header = readSafetensorsHeader(bytes, path);
  NamedTensors out;
  for (const auto& e : header.tensors) {
    auto t = torch::empty(e.sizes, torch::TensorOptions(byName(e.dtype)->dtype));
    if (e.end > e.begin) std::memcpy(t.data_ptr(), bytes.data() + header.dataStart + e.begin, e.end - e.begin);
    out.emplace_back(e.key, t);
  }
  return out;
}

void writeSafetensors(const std::string& path, const NamedTensors& tensors) {
  std::vector<torch::Tensor> data;
  std::string header = "{\"__metadata__\":{\"format\":\"pt\"}";
  uint64_t offset = 0;
  for (const auto& [key, tensor] : tensors) {
    auto t = tensor.detach().to(torch::kCPU).contiguous();
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * t.element_size();
    header += "," + json::quote(key) + ":{\"dtype\":\"" + byTorch(t.scalar_type(), key).safetensors + "\",\"shape\":[";
    for (int64_t d = 0; d < t.dim(); ++d) {
      if (d > 0) header += ',';
      header += std::to_string(t.size(d));
    }
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + bytes) + "]}";
    offset += bytes;
    data.push_back(t);
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error("ERR_IO", "Cannot open \"" + path + "\" for writing");
  char size[8];
  for (int i = 0; i < 8; ++i) size[i] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  out.write(size, 8);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (const auto& t : data) out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
  out.close();
  if (!out) throw Error("ERR_IO", "Failed writing \"" + path + "\" (disk full?)");
}

// The zip torch.save writes: <archive>/data.pkl (writeStateDict), byteorder, one record per storage under data/, and
// the format version (3, which PyTorch 1.13 and 2.x both read).
void writeTorchZip(const std::string& path, const NamedTensors& tensors) {
  std::vector<std::pair<std::string, TensorRecord>> records;
  std::vector<torch::Tensor> storages;
  for (const auto& [key, tensor] : tensors) {
    auto t = tensor.detach().to(torch::kCPU).contiguous();
    TensorRecord r;
    r.storage = std::to_string(storages.size());
    r.dtype = byTorch(t.scalar_type(), key).name;
    r.sizes = t.sizes().vec();
    r.strides = t.strides().vec();
    records.emplace_back(key, std::move(r));
    storages.push_back(std::move(t));
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error("ERR_IO", "Cannot open \"" + path + "\" for writing");
  ZipWriter zip(out, path);
  zip.add("archive/data.pkl", writeStateDict(records));
  zip.add("archive/byteorder", "little");
  for (size_t i = 0; i < storages.size(); ++i)
    zip.add("archive/data/" + records[i].second.storage, storages[i].data_ptr(), storages[i].numel() * storages[i].element_size());
  zip.add("archive/version", "3\n");
  zip.finish();
  out.close();
  if (!out) throw Error("ERR_IO", "Failed writing \"" + path + "\" (disk full?)");
}

}  // namespace

NamedTensors readWeightFile(const std::string& path) {
  const std::string bytes = readRegularFile(path, "weight file", "ERR_BAD_WEIGHTS");
  return ZipArchive::looksLikeZip(bytes) ? readTorchZip(path, bytes) : readSafetensors(path, bytes);
}

void writeWeightFile(const std::string& path, const NamedTensors& tensors, const std::string& format) {
  if (format == "safetensors") writeSafetensors(path, tensors);
  else if (format == "pt") writeTorchZip(path, tensors);
  else throw invalidArg("Expected `format` to be \"pt\" or \"safetensors\" but received \"" + format + "\"");
}

}  // namespace tn
