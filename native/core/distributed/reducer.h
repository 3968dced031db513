// What data-parallel training does with a process group each step: gradients averaged over ranks in buckets
// overlapped with backward (as DDP's reducer), and every rank started from rank 0's weights and buffers.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "core/distributed/group.h"

namespace tn {

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
