// The core's one exception type. Every failure that leaves native/core/api.h is a tn::Error with a stable
// code; native/napi turns it into a JS Error with the same `code`. Nothing in the core exits, aborts or prints.
#pragma once
#include <stdexcept>
#include <string>

namespace tn {

struct Error : std::runtime_error {
  std::string code;  // e.g. "ERR_INVALID_ARG", "ERR_TORCH"; part of the public API
  Error(std::string code_, const std::string& message) : std::runtime_error(message), code(std::move(code_)) {}
};

inline Error invalidArg(const std::string& message) { return Error("ERR_INVALID_ARG", message); }

// The first line of a library's message: LibTorch 1.13 appends a C++ backtrace to what().
inline std::string firstLine(const std::string& message) { return message.substr(0, message.find('\n')); }

// Thrown between steps when a job's cancel flag is set.
struct Cancelled : Error {
  Cancelled() : Error("ABORT_ERR", "The operation was aborted") {}
};

}  // namespace tn
