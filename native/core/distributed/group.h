// Data-parallel training across processes on c10d, PyTorch's own collectives: a process group (Gloo on CPU, where
// this work is tested; NCCL where LibTorch was built with it, on CUDA: compiled only there and not yet run),
// rendezvous through a TCPStore. The training loop uses it to start every rank from rank 0's weights, all-reduce gradients in buckets,
// synchronise BatchNorm statistics when asked, and gather evaluation outputs.
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

// Averages the gradients of `params` over ranks in buckets of about `bucketBytes`, overlapped with the backward pass:
// gradient hooks copy each gradient into its bucket as autograd produces it, and a full bucket is reduced while
// backward goes on (buckets follow the parameters in reverse, the order backward reaches them). finish() reduces what
// is left (a parameter without a gradient contributes zeros, so every rank reduces the same buckets), waits, and
// leaves each parameter's gradient averaged. The hooks are removed with the reducer.
class GradientReducer {
 public:
  GradientReducer(ProcessGroup& group, std::vector<torch::Tensor> params, int64_t bucketBytes);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;
  // After backward. Returns how many buckets were already on their way before it was called.
  int finish();
  int buckets() const { return static_cast<int>(buckets_.size()); }

 private:
  struct Bucket {
    torch::Tensor flat;
    std::vector<size_t> members;
    size_t arrived = 0;
    std::unique_ptr<PendingCollective> pending;
  };
  void arrived(size_t param, const torch::Tensor& grad);
  void launch(Bucket& b);

  ProcessGroup& group_;
  std::vector<torch::Tensor> params_;
  std::vector<unsigned> hooks_;
  std::vector<size_t> bucketOf_;
  std::vector<int64_t> offsetOf_;
  std::vector<int> arrivals_;
  std::vector<Bucket> buckets_;
  bool reused_ = false;  // a parameter got two gradients in one backward: reduce from .grad() after it instead
};

// Copies rank 0's parameters and buffers to every rank.
void broadcastState(ProcessGroup& group, torch::nn::Module& net);

}  // namespace tn
