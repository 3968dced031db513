// Inception-v3 in torchvision's layout, so torchvision's weight files load by name: the stem convs Conv2d_1a_3x3 ..
// Conv2d_4a_3x3, the Mixed_5b .. Mixed_7c blocks (InceptionA-E), the optional auxiliary classifier AuxLogits (after
// Mixed_6e; used in training only, its loss weighted 0.4) and fc. Inputs are used as given (torchvision's
// transform_input=False). Needs inputs of at least 75x75.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/models/network.h"

namespace tn {

// Conv (no bias) -> BatchNorm (eps 0.001) -> ReLU, as torchvision's BasicConv2d.
struct BasicConv2dImpl : torch::nn::Module {
  BasicConv2dImpl(int64_t in, int64_t out, std::vector<int64_t> kernel, std::vector<int64_t> stride = {1, 1},
                  std::vector<int64_t> padding = {0, 0});
  torch::Tensor forward(torch::Tensor x);
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(BasicConv2d);

// An Inception block: named branches (BasicConv2d chains), concatenated along channels.
struct InceptionBlockImpl : torch::nn::Module {
  virtual torch::Tensor forward(torch::Tensor x) = 0;
  BasicConv2d add(const std::string& name, BasicConv2d conv) { return register_module(name, conv); }
};

class InceptionV3Impl : public NetworkImpl {
 public:
  InceptionV3Impl(int numClasses, bool auxLogits, double dropout);
  torch::Tensor forward(torch::Tensor x) override;
  std::pair<torch::Tensor, torch::Tensor> forwardTrain(torch::Tensor x) override;
  std::vector<std::pair<std::string, torch::Tensor>> forwardStages(torch::Tensor x) override;
  std::vector<std::string> stageNames() const override;
  void visitLayers(torch::Tensor x, const LayerVisitor& visit) override;  // the stages, streamed
  std::string headName() const override { return "fc"; }
  std::string stageOf(const std::string& key) const override;
  void replaceHead(int numClasses, at::Generator& gen) override;
  int numClasses() const override;
  int64_t paperParamCount() const override;
  int minInputSize() const override { return 75; }
  std::string inputConvKey() const override { return "Conv2d_1a_3x3.conv.weight"; }

 private:
  // Runs the main path, calling visit(stage, output) after every stage; returns the pooled features before fc,
  // and (in training, with the auxiliary head) the auxiliary logits in *aux.
  torch::Tensor trunk(torch::Tensor x, torch::Tensor* aux,
                      const std::function<void(const std::string&, const torch::Tensor&)>& visit);
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> stages_;
  std::shared_ptr<torch::nn::Module> aux_;
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear fc_{nullptr};
};

}  // namespace tn
