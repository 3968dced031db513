#include "core/models/resnet.h"

#include "core/distributed/batchnorm.h"
#include "core/models/init.h"

namespace tn {
namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}

// Parameters a classifier of `classes` outputs adds to a trunk ending in `features` channels.
int64_t headParams(int64_t features, int64_t classes) { return features * classes + classes; }

}  // namespace

const std::vector<ResNetSpec>& resnetSpecs() {
  static const std::vector<ResNetSpec> specs = {
      {"resnet50", "ResNet-50", "torchvision ResNet-50 v1.5: Bottleneck blocks 3-4-6-3", {64, 128, 256, 512}, {3, 4, 6, 3}, 23'570'408},
      {"resnet50-slim", "Slim (ResNet-50, halved layer3/layer4)",
       "the paper's Slim hybrid: ResNet-50 to layer2, then layer3/layer4 at half the channels", {64, 128, 128, 256},
       {3, 4, 6, 3}, std::nullopt},
  };
  return specs;
}

BottleneckImpl::BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride) {
  conv1 = register_module("conv1", conv(inplanes, planes, 1, 1, 0));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(planes));
  conv2 = register_module("conv2", conv(planes, planes, 3, stride, 1));
  bn2 = register_module("bn2", torch::nn::BatchNorm2d(planes));
  conv3 = register_module("conv3", conv(planes, planes * 4, 1, 1, 0));
  bn3 = register_module("bn3", torch::nn::BatchNorm2d(planes * 4));
  if (stride != 1 || inplanes != planes * 4)
    downsample = register_module("downsample", torch::nn::Sequential(conv(inplanes, planes * 4, 1, stride, 0),
                                                                      torch::nn::BatchNorm2d(planes * 4)));
}

// ReLUs and the residual sum in place, as torchvision's: BatchNorm's outputs are fresh tensors that autograd does not
// need afterwards, so this saves an allocation and a pass over memory per op.
torch::Tensor BottleneckImpl::forward(torch::Tensor x) { return forwardVisiting(x, "", nullptr); }

torch::Tensor BottleneckImpl::forwardVisiting(torch::Tensor x, const std::string& prefix, const NetworkImpl::LayerVisitor& visit) {
  auto out = batchNorm(bn1, conv1(x)).relu_();
  if (visit) visit(prefix + ".conv1", out);
  out = batchNorm(bn2, conv2(out)).relu_();
  if (visit) visit(prefix + ".conv2", out);
  out = batchNorm(bn3, conv3(out));
  if (downsample) {  // (conv, bn), called one by one so the BatchNorm can be synchronised
    torch::nn::BatchNorm2d bn(std::dynamic_pointer_cast<torch::nn::BatchNorm2dImpl>(downsample->ptr(1)));
    out += batchNorm(bn, std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(downsample->ptr(0))->forward(x));
  } else {
    out += x;
  }
  return out.relu_();
}

ResNetImpl::ResNetImpl(const ResNetSpec& spec, int numClasses) : spec_(spec) {
  conv1_ = register_module("conv1", conv(3, 64, /*kernel=*/7, /*stride=*/2, /*padding=*/3));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(64));
  int64_t inplanes = 64;
  for (int s = 0; s < 4; ++s) {
    torch::nn::Sequential layer;
    for (int b = 0; b < spec.blocks[s]; ++b) {
      layer->push_back(Bottleneck(inplanes, spec.planes[s], b == 0 && s > 0 ? 2 : 1));
      inplanes = spec.planes[s] * 4;
    }
    layers_[s] = register_module("layer" + std::to_string(s + 1), layer);
  }
  fc_ = register_module("fc", torch::nn::Linear(inplanes, numClasses));
}

// (N, 3, H, W) -> (N, 64, H/4, W/4)
torch::Tensor ResNetImpl::stem(torch::Tensor x) {
  return torch::max_pool2d(batchNorm(bn1_, conv1_(x)).relu_(), /*kernel_size=*/3, /*stride=*/2, /*padding=*/1);
}

torch::Tensor ResNetImpl::forward(torch::Tensor x) {
  x = stem(x);
  for (auto& layer : layers_) x = layer->forward(x);
  return fc_(x.mean({2, 3}));
}

std::vector<std::pair<std::string, torch::Tensor>> ResNetImpl::forwardStages(torch::Tensor x) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  x = stem(x);
  out.emplace_back("conv1", x);
  for (int s = 0; s < 4; ++s) {
    x = layers_[s]->forward(x);
    out.emplace_back("layer" + std::to_string(s + 1), x);
  }
  out.emplace_back("fc", fc_(x.mean({2, 3})));
  return out;
}

std::vector<std::string> ResNetImpl::stageNames() const { return {"conv1", "layer1", "layer2", "layer3", "layer4", "fc"}; }

void ResNetImpl::visitLayers(torch::Tensor x, const LayerVisitor& visit) {
  x = stem(x);
  visit("conv1", x);
  for (int s = 0; s < 4; ++s)
    for (size_t b = 0; b < layers_[s]->size(); ++b) {
      const std::string name = "layer" + std::to_string(s + 1) + "." + std::to_string(b);
      x = std::dynamic_pointer_cast<BottleneckImpl>(layers_[s]->ptr(b))->forwardVisiting(x, name, visit);
      visit(name, x);
    }
  visit("fc", fc_(x.mean({2, 3})));
}

std::vector<std::string> ResNetImpl::layerNames() const {
  std::vector<std::string> names = {"conv1"};
  for (int s = 0; s < 4; ++s)
    for (int b = 0; b < spec_.blocks[s]; ++b) {
      const std::string name = "layer" + std::to_string(s + 1) + "." + std::to_string(b);
      names.insert(names.end(), {name + ".conv1", name + ".conv2", name});
    }
  names.push_back("fc");
  return names;
}

std::string ResNetImpl::stageOf(const std::string& key) const {
  const std::string first = key.substr(0, key.find('.'));
  return first == "bn1" ? "conv1" : first;
}

void ResNetImpl::replaceHead(int numClasses, at::Generator& gen) { fc_ = replace_module("fc", freshHead(fc_, numClasses, gen)); }

int ResNetImpl::numClasses() const { return static_cast<int>(fc_->weight.size(0)); }

// Table 1's count (TF-slim's ResNet-50 follows no simple rule); otherwise every parameter with a 5-way head.
int64_t ResNetImpl::paperParamCount() const {
  if (spec_.paperCount) return *spec_.paperCount;
  int64_t trunk = 0;
  for (const auto& p : named_parameters())
    if (p.key().rfind("fc.", 0) != 0) trunk += p.value().numel();
  return trunk + headParams(fc_->weight.size(1), 5);
}

}  // namespace tn
