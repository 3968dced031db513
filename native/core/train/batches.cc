#include "core/train/batches.h"

namespace tn {
namespace {

int64_t bytesOf(const torch::Tensor& t) { return t.defined() ? t.numel() * static_cast<int64_t>(t.element_size()) : 0; }

// A host tensor on the device without blocking the host: pinned first, then an asynchronous copy.
torch::Tensor toDevice(const torch::Tensor& t, torch::Device device) {
  if (!t.defined() || !device.is_cuda()) return t;
  return t.pin_memory().to(device, t.scalar_type(), /*non_blocking=*/true);
}

}  // namespace

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

BatchSource::Batch BatchSource::take(const torch::Tensor& rows) const {
  if (resident_) {
    const auto at = toDevice(rows, device_);
    return {imageRows(onDevice_, at), onDevice_.targets.index_select(0, at),
            onDevice_.mask.defined() ? onDevice_.mask.index_select(0, at) : torch::Tensor()};
  }
  return {toDevice(imageRows(data_, rows), device_), toDevice(data_.targets.index_select(0, rows), device_),
          data_.mask.defined() ? toDevice(data_.mask.index_select(0, rows), device_) : torch::Tensor()};
}

void BatchSource::prefetch(const torch::Tensor& rows) const {
  if (!resident_) prefetchRows(data_, rows);
}

}  // namespace tn
