#include "core/train/step.h"

#include "core/compat.h"
#include "core/data/dataset.h"
#include "core/distributed/group.h"
#include "core/distributed/reducer.h"
#include "core/models/model.h"
#include "core/train/evaluate.h"
#include "core/train/graph.h"
#include "core/train/optimizer.h"

namespace tn {
namespace {

// Weight of an auxiliary classifier's loss (Inception-v3), as in torchvision's reference training recipe.
constexpr double kAuxLossWeight = 0.4;

// Eager steps before a CUDA graph is captured (cuDNN's algorithm search and the allocator settle), as PyTorch advises.
constexpr int kGraphWarmup = 3;

}  // namespace

StepRunner::StepRunner(Model& model, const Dataset& trainSet, Optimizer& optimizer, ProcessGroup* group, GradientReducer* reducer, bool cudaGraph)
    : model_(model), trainSet_(trainSet), optimizer_(optimizer), group_(group), reducer_(reducer), params_(model.net->parameters()) {
  if (cudaGraph) graph_ = std::make_unique<StepGraph>(model.device);
}

StepRunner::~StepRunner() = default;

torch::Tensor StepRunner::forwardBackward(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& mask) {
  compat::clearGrads(params_);
  auto [logits, auxLogits] = model_.net->forwardTrain(x);
  auto loss = lossOf(trainSet_, logits, y, mask);
  if (auxLogits.defined()) loss = loss + kAuxLossWeight * lossOf(trainSet_, auxLogits, y, mask);
  loss.backward();
  return loss;
}

torch::Tensor StepRunner::step(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& mask, double lr, bool first, const JobControl& job) {
  if (graph_) return graphStep(x, y, mask, lr);
  auto loss = forwardBackward(x, y, mask);
  torch::Tensor value;  // this step's loss over the whole batch, on the device
  if (group_) {
    const int early = reducer_->finish();
    if (first)
      job.report({"buckets", {{"buckets", static_cast<double>(reducer_->buckets())}, {"launchedDuringBackward", static_cast<double>(early)}}});
    std::vector<torch::Tensor> mean{loss.detach().to(group_->device(), torch::kFloat64).reshape({1})};
    group_->allreduceSum(mean);  // the loss over the whole batch, the same on every rank
    value = (mean[0] / static_cast<double>(group_->size())).squeeze();
  }
  optimizer_.step(lr);
  if (!group_) value = loss.detach();
  return value;
}

torch::Tensor StepRunner::graphStep(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& mask, double lr) {
  if (!staticX_.defined()) {
    staticX_ = x.clone();
    staticY_ = y.clone();
    if (mask.defined()) staticMask_ = mask.clone();
    staticLoss_ = torch::zeros({}, torch::dtype(torch::kFloat32).device(model_.device));
  } else {
    staticX_.copy_(x);
    staticY_.copy_(y);
    if (mask.defined()) staticMask_.copy_(mask);
  }
  if (warmed_ < kGraphWarmup) {
    graph_->warmup([&] {
      staticLoss_.copy_(forwardBackward(staticX_, staticY_, staticMask_).detach());
      optimizer_.step(lr);
    });
    ++warmed_;
  } else {
    optimizer_.prepareOnDevice(lr);
    if (warmed_ == kGraphWarmup) {
      graph_->capture([&] {
        staticLoss_.copy_(forwardBackward(staticX_, staticY_, staticMask_).detach());
        optimizer_.stepOnDevice();
      });
      ++warmed_;
    }
    graph_->replay();
    ++graphed_;
  }
  return staticLoss_.clone();
}

}  // namespace tn
