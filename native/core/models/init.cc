#include "core/models/init.h"

#include <cmath>

namespace tn {

void initialiseModule(torch::nn::Module& root, at::Generator& gen) {
  torch::NoGradGuard noGrad;
  // named_modules() is ordered (registration order), so the draws are the same for the same seed.
  for (auto& item : root.named_modules()) {
    torch::nn::Module* m = item.value().get();
    if (auto* conv = dynamic_cast<torch::nn::Conv2dImpl*>(m)) {
      const auto& w = conv->weight;
      const double fanOut = static_cast<double>(w.size(0) * w.size(2) * w.size(3));
      w.normal_(0.0, std::sqrt(2.0 / fanOut), gen);
      if (conv->bias.defined()) conv->bias.zero_();
    } else if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m)) {
      if (bn->weight.defined()) bn->weight.fill_(1.0);
      if (bn->bias.defined()) bn->bias.zero_();
      bn->running_mean.zero_();
      bn->running_var.fill_(1.0);
      bn->num_batches_tracked.zero_();
    } else if (auto* fc = dynamic_cast<torch::nn::LinearImpl*>(m)) {
      const double bound = 1.0 / std::sqrt(static_cast<double>(fc->weight.size(1)));
      fc->weight.uniform_(-bound, bound, gen);
      if (fc->bias.defined()) fc->bias.uniform_(-bound, bound, gen);
    }
  }
}

torch::nn::Linear freshHead(const torch::nn::Linear& head, int numClasses, at::Generator& gen) {
  auto fresh = torch::nn::Linear(head->weight.size(1), numClasses);
  initialiseModule(*fresh, gen);
  fresh->to(head->weight.device());
  return fresh;
}

}  // namespace tn
