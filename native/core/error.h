// The core's one exception type. Every failure that leaves native/core/api.h is a tn::Error with a stable
// code; native/napi turns it into a JS Error with the same `code`. Nothing in the core exits, aborts or prints.
#pragma once
#include <stdexcept>
#include <string>

namespace tn {

// Every code a tn::Error (or the N-API layer) raises: part of the public API, in this order as the addon's errorCodes()
// returns it. src/errors.ts lists the same codes (NATIVE_ERROR_CODES); a test holds the two equal and every code
// written under native/ to be one of these.
inline constexpr const char* kErrorCodes[] = {
    "ABORT_ERR",       "ERR_BAD_DATA", "ERR_BAD_WEIGHTS", "ERR_BUSY",         "ERR_DISPOSED",
    "ERR_DISTRIBUTED", "ERR_DIVERGED", "ERR_ILLEGAL_CONSTRUCTOR",        "ERR_INVALID_ARG",  "ERR_IO",
    "ERR_NATIVE",      "ERR_NO_CUDA",  "ERR_NUMERICS", "ERR_OUT_OF_MEMORY", "ERR_TORCH",        "ERR_UNKNOWN_MODEL",
    "ERR_WEIGHTS_MISMATCH",
};

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
