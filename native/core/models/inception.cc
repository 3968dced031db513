#include "core/models/inception.h"

#include "core/distributed/batchnorm.h"
#include "core/error.h"
#include "core/models/init.h"

namespace tn {
namespace {

using Shape = std::vector<int64_t>;
namespace F = torch::nn::functional;

torch::Tensor avgPool3(const torch::Tensor& x) {
  return F::avg_pool2d(x, F::AvgPool2dFuncOptions(3).stride(1).padding(1));
}
torch::Tensor maxPool3s2(const torch::Tensor& x) { return F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(2)); }

struct InceptionAImpl : InceptionBlockImpl {
  InceptionAImpl(int64_t in, int64_t poolFeatures) {
    b1 = add("branch1x1", BasicConv2d(in, 64, Shape{1, 1}));
    b5_1 = add("branch5x5_1", BasicConv2d(in, 48, Shape{1, 1}));
    b5_2 = add("branch5x5_2", BasicConv2d(48, 64, Shape{5, 5}, Shape{1, 1}, Shape{2, 2}));
    d1 = add("branch3x3dbl_1", BasicConv2d(in, 64, Shape{1, 1}));
    d2 = add("branch3x3dbl_2", BasicConv2d(64, 96, Shape{3, 3}, Shape{1, 1}, Shape{1, 1}));
    d3 = add("branch3x3dbl_3", BasicConv2d(96, 96, Shape{3, 3}, Shape{1, 1}, Shape{1, 1}));
    pool = add("branch_pool", BasicConv2d(in, poolFeatures, Shape{1, 1}));
  }
  torch::Tensor forward(torch::Tensor x) override {
    return torch::cat({b1(x), b5_2(b5_1(x)), d3(d2(d1(x))), pool(avgPool3(x))}, 1);
  }
  BasicConv2d b1{nullptr}, b5_1{nullptr}, b5_2{nullptr}, d1{nullptr}, d2{nullptr}, d3{nullptr}, pool{nullptr};
};

struct InceptionBImpl : InceptionBlockImpl {
  explicit InceptionBImpl(int64_t in) {
    b3 = add("branch3x3", BasicConv2d(in, 384, Shape{3, 3}, Shape{2, 2}));
    d1 = add("branch3x3dbl_1", BasicConv2d(in, 64, Shape{1, 1}));
    d2 = add("branch3x3dbl_2", BasicConv2d(64, 96, Shape{3, 3}, Shape{1, 1}, Shape{1, 1}));
    d3 = add("branch3x3dbl_3", BasicConv2d(96, 96, Shape{3, 3}, Shape{2, 2}));
  }
  torch::Tensor forward(torch::Tensor x) override { return torch::cat({b3(x), d3(d2(d1(x))), maxPool3s2(x)}, 1); }
  BasicConv2d b3{nullptr}, d1{nullptr}, d2{nullptr}, d3{nullptr};
};

struct InceptionCImpl : InceptionBlockImpl {
  InceptionCImpl(int64_t in, int64_t c7) {
    b1 = add("branch1x1", BasicConv2d(in, 192, Shape{1, 1}));
    s1 = add("branch7x7_1", BasicConv2d(in, c7, Shape{1, 1}));
    s2 = add("branch7x7_2", BasicConv2d(c7, c7, Shape{1, 7}, Shape{1, 1}, Shape{0, 3}));
    s3 = add("branch7x7_3", BasicConv2d(c7, 192, Shape{7, 1}, Shape{1, 1}, Shape{3, 0}));
    d1 = add("branch7x7dbl_1", BasicConv2d(in, c7, Shape{1, 1}));
    d2 = add("branch7x7dbl_2", BasicConv2d(c7, c7, Shape{7, 1}, Shape{1, 1}, Shape{3, 0}));
    d3 = add("branch7x7dbl_3", BasicConv2d(c7, c7, Shape{1, 7}, Shape{1, 1}, Shape{0, 3}));
    d4 = add("branch7x7dbl_4", BasicConv2d(c7, c7, Shape{7, 1}, Shape{1, 1}, Shape{3, 0}));
    d5 = add("branch7x7dbl_5", BasicConv2d(c7, 192, Shape{1, 7}, Shape{1, 1}, Shape{0, 3}));
    pool = add("branch_pool", BasicConv2d(in, 192, Shape{1, 1}));
  }
  torch::Tensor forward(torch::Tensor x) override {
    return torch::cat({b1(x), s3(s2(s1(x))), d5(d4(d3(d2(d1(x))))), pool(avgPool3(x))}, 1);
  }
  BasicConv2d b1{nullptr}, s1{nullptr}, s2{nullptr}, s3{nullptr}, d1{nullptr}, d2{nullptr}, d3{nullptr}, d4{nullptr},
      d5{nullptr}, pool{nullptr};
};

struct InceptionDImpl : InceptionBlockImpl {
  explicit InceptionDImpl(int64_t in) {
    t1 = add("branch3x3_1", BasicConv2d(in, 192, Shape{1, 1}));
    t2 = add("branch3x3_2", BasicConv2d(192, 320, Shape{3, 3}, Shape{2, 2}));
    s1 = add("branch7x7x3_1", BasicConv2d(in, 192, Shape{1, 1}));
    s2 = add("branch7x7x3_2", BasicConv2d(192, 192, Shape{1, 7}, Shape{1, 1}, Shape{0, 3}));
    s3 = add("branch7x7x3_3", BasicConv2d(192, 192, Shape{7, 1}, Shape{1, 1}, Shape{3, 0}));
    s4 = add("branch7x7x3_4", BasicConv2d(192, 192, Shape{3, 3}, Shape{2, 2}));
  }
  torch::Tensor forward(torch::Tensor x) override { return torch::cat({t2(t1(x)), s4(s3(s2(s1(x)))), maxPool3s2(x)}, 1); }
  BasicConv2d t1{nullptr}, t2{nullptr}, s1{nullptr}, s2{nullptr}, s3{nullptr}, s4{nullptr};
};

struct InceptionEImpl : InceptionBlockImpl {
  explicit InceptionEImpl(int64_t in) {
    b1 = add("branch1x1", BasicConv2d(in, 320, Shape{1, 1}));
    t1 = add("branch3x3_1", BasicConv2d(in, 384, Shape{1, 1}));
    t2a = add("branch3x3_2a", BasicConv2d(384, 384, Shape{1, 3}, Shape{1, 1}, Shape{0, 1}));
    t2b = add("branch3x3_2b", BasicConv2d(384, 384, Shape{3, 1}, Shape{1, 1}, Shape{1, 0}));
    d1 = add("branch3x3dbl_1", BasicConv2d(in, 448, Shape{1, 1}));
    d2 = add("branch3x3dbl_2", BasicConv2d(448, 384, Shape{3, 3}, Shape{1, 1}, Shape{1, 1}));
    d3a = add("branch3x3dbl_3a", BasicConv2d(384, 384, Shape{1, 3}, Shape{1, 1}, Shape{0, 1}));
    d3b = add("branch3x3dbl_3b", BasicConv2d(384, 384, Shape{3, 1}, Shape{1, 1}, Shape{1, 0}));
    pool = add("branch_pool", BasicConv2d(in, 192, Shape{1, 1}));
  }
  torch::Tensor forward(torch::Tensor x) override {
    auto t = t1(x);
    auto d = d2(d1(x));
    return torch::cat({b1(x), torch::cat({t2a(t), t2b(t)}, 1), torch::cat({d3a(d), d3b(d)}, 1), pool(avgPool3(x))}, 1);
  }
  BasicConv2d b1{nullptr}, t1{nullptr}, t2a{nullptr}, t2b{nullptr}, d1{nullptr}, d2{nullptr}, d3a{nullptr},
      d3b{nullptr}, pool{nullptr};
};

struct InceptionAuxImpl : torch::nn::Module {
  InceptionAuxImpl(int64_t in, int numClasses) {
    conv0 = register_module("conv0", BasicConv2d(in, 128, Shape{1, 1}));
    conv1 = register_module("conv1", BasicConv2d(128, 768, Shape{5, 5}));
    fc = register_module("fc", torch::nn::Linear(768, numClasses));
  }
  // (N, 768, 17, 17) -> (N, classes)
  torch::Tensor forward(torch::Tensor x) {
    x = F::avg_pool2d(x, F::AvgPool2dFuncOptions(5).stride(3));
    x = conv1(conv0(x));
    return fc(F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions(1)).flatten(1));
  }
  BasicConv2d conv0{nullptr}, conv1{nullptr};
  torch::nn::Linear fc{nullptr};
};

}  // namespace

