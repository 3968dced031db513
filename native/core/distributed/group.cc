#include "core/distributed/group.h"

#include <chrono>
#include <cstdlib>

#include "core/compat.h"
#include "core/error.h"

#ifdef TN_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
// NCCL exists only in CUDA builds of LibTorch; CMakeLists.txt defines USE_C10D_NCCL where LibTorch has CUDA and NCCL.
#if defined(TN_WITH_GLOO) && defined(USE_C10D_NCCL)
#define TN_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace tn {
namespace {

#ifdef TN_WITH_GLOO
// A c10d process group of either backend: PG is ::c10d::ProcessGroupGloo or ::c10d::ProcessGroupNCCL, whose
// collectives have the same signatures in LibTorch 1.13 and 2.x.
template <class PG>
class C10dGroup final : public ProcessGroup {
 public:
  using Make = c10::intrusive_ptr<PG> (*)(const c10::intrusive_ptr<::c10d::Store>&, const DistributedOptions&, std::chrono::milliseconds);

  C10dGroup(const DistributedOptions& o, const char* backend, torch::Device device, Make make) : timeout_(o.timeoutSeconds) {
    rank_ = o.rank;
    size_ = o.worldSize;
    backend_ = backend;
    device_ = device;
    const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(o.timeoutSeconds * 1000));
    try {
      ::c10d::TCPStoreOptions so;
      so.port = static_cast<std::uint16_t>(o.masterPort);
      so.isServer = o.rank == 0;
      so.numWorkers = static_cast<size_t>(o.worldSize);
      so.waitWorkers = true;
      so.timeout = timeout;
      compat::useClassicTcpStore(so);
      store_ = c10::make_intrusive<::c10d::TCPStore>(o.masterAddr, so);
      group_ = make(store_, o, timeout);
    } catch (const std::exception& e) {
      throw Error("ERR_DISTRIBUTED", "Rank " + std::to_string(o.rank) + " of " + std::to_string(o.worldSize) + " could not join the group at " +
                                         o.masterAddr + ":" + std::to_string(o.masterPort) + " within " + seconds() + ": " + firstLine(e.what()));
    }
  }

  void allreduceSum(std::vector<torch::Tensor>& tensors) override {
    run("all-reduce", [&] {
      std::vector<torch::Tensor> one(1);
      std::vector<c10::intrusive_ptr<::c10d::Work>> works;
      for (auto& t : tensors) {
        one[0] = t;
        works.push_back(group_->allreduce(one));  // queued: Gloo works through them while we queue the next
      }
      for (auto& w : works) w->wait();
    });
  }

  std::unique_ptr<PendingCollective> allreduceSumAsync(torch::Tensor tensor) override {
    std::vector<torch::Tensor> one{tensor};
    c10::intrusive_ptr<::c10d::Work> work;
    run("all-reduce", [&] { work = group_->allreduce(one); });
    return std::make_unique<Pending>(this, std::move(work));
  }

  void broadcast(std::vector<torch::Tensor>& tensors, int root) override {
    run("broadcast", [&] {
      ::c10d::BroadcastOptions bo;
      bo.rootRank = root;
      std::vector<torch::Tensor> one(1);
      for (auto& t : tensors) {
        one[0] = t;
        group_->broadcast(one, bo)->wait();
      }
    });
  }

  torch::Tensor allgather(const torch::Tensor& tensor) override {
    std::vector<std::vector<torch::Tensor>> out(1);
    for (int r = 0; r < size_; ++r) out[0].push_back(torch::empty_like(tensor));
    std::vector<torch::Tensor> in{tensor.contiguous()};
    run("all-gather", [&] { group_->allgather(out, in)->wait(); });
    return torch::cat(out[0]);
  }

 private:
  struct Pending final : PendingCollective {
    Pending(C10dGroup* group, c10::intrusive_ptr<::c10d::Work> work) : group(group), work(std::move(work)) {}
    void wait() override { group->run("all-reduce", [&] { work->wait(); }); }
    C10dGroup* group;
    c10::intrusive_ptr<::c10d::Work> work;
  };

