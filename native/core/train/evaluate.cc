#include "core/train/evaluate.h"

#include "core/compat.h"
#include "core/distributed/group.h"
#include "core/error.h"
#include "core/train/auc.h"
#include "core/train/auprc.h"
#include "core/train/bootstrap.h"
#include "core/train/compute.h"
#include "core/train/kappa.h"

namespace tn {

namespace F = torch::nn::functional;

bool isMulticlass(const Dataset& d) { return d.task == "multiclass"; }

torch::Tensor lossOf(const Dataset& d, const torch::Tensor& logits, const torch::Tensor& y, const torch::Tensor& mask) {
  if (isMulticlass(d)) return F::cross_entropy(logits, y);
  if (!mask.defined()) return F::binary_cross_entropy_with_logits(logits, y);
  auto each = F::binary_cross_entropy_with_logits(logits, y, F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone));
  return (each * mask).sum() / mask.sum().clamp_min(1.0);
}

void checkCompatible(const Model& model, const Dataset& d, const char* role) {
  const int classes = model.net->numClasses();
  if (d.outputs != classes)
    throw invalidArg(std::string("The ") + role + " set has " + std::to_string(d.outputs) + " output(s) (" + d.task +
                     ") but model \"" + model.name + "\" has " + std::to_string(classes) +
                     " classes; create the model with numClasses: " + std::to_string(d.outputs));
  const int minSize = model.net->minInputSize();
  if (d.images.size(2) < minSize || d.images.size(3) < minSize)
    throw invalidArg(std::string("The ") + role + " set's images are " + std::to_string(d.images.size(2)) + "x" +
                     std::to_string(d.images.size(3)) + " but model \"" + model.name + "\" needs at least " +
                     std::to_string(minSize) + "x" + std::to_string(minSize));
}

void checkBothClasses(const Dataset& d, const char* role) {
  if (isMulticlass(d) && d.classAuc) {
    const int64_t n = d.targets.size(0);
    const auto counts = torch::bincount(d.targets.to(torch::kInt64), /*weights=*/{}, d.outputs);
    for (int64_t k = 0; k < d.outputs; ++k) {
      const int64_t p = counts[k].item<int64_t>();
      if (p == 0 || p == n)
        throw invalidArg(std::string("The ") + role + " set has " + std::to_string(p) + " item(s) of class " + std::to_string(k) + " and " +
                         std::to_string(n - p) + " of the others: its one-vs-rest AUC needs both");
    }
    return;
  }
  if (isMulticlass(d)) {
    if (d.referableFrom == 0) return;
    const int64_t n = d.targets.size(0), p = d.targets.ge(d.referableFrom).sum().item<int64_t>();
    if (p == 0 || p == n)
      throw invalidArg(std::string("The ") + role + " set has " + std::to_string(p) + " item(s) of grade >= " + std::to_string(d.referableFrom) +
                       " and " + std::to_string(n - p) + " below: the referable AUC needs both");
    return;
  }
  auto known = d.mask.defined() ? d.mask : torch::ones_like(d.targets);
  auto positives = (d.targets * known).sum(0), total = known.sum(0);
  for (int64_t k = 0; k < d.outputs; ++k) {
    const double p = positives[k].item<double>(), n = total[k].item<double>() - p;
    if (p == 0 || n == 0)
      throw invalidArg(std::string("The ") + role + " set has " + std::to_string(static_cast<int64_t>(p)) +
                       " positive and " + std::to_string(static_cast<int64_t>(n)) + " negative example(s) for output " +
                       std::to_string(k) + ": AUC needs both");
  }
}

// AUC-ROC and AUC-PR per output, their means, and the bootstrap interval where asked: scores, labels and mask (or
// undefined) (N, K) float32, contiguous, on the CPU.
static void scoreOutputs(Metrics& m, const torch::Tensor& scores, const torch::Tensor& labels, const torch::Tensor& mask, const JobControl& job,
                         const BootstrapRequest& bootstrap) {
  const auto n = static_cast<size_t>(scores.size(0)), outputs = static_cast<size_t>(scores.size(1));
  const float* maskData = mask.defined() ? mask.data_ptr<float>() : nullptr;
  double sum = 0, sumPrecision = 0;
  for (size_t k = 0; k < outputs; ++k) {
    const double a = maskedAuc(scores.data_ptr<float>() + k, labels.data_ptr<float>() + k, maskData ? maskData + k : nullptr, n, outputs);
    const double p = maskedAveragePrecision(scores.data_ptr<float>() + k, labels.data_ptr<float>() + k, maskData ? maskData + k : nullptr, n, outputs);
    m.auc.push_back(a);
    m.auprc.push_back(p);
    sum += a;
    sumPrecision += p;
  }
  m.meanAuc = sum / static_cast<double>(outputs);
  m.meanAuprc = sumPrecision / static_cast<double>(outputs);
  if (bootstrap.resamples > 0) {
    job.check();
    const AucInterval ci = bootstrapAucInterval(scores.data_ptr<float>(), labels.data_ptr<float>(), maskData, n, outputs, bootstrap.resamples, bootstrap.seed);
    m.aucLow = ci.low;
    m.aucHigh = ci.high;
    m.aucResamples = ci.resamples;
  }
}