BasicConv2dImpl::BasicConv2dImpl(int64_t in, int64_t out, std::vector<int64_t> kernel, std::vector<int64_t> stride,
                                 std::vector<int64_t> padding) {
  conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false)));
  bn = register_module("bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(out).eps(0.001)));
}

torch::Tensor BasicConv2dImpl::forward(torch::Tensor x) { return torch::relu(batchNorm(bn, conv(x))); }

InceptionV3Impl::InceptionV3Impl(int numClasses, bool auxLogits, double dropout) {
  // The stem convs are registered under torchvision's names directly (a BasicConv2d each), so their parameters are
  // "Conv2d_1a_3x3.conv.weight" etc.; the pools that follow 2b and 4a are applied in trunk().
  auto addStage = [&](const std::string& name, std::shared_ptr<torch::nn::Module> m) {
    stages_.emplace_back(name, register_module(name, m));
  };
  addStage("Conv2d_1a_3x3", BasicConv2d(3, 32, Shape{3, 3}, Shape{2, 2}).ptr());
  addStage("Conv2d_2a_3x3", BasicConv2d(32, 32, Shape{3, 3}).ptr());
  addStage("Conv2d_2b_3x3", BasicConv2d(32, 64, Shape{3, 3}, Shape{1, 1}, Shape{1, 1}).ptr());
  addStage("Conv2d_3b_1x1", BasicConv2d(64, 80, Shape{1, 1}).ptr());
  addStage("Conv2d_4a_3x3", BasicConv2d(80, 192, Shape{3, 3}).ptr());
  addStage("Mixed_5b", std::make_shared<InceptionAImpl>(192, 32));
  addStage("Mixed_5c", std::make_shared<InceptionAImpl>(256, 64));
  addStage("Mixed_5d", std::make_shared<InceptionAImpl>(288, 64));
  addStage("Mixed_6a", std::make_shared<InceptionBImpl>(288));
  addStage("Mixed_6b", std::make_shared<InceptionCImpl>(768, 128));
  addStage("Mixed_6c", std::make_shared<InceptionCImpl>(768, 160));
  addStage("Mixed_6d", std::make_shared<InceptionCImpl>(768, 160));
  addStage("Mixed_6e", std::make_shared<InceptionCImpl>(768, 192));
  if (auxLogits) aux_ = register_module("AuxLogits", std::make_shared<InceptionAuxImpl>(768, numClasses));
  addStage("Mixed_7a", std::make_shared<InceptionDImpl>(768));
  addStage("Mixed_7b", std::make_shared<InceptionEImpl>(1280));
  addStage("Mixed_7c", std::make_shared<InceptionEImpl>(2048));
  dropout_ = register_module("dropout", torch::nn::Dropout(dropout));
  fc_ = register_module("fc", torch::nn::Linear(2048, numClasses));
}

