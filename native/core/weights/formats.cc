#include "core/weights/formats.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>

#include "core/error.h"
#include "core/weights/json.h"
#include "core/weights/pickle.h"
#include "core/weights/zip.h"

namespace tn {
namespace {

Error bad(const std::string& path, const std::string& why) { return Error("ERR_BAD_WEIGHTS", "\"" + path + "\": " + why); }

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("ERR_IO", "Cannot open weight file \"" + path + "\"");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

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
const DtypeName* bySafetensors(const std::string& name) {
  for (const auto& d : dtypes())
    if (name == d.safetensors) return &d;
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
  NamedTensors out;
  for (const auto& [key, record] : readStateDict(zip.read(prefix + "data.pkl"), path)) {
    const DtypeName* dt = byName(record.dtype);
    const std::string_view storage = zip.read(prefix + "data/" + record.storage);
    const int64_t elementSize = dtypeSize(record.dtype);
    const int64_t available = static_cast<int64_t>(storage.size()) / elementSize;
    if (storageExtent(record) > available)
      throw bad(path, "tensor \"" + key + "\" reaches past its storage (truncated or corrupt file)");
    auto flat = torch::from_blob(const_cast<char*>(storage.data()), {available}, torch::TensorOptions(dt->dtype));
    out.emplace_back(key, flat.as_strided(record.sizes, record.strides, record.offset).clone());
  }
  return out;
}

NamedTensors readSafetensors(const std::string& path, const std::string& bytes) {
  if (bytes.size() < 8) throw bad(path, "neither a torch.save zip nor a safetensors file (too short)");
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i) headerSize = headerSize << 8 | static_cast<unsigned char>(bytes[i]);
  if (headerSize > 100'000'000 || 8 + headerSize > bytes.size() || headerSize == 0 || bytes[8] != '{')
    throw bad(path, "neither a torch.save zip nor a safetensors file (or a truncated one)");
  json::Value header;
  try {
    header = json::parse(std::string_view(bytes).substr(8, headerSize));
  } catch (const std::exception& e) {
    throw bad(path, std::string("safetensors header: ") + e.what());
  }
  if (header.kind != json::Value::Object) throw bad(path, "safetensors header is not a JSON object");
  const uint64_t dataStart = 8 + headerSize, dataSize = bytes.size() - dataStart;
  NamedTensors out;
  for (const auto& [key, info] : header.object) {
    if (key == "__metadata__") continue;
    const json::Value* dtype = info.find("dtype");
    const json::Value* shape = info.find("shape");
    const json::Value* offsets = info.find("data_offsets");
    if (!dtype || dtype->kind != json::Value::String || !shape || shape->kind != json::Value::Array || !offsets ||
        offsets->kind != json::Value::Array || offsets->array.size() != 2)
      throw bad(path, "tensor \"" + key + "\": malformed safetensors entry");
    const DtypeName* dt = bySafetensors(dtype->string);
    if (!dt) throw bad(path, "tensor \"" + key + "\": unsupported safetensors dtype " + dtype->string);
    std::vector<int64_t> sizes;
    int64_t numel = 1;
    for (const auto& s : shape->array) {
      if (s.kind != json::Value::Number || s.number < 0) throw bad(path, "tensor \"" + key + "\": malformed shape");
      sizes.push_back(static_cast<int64_t>(s.number));
      numel *= sizes.back();
    }
    const auto begin = static_cast<uint64_t>(offsets->array[0].number), end = static_cast<uint64_t>(offsets->array[1].number);
    if (end < begin || end > dataSize)
      throw bad(path, "tensor \"" + key + "\" lies beyond the end of the file (truncated?)");
    if (end - begin != static_cast<uint64_t>(numel * dtypeSize(dt->name)))
      throw bad(path, "tensor \"" + key + "\": " + std::to_string(end - begin) + " bytes for shape and dtype " +
                          dtype->string + " needing " + std::to_string(numel * dtypeSize(dt->name)));
    auto t = torch::empty(sizes, torch::TensorOptions(dt->dtype));
    if (numel > 0) std::memcpy(t.data_ptr(), bytes.data() + dataStart + begin, end - begin);
    out.emplace_back(key, t);
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
    for (int64_t d = 0; d < t.dim(); ++d) header += (d ? "," : "") + std::to_string(t.size(d));
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
  const std::string bytes = readAll(path);
  return ZipArchive::looksLikeZip(bytes) ? readTorchZip(path, bytes) : readSafetensors(path, bytes);
}

void writeWeightFile(const std::string& path, const NamedTensors& tensors, const std::string& format) {
  if (format == "safetensors") writeSafetensors(path, tensors);
  else if (format == "pt") writeTorchZip(path, tensors);
  else throw invalidArg("Expected `format` to be \"pt\" or \"safetensors\" but received \"" + format + "\"");
}

}  // namespace tn
