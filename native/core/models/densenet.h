// DenseNet-121 (Huang et al. 2017; CheXNet's model) in torchvision's layout, so torchvision's weight files load by
// name: features.{conv0, norm0, denseblock1..4 of denselayerM (norm1/conv1/norm2/conv2), transition1..3
// (norm/conv), norm5}, classifier. torchvision's published checkpoints name the dense layers' parameters in an older
// layout ("denselayer1.norm.1.weight"); modelKey maps them, as torchvision's own loader does.
// Stages: conv0 (with norm0 and the max pool), denseblock1..denseblock3 (each with the transition after it, so a
// stage ends at the reduced map), denseblock4 (with norm5 and the final ReLU), classifier. Layers (visitLayers): each
// dense layer's new features, each stage's output.
#pragma once
#include <array>
#include <string>

#include "core/models/network.h"

namespace tn {

struct DenseLayerImpl : torch::nn::Module {
  DenseLayerImpl(int64_t inputs, int64_t growth, int64_t bottleneck);
  // (N, inputs, H, W), every earlier feature map concatenated -> (N, growth, H, W), this layer's new features.
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::BatchNorm2d norm1{nullptr}, norm2{nullptr};
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
};
TORCH_MODULE(DenseLayer);

struct DenseNetSpec {
  std::string name, displayName, description;
  int64_t initFeatures, growth, bottleneck;  // stem channels, channels each layer adds, bn_size x growth
  std::array<int, 4> blocks;                 // dense layers per block
};
const std::vector<DenseNetSpec>& densenetSpecs();

class DenseNetImpl : public NetworkImpl {
 public:
  DenseNetImpl(const DenseNetSpec& spec, int numClasses);
  torch::Tensor forward(torch::Tensor x) override;
  std::vector<std::pair<std::string, torch::Tensor>> forwardStages(torch::Tensor x) override;
  std::vector<std::string> stageNames() const override;
  void visitLayers(torch::Tensor x, const LayerVisitor& visit) override;
  std::vector<std::string> layerNames() const override;
  std::string headName() const override { return "classifier"; }
  std::string stageOf(const std::string& key) const override;
  std::string modelKey(const std::string& fileKey) const override;
  void replaceHead(int numClasses, at::Generator& gen) override;
  int numClasses() const override;
  int64_t paperParamCount() const override;
  // 7x7/2 conv, 3x3/2 pool, then three 2x2/2 average pools: the stem's map must be at least 8x8.
  int minInputSize() const override { return 29; }
  std::string inputConvKey() const override { return "features.conv0.weight"; }

 private:
  // Stage s (0 = conv0, 1..4 = denseblocks) applied to x, each dense layer's new features handed to visit.
  torch::Tensor stage(int s, torch::Tensor x, const LayerVisitor* visit);
  DenseNetSpec spec_;
  std::shared_ptr<torch::nn::Module> features_;
  torch::nn::Conv2d conv0_{nullptr};
  torch::nn::BatchNorm2d norm0_{nullptr}, norm5_{nullptr};
  std::array<std::vector<DenseLayer>, 4> blocks_;
  std::array<torch::nn::BatchNorm2d, 3> transitionNorms_{nullptr, nullptr, nullptr};
  std::array<torch::nn::Conv2d, 3> transitionConvs_{nullptr, nullptr, nullptr};
  torch::nn::Linear classifier_{nullptr};
};

}  // namespace tn
