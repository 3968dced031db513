// A minimal JSON reader for safetensors headers (objects, arrays, strings, integers, true/false/null). Torch-free.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tn::json {

struct Value {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Value> array;
  std::vector<std::pair<std::string, Value>> object;  // in document order
  const Value* find(const std::string& key) const;
};

// Throws std::runtime_error with the byte offset of the problem.
Value parse(std::string_view text);

// A JSON string literal for s (quotes and escapes).
std::string quote(const std::string& s);

}  // namespace tn::json
