#include "core/weights/safetensors.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/weights/bounds.h"
#include "core/weights/json.h"

namespace tn {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53: JSON numbers above it are not exact integers

struct Dtype {
  const char* safetensors;
  const char* name;
  uint64_t bytes;
};
constexpr Dtype kDtypes[] = {{"F32", "float32", 4}, {"F64", "float64", 8}, {"F16", "float16", 2}, {"BF16", "bfloat16", 2},
                             {"I64", "int64", 8},   {"I32", "int32", 4},   {"I16", "int16", 2},   {"I8", "int8", 1},
                             {"U8", "uint8", 1},    {"BOOL", "bool", 1}};

uint64_t headerLength(std::string_view bytes) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | static_cast<unsigned char>(bytes[i]);
  return n;
}

// A JSON number that is a whole number in [0, 2^53], or -1.
int64_t wholeNumber(const json::Value& v) {
  if (v.kind != json::Value::Number || !(v.number >= 0) || v.number > kMaxExactInteger || v.number != std::floor(v.number))
    return -1;
  return static_cast<int64_t>(v.number);
}

}  // namespace

bool looksLikeSafetensors(std::string_view bytes) {
  if (bytes.size() < 9) return false;
  const uint64_t n = headerLength(bytes);
  return n > 0 && n <= kMaxHeaderBytes && n <= bytes.size() - 8 && bytes[8] == '{';
}

SafetensorsHeader readSafetensorsHeader(std::string_view bytes, const std::string& file) {
  const auto bad = [&](const std::string& why) { return Error("ERR_BAD_WEIGHTS", "\"" + file + "\": " + why); };
  if (bytes.size() < 8) throw bad("neither a torch.save zip nor a safetensors file (too short)");
  if (!looksLikeSafetensors(bytes)) throw bad("neither a torch.save zip nor a safetensors file (or a truncated one)");
  const uint64_t headerSize = headerLength(bytes);
  json::Value header;
  try {
    header = json::parse(bytes.substr(8, headerSize));
  } catch (const std::exception& e) {
    throw bad(std::string("safetensors header: ") + e.what());
  }
  if (header.kind != json::Value::Object) throw bad("safetensors header is not a JSON object");
  SafetensorsHeader out;
  out.dataStart = 8 + headerSize;
  const uint64_t dataSize = bytes.size() - out.dataStart;
  for (const auto& item : header.object) {
    const std::string& key = item.first;  // named, not a structured binding: C++17 lambdas cannot capture those
    const json::Value& info = item.second;
    if (key == "__metadata__") continue;
    const auto badTensor = [&](const std::string& why) { return bad("tensor \"" + key.substr(0, 200) + "\"" + why); };
    const json::Value* dtype = info.find("dtype");
    const json::Value* shape = info.find("shape");
    const json::Value* offsets = info.find("data_offsets");
    if (info.kind != json::Value::Object || !dtype || dtype->kind != json::Value::String || !shape ||
        shape->kind != json::Value::Array || !offsets || offsets->kind != json::Value::Array || offsets->array.size() != 2)
      throw badTensor(": malformed safetensors entry");
    const Dtype* dt = nullptr;
    for (const auto& d : kDtypes)
      if (dtype->string == d.safetensors) dt = &d;
    if (!dt) throw badTensor(": unsupported safetensors dtype " + dtype->string.substr(0, 20));
    if (shape->array.size() > kMaxTensorDims)
      throw badTensor(" has " + std::to_string(shape->array.size()) + " dimensions, more than " + std::to_string(kMaxTensorDims));
    SafetensorsEntry e;
    e.key = key;
    e.dtype = dt->name;
    uint64_t nbytes = dt->bytes;
    for (const auto& s : shape->array) {
      const int64_t size = wholeNumber(s);
      if (size < 0) throw badTensor(": malformed shape (sizes must be whole numbers >= 0)");
      e.sizes.push_back(size);
      if (__builtin_mul_overflow(nbytes, static_cast<uint64_t>(size), &nbytes)) throw badTensor(": its shape overflows 64 bits");
    }
    const int64_t begin = wholeNumber(offsets->array[0]), end = wholeNumber(offsets->array[1]);
    if (begin < 0 || end < 0 || end < begin) throw badTensor(": malformed data_offsets");
    e.begin = static_cast<uint64_t>(begin);
    e.end = static_cast<uint64_t>(end);
    if (e.end > dataSize) throw badTensor(" lies beyond the end of the file (truncated?)");
    if (e.end - e.begin != nbytes)
      throw badTensor(": " + std::to_string(e.end - e.begin) + " bytes for shape and dtype " + dtype->string + " needing " +
                      std::to_string(nbytes));
    out.tensors.push_back(std::move(e));
  }
  // Every data byte belongs to exactly one tensor: sorted by offset, each starts where the last ended.
  std::vector<const SafetensorsEntry*> order;
  for (const auto& e : out.tensors) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t covered = 0;
  for (const auto* e : order) {
    if (e->begin < covered)
      throw bad("tensor \"" + e->key.substr(0, 200) + "\" overlaps another in the data (data_offsets [" +
                std::to_string(e->begin) + ", " + std::to_string(e->end) + "))");
    if (e->begin > covered)
      throw bad("bytes [" + std::to_string(covered) + ", " + std::to_string(e->begin) + ") of the data belong to no tensor");
    covered = e->end;
  }
  if (covered != dataSize)
    throw bad("bytes [" + std::to_string(covered) + ", " + std::to_string(dataSize) + ") of the data belong to no tensor");
  return out;
}

}  // namespace tn