Metrics evaluateHeld(Model& model, const Dataset& d, int batchSize, const ComputeOptions& compute, const JobControl& job,
                     ProcessGroup* group, const BootstrapRequest& bootstrap) {
  checkCompatible(model, d, "evaluation");
  checkBothClasses(d, "evaluation");
  const ComputeScope scope(model, compute, ComputeUse::kEvaluation);
  torch::NoGradGuard noGrad;
  auto& net = *model.net;
  net.eval();
  const int64_t n = d.images.size(0);
  // This rank's rows: all of them, or its contiguous share of ceil(n / ranks).
  const int64_t ranks = group ? group->size() : 1, share = (n + ranks - 1) / ranks;
  const int64_t first = group ? std::min(n, group->rank() * share) : 0, last = group ? std::min(n, first + share) : n;
  if (group) {
    std::vector<torch::Tensor> buffers;
    for (auto& b : net.buffers()) buffers.push_back(b);
    group->broadcast(buffers, /*root=*/0);  // rank 0's BatchNorm statistics, as DDP evaluates
  }
  if (batchSize == 0) batchSize = defaultEvalBatch(model.device);
  std::vector<torch::Tensor> chunks;
  for (int64_t begin = first; begin < last; begin += batchSize) {
    job.check();
    const int64_t end = std::min(last, begin + batchSize);
    chunks.push_back(net.forward(scope.input(imageRange(d, begin, end))).to(torch::kCPU, torch::kFloat32));
  }
  auto logits = chunks.empty() ? torch::empty({0, d.outputs}, torch::kFloat32) : torch::cat(chunks);  // (rows, K)
  if (group) {
    // Padded to the share so every rank sends the same shape; the padding is cut after the gather.
    if (logits.size(0) < share) logits = torch::cat({logits, torch::zeros({share - logits.size(0), logits.size(1)}, logits.options())});
    logits = group->allgather(logits.to(group->device())).narrow(0, 0, n).cpu();
  }

  Metrics m;
  m.task = d.task;
  m.count = n;
  m.loss = lossOf(d, logits, d.targets, d.mask).item<double>();
  if (isMulticlass(d)) {
    const int64_t k = std::min<int64_t>(5, logits.size(1));
    const auto top = std::get<1>(logits.topk(k, /*dim=*/1));     // (N, k)
    const auto hit = top.eq(d.targets.unsqueeze(1));             // (N, k)
    m.top1 = hit.select(1, 0).to(torch::kFloat64).mean().item<double>();
    m.top5 = hit.any(1).to(torch::kFloat64).mean().item<double>();
    const auto predicted = top.select(1, 0).contiguous(), labels = d.targets.to(torch::kInt64).contiguous();  // (N)
    if (d.classAuc) {
      m.classAuc = true;
      // Unordered classes: each one against the rest, scored by its softmax probability (computed in float64, then
      // float32 as every score here). (N, K) scores and one-hot labels.
      const auto scores = torch::softmax(logits.to(torch::kFloat64), /*dim=*/1).to(torch::kFloat32).contiguous();
      const auto onehot = F::one_hot(labels, logits.size(1)).to(torch::kFloat32).contiguous();
      scoreOutputs(m, scores, onehot, torch::Tensor(), job, bootstrap);
      return m;
    }
    m.kappa = quadraticKappa(predicted.data_ptr<int64_t>(), labels.data_ptr<int64_t>(), static_cast<size_t>(n), logits.size(1));
    if (d.referableFrom > 0) {
      // Ordered grades: "grade >= referableFrom" as one binary output, scored by the probability the softmax puts on
      // those grades (summed in float64, then float32 as every score here). (N, K) -> (N, 1)
      const auto scores = torch::softmax(logits.to(torch::kFloat64), /*dim=*/1)
                              .narrow(1, d.referableFrom, logits.size(1) - d.referableFrom).sum(1, /*keepdim=*/true)
                              .to(torch::kFloat32).contiguous();
      const auto referable = d.targets.ge(d.referableFrom).to(torch::kFloat32).unsqueeze(1).contiguous();  // (N, 1)
      scoreOutputs(m, scores, referable, torch::Tensor(), job, bootstrap);
    }
    return m;
  }
  scoreOutputs(m, torch::sigmoid(logits).contiguous(), d.targets.contiguous(), d.mask.defined() ? d.mask.contiguous() : torch::Tensor(), job, bootstrap);
  return m;
}

Metrics impl::evaluate(Model& model, const Dataset& d, int batchSize, const ComputeOptions& compute, const JobControl& job) {
  if (batchSize < 0) throw invalidArg("Expected `batchSize` to be a positive integer but received " + std::to_string(batchSize));
  return evaluateHeld(model, d, batchSize, compute, job);
}

TensorData impl::forward(Model& model, const TensorData& input, const std::string& stage, const ComputeOptions& compute,
                        const JobControl& job) {
  const auto& s = input.shape;
  int64_t numel = 1;
  for (int64_t d : s) numel *= d;
  if (s.size() != 4 || s[1] != 3 || numel != static_cast<int64_t>(input.data.size()))
    throw invalidArg("Expected an input of shape (N, 3, H, W) whose data has N*3*H*W values but received shape " +
                     c10::str(c10::IntArrayRef(s)) + " with " + std::to_string(input.data.size()) + " values");
  checkInputSize(model, s[2], s[3]);
  job.check();
  const ComputeScope scope(model, compute);
  torch::NoGradGuard noGrad;
  model.net->eval();
  const auto x = torch::from_blob(const_cast<float*>(input.data.data()), s, torch::kFloat32);
  torch::Tensor out;
  if (stage.empty()) {
    out = model.net->forward(scope.input(x));
  } else {
    std::string known;
    for (auto& [name, t] : model.net->forwardStages(scope.input(x))) {
      if (name == stage) out = t;
      known += (known.empty() ? "" : ", ") + name;
    }
    if (!out.defined())
      throw invalidArg("Expected `stage` to be a stage of \"" + model.name + "\" (" + known + ") but received \"" + stage + "\"");
  }
  const auto y = out.to(torch::kCPU, torch::kFloat32).contiguous();
  return {std::vector<float>(y.data_ptr<float>(), y.data_ptr<float>() + y.numel()), y.sizes().vec()};
}

}  // namespace tn
