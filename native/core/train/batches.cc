#include "core/train/batches.h"

#ifdef TN_WITH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace tn {
namespace {

int64_t bytesOf(const torch::Tensor& t) { return t.defined() ? t.numel() * static_cast<int64_t>(t.element_size()) : 0; }

// A host tensor on the device without blocking the host: pinned first, then an asynchronous copy.
torch::Tensor toDevice(const torch::Tensor& t, torch::Device device) {
  if (!t.defined() || !device.is_cuda()) return t;
  return t.pin_memory().to(device, t.scalar_type(), /*non_blocking=*/true);
}

}  // namespace

#ifdef TN_WITH_CUDA
struct BatchSource::Ahead {
  torch::Tensor rows;  // on the host
  Batch batch;         // images as stored, not yet normalised
  at::cuda::CUDAEvent ready;
  c10::cuda::CUDAStream stream;
};
#else
struct BatchSource::Ahead {};
#endif

BatchSource::BatchSource(const Dataset& data, torch::Device device, int64_t residentBytes) : data_(data), device_(device) {
  if (!device.is_cuda()) return;
  resident_ = bytesOf(data.images) + bytesOf(data.targets) + bytesOf(data.mask) <= residentBytes;
  if (!resident_) return;
  onDevice_.task = data.task;
  onDevice_.outputs = data.outputs;
  onDevice_.images = data.images.to(device);
  onDevice_.targets = data.targets.to(device);
  if (data.mask.defined()) onDevice_.mask = data.mask.to(device);
}

BatchSource::~BatchSource() = default;

// The rows as stored, gathered on the host and copied to the device through pinned memory (on the current stream).
BatchSource::Batch BatchSource::copied(const torch::Tensor& rows) const {
  return {toDevice(data_.images.index_select(0, rows), device_), toDevice(data_.targets.index_select(0, rows), device_),
          data_.mask.defined() ? toDevice(data_.mask.index_select(0, rows), device_) : torch::Tensor()};
}

BatchSource::Batch BatchSource::take(const torch::Tensor& rows) {
  if (resident_) {
    const auto at = toDevice(rows, device_);
    return {imageRows(onDevice_, at), onDevice_.targets.index_select(0, at),
            onDevice_.mask.defined() ? onDevice_.mask.index_select(0, at) : torch::Tensor()};
  }
  if (!device_.is_cuda()) {
    return {imageRows(data_, rows), data_.targets.index_select(0, rows),
            data_.mask.defined() ? data_.mask.index_select(0, rows) : torch::Tensor()};
  }
#ifdef TN_WITH_CUDA
  if (ahead_ && ahead_->rows.equal(rows)) {
    // The copy prefetch started: this step's stream waits for it (on the device, not the host), and the caching
    // allocator learns the tensors are used here, so their memory is not handed out again under the copy.
    auto current = c10::cuda::getCurrentCUDAStream(ahead_->stream.device_index());
    ahead_->ready.block(current);
    Batch b = std::move(ahead_->batch);
    for (auto* t : {&b.images, &b.targets, &b.mask})
      if (t->defined()) t->record_stream(current);
    ahead_.reset();
    ++prefetched_;
    return {normalised(b.images), b.targets, b.mask};
  }
#endif
  Batch b = copied(rows);
  return {normalised(b.images), b.targets, b.mask};
}

void BatchSource::prefetch(const torch::Tensor& rows) {
  if (resident_) return;
  if (!device_.is_cuda()) return prefetchRows(data_, rows);
#ifdef TN_WITH_CUDA
  const auto index = device_.has_index() ? device_.index() : c10::cuda::current_device();
  auto side = c10::cuda::getStreamFromPool(/*isHighPriority=*/false, index);
  auto current = c10::cuda::getCurrentCUDAStream(index);
  auto ahead = std::make_unique<Ahead>(Ahead{rows.clone(), {}, at::cuda::CUDAEvent(), side});
  {
    // The side stream starts after the work already queued, so the memory it is given is free on the device.
    at::cuda::CUDAEvent queued;
    queued.record(current);
    queued.block(side);
    const c10::cuda::CUDAStreamGuard onSide(side);
    ahead->batch = copied(rows);
    ahead->ready.record(side);
  }
  ahead_ = std::move(ahead);
#endif
}

}  // namespace tn
