// The CBR family of the paper (Appendix A): blocks of Conv(k x k, stride 1, no bias) -> BatchNorm -> ReLU, a
// 3x3 / stride-2 max pool after each block (except after the 5th of CBR-LargeT), global average pooling and a
// linear classifier. Stages: layer1..layerL, head.
#pragma once
#include <string>
#include <vector>

#include "core/models/network.h"

namespace tn {

struct CbrSpec {
  std::string name;         // registry id, e.g. "cbr-larget"
  std::string displayName;  // the paper's name, e.g. "CBR-LargeT"
  int kernel = 7;
  std::vector<int64_t> channels;  // per block
  int pooledBlocks = 0;           // blocks 1..pooledBlocks are followed by a max pool
  std::string description;
};

const std::vector<CbrSpec>& cbrSpecs();

enum class Padding { Same, Valid };

struct CbrBlockImpl : torch::nn::Module {
  CbrBlockImpl(int64_t in, int64_t out, int kernel, Padding padding, bool pool);
  torch::Tensor forward(torch::Tensor x);
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
  torch::nn::MaxPool2d pool{nullptr};  // null where the block is not pooled
};
TORCH_MODULE(CbrBlock);

class CbrNetImpl : public NetworkImpl {
 public:
  CbrNetImpl(const CbrSpec& spec, int numClasses, Padding padding);
  torch::Tensor forward(torch::Tensor x) override;
  std::vector<std::pair<std::string, torch::Tensor>> forwardStages(torch::Tensor x) override;
  std::vector<std::string> stageNames() const override;
  void replaceHead(int numClasses, at::Generator& gen) override;
  int numClasses() const override;
  int64_t paperParamCount() const override;
  int minInputSize() const override;
  std::string inputConvKey() const override { return "layer1.conv.weight"; }

 private:
  CbrSpec spec_;
  Padding padding_;
  std::vector<CbrBlock> blocks_;
  torch::nn::Linear head_{nullptr};
};

}  // namespace tn
