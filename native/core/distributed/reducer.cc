#include "core/distributed/reducer.h"

#include <algorithm>

namespace tn {

GradientReducer::GradientReducer(ProcessGroup& group, std::vector<torch::Tensor> params, int64_t bucketBytes)
    : group_(group), params_(std::move(params)), bucketOf_(params_.size()), offsetOf_(params_.size()), arrivals_(params_.size(), 0) {
  int64_t bytes = 0;
  for (size_t k = params_.size(); k-- > 0;) {  // backward reaches the last parameters first
    const auto& p = params_[k];
    const int64_t size = p.numel() * p.element_size();
    if (buckets_.empty() || (bytes > 0 && bytes + size > bucketBytes)) {
      buckets_.emplace_back();
      bytes = 0;
    }
    bucketOf_[k] = buckets_.size() - 1;
    buckets_.back().members.push_back(k);
    bytes += size;
  }
  for (auto& b : buckets_) {
    int64_t numel = 0;
    for (size_t k : b.members) offsetOf_[k] = numel, numel += params_[k].numel();
    b.flat = torch::zeros({numel}, params_[b.members.front()].options());
  }
  for (size_t k = 0; k < params_.size(); ++k)
    hooks_.push_back(params_[k].register_hook([this, k](const torch::Tensor& grad) { arrived(k, grad); }));
}

GradientReducer::~GradientReducer() {
  for (size_t k = 0; k < params_.size(); ++k) params_[k].remove_hook(hooks_[k]);
  for (auto& b : buckets_)
    if (b.pending) try { b.pending->wait(); } catch (...) {}  // never leave a collective writing into freed memory
}

void GradientReducer::arrived(size_t k, const torch::Tensor& grad) {
  if (++arrivals_[k] > 1) {
    reused_ = true;
    return;
  }
  auto& b = buckets_[bucketOf_[k]];
  b.flat.narrow(0, offsetOf_[k], params_[k].numel()).copy_(grad.reshape({-1}));
  if (++b.arrived == b.members.size() && !reused_) launch(b);
}

void GradientReducer::launch(Bucket& b) { b.pending = group_.allreduceSumAsync(b.flat); }

int GradientReducer::finish() {
  int early = 0;
  for (auto& b : buckets_) early += b.pending ? 1 : 0;
  if (reused_) {
    // Some gradient came in twice: reduce every bucket again from the accumulated .grad() (every rank does the same).
    for (auto& b : buckets_)
      if (b.pending) b.pending->wait(), b.pending.reset();
    for (size_t k = 0; k < params_.size(); ++k) {
      const auto& g = params_[k].grad();
      auto slot = buckets_[bucketOf_[k]].flat.narrow(0, offsetOf_[k], params_[k].numel());
      if (g.defined()) slot.copy_(g.reshape({-1}));
      else slot.zero_();
    }
    early = 0;
  }
  for (auto& b : buckets_) {
    if (b.pending) continue;
    for (size_t k : b.members)
      if (arrivals_[k] == 0 && !reused_) b.flat.narrow(0, offsetOf_[k], params_[k].numel()).zero_();
    launch(b);
  }
  for (auto& b : buckets_) b.pending->wait(), b.pending.reset();
  torch::NoGradGuard noGrad;
  for (size_t k = 0; k < params_.size(); ++k) {
    auto averaged = buckets_[bucketOf_[k]].flat.narrow(0, offsetOf_[k], params_[k].numel()).view_as(params_[k]) / group_.size();
    auto& g = params_[k].mutable_grad();
    if (g.defined()) g.copy_(averaged);
    else g = averaged;
  }
  for (auto& b : buckets_) b.arrived = 0;
  std::fill(arrivals_.begin(), arrivals_.end(), 0);
  reused_ = false;
  return early;
}

void broadcastState(ProcessGroup& group, torch::nn::Module& net) {
  torch::NoGradGuard noGrad;
  std::vector<torch::Tensor> state;
  for (auto& p : net.parameters()) state.push_back(p);
  for (auto& b : net.buffers()) state.push_back(b);
  // Broadcast contiguous copies (channels-last weights included), then copy back in place.
  std::vector<torch::Tensor> flat;
  for (auto& t : state) flat.push_back(t.contiguous().clone());
  group.broadcast(flat, /*root=*/0);
  for (size_t i = 0; i < state.size(); ++i) state[i].copy_(flat[i]);
}

}  // namespace tn
