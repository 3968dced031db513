#include "core/train/graph.h"

#include "core/error.h"

#ifdef TN_WITH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace tn {

#ifdef TN_WITH_CUDA
struct StepGraph::Impl {
  explicit Impl(c10::DeviceIndex index) : index(index), side(c10::cuda::getStreamFromPool(/*isHighPriority=*/false, index)) {}
  c10::DeviceIndex index;
  c10::cuda::CUDAStream side;
  at::cuda::CUDAGraph graph;
};

bool StepGraph::available() { return true; }

StepGraph::StepGraph(torch::Device device)
    : impl_(std::make_unique<Impl>(device.has_index() ? device.index() : c10::cuda::current_device())) {}

void StepGraph::warmup(const std::function<void()>& body) {
  auto current = c10::cuda::getCurrentCUDAStream(impl_->index);
  at::cuda::CUDAEvent before, after;
  before.record(current);
  before.block(impl_->side);
  {
    const c10::cuda::CUDAStreamGuard onSide(impl_->side);
    body();
    after.record(impl_->side);
  }
  after.block(current);
}

void StepGraph::capture(const std::function<void()>& body) {
  c10::cuda::device_synchronize();  // as torch.cuda.graph does: nothing in flight while the capture starts
  const c10::cuda::CUDAStreamGuard onSide(impl_->side);
  impl_->graph.capture_begin();
  try {
    body();
  } catch (...) {
    try {
      impl_->graph.capture_end();
    } catch (...) {
    }
    throw;
  }
  impl_->graph.capture_end();
}

void StepGraph::replay() { impl_->graph.replay(); }

#else
struct StepGraph::Impl {};

bool StepGraph::available() { return false; }

StepGraph::StepGraph(torch::Device) {
  throw invalidArg("Expected `cudaGraph` only with a CUDA build of LibTorch: this addon was built against a CPU one");
}

void StepGraph::warmup(const std::function<void()>&) {}
void StepGraph::capture(const std::function<void()>&) {}
void StepGraph::replay() {}
#endif

StepGraph::~StepGraph() = default;

}  // namespace tn
