// The one wording of ERR_NATIVE (apart from error.h, which every core file includes, so that a change here rebuilds
// three files, not the core).
#pragma once
#include "core/error.h"

namespace tn {

// ERR_NATIVE: a C++ exception no check of ours foresaw (every input known to reach one has its own code and names its
// file). Its message says so and how to report it, with the library's words first, never a bare "stoll".
inline Error unforeseen(const char* what) {
  return Error("ERR_NATIVE", "An unforeseen failure in the native core (" + firstLine(what ? what : "no detail") +
                                 "): a bug in transfusion-native; please report it with the input that caused it");
}

}  // namespace tn
