#include "core/train/compute.h"

#include "core/error.h"

namespace tn {

namespace {
// The precision asked for, or the device's default: bf16 autocast on CUDA (Tensor Cores), fp32 on the CPU.
std::string resolved(const std::string& precision, bool cuda) {
  if (precision.empty()) return cuda ? "bf16" : "fp32";
  if (precision != "fp32" && precision != "tf32" && precision != "bf16")
    throw invalidArg("Expected `precision` to be \"fp32\", \"tf32\" or \"bf16\" but received \"" + precision + "\"");
  return precision;
}
}  // namespace

ComputeScope::ComputeScope(Model& model, const ComputeOptions& o, ComputeUse use)
    : model_(model),
      precision_(resolved(o.precision, model.device.is_cuda())),
      channelsLast_(o.channelsLast.value_or(model.device.is_cuda() || use == ComputeUse::kEvaluation)),
      tf32_(model.device.is_cuda(), precision_ == "tf32") {
  // Fixed shapes through a job: let cuDNN time its algorithms once and keep the fastest.
  if (model.device.is_cuda()) at::globalContext().setBenchmarkCuDNN(true);
  // Weights follow the requested format; the other one is restored too, so a model alternates freely.
  const auto format = channelsLast_ ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  torch::NoGradGuard noGrad;
  for (auto& p : model.net->parameters())
    if (p.dim() == 4 && !p.is_contiguous(format)) {
      p.set_data(p.contiguous(format));
      if (use == ComputeUse::kEvaluation) converted_.push_back(p);
    }
  if (precision_ == "bf16") autocast_.emplace(model.device.is_cuda(), at::kBFloat16);
}

ComputeScope::~ComputeScope() {
  torch::NoGradGuard noGrad;
  for (auto& p : converted_) p.set_data(p.contiguous(torch::MemoryFormat::Contiguous));
}

torch::Tensor ComputeScope::input(const torch::Tensor& x) const {
  auto on = x.to(model_.device);
  return channelsLast_ ? on.contiguous(torch::MemoryFormat::ChannelsLast) : on;
}

}  // namespace tn
