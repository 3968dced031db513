// The uniform model contract: every registered architecture is a Network with named stages (bottom to top, the
// classifier last), a replaceable head and both parameter counts. Transfer, transfusion and activation capture
// address a model only through stage names, which are also the prefixes of its parameter names.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace tn {

struct NetworkImpl : torch::nn::Module {
  // (N, 3, H, W) float -> (N, numClasses) logits
  virtual torch::Tensor forward(torch::Tensor x) = 0;
  // Training forward: the logits and, for models with an auxiliary classifier (Inception-v3), its logits (else
  // undefined). The trainer adds 0.4 x the auxiliary loss, as torchvision's reference recipe does.
  virtual std::pair<torch::Tensor, torch::Tensor> forwardTrain(torch::Tensor x) { return {forward(x), torch::Tensor()}; }
  // Every stage's output, bottom to top (the last is the logits).
  virtual std::vector<std::pair<std::string, torch::Tensor>> forwardStages(torch::Tensor x) = 0;
  virtual std::vector<std::string> stageNames() const = 0;
  // Every layer's output, bottom to top, handed to `visit` as the forward pass makes it (so a caller may reduce it and
  // let it go): the stages and, where the architecture has finer ones, every block and conv output within them.
  // Default: the stages. layerNames() lists them in the order visited.
  using LayerVisitor = std::function<void(const std::string&, const torch::Tensor&)>;
  virtual void visitLayers(torch::Tensor x, const LayerVisitor& visit) {
    for (const auto& [name, value] : forwardStages(x)) visit(name, value);
  }
  virtual std::vector<std::string> layerNames() const { return stageNames(); }
  virtual std::string headName() const { return "head"; }
  // The stage a parameter or buffer belongs to (default: its first name component).
  virtual std::string stageOf(const std::string& key) const { return key.substr(0, key.find('.')); }
  // The weight of the first convolution (what the paper's Gabor hybrid replaces).
  virtual std::string inputConvKey() const = 0;
  // A weight file's key as this model names it. Where published files name parameters in an older layout
  // (torchvision's DenseNet checkpoints: "denselayer1.norm.1.weight" for "denselayer1.norm1.weight"), the model maps
  // them here, so the loader holds no model's special case. Default: the key as it is.
  virtual std::string modelKey(const std::string& fileKey) const { return fileKey; }
  // Keys that belong to the classifier(s) dropped by head replacement.
  virtual bool isHeadKey(const std::string& key) const { return stageOf(key) == headName(); }
  // A fresh classifier for numClasses outputs, drawn from gen, on the model's current device.
  virtual void replaceHead(int numClasses, at::Generator& gen) = 0;
  virtual int numClasses() const = 0;
  // Table 1's parameter count (the paper's own convention for this family).
  virtual int64_t paperParamCount() const = 0;
  // Smallest square input size for which every stage keeps at least one position.
  virtual int minInputSize() const = 0;
};

using Network = std::shared_ptr<NetworkImpl>;

}  // namespace tn
