// A job's channels (Event and JobControl: progress out, cancellation in) and TensorData, the core's dense arrays.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace tn {

struct Event {
  std::string kind;                                   // "step", "eval", "generate"
  std::vector<std::pair<std::string, double>> fields;  // e.g. {"step", 12}, {"loss", 0.61}
};
struct JobControl {
  const std::atomic<bool>* cancelled = nullptr;
  std::function<void(Event)> emit;  // may be empty
  void check() const { if (cancelled && cancelled->load()) throw Cancelled(); }
  void report(Event e) const { if (emit) emit(std::move(e)); }
};

// A dense float32 tensor crossing into or out of the core.
struct TensorData {
  std::vector<float> data;  // row-major
  std::vector<int64_t> shape;
};

}  // namespace tn
