#include "core/train/optimizer.h"

#include <cmath>

#include "core/compat.h"
#include "core/error.h"

namespace tn {
namespace {

using torch::optim::AdamOptions;
using torch::optim::AdamParamState;
using torch::optim::SGDOptions;
using torch::optim::SGDParamState;

template <class State>
State* stateOf(torch::optim::Optimizer& opt, const torch::Tensor& p) {
  auto& map = opt.state();
  const auto it = map.find(compat::optimizerStateKey<std::decay_t<decltype(map)>>(p));
  return it == map.end() ? nullptr : static_cast<State*>(it->second.get());
}

template <class State>
State& addState(torch::optim::Optimizer& opt, const torch::Tensor& p) {
  auto& map = opt.state();
  auto owned = std::make_unique<State>();
  State& s = *owned;
  map[compat::optimizerStateKey<std::decay_t<decltype(map)>>(p)] = std::move(owned);
  return s;
}

}  // namespace

double Optimizer::dampening() const {
  return static_cast<const SGDOptions&>(impl_->param_groups().front().options()).dampening();
}

Optimizer::Optimizer(const std::vector<torch::Tensor>& params, const TrainOptions& o) : o_(o), params_(params) {
  const double lr = o.learningRates.empty() ? 0.0 : o.learningRates.front();
  if (o.optimizer == "sgd")
    impl_ = std::make_unique<torch::optim::SGD>(params, SGDOptions(lr).momentum(o.momentum).weight_decay(o.weightDecay).nesterov(o.nesterov));
  else if (o.optimizer == "adam")
    impl_ = std::make_unique<torch::optim::Adam>(params, AdamOptions(lr).betas({o.beta1, o.beta2}).weight_decay(o.weightDecay));
  else
    throw invalidArg("Expected `optimizer` to be \"sgd\" or \"adam\" but received \"" + o.optimizer + "\"");
}

std::vector<torch::Tensor> Optimizer::withGrads() const {
  std::vector<torch::Tensor> out;
  for (const auto& p : params_)
    if (p.grad().defined()) out.push_back(p);
  return out;
}

void Optimizer::step(double lr) {
  if (!o_.foreach) {
    for (auto& group : impl_->param_groups()) group.options().set_lr(lr);
    impl_->step();
    return;
  }
  torch::NoGradGuard noGrad;
  if (o_.optimizer == "sgd") sgdForeach(lr);
  else adamForeach(lr);
}

// LibTorch's SGD::step, list by list: d = g + wd p; b = m b + (1 - dampening) d (b = d the first time);
// d = nesterov ? d + m b : b; p -= lr d.
void Optimizer::sgdForeach(double lr) {
  const auto params = withGrads();
  if (params.empty()) return;
  std::vector<torch::Tensor> grads, fresh, freshGrads, bufs, bufGrads;
  for (const auto& p : params) grads.push_back(p.grad());
  auto d = o_.weightDecay != 0 ? at::_foreach_add(grads, params, o_.weightDecay) : grads;
  if (o_.momentum != 0) {
    // A parameter's first step starts its buffer as a copy of d (as LibTorch's does); later steps update it.
    std::vector<size_t> updated;
    for (size_t i = 0; i < params.size(); ++i) {
      if (auto* s = stateOf<SGDParamState>(*impl_, params[i])) {
        bufs.push_back(s->momentum_buffer());
        bufGrads.push_back(d[i]);
        updated.push_back(i);
      } else {
        addState<SGDParamState>(*impl_, params[i]).momentum_buffer(d[i].clone().detach());
      }
    }
    if (!bufs.empty()) {
      at::_foreach_mul_(bufs, o_.momentum);
      at::_foreach_add_(bufs, bufGrads, 1 - dampening());
    }
    std::vector<torch::Tensor> all;
    for (const auto& p : params) all.push_back(stateOf<SGDParamState>(*impl_, p)->momentum_buffer());
    d = o_.nesterov ? at::_foreach_add(d, all, o_.momentum) : all;
  }
  at::_foreach_add_(params, d, -lr);
}

// LibTorch's Adam::step (no amsgrad), list by list: t += 1; g += wd p; m = b1 m + (1 - b1) g;
// v = b2 v + (1 - b2) g g; p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
void Optimizer::adamForeach(double lr) {
  const auto params = withGrads();
  if (params.empty()) return;
  std::vector<torch::Tensor> grads, avg, avgSq;
  int64_t step = 0;
  for (const auto& p : params) {
    auto* s = stateOf<AdamParamState>(*impl_, p);
    if (!s) {
      s = &addState<AdamParamState>(*impl_, p);
      s->step(0);
      s->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
      s->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    }
    s->step(s->step() + 1);
    step = s->step();  // the same for every parameter that has trained since the start
    grads.push_back(p.grad());
    avg.push_back(s->exp_avg());
    avgSq.push_back(s->exp_avg_sq());
  }
  const double b1 = o_.beta1, b2 = o_.beta2;
  const double bias1 = 1 - std::pow(b1, static_cast<double>(step)), bias2 = 1 - std::pow(b2, static_cast<double>(step));
  const double eps = static_cast<const AdamOptions&>(impl_->param_groups().front().options()).eps();
  if (o_.weightDecay != 0) grads = at::_foreach_add(grads, params, o_.weightDecay);
  at::_foreach_mul_(avg, b1);
  at::_foreach_add_(avg, grads, 1 - b1);
  at::_foreach_mul_(avgSq, b2);
  at::_foreach_addcmul_(avgSq, grads, grads, 1 - b2);
  auto denom = at::_foreach_sqrt(avgSq);
  at::_foreach_div_(denom, std::sqrt(bias2));
  at::_foreach_add_(denom, eps);
  at::_foreach_addcdiv_(params, avg, denom, -(lr / bias1));
}

void Optimizer::prepareOnDevice(double lr) {
  const auto device = params_.front().device();
  if (!negStepSize_.defined()) {
    negStepSize_ = torch::zeros({}, torch::dtype(torch::kFloat32).device(device));
    invSqrtBias2_ = torch::zeros({}, torch::dtype(torch::kFloat32).device(device));
  }
  if (o_.optimizer == "sgd") {
    negStepSize_.fill_(-lr);
    return;
  }
  int64_t step = 0;
  for (const auto& p : withGrads()) {
    auto* s = stateOf<AdamParamState>(*impl_, p);
    TORCH_CHECK(s, "stepOnDevice before an eager step");
    s->step(s->step() + 1);
    step = s->step();
  }
  negStepSize_.fill_(-lr / (1 - std::pow(o_.beta1, static_cast<double>(step))));
  invSqrtBias2_.fill_(1 / std::sqrt(1 - std::pow(o_.beta2, static_cast<double>(step))));
}

void Optimizer::stepOnDevice() {
  torch::NoGradGuard noGrad;
  const auto params = withGrads();
  std::vector<torch::Tensor> grads;
  for (const auto& p : params) grads.push_back(p.grad());
  auto d = o_.weightDecay != 0 ? at::_foreach_add(grads, params, o_.weightDecay) : grads;
  std::vector<torch::Tensor> update;
  if (o_.optimizer == "sgd") {
    if (o_.momentum != 0) {
      std::vector<torch::Tensor> bufs;
      for (const auto& p : params) {
        auto* s = stateOf<SGDParamState>(*impl_, p);
        TORCH_CHECK(s, "stepOnDevice before an eager step");
        bufs.push_back(s->momentum_buffer());
      }
      at::_foreach_mul_(bufs, o_.momentum);
      at::_foreach_add_(bufs, d, 1 - dampening());
      d = o_.nesterov ? at::_foreach_add(d, bufs, o_.momentum) : bufs;
    }
    update = compat::foreachMul(d, negStepSize_);
  } else {
    std::vector<torch::Tensor> avg, avgSq;
    for (const auto& p : params) {
      auto* s = stateOf<AdamParamState>(*impl_, p);
      TORCH_CHECK(s, "stepOnDevice before an eager step");
      avg.push_back(s->exp_avg());
      avgSq.push_back(s->exp_avg_sq());
    }
    const double eps = static_cast<const AdamOptions&>(impl_->param_groups().front().options()).eps();
    at::_foreach_mul_(avg, o_.beta1);
    at::_foreach_add_(avg, d, 1 - o_.beta1);
    at::_foreach_mul_(avgSq, o_.beta2);
    at::_foreach_addcmul_(avgSq, d, d, 1 - o_.beta2);
    auto denom = compat::foreachMul(at::_foreach_sqrt(avgSq), invSqrtBias2_);
    at::_foreach_add_(denom, eps);
    update = compat::foreachMul(at::_foreach_div(avg, denom), negStepSize_);
  }
  at::_foreach_add_(params, update);
}

}  // namespace tn
