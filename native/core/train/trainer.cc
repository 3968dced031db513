#include "core/train/trainer.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>

#include "core/compat.h"
#include "core/distributed/batchnorm.h"
#include "core/distributed/reducer.h"
#include "core/error.h"
#include "core/train/augment.h"
#include "core/train/batches.h"
#include "core/train/checkpoint.h"
#include "core/train/compute.h"
#include "core/train/evaluate.h"
#include "core/train/graph.h"
#include "core/train/optimizer.h"
#include "core/train/sampler.h"
#include "core/train/step.h"
#include "core/weights/state.h"

namespace tn {
namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Steps between host reads of the losses on CUDA by default: the GPU runs ahead of the host in between.
constexpr int kCudaSyncEvery = 50;



void validate(const TrainOptions& o, const Dataset& trainSet) {
  if (o.learningRates.empty()) throw invalidArg("Expected `learningRates` to hold at least one step");
  for (size_t i = 0; i < o.learningRates.size(); ++i)
    if (!std::isfinite(o.learningRates[i]) || o.learningRates[i] < 0)
      throw invalidArg("Expected `learningRates[" + std::to_string(i) + "]` to be a finite, non-negative number");
  if (o.batchSize < 1 || o.batchSize > trainSet.images.size(0))
    throw invalidArg("Expected `batchSize` to be an integer in [1, " + std::to_string(trainSet.images.size(0)) +
                     "] (the training set's size) but received " + std::to_string(o.batchSize));
  if (o.evalEvery < 0) throw invalidArg("Expected `evalEvery` to be a non-negative integer");
  if (o.evalBatchSize < 0) throw invalidArg("Expected `evalBatchSize` to be a positive integer");
}

void validateGraph(const TrainOptions& o, const Model& model) {
  if (!o.cudaGraph) return;
  if (!model.device.is_cuda())
    throw invalidArg("Expected `cudaGraph` only for a CUDA model but model \"" + model.name + "\" is on the " + model.device.str());
  if (o.group) throw invalidArg("Expected `cudaGraph` without a process group (its all-reduce runs outside the graph)");
  if (!o.foreach) throw invalidArg("Expected `foreach` with `cudaGraph` (the captured step is the multi-tensor one)");
}


Event evalEvent(int64_t step, const Metrics& m) {
  Event e{"eval", {{"step", static_cast<double>(step)}, {"loss", m.loss}}};
  if (m.task == "multiclass") {
    e.fields.emplace_back("top1", m.top1);
    e.fields.emplace_back("top5", m.top5);
  } else {
    e.fields.emplace_back("auc", m.meanAuc);
  }
  return e;
}

// The steps since the last host read: their losses stay on the device until a progress point reads them together
// (one host read, which waits for those steps), then each is checked, kept in the result and reported.
class LossWindow {
 public:
  LossWindow(TrainResult& r, const JobControl& job, int64_t steps, int64_t batchSize) : r_(r), job_(job), steps_(steps), batchSize_(batchSize) {}
  // A step starts: the window's clock starts with its first step.
  void begin() {
    if (pending_.empty()) start_ = Clock::now();
  }
  void add(int64_t step, double lr, const torch::Tensor& loss) { pending_.push_back({step, lr, loss}); }
  void read() {
    if (pending_.empty()) return;
    std::vector<torch::Tensor> losses;
    for (const auto& p : pending_) losses.push_back(p.loss.to(torch::kFloat64));
    const auto values = torch::stack(losses).to(torch::kCPU);  // the one host read: it waits for these steps
    ++r_.hostReads;
    const double dt = secondsSince(start_), perStep = dt / static_cast<double>(pending_.size());
    seconds += dt;
    for (size_t i = 0; i < pending_.size(); ++i) {
      const double value = values[static_cast<int64_t>(i)].item<double>();
      const Pending& p = pending_[i];
      if (!std::isfinite(value))
        throw Error("ERR_DIVERGED", "Training loss became " + std::to_string(value) + " at step " + std::to_string(p.step) +
                                        " (learning rate " + std::to_string(p.lr) + "); lower the learning rate");
      r_.losses.push_back(value);
      job_.report({"step",
                   {{"step", static_cast<double>(p.step)},
                    {"steps", static_cast<double>(steps_)},
                    {"loss", value},
                    {"lr", p.lr},
                    {"imagesPerSecond", static_cast<double>(batchSize_) / std::max(perStep, 1e-9)}}});
    }
    pending_.clear();
  }
  // Seconds the steps read so far took (a resumed run's restored first).
  double seconds = 0;

 private:
  struct Pending {
    int64_t step;
    double lr;
    torch::Tensor loss;  // 0-d, on the device
  };
  TrainResult& r_;
  const JobControl& job_;
  const int64_t steps_, batchSize_;
  std::vector<Pending> pending_;
  Clock::time_point start_;
};

// Early stopping and keep-best: the best validation score so far (the restored curve's, after a resume) and, with
// keepBest, that evaluation's weights (only from evaluations this call makes: a resumed run keeps no earlier copy).
class BestEvaluation {
 public:
  BestEvaluation(NetworkImpl& net, bool keepWeights) : net_(net), keep_(keepWeights) {}

