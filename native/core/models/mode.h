// A network's training flag set for a scope, every module's own flag back after (on an exception too).
#pragma once
#include <torch/torch.h>

#include <memory>
#include <utility>
#include <vector>

namespace tn {

// Module::train() sets a module's whole subtree, so the flags are restored parent first (modules() lists them in
// that order).
class ModeScope {
 public:
  ModeScope(torch::nn::Module& net, bool training) {
    for (auto& m : net.modules()) modes_.emplace_back(m, m->is_training());
    net.train(training);
  }
  ~ModeScope() {
    for (auto& [m, training] : modes_) m->train(training);
  }
  ModeScope(const ModeScope&) = delete;
  ModeScope& operator=(const ModeScope&) = delete;

 private:
  std::vector<std::pair<std::shared_ptr<torch::nn::Module>, bool>> modes_;
};

}  // namespace tn
