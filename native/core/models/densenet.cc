#include "core/models/densenet.h"

#include <regex>

#include "core/distributed/batchnorm.h"
#include "core/models/init.h"

namespace tn {
namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}

std::string blockName(int b) { return "denseblock" + std::to_string(b + 1); }
std::string layerName(int b, int m) { return blockName(b) + ".denselayer" + std::to_string(m + 1); }

}  // namespace

const std::vector<DenseNetSpec>& densenetSpecs() {
  static const std::vector<DenseNetSpec> specs = {
      {"densenet121", "DenseNet-121",
       "torchvision DenseNet-121 (CheXNet's model): dense blocks 6-12-24-16, growth 32; inputs >= 29 px", 64, 32, 128,
       {6, 12, 24, 16}},
  };
  return specs;
}

DenseLayerImpl::DenseLayerImpl(int64_t inputs, int64_t growth, int64_t bottleneck) {
  norm1 = register_module("norm1", torch::nn::BatchNorm2d(inputs));
  conv1 = register_module("conv1", conv(inputs, bottleneck, 1, 1, 0));
  norm2 = register_module("norm2", torch::nn::BatchNorm2d(bottleneck));
  conv2 = register_module("conv2", conv(bottleneck, growth, 3, 1, 1));
}

// ReLUs in place, as torchvision's: each follows a BatchNorm whose output is a fresh tensor.
torch::Tensor DenseLayerImpl::forward(const torch::Tensor& x) {
  return conv2(batchNorm(norm2, conv1(batchNorm(norm1, x).relu_())).relu_());
}

DenseNetImpl::DenseNetImpl(const DenseNetSpec& spec, int numClasses) : spec_(spec) {
  features_ = register_module("features", std::make_shared<torch::nn::Module>());
  conv0_ = features_->register_module("conv0", conv(3, spec.initFeatures, /*kernel=*/7, /*stride=*/2, /*padding=*/3));
  norm0_ = features_->register_module("norm0", torch::nn::BatchNorm2d(spec.initFeatures));
  int64_t channels = spec.initFeatures;
  for (int b = 0; b < 4; ++b) {
    auto block = features_->register_module(blockName(b), std::make_shared<torch::nn::Module>());
    for (int m = 0; m < spec.blocks[b]; ++m)
      blocks_[b].push_back(block->register_module("denselayer" + std::to_string(m + 1),
                                                  DenseLayer(channels + m * spec.growth, spec.growth, spec.bottleneck)));
    channels += spec.blocks[b] * spec.growth;
    if (b == 3) break;
    auto transition = features_->register_module("transition" + std::to_string(b + 1), std::make_shared<torch::nn::Module>());
    transitionNorms_[b] = transition->register_module("norm", torch::nn::BatchNorm2d(channels));
    transitionConvs_[b] = transition->register_module("conv", conv(channels, channels / 2, 1, 1, 0));
    channels /= 2;
  }
  norm5_ = features_->register_module("norm5", torch::nn::BatchNorm2d(channels));
  classifier_ = register_module("classifier", torch::nn::Linear(channels, numClasses));
}

torch::Tensor DenseNetImpl::stage(int s, torch::Tensor x, const LayerVisitor* visit) {
  if (s == 0)  // (N, 3, H, W) -> (N, 64, H/4, W/4)
    return torch::max_pool2d(batchNorm(norm0_, conv0_(x)).relu_(), /*kernel_size=*/3, /*stride=*/2, /*padding=*/1);
  const int b = s - 1;
  std::vector<torch::Tensor> maps = {x};  // every feature map so far; each layer reads them all, concatenated
  for (size_t m = 0; m < blocks_[b].size(); ++m) {
    maps.push_back(blocks_[b][m]->forward(torch::cat(maps, 1)));
    if (visit) (*visit)(layerName(b, static_cast<int>(m)), maps.back());
  }
  x = torch::cat(maps, 1);
  if (b == 3) return batchNorm(norm5_, x).relu_();
  return torch::avg_pool2d(transitionConvs_[b](batchNorm(transitionNorms_[b], x).relu_()), /*kernel_size=*/2, /*stride=*/2);
}

torch::Tensor DenseNetImpl::forward(torch::Tensor x) {
  for (int s = 0; s < 5; ++s) x = stage(s, x, nullptr);
  return classifier_(x.mean({2, 3}));
}

std::vector<std::pair<std::string, torch::Tensor>> DenseNetImpl::forwardStages(torch::Tensor x) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  const auto names = stageNames();
  for (int s = 0; s < 5; ++s) {
    x = stage(s, x, nullptr);
    out.emplace_back(names[s], x);
  }
  out.emplace_back("classifier", classifier_(x.mean({2, 3})));
  return out;
}

std::vector<std::string> DenseNetImpl::stageNames() const {
  return {"conv0", "denseblock1", "denseblock2", "denseblock3", "denseblock4", "classifier"};
}

void DenseNetImpl::visitLayers(torch::Tensor x, const LayerVisitor& visit) {
  x = stage(0, x, nullptr);
  visit("conv0", x);
  for (int s = 1; s < 5; ++s) {
    x = stage(s, x, &visit);
    visit(blockName(s - 1), x);
  }
  visit("classifier", classifier_(x.mean({2, 3})));
}

std::vector<std::string> DenseNetImpl::layerNames() const {
  std::vector<std::string> names = {"conv0"};
  for (int b = 0; b < 4; ++b) {
    for (int m = 0; m < spec_.blocks[b]; ++m) names.push_back(layerName(b, m));
    names.push_back(blockName(b));
  }
  names.push_back("classifier");
  return names;
}

// features.conv0 / features.norm0 -> conv0; features.transitionN -> denseblockN; features.norm5 -> denseblock4.
std::string DenseNetImpl::stageOf(const std::string& key) const {
  const size_t dot = key.find('.');
  const std::string first = key.substr(0, dot);
  if (first != "features" || dot == std::string::npos) return first;
  const size_t end = key.find('.', dot + 1);
  const std::string second = key.substr(dot + 1, end == std::string::npos ? std::string::npos : end - dot - 1);
  if (second == "norm0") return "conv0";
  if (second == "norm5") return "denseblock4";
  if (second.rfind("transition", 0) == 0) return "denseblock" + second.substr(10);
  return second;
}

// torchvision's DenseNet files name "denselayerM.norm1.weight" as "denselayerM.norm.1.weight" (and conv.1, norm.2,
// conv.2): the pattern torchvision's _load_state_dict rewrites.
std::string DenseNetImpl::modelKey(const std::string& fileKey) const {
  static const std::regex legacy(R"(^(.*denselayer\d+\.(?:norm|relu|conv))\.([12]\.(?:weight|bias|running_mean|running_var))$)");
  return std::regex_replace(fileKey, legacy, "$1$2");
}

void DenseNetImpl::replaceHead(int numClasses, at::Generator& gen) {
  classifier_ = replace_module("classifier", freshHead(classifier_, numClasses, gen));
}

int DenseNetImpl::numClasses() const { return static_cast<int>(classifier_->weight.size(0)); }

// The paper has no DenseNet: every parameter with a 5-way head, as Table 1 counts the others.
int64_t DenseNetImpl::paperParamCount() const {
  int64_t trunk = 0;
  for (const auto& p : named_parameters())
    if (p.key().rfind("classifier.", 0) != 0) trunk += p.value().numel();
  const int64_t features = classifier_->weight.size(1);
  return trunk + features * 5 + 5;
}

}  // namespace tn
