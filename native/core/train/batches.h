// Where a training run's batches come from. On the CPU: gathered from the dataset's rows, as they are stored. On a
// CUDA model: a training set within `residentBytes` is copied to the device once (images as stored, uint8 rows staying
// uint8 and normalised per batch there; targets and masks too), so a step gathers, augments and normalises on the
// device; a larger one is gathered on the host and copied through pinned memory without blocking the host.
#pragma once
#include <torch/torch.h>

#include "core/data/dataset.h"

namespace tn {

class BatchSource {
 public:
  BatchSource(const Dataset& data, torch::Device device, int64_t residentBytes);

  struct Batch {
    torch::Tensor images;   // (B, 3, H, W) float32, normalised, on the device
    torch::Tensor targets;  // as Dataset::targets, on the device
    torch::Tensor mask;     // as Dataset::mask, on the device (undefined: every label known)
  };
  // rows: int64 indices on the CPU.
  Batch take(const torch::Tensor& rows) const;
  // Asks for these rows ahead of use (pages in a memory-mapped set; nothing where the set is on the device).
  void prefetch(const torch::Tensor& rows) const;
  // Whether the set lives on the device.
  bool resident() const { return resident_; }

 private:
  const Dataset& data_;
  torch::Device device_;
  bool resident_ = false;
  Dataset onDevice_;  // resident_: images, targets and mask on the device
};

}  // namespace tn
