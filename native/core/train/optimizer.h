// The optimiser of a training run. Its state (SGD's momentum buffers; Adam's step and moments) lives in LibTorch's own
// torch::optim::SGD / Adam, so checkpoints keep their format and resume across both step kinds; the update runs as
// multi-tensor (foreach) kernels over every parameter at once by default: a few launches per step where LibTorch's
// step makes several per parameter (on the CPU, ATen runs the same per-tensor arithmetic: the two agree bit for bit).
// A CUDA graph needs the scalars that change each step (the learning rate, Adam's bias corrections) in device
// memory: prepareOnDevice writes them before a replay and stepOnDevice reads them.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "core/train/options.h"

namespace tn {

class Optimizer {
 public:
  // Throws ERR_INVALID_ARG for an optimizer other than "sgd" or "adam".
  Optimizer(const std::vector<torch::Tensor>& params, const TrainOptions& options);

  // One step at this learning rate over the parameters that have gradients: foreach kernels, or LibTorch's own step
  // with `foreach: false`.
  void step(double lr);

  // CUDA graphs. prepareOnDevice: advances the step count (Adam) and writes this step's scalars to the device; no
  // kernel of the step itself runs. stepOnDevice: the step, reading those scalars, capturable (every state tensor
  // exists: run step() or stepOnDevice() once eagerly first).
  void prepareOnDevice(double lr);
  void stepOnDevice();

  // LibTorch's optimizer, for checkpoints.
  torch::optim::Optimizer& state() { return *impl_; }

 private:
  // Adam's state lists over the parameters with gradients; `advance`: count this step (once per step, whichever kind);
  // `create`: make the state of a parameter's first step (the eager step does; the graph's needs it made).
  struct AdamLists {
    std::vector<torch::Tensor> params, avg, avgSq;
    int64_t step = 0;
  };
  void sgdForeach(double lr);
  void adamForeach(double lr);
  std::vector<torch::Tensor> withGrads() const;
  std::vector<torch::Tensor> gradsOf(const std::vector<torch::Tensor>& params) const;
  std::vector<torch::Tensor> sgdDirection(const std::vector<torch::Tensor>& d, std::vector<torch::Tensor>& bufs,
                                          const std::vector<torch::Tensor>& bufGrads, const std::vector<torch::Tensor>& all) const;
  AdamLists adamLists(bool advance, bool create);
  void adamMoments(AdamLists& l, const std::vector<torch::Tensor>& d) const;
  double dampening() const;
  double adamEps() const;

  TrainOptions o_;
  std::vector<torch::Tensor> params_;
  std::unique_ptr<torch::optim::Optimizer> impl_;
  // stepOnDevice's scalars (0-d float32 on the parameters' device): -lr (SGD) or -lr / (1 - beta1^t) and
  // 1 / sqrt(1 - beta2^t) (Adam).
  torch::Tensor negStepSize_, invSqrtBias2_;
};

}  // namespace tn
