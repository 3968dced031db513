#include "core/weights/json.h"

#include <cstdlib>
#include <stdexcept>

namespace tn::json {
namespace {

// Arrays and objects nest at most this deep: the parser recurses once per level (a safetensors header needs 3;
// issue 16's header nested 50,000 levels overflowed the stack).
constexpr int kMaxDepth = 64;

class Parser {
 public:
  explicit Parser(std::string_view t) : t_(t) {}
  Value document() {
    Value v = value();
    space();
    if (p_ != t_.size()) fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error("invalid JSON at byte " + std::to_string(p_) + ": " + why);
  }
  void space() {
    while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\n' || t_[p_] == '\r' || t_[p_] == '\t')) ++p_;
  }
  char peek() {
    space();
    if (p_ >= t_.size()) fail("unexpected end");
    return t_[p_];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++p_;
  }
  bool literal(std::string_view word) {
    if (t_.substr(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }
  // Counts one level of nesting for the life of a container's parse.
  struct Nested {
    explicit Nested(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxDepth) p_.fail("nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    ~Nested() { --p_.depth_; }
    Parser& p_;
  };
  Value value() {
    Value v;
    const char c = peek();
    if (c == '{' || c == '[') {
      const Nested level(*this);
      return c == '{' ? object() : array();
    }
    if (c == '"') {
      v.kind = Value::String;
      v.string = string();
      return v;
    }
    if (literal("true")) { v.kind = Value::Bool; v.boolean = true; return v; }
    if (literal("false")) { v.kind = Value::Bool; return v; }
    if (literal("null")) return v;
    if (c == '-' || (c >= '0' && c <= '9')) {
      const char* begin = t_.data() + p_;
      char* end = nullptr;
      const std::string text(begin, std::min<size_t>(64, t_.size() - p_));
      v.kind = Value::Number;
      v.number = std::strtod(text.c_str(), &end);
      if (end == text.c_str()) fail("malformed number");
      p_ += static_cast<size_t>(end - text.c_str());
      return v;
    }
    fail("unexpected character");
  }
  Value object() {
    Value v;
    v.kind = Value::Object;
    ++p_;
    if (peek() == '}') return ++p_, v;
    for (;;) {
      std::string key = string();
      expect(':');
      v.object.emplace_back(std::move(key), value());
      if (peek() == ',') { ++p_; continue; }
      expect('}');
      return v;
    }
  }
  Value array() {
    Value v;
    v.kind = Value::Array;
    ++p_;
    if (peek() == ']') return ++p_, v;
    for (;;) {
      v.array.push_back(value());
      if (peek() == ',') { ++p_; continue; }
      expect(']');
      return v;
    }
  }
  unsigned hex4() {
    if (p_ + 4 > t_.size()) fail("bad \\u escape");
    unsigned code = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = t_[p_++];
      const int digit = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
      if (digit < 0) fail("bad \\u escape");
      code = code << 4 | static_cast<unsigned>(digit);
    }
    return code;
  }
  std::string string() {
    expect('"');
    std::string out;
    while (p_ < t_.size() && t_[p_] != '"') {
      char c = t_[p_++];
      if (c != '\\') { out += c; continue; }
      if (p_ >= t_.size()) break;
      c = t_[p_++];
      switch (c) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          const unsigned code = hex4();
          if (code < 0x80) out += static_cast<char>(code);
          else if (code < 0x800) out += static_cast<char>(0xC0 | code >> 6), out += static_cast<char>(0x80 | (code & 0x3F));
          else out += static_cast<char>(0xE0 | code >> 12), out += static_cast<char>(0x80 | ((code >> 6) & 0x3F)), out += static_cast<char>(0x80 | (code & 0x3F));
          break;
        }
        default: out += c;
      }
    }
    if (p_ >= t_.size()) fail("unterminated string");
    ++p_;
    return out;
  }
  std::string_view t_;
  size_t p_ = 0;
  int depth_ = 0;
};

}  // namespace

const Value* Value::find(const std::string& key) const {
  for (const auto& [k, v] : object)
    if (k == key) return &v;
  return nullptr;
}

Value parse(std::string_view text) { return Parser(text).document(); }

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (c == '\n') out += "\\n";
    else if (static_cast<unsigned char>(c) < 0x20) {
      const char* hex = "0123456789abcdef";
      out += "\\u00";
      out += hex[(c >> 4) & 15];
      out += hex[c & 15];
    } else out += c;
  }
  return out + "\"";
}

}  // namespace tn::json