  // One evaluation seen: whether it is the best so far (then bestStep is its step, and with keepWeights its weights
  // are copied to host memory), else one more since the best.
  bool note(const CurvePoint& point, int64_t& bestStep, bool copy = true) {
    const double score = scoreOf(point.metrics);
    if (!(score > best_)) {
      ++since_;
      return false;
    }
    best_ = score, bestStep = point.step, since_ = 0;
    if (keep_ && copy) {
      torch::NoGradGuard noGrad;
      state_.clear();
      for (const auto& [name, t] : stateOf(net_)) state_.push_back(t.detach().to(torch::kCPU, /*non_blocking=*/false, /*copy=*/true));
      metrics_ = point.metrics;
    }
    return true;
  }
  // Evaluations in a row since the best.
  int since() const { return since_; }
  // Puts the best evaluation's weights back and returns its metrics; false where none was kept.
  bool restore(Metrics& final) {
    if (state_.empty()) return false;
    torch::NoGradGuard noGrad;
    const auto state = stateOf(net_);
    for (size_t i = 0; i < state.size(); ++i) const_cast<torch::Tensor&>(state[i].second).copy_(state_[i]);
    final = metrics_;
    return true;
  }

 private:
  static double scoreOf(const Metrics& m) {  // NaN (one class only) never counts as better
    const double v = m.task == "multiclass" && m.auc.empty() ? m.top1 : m.meanAuc;
    return std::isfinite(v) ? v : -std::numeric_limits<double>::infinity();
  }
  NetworkImpl& net_;
  const bool keep_;
  double best_ = -std::numeric_limits<double>::infinity();
  int since_ = 0;
  std::vector<torch::Tensor> state_;
  Metrics metrics_;
};

}  // namespace


