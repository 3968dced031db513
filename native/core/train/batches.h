// Where a training run's batches come from. On the CPU: gathered from the dataset's rows, as they are stored. On a
// CUDA model: a training set within `residentBytes` is copied to the device once (images as stored, uint8 rows staying
// uint8 and normalised per batch there; targets and masks too), so a step gathers, augments and normalises on the
// device; a larger one streams: the rows of the next batch are gathered on the host as stored, pinned, and copied on a
// side stream while the current step computes (prefetch), then normalised on the device when the step takes them.
#pragma once
#include <torch/torch.h>

#include <memory>

#include "core/data/dataset.h"

namespace tn {

class BatchSource {
 public:
  BatchSource(const Dataset& data, torch::Device device, int64_t residentBytes);
  ~BatchSource();

  struct Batch {
    torch::Tensor images;   // (B, 3, H, W) float32, normalised, on the device
    torch::Tensor targets;  // as Dataset::targets, on the device
    torch::Tensor mask;     // as Dataset::mask, on the device (undefined: every label known)
  };
  // rows: int64 indices on the CPU. The rows last prefetched come from that copy; others are copied now.
  Batch take(const torch::Tensor& rows);
  // Starts bringing these rows ahead of use: pages them in (a memory-mapped set on the CPU) or copies them to the
  // device on a side stream (a streamed set on CUDA); nothing where the set is on the device.
  void prefetch(const torch::Tensor& rows);
  // Whether the set lives on the device.
  bool resident() const { return resident_; }
  // Batches that came from a side-stream copy started by prefetch (streamed sets on CUDA).
  int64_t prefetched() const { return prefetched_; }

 private:
  Batch copied(const torch::Tensor& rows) const;

  const Dataset& data_;
  torch::Device device_;
  bool resident_ = false;
  Dataset onDevice_;  // resident_: images, targets and mask on the device
  struct Ahead;       // a side-stream copy in flight (CUDA builds)
  std::unique_ptr<Ahead> ahead_;
  int64_t prefetched_ = 0;
};

}  // namespace tn
