#include "core/distributed/batchnorm.h"

#include "core/distributed/group.h"

namespace tn {
namespace {

// The group synchronised BatchNorm uses on this thread (set by SyncBatchNormScope).
thread_local ProcessGroup* syncGroup = nullptr;

// Sum over ranks, differentiable: the gradient of a sum over ranks is the sum over ranks of the gradients.
// The group travels in the context: backward may run on another thread (CUDA's autograd device threads).
struct AllReduceSum : torch::autograd::Function<AllReduceSum> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x) {
    ctx->saved_data["group"] = static_cast<int64_t>(reinterpret_cast<intptr_t>(syncGroup));
    std::vector<torch::Tensor> t{x.clone()};
    syncGroup->allreduceSum(t);
    return t[0];
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grad) {
    auto* group = reinterpret_cast<ProcessGroup*>(static_cast<intptr_t>(ctx->saved_data["group"].toInt()));
    std::vector<torch::Tensor> t{grad[0].contiguous().clone()};
    group->allreduceSum(t);
    return {t[0]};
  }
};

// Synchronised BatchNorm in training mode: mean and variance over every rank's (N, H, W), in two passes.
torch::Tensor syncBatchNorm(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x) {
  const auto& o = bn.options;
  const std::vector<int64_t> dims{0, 2, 3};
  auto count = torch::full({1}, static_cast<double>(x.numel() / x.size(1)), x.options());
  const auto total = AllReduceSum::apply(count.detach());
  const auto mean = AllReduceSum::apply(x.sum(dims)) / total;  // (C)
  const auto centred = x - mean.view({1, -1, 1, 1});
  const auto var = AllReduceSum::apply(centred.pow(2).sum(dims)) / total;  // biased, as BatchNorm normalises
  {
    torch::NoGradGuard noGrad;
    const double m = o.momentum().value_or(0.1);
    const double n = total.item<double>();
    bn.running_mean.mul_(1 - m).add_(mean.detach(), m);
    bn.running_var.mul_(1 - m).add_(var.detach() * (n / std::max(n - 1, 1.0)), m);
    bn.num_batches_tracked.add_(1);
  }
  auto y = centred * torch::rsqrt(var + o.eps()).view({1, -1, 1, 1});
  if (o.affine()) y = y * bn.weight.view({1, -1, 1, 1}) + bn.bias.view({1, -1, 1, 1});
  return y;
}

}  // namespace

SyncBatchNormScope::SyncBatchNormScope(ProcessGroup* group) : previous_(syncGroup) { syncGroup = group; }
SyncBatchNormScope::~SyncBatchNormScope() { syncGroup = previous_; }

torch::Tensor batchNorm(torch::nn::BatchNorm2d& bn, const torch::Tensor& x) {
  if (syncGroup && bn->is_training()) return syncBatchNorm(*bn, x);
  return bn(x);
}

}  // namespace tn
