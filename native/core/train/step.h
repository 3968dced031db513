// One training step, whichever way it runs (core/train/trainer.cc draws the batch and keeps the progress): eager; as
// a replay of a captured CUDA graph (cudaGraph: the step reads its batch from static inputs and writes its loss to a
// static output, after a few eager warm-up steps); or data parallel (gradients reduced over the group in buckets as
// backward fills them, the step's loss averaged over the ranks).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <memory>

#include "core/job.h"

namespace tn {

struct Model;
struct Dataset;
class Optimizer;
class ProcessGroup;
class GradientReducer;
class StepGraph;

class StepRunner {
 public:
  // `reducer`: the group's gradient reducer (null without a group). `cudaGraph`: capture the step once warmed up.
  StepRunner(Model& model, const Dataset& trainSet, Optimizer& optimizer, ProcessGroup* group, GradientReducer* reducer, bool cudaGraph);
  ~StepRunner();
  StepRunner(const StepRunner&) = delete;
  StepRunner& operator=(const StepRunner&) = delete;

  // Trains on (x, y, mask) at learning rate `lr` and returns the step's loss over the whole batch, 0-d on the device
  // (not read back: the caller reads losses at its progress points). `first`: the call's first step (a data-parallel
  // run reports its gradient buckets there).
  torch::Tensor step(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& mask, double lr, bool first, const JobControl& job);
  // Steps run as replays of the captured graph so far.
  int64_t graphed() const { return graphed_; }

 private:
  torch::Tensor forwardBackward(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& mask);
  torch::Tensor graphStep(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& mask, double lr);

  Model& model_;
  const Dataset& trainSet_;
  Optimizer& optimizer_;
  ProcessGroup* group_;
  GradientReducer* reducer_;
  std::vector<torch::Tensor> params_;
  std::unique_ptr<StepGraph> graph_;
  torch::Tensor staticX_, staticY_, staticMask_, staticLoss_;
  int64_t warmed_ = 0, graphed_ = 0;
};

}  // namespace tn
