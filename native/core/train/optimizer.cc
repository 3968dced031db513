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

// The pieces both step kinds share, so each update is written once: the eager step (scalar learning rate) and the
// graph's (device scalars) differ only in how the last multiply is applied.

std::vector<torch::Tensor> Optimizer::gradsOf(const std::vector<torch::Tensor>& params) const {
  std::vector<torch::Tensor> grads;
  for (const auto& p : params) grads.push_back(p.grad());
  return o_.weightDecay != 0 ? at::_foreach_add(grads, params, o_.weightDecay) : grads;  // d = g + wd p
}

// b = m b + (1 - dampening) d over `bufs` (the buffers that existed before this step), then the step's direction from
// every parameter's buffer: nesterov ? d + m b : b.
std::vector<torch::Tensor> Optimizer::sgdDirection(const std::vector<torch::Tensor>& d, std::vector<torch::Tensor>& bufs,
                                                   const std::vector<torch::Tensor>& bufGrads, const std::vector<torch::Tensor>& all) const {
  if (!bufs.empty()) {
    at::_foreach_mul_(bufs, o_.momentum);
    at::_foreach_add_(bufs, bufGrads, 1 - dampening());
  }
  return o_.nesterov ? at::_foreach_add(d, all, o_.momentum) : all;
}

Optimizer::AdamLists Optimizer::adamLists(bool advance, bool create) {
  AdamLists l;
  for (const auto& p : withGrads()) {
    auto* s = stateOf<AdamParamState>(*impl_, p);
    if (!s) {
      TORCH_CHECK(create, "stepOnDevice before an eager step");
      s = &addState<AdamParamState>(*impl_, p);
      s->step(0);
      s->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
      s->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    }
    if (advance) s->step(s->step() + 1);
    l.step = s->step();  // the same for every parameter that has trained since the start
    l.params.push_back(p);
    l.avg.push_back(s->exp_avg());
    l.avgSq.push_back(s->exp_avg_sq());
  }
  return l;
}

// m = b1 m + (1 - b1) d; v = b2 v + (1 - b2) d d.
void Optimizer::adamMoments(AdamLists& l, const std::vector<torch::Tensor>& d) const {
  at::_foreach_mul_(l.avg, o_.beta1);
  at::_foreach_add_(l.avg, d, 1 - o_.beta1);
  at::_foreach_mul_(l.avgSq, o_.beta2);
  at::_foreach_addcmul_(l.avgSq, d, d, 1 - o_.beta2);
}

double Optimizer::adamEps() const {
  return static_cast<const AdamOptions&>(impl_->param_groups().front().options()).eps();
}

// LibTorch's SGD::step, list by list: d = g + wd p; b = m b + (1 - dampening) d (b = d the first time);
// d = nesterov ? d + m b : b; p -= lr d.
void Optimizer::sgdForeach(double lr) {
  const auto params = withGrads();
  if (params.empty()) return;
  auto d = gradsOf(params);
  if (o_.momentum != 0) {
    // A parameter's first step starts its buffer as a copy of d (as LibTorch's does); later steps update it.
    std::vector<torch::Tensor> bufs, bufGrads, all;
    for (size_t i = 0; i < params.size(); ++i) {
      if (auto* s = stateOf<SGDParamState>(*impl_, params[i])) {
        bufs.push_back(s->momentum_buffer());
        bufGrads.push_back(d[i]);
      } else {
        addState<SGDParamState>(*impl_, params[i]).momentum_buffer(d[i].clone().detach());
      }
    }
    for (const auto& p : params) all.push_back(stateOf<SGDParamState>(*impl_, p)->momentum_buffer());
    d = sgdDirection(d, bufs, bufGrads, all);
  }
  at::_foreach_add_(params, d, -lr);
}

// LibTorch's Adam::step (no amsgrad), list by list: t += 1; g += wd p; m = b1 m + (1 - b1) g;
// v = b2 v + (1 - b2) g g; p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
void Optimizer::adamForeach(double lr) {
  auto l = adamLists(/*advance=*/true, /*create=*/true);
  if (l.params.empty()) return;
  const double bias1 = 1 - std::pow(o_.beta1, static_cast<double>(l.step)), bias2 = 1 - std::pow(o_.beta2, static_cast<double>(l.step));
  adamMoments(l, gradsOf(l.params));
  auto denom = at::_foreach_sqrt(l.avgSq);
  at::_foreach_div_(denom, std::sqrt(bias2));
  at::_foreach_add_(denom, adamEps());
  at::_foreach_addcdiv_(l.params, l.avg, denom, -(lr / bias1));
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
  const int64_t step = adamLists(/*advance=*/true, /*create=*/false).step;  // on the host: outside the graph
  negStepSize_.fill_(-lr / (1 - std::pow(o_.beta1, static_cast<double>(step))));
  invSqrtBias2_.fill_(1 / std::sqrt(1 - std::pow(o_.beta2, static_cast<double>(step))));
}

void Optimizer::stepOnDevice() {
  torch::NoGradGuard noGrad;
  const auto params = withGrads();
  auto d = gradsOf(params);
  std::vector<torch::Tensor> update;
  if (o_.optimizer == "sgd") {
    if (o_.momentum != 0) {
      std::vector<torch::Tensor> bufs;
      for (const auto& p : params) {
        auto* s = stateOf<SGDParamState>(*impl_, p);
        TORCH_CHECK(s, "stepOnDevice before an eager step");
        bufs.push_back(s->momentum_buffer());
      }
      d = sgdDirection(d, bufs, d, bufs);
    }
    update = compat::foreachMul(d, negStepSize_);
  } else {
    auto l = adamLists(/*advance=*/false, /*create=*/false);  // prepareOnDevice advanced the step
    adamMoments(l, d);
    auto denom = compat::foreachMul(at::_foreach_sqrt(l.avgSq), invSqrtBias2_);
    at::_foreach_add_(denom, adamEps());
    update = compat::foreachMul(at::_foreach_div(l.avg, denom), negStepSize_);
  }
  at::_foreach_add_(params, update);
}

}  // namespace tn
