// The options of a data-parallel process group (DistributedOptions). Torch-free.
#pragma once
#include <string>

namespace tn {

// How a process joins a data-parallel group: torchrun's variables (MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE).
struct DistributedOptions {
  std::string backend = "gloo";  // "gloo" (CPU, or CUDA tensors through the host) or "nccl" (CUDA)
  std::string masterAddr = "127.0.0.1";
  int masterPort = 29500;
  int rank = 0, worldSize = 1;
  int localRank = 0;            // nccl: this rank's GPU, cuda:localRank
  double timeoutSeconds = 300;  // rendezvous and every collective
  // What this rank runs (the CLI's: the package version and the study's fingerprint). At the rendezvous every rank's
  // is compared with rank 0's, and a rank that differs is refused there, on both sides, naming both. Empty: unchecked.
  std::string identity;
};

}  // namespace tn
