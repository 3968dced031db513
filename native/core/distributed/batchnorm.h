// BatchNorm as every model calls it: plain, or synchronised over the ranks of a process group while a
// SyncBatchNormScope is alive on this thread (statistics over the whole batch, as torch.nn.SyncBatchNorm).
#pragma once
#include <torch/torch.h>

namespace tn {

class ProcessGroup;

// While alive, BatchNorm layers in training mode on this thread normalise with statistics over every rank's batch
// (synchronised BatchNorm), through `group`.
class SyncBatchNormScope {
 public:
  explicit SyncBatchNormScope(ProcessGroup* group);
  ~SyncBatchNormScope();
  SyncBatchNormScope(const SyncBatchNormScope&) = delete;
  SyncBatchNormScope& operator=(const SyncBatchNormScope&) = delete;

 private:
  ProcessGroup* previous_;
};

// What every model calls in place of bn(x): plain BatchNorm, or synchronised inside a SyncBatchNormScope.
torch::Tensor batchNorm(torch::nn::BatchNorm2d& bn, const torch::Tensor& x);

}  // namespace tn
