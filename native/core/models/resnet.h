// ResNet-50 in torchvision's layout (v1.5: the stride sits on the 3x3 conv), so torchvision's weight files load by
// name: conv1, bn1, layer1..layer4 of Bottleneck blocks (conv1/bn1/conv2/bn2/conv3/bn3/downsample.{0,1}), fc.
// Stages: conv1 (with bn1), layer1..layer4, fc; layers (visitLayers): every block's output and its first two convs'. The Slim hybrid of the paper is the same network with layer3 and
// layer4 at half width.
#pragma once
#include <array>
#include <optional>
#include <string>

#include "core/models/network.h"

namespace tn {

struct BottleneckImpl : torch::nn::Module {
  BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride);
  torch::Tensor forward(torch::Tensor x);
  // The same, handing the first two convs' activations (after their ReLU) to visit as `prefix`.conv1, .conv2.
  torch::Tensor forwardVisiting(torch::Tensor x, const std::string& prefix, const NetworkImpl::LayerVisitor& visit);
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(Bottleneck);

struct ResNetSpec {
  std::string name, displayName, description;
  std::array<int64_t, 4> planes;  // bottleneck width per stage (outputs are 4x)
  std::array<int, 4> blocks;
  std::optional<int64_t> paperCount;  // Table 1's count, where the paper gives one
};
const std::vector<ResNetSpec>& resnetSpecs();

class ResNetImpl : public NetworkImpl {
 public:
  ResNetImpl(const ResNetSpec& spec, int numClasses);
  torch::Tensor forward(torch::Tensor x) override;
  std::vector<std::pair<std::string, torch::Tensor>> forwardStages(torch::Tensor x) override;
  std::vector<std::string> stageNames() const override;
  // conv1, then per block layerS.B.conv1, layerS.B.conv2 and the block's output layerS.B, then fc.
  void visitLayers(torch::Tensor x, const LayerVisitor& visit) override;
  std::vector<std::string> layerNames() const override;
  std::string headName() const override { return "fc"; }
  std::string stageOf(const std::string& key) const override;
  void replaceHead(int numClasses, at::Generator& gen) override;
  int numClasses() const override;
  int64_t paperParamCount() const override;
  int minInputSize() const override { return 1; }
  std::string inputConvKey() const override { return "conv1.weight"; }

 private:
  torch::Tensor stem(torch::Tensor x);
  ResNetSpec spec_;
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  std::array<torch::nn::Sequential, 4> layers_{nullptr, nullptr, nullptr, nullptr};
  torch::nn::Linear fc_{nullptr};
};

}  // namespace tn