torch::Tensor InceptionV3Impl::trunk(torch::Tensor x, torch::Tensor* aux,
                                     const std::function<void(const std::string&, const torch::Tensor&)>& visit) {
  for (const auto& [name, module] : stages_) {
    if (auto* conv = dynamic_cast<BasicConv2dImpl*>(module.get())) x = conv->forward(x);
    else x = static_cast<InceptionBlockImpl*>(module.get())->forward(x);
    if (name == "Conv2d_2b_3x3" || name == "Conv2d_4a_3x3") x = maxPool3s2(x);
    if (name == "Mixed_6e" && aux && aux_ && is_training()) *aux = static_cast<InceptionAuxImpl*>(aux_.get())->forward(x);
    if (visit) visit(name, x);
  }
  // (N, 2048, h, w) -> (N, 2048)
  return dropout_(F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions(1)).flatten(1));
}

torch::Tensor InceptionV3Impl::forward(torch::Tensor x) { return fc_(trunk(x, nullptr, nullptr)); }

std::pair<torch::Tensor, torch::Tensor> InceptionV3Impl::forwardTrain(torch::Tensor x) {
  // The auxiliary head pools Mixed_6e's map 5x5/3 and then convolves 5x5: it needs that map at 17x17, i.e. 299 px in.
  constexpr int64_t kAuxMinInput = 299;
  if (aux_ && is_training() && (x.size(2) < kAuxMinInput || x.size(3) < kAuxMinInput))
    throw invalidArg("Inception-v3's auxiliary classifier needs training inputs of at least 299x299 but received " +
                     std::to_string(x.size(2)) + "x" + std::to_string(x.size(3)) +
                     "; create the model with auxLogits: false for smaller inputs");
  torch::Tensor aux;
  auto logits = fc_(trunk(x, &aux, nullptr));
  return {logits, aux};
}

std::vector<std::pair<std::string, torch::Tensor>> InceptionV3Impl::forwardStages(torch::Tensor x) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  auto features = trunk(x, nullptr, [&](const std::string& name, const torch::Tensor& t) { out.emplace_back(name, t); });
  out.emplace_back("fc", fc_(features));
  return out;
}

void InceptionV3Impl::visitLayers(torch::Tensor x, const LayerVisitor& visit) { visit("fc", fc_(trunk(x, nullptr, visit))); }

std::vector<std::string> InceptionV3Impl::stageNames() const {
  std::vector<std::string> names;
  for (const auto& s : stages_) names.push_back(s.first);
  names.push_back("fc");
  return names;
}

// The auxiliary classifier branches from Mixed_6e: its convs go with that stage, its fc with the head.
std::string InceptionV3Impl::stageOf(const std::string& key) const {
  if (key.rfind("AuxLogits.fc.", 0) == 0) return "fc";
  if (key.rfind("AuxLogits.", 0) == 0) return "Mixed_6e";
  return key.substr(0, key.find('.'));
}

void InceptionV3Impl::replaceHead(int numClasses, at::Generator& gen) {
  fc_ = replace_module("fc", freshHead(fc_, numClasses, gen));
  if (aux_) {
    auto* aux = static_cast<InceptionAuxImpl*>(aux_.get());
    aux->fc = aux->replace_module("fc", freshHead(aux->fc, numClasses, gen));
  }
}

int InceptionV3Impl::numClasses() const { return static_cast<int>(fc_->weight.size(0)); }

// Table 1's count for Inception-v3 (TF-slim's variant; no simple rule derives it from this layout).
int64_t InceptionV3Impl::paperParamCount() const { return 22'881'424; }

}  // namespace tn
