#include "core/models/cbr.h"

#include "core/distributed/batchnorm.h"
#include "core/models/init.h"

namespace tn {

// Table 1 reading of CBR-Tiny (32-64-128-256); the appendix text's 64-128-256-512 is kept as cbr-tiny-appendix.
const std::vector<CbrSpec>& cbrSpecs() {
  static const std::vector<CbrSpec> specs = {
      {"cbr-larget", "CBR-LargeT", 7, {32, 64, 128, 256, 512}, 4, "5 blocks, 7x7, 32-512 channels, no pool after block 5"},
      {"cbr-largew", "CBR-LargeW", 7, {64, 128, 256, 512}, 4, "4 blocks, 7x7, 64-512 channels"},
      {"cbr-small", "CBR-Small", 7, {32, 64, 128, 256}, 4, "4 blocks, 7x7, 32-256 channels"},
      {"cbr-tiny", "CBR-Tiny", 5, {32, 64, 128, 256}, 4, "4 blocks, 5x5, 32-256 channels (Table 1's reading)"},
      {"cbr-tiny-appendix", "CBR-Tiny (appendix text)", 5, {64, 128, 256, 512}, 4,
       "4 blocks, 5x5, 64-512 channels (the appendix text's reading; contradicts Table 1)"},
  };
  return specs;
}

CbrBlockImpl::CbrBlockImpl(int64_t in, int64_t out, int kernel, Padding padding, bool pooled) {
  const int64_t pad = padding == Padding::Same ? kernel / 2 : 0;
  conv = register_module(
      "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, /*kernel_size=*/kernel).padding(pad).bias(false)));
  bn = register_module("bn", torch::nn::BatchNorm2d(out));
  if (pooled) {
    pool = register_module("pool", torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(/*kernel_size=*/3).stride(2).padding(
                                       padding == Padding::Same ? 1 : 0)));
  }
}

torch::Tensor CbrBlockImpl::forward(torch::Tensor x) {
  x = torch::relu(batchNorm(bn, conv(x)));
  return pool ? pool(x) : x;
}

CbrNetImpl::CbrNetImpl(const CbrSpec& spec, int numClasses, Padding padding) : spec_(spec), padding_(padding) {
  int64_t in = 3;
  for (size_t i = 0; i < spec.channels.size(); ++i) {
    const bool pooled = static_cast<int>(i) < spec.pooledBlocks;
    blocks_.push_back(register_module("layer" + std::to_string(i + 1),
                                      CbrBlock(in, spec.channels[i], spec.kernel, padding, pooled)));
    in = spec.channels[i];
  }
  head_ = register_module("head", torch::nn::Linear(in, numClasses));
}

torch::Tensor CbrNetImpl::forward(torch::Tensor x) {
  for (auto& block : blocks_) x = block(x);
  // (N, C, H, W) -> (N, C): global average pooling
  return head_(x.mean({2, 3}));
}

std::vector<std::pair<std::string, torch::Tensor>> CbrNetImpl::forwardStages(torch::Tensor x) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    x = blocks_[i](x);
    out.emplace_back("layer" + std::to_string(i + 1), x);
  }
  out.emplace_back("head", head_(x.mean({2, 3})));
  return out;
}

std::vector<std::string> CbrNetImpl::stageNames() const {
  std::vector<std::string> names;
  for (size_t i = 0; i < blocks_.size(); ++i) names.push_back("layer" + std::to_string(i + 1));
  names.push_back("head");
  return names;
}

void CbrNetImpl::replaceHead(int numClasses, at::Generator& gen) {
  head_ = replace_module("head", freshHead(head_, numClasses, gen));
}

int CbrNetImpl::numClasses() const { return static_cast<int>(head_->weight.size(0)); }

// Table 1 counts every conv except the first, and a 5-way classifier without bias; BatchNorm is left out.
// This one rule reproduces all four of the paper's CBR counts exactly (see ../shared/paper/NOTES.md).
int64_t CbrNetImpl::paperParamCount() const {
  constexpr int64_t kPaperHeadOutputs = 5;
  const int64_t k2 = static_cast<int64_t>(spec_.kernel) * spec_.kernel;
  int64_t count = 0;
  for (size_t i = 1; i < spec_.channels.size(); ++i) count += k2 * spec_.channels[i - 1] * spec_.channels[i];
  return count + spec_.channels.back() * kPaperHeadOutputs;
}

int CbrNetImpl::minInputSize() const {
  auto survives = [&](int64_t s) {
    for (size_t i = 0; i < spec_.channels.size(); ++i) {
      if (padding_ == Padding::Valid) s -= spec_.kernel - 1;
      if (s < 1) return false;
      if (static_cast<int>(i) < spec_.pooledBlocks) {
        if (padding_ == Padding::Valid && s < 3) return false;
        s = padding_ == Padding::Same ? (s - 1) / 2 + 1 : (s - 3) / 2 + 1;
      }
    }
    return true;
  };
  int s = 1;
  while (!survives(s)) ++s;
  return s;
}

}  // namespace tn
