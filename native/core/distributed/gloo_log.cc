#include "core/distributed/gloo_log.h"

#include <iostream>
#include <mutex>
#include <streambuf>
#include <string_view>

namespace tn {
namespace {

// Forwards every character to the buffer it wraps, except whole Gloo INFO lines. GLOO_LOG_MSG writes each line as one
// string, "[FILE:LINE] INFO message\n" with FILE under gloo/, which reaches this buffer as one sputn: no state is kept
// between calls, so the filter is as thread-safe as the buffer it wraps.
class GlooInfoFilter final : public std::streambuf {
 public:
  explicit GlooInfoFilter(std::streambuf* to) : to_(to) {}

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (isGlooInfo(std::string_view(s, static_cast<size_t>(n)))) return n;
    return to_->sputn(s, n);
  }
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    return to_->sputc(traits_type::to_char_type(c));
  }
  int sync() override { return to_->pubsync(); }

 private:
  static bool isGlooInfo(std::string_view line) {
    if (line.empty() || line.front() != '[' || line.back() != '\n') return false;
    const size_t level = line.find("] INFO ");
    return level != std::string_view::npos && line.substr(0, level).find("gloo/") != std::string_view::npos;
  }

  std::streambuf* to_;
};

}  // namespace

void dropGlooInfoLines() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Never deleted: std::cerr may be written to until the process's last destructor has run.
    std::cerr.rdbuf(new GlooInfoFilter(std::cerr.rdbuf()));
  });
}

}  // namespace tn
