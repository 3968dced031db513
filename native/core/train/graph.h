// A training step captured as a CUDA graph: after a few eager warm-up steps on a side stream, the step's forward,
// backward and optimizer kernels are recorded once and each later step launches them as one graph, which takes the
// per-kernel launch cost off small models. Everything the step reads or writes must live at fixed addresses: the
// trainer copies each batch into static inputs and the optimizer reads its changing scalars from device memory.
// Only a CUDA build of LibTorch can capture (available()); elsewhere constructing one throws a named error.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <memory>

namespace tn {

class StepGraph {
 public:
  static bool available();
  explicit StepGraph(torch::Device device);
  ~StepGraph();
  // Runs `body` eagerly on the side stream, ordered after the work already queued and before the work queued next.
  void warmup(const std::function<void()>& body);
  // Records `body` into the graph on the side stream; nothing runs.
  void capture(const std::function<void()>& body);
  // Launches the recorded step on the current stream.
  void replay();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tn