TrainResult impl::train(Model& model, const Dataset& trainSet, const Dataset& valSet, const TrainOptions& o,
                  const JobControl& job) {
  validate(o, trainSet);
  validateAugment(o.augment);
  if (trainSet.task != valSet.task)
    throw invalidArg("The training set is " + trainSet.task + " but the validation set is " + valSet.task);
  checkCompatible(model, trainSet, "training");
  checkCompatible(model, valSet, "validation");
  checkBothClasses(valSet, "validation");
  validateGraph(o, model);
  ProcessGroup* group = o.group.get();
  if (group && group->device().is_cuda() && !model.device.is_cuda())
    throw invalidArg("The " + group->backend() + " group reduces on the GPU but model \"" + model.name + "\" is on the CPU: create it with device \"cuda\"");
  // batchSize is the whole batch of a step; with a group each rank trains on its equal slice of it.
  const int64_t ranks = group ? group->size() : 1;
  if (o.batchSize % ranks != 0)
    throw invalidArg("Expected `batchSize` (" + std::to_string(o.batchSize) + ", the whole batch) to be a multiple of the " +
                     std::to_string(ranks) + " ranks: each trains on an equal slice");
  const int64_t perRank = o.batchSize / ranks;
  const ComputeScope scope(model, o.compute);

  auto& net = *model.net;
  const auto params = net.parameters();
  if (group) broadcastState(*group, *model.net);  // every rank starts from rank 0's weights
  const SyncBatchNormScope syncBn(group && o.syncBatchNorm ? group : nullptr);
  std::optional<GradientReducer> reducer;
  if (group) reducer.emplace(*group, params, static_cast<int64_t>(o.bucketMegabytes * (1 << 20)));
  Optimizer optimizer(params, o);
  BatchSampler sampler(trainSet.images.size(0), o.seed);
  // The whole batch, drawn alike on every rank; each trains on its own slice of it.
  const auto mine = [&](const torch::Tensor& all) { return group ? all.narrow(0, group->rank() * perRank, perRank) : all; };
  const int64_t steps = static_cast<int64_t>(o.learningRates.size());

  BatchSource batches(trainSet, model.device, static_cast<int64_t>(o.residentMegabytes * (1 << 20)));
  const int syncEvery = o.syncEvery > 0 ? o.syncEvery : model.device.is_cuda() ? kCudaSyncEvery : 1;

  TrainResult r;
  r.steps = steps;
  r.resident = batches.resident();
  r.losses.reserve(steps);
  const auto t0 = Clock::now();
  LossWindow window(r, job, steps, o.batchSize);
  torch::Tensor next;  // the next step's batch, drawn one step ahead
  int64_t start = 0;
  if (o.resume && checkpointExists(o.checkpointPath)) {
    auto c = loadCheckpoint(o.checkpointPath, model, optimizer.state(), o, trainSet.task);
    sampler.restore(c, o.checkpointPath);
    next = c.next;
    r.losses = std::move(c.losses);
    r.curve = std::move(c.curve);
    window.seconds = c.trainSeconds;
    start = r.resumedFrom = c.step;
    job.report({"resume", {{"step", static_cast<double>(start)}}});
  }
  if (group && o.resume) {
    // Every rank must continue from the same step: each reads the checkpoint rank 0 wrote (a shared file system).
    const auto seen = group->allgather(torch::tensor({start}, torch::kInt64).to(group->device())).cpu();
    for (int64_t k = 0; k < seen.size(0); ++k)
      if (seen[k].item<int64_t>() != start)
        throw Error("ERR_DISTRIBUTED", "Rank " + std::to_string(k) + " resumes from step " + std::to_string(seen[k].item<int64_t>()) + " but rank " +
                                           std::to_string(group->rank()) + " from step " + std::to_string(start) + ": every rank must see " +
                                           o.checkpointPath + " (rank 0 writes it; the ranks need a shared file system)");
  }
  StepRunner runner(model, trainSet, optimizer, group, reducer ? &*reducer : nullptr, o.cudaGraph);
  // Weights at the steps asked for (rank 0 writes them: the ranks' weights are equal).
  const auto keepWeights = [&](int64_t done) {
    if (std::find(o.weightSteps.begin(), o.weightSteps.end(), done) == o.weightSteps.end() || (group && group->rank() != 0)) return;
    saveWeights(model, o.weightsPrefix + "-step" + std::to_string(done) + ".pt", "pt");
  };
  if (start == 0) keepWeights(0);
  BestEvaluation best(net, o.keepBest);
  for (const auto& point : r.curve) best.note(point, r.bestStep, /*copy=*/false);
  // One validation pass after `done` steps, into the curve; the final one adds the bootstrap interval (curve points do
  // without it: 1000 passes over the set each).
  const auto evaluateAt = [&](int64_t done, bool last) {
    const BootstrapRequest bootstrap{last ? o.bootstrapResamples : 0, o.seed};
    CurvePoint point{done, evaluateHeld(model, valSet, o.evalBatchSize, o.compute, job, group, bootstrap)};
    job.report(evalEvent(point.step, point.metrics));
    r.curve.push_back(point);
  };
  try {
  // The untrained model's point (step 0), where the caller asked for it: where a convergence curve starts.
  if (start == 0 && o.evalAtStart && o.evalEvery > 0 && steps > 0) {
    evaluateAt(0, false);
    best.note(r.curve.back(), r.bestStep);
  }
  for (int64_t step = start; step < steps; ++step) {
    job.check();
    window.begin();
    net.train();
    const double lr = o.learningRates[step];

    const auto idx = mine(next.defined() ? next : sampler.next(o.batchSize));
    next = step + 1 < steps ? sampler.next(o.batchSize) : torch::Tensor();
    const auto batch = batches.take(idx);
    if (next.defined()) batches.prefetch(mine(next));  // paged in or copied while this step trains
    const auto x = scope.input(augmentBatch(batch.images, o.augment, o.seed, step));
    const torch::Tensor value = runner.step(x, batch.targets, batch.mask, lr, step == start, job);
    window.add(step + 1, lr, value);

    const bool last = step + 1 == steps;
    const bool evaluates = last || (o.evalEvery > 0 && (step + 1) % o.evalEvery == 0);
    const bool checkpoints = !last && o.checkpointEvery > 0 && (step + 1) % o.checkpointEvery == 0;
    if (evaluates || checkpoints || (step + 1) % syncEvery == 0) window.read();
    if (evaluates) evaluateAt(step + 1, last);
    if (checkpoints) {
      TrainCheckpoint c;
      c.step = step + 1;
      sampler.saveTo(c);
      c.next = next;
      c.losses = r.losses;
      c.curve = r.curve;
      c.trainSeconds = window.seconds;
      if (!group || group->rank() == 0) saveCheckpoint(o.checkpointPath, model, optimizer.state(), c, o);  // the ranks' states are equal
      job.report({"checkpoint", {{"step", static_cast<double>(step + 1)}}});
    }
    keepWeights(step + 1);
    if (evaluates && !best.note(r.curve.back(), r.bestStep) && o.patience > 0 && best.since() >= o.patience && !last) {
      r.stopped = "early";
      break;
    }
  }
  } catch (const Cancelled&) {
    // Aborted: what was done is the result (the caller rejects with it attached), not lost. A data-parallel run
    // rethrows: its ranks must stop together, and their collectives do not.
    if (group) throw;
    r.stopped = "aborted";
    window.read();  // the steps the weights took whose losses were still on the device
  }
  r.steps = static_cast<int64_t>(r.losses.size());
  r.prefetched = batches.prefetched();
  r.graphed = runner.graphed();
  const bool restored = r.stopped != "aborted" && best.restore(r.final);  // keepBest: the best evaluation's weights
  if (!restored && !r.curve.empty()) r.final = r.curve.back().metrics;
  r.wallSeconds = secondsSince(t0);
  r.imagesPerSecond = static_cast<double>(r.steps) * o.batchSize / std::max(window.seconds, 1e-9);  // whole batches
  return r;
}

}  // namespace tn
