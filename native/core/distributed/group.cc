#include "core/distributed/group.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

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
// This host as a peer would name it: its name and its IPv4 addresses other than loopback ("node-a (10.77.0.1)").
std::string hostLabel() {
  char name[256] = {0};
  if (gethostname(name, sizeof name - 1) != 0) name[0] = 0;
  std::string addresses;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) == 0) {
    for (const ifaddrs* a = list; a; a = a->ifa_next) {
      if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
      char text[INET_ADDRSTRLEN] = {0};
      const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
      if (!inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) || std::string(text).rfind("127.", 0) == 0) continue;
      addresses += (addresses.empty() ? "" : ", ") + std::string(text);
    }
    freeifaddrs(list);
  }
  return std::string(*name ? name : "unknown host") + (addresses.empty() ? "" : " (" + addresses + ")");
}

std::string textOf(const std::vector<uint8_t>& bytes) { return std::string(bytes.begin(), bytes.end()); }
std::vector<uint8_t> bytesOf(const std::string& text) { return std::vector<uint8_t>(text.begin(), text.end()); }

// Every rank's host and identity through the store, before any collective: a rank that runs something else than rank
// 0 is refused on both sides, naming both. Rank 0 leaves (and stops the store) only once every rank has read what it
// compares. Returns the other ranks' hosts, for the collectives' errors.
std::string meetPeers(::c10d::Store& store, const DistributedOptions& o) {
  const std::string me = std::to_string(o.rank);
  store.set("tn/host/" + me, bytesOf(hostLabel()));
  store.set("tn/identity/" + me, bytesOf(o.identity));
  std::string peers, refusal;
  for (int r = 0; r < o.worldSize; ++r) {
    if (r == o.rank) continue;
    const std::string host = textOf(store.get("tn/host/" + std::to_string(r)));
    peers += (peers.empty() ? "" : "; ") + ("rank " + std::to_string(r) + " on " + host);
    if (o.rank != 0 && r != 0) continue;  // rank 0 compares every rank with itself; the others, themselves with rank 0
    const std::string theirs = textOf(store.get("tn/identity/" + std::to_string(r)));
    if (theirs == o.identity || !refusal.empty()) continue;
    const int other = o.rank == 0 ? r : o.rank;
    const std::string otherIdentity = o.rank == 0 ? theirs : o.identity, zeroIdentity = o.rank == 0 ? o.identity : theirs;
    refusal = "Rank " + std::to_string(other) + " of " + std::to_string(o.worldSize) + " runs \"" + otherIdentity + "\" but rank 0 runs \"" +
              zeroIdentity + "\": every rank must run the same study with the same version (refused at the rendezvous by rank " + me + ")";
  }
  store.set("tn/checked/" + me, bytesOf("1"));
  if (o.rank == 0)
    for (int r = 1; r < o.worldSize; ++r) store.get("tn/checked/" + std::to_string(r));
  if (!refusal.empty()) throw Error("ERR_DISTRIBUTED", refusal);
  return peers;
}

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
      peers_ = meetPeers(*store_, o);
      group_ = make(store_, o, timeout);
    } catch (const Error&) {
      throw;
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
                                         " did not complete (timeout " + seconds() + "); another rank may have died or stalled (" + peers_ +
                                         "): " + firstLine(e.what()));
    }
  }

  double timeout_;
  std::string peers_;  // "rank 1 on node-b (10.77.0.2)", for errors
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

}  // namespace tn
