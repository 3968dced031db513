// Data-parallel training across processes on c10d, PyTorch's own collectives: a process group (Gloo on CPU, where
// this work is tested; NCCL where LibTorch was built with it, on CUDA: compiled only there and not yet run),
// rendezvous through a TCPStore. What the training loop builds on it lives beside it: distributed/reducer.h (bucketed
// gradient all-reduce, rank 0's state broadcast) and distributed/batchnorm.h (synchronised BatchNorm, which the
// models call); evaluation gathers its outputs through it.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "core/distributed/options.h"

namespace tn {

// A collective in flight; wait() throws ERR_DISTRIBUTED as the blocking calls do.
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  virtual void wait() = 0;
};

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  int rank() const { return rank_; }
  int size() const { return size_; }
  const std::string& backend() const { return backend_; }
  // Where the tensors of a collective must live: the CPU for gloo, this rank's GPU for nccl.
  torch::Device device() const { return device_; }
  // Every rank must make the same calls in the same order. Each throws ERR_DISTRIBUTED, naming the collective and the
  // timeout, when the others do not answer in time (a rank died or stalled): never a hang.
  virtual void allreduceSum(std::vector<torch::Tensor>& tensors) = 0;  // in place
  // Starts an in-place sum over ranks and returns at once: the caller may not touch `tensor` until wait().
  virtual std::unique_ptr<PendingCollective> allreduceSumAsync(torch::Tensor tensor) = 0;
  virtual void broadcast(std::vector<torch::Tensor>& tensors, int root) = 0;  // in place
  // (rows, ...) on every rank -> (size * rows, ...) in rank order; every rank passes the same shape.
  virtual torch::Tensor allgather(const torch::Tensor& tensor) = 0;

 protected:
  int rank_ = 0, size_ = 1;
  std::string backend_;
  torch::Device device_{torch::kCPU};
};

// Joins the group (blocks until every rank has, or the timeout passes). Throws ERR_DISTRIBUTED naming the address.
std::shared_ptr<ProcessGroup> createProcessGroup(const DistributedOptions& options);

}  // namespace tn