  std::string seconds() const { return std::to_string(static_cast<int64_t>(timeout_)) + " s"; }

  template <typename F>
  void run(const char* what, F&& f) {
    try {
      f();
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Error("ERR_DISTRIBUTED", std::string("Rank ") + std::to_string(rank_) + " of " + std::to_string(size_) + ": the " + what +
                                         " did not complete (timeout " + seconds() + "); another rank may have died or stalled: " +
                                         firstLine(e.what()));
    }
  }

  double timeout_;
  c10::intrusive_ptr<::c10d::Store> store_;
  c10::intrusive_ptr<PG> group_;
};

c10::intrusive_ptr<::c10d::ProcessGroupGloo> makeGloo(const c10::intrusive_ptr<::c10d::Store>& store, const DistributedOptions& o,
                                                      std::chrono::milliseconds timeout) {
  auto options = ::c10d::ProcessGroupGloo::Options::create();
  options->timeout = timeout;
  // As torch.distributed: GLOO_SOCKET_IFNAME names the interface; otherwise the host's own address.
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  options->devices.push_back(ifname && *ifname ? ::c10d::ProcessGroupGloo::createDeviceForInterface(ifname)
                                               : ::c10d::ProcessGroupGloo::createDefaultDevice());
  return c10::make_intrusive<::c10d::ProcessGroupGloo>(store, o.rank, o.worldSize, options);
}
#endif

#ifdef TN_WITH_NCCL
c10::intrusive_ptr<::c10d::ProcessGroupNCCL> makeNccl(const c10::intrusive_ptr<::c10d::Store>& store, const DistributedOptions& o,
                                                      std::chrono::milliseconds timeout) {
  auto options = ::c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  return c10::make_intrusive<::c10d::ProcessGroupNCCL>(store, o.rank, o.worldSize, options);
}
#endif

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

std::shared_ptr<ProcessGroup> createProcessGroup(const DistributedOptions& o) {
  if (o.worldSize < 1 || o.rank < 0 || o.rank >= o.worldSize)
    throw invalidArg("Expected 0 <= rank < worldSize but received rank " + std::to_string(o.rank) + " of " + std::to_string(o.worldSize));
  if (o.masterPort < 1 || o.masterPort > 65535) throw invalidArg("Expected `masterPort` in [1, 65535] but received " + std::to_string(o.masterPort));
  if (!(o.timeoutSeconds > 0)) throw invalidArg("Expected `timeoutSeconds` to be positive");
  if (o.backend != "gloo" && o.backend != "nccl") throw invalidArg("Expected `backend` to be \"gloo\" or \"nccl\" but received \"" + o.backend + "\"");
#ifndef TN_WITH_GLOO
  throw Error("ERR_DISTRIBUTED", "This addon was built without Gloo (no gloo headers were found): install libgloo-dev and rebuild");
#else
  if (o.backend == "gloo") return std::make_shared<C10dGroup<::c10d::ProcessGroupGloo>>(o, "gloo", torch::Device(torch::kCPU), &makeGloo);
#ifdef TN_WITH_NCCL
  if (!torch::cuda::is_available()) throw Error("ERR_DISTRIBUTED", "The nccl backend needs CUDA, and this machine has no usable GPU: use gloo");
  // Each rank's collectives run on its own GPU, cuda:LOCAL_RANK.
  return std::make_shared<C10dGroup<::c10d::ProcessGroupNCCL>>(o, "nccl", torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(o.localRank)), &makeNccl);
#else
  throw Error("ERR_DISTRIBUTED", "The nccl backend needs a CUDA build of LibTorch with NCCL (this one has none): use gloo");
#endif
#endif
}

SyncBatchNormScope::SyncBatchNormScope(ProcessGroup* group) : previous_(syncGroup) { syncGroup = group; }
SyncBatchNormScope::~SyncBatchNormScope() { syncGroup = previous_; }

torch::Tensor batchNorm(torch::nn::BatchNorm2d& bn, const torch::Tensor& x) {
  if (syncGroup && bn->is_training()) return syncBatchNorm(*bn, x);
  return bn(x);
}

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
