// The batched similarity job: every input prepared once, then every pair compared.
#include <atomic>
#include <chrono>
#include <exception>

#include <ATen/Parallel.h>

#include "core/compat.h"
#include "core/data/raster.h"
#include "core/error.h"
#include "core/similarity/blas_threads.h"
#include "core/memory/pages.h"
#include "core/similarity/cca.h"

namespace tn {
namespace {

// The seeded subsample of positions (datapoints) for an nchw input with `total` positions, shared by every input
// with the same count so that paired activations keep the same datapoints.
torch::Tensor positionsFor(int64_t total, int64_t neurons, const SimilarityOptions& o) {
  const int64_t keep = o.subsample > 0 ? o.subsample : std::max<int64_t>(20000, 10 * neurons);
  if (keep >= total) return torch::Tensor();
  std::vector<int64_t> order(total);
  for (int64_t i = 0; i < total; ++i) order[i] = i;
  raster::Rng rng(o.seed ^ 0x5EEDC0DEull);
  for (int64_t i = 0; i < keep; ++i) std::swap(order[i], order[i + static_cast<int64_t>(rng.next() % static_cast<uint64_t>(total - i))]);
  std::vector<int64_t> chosen(order.begin(), order.begin() + keep);
  std::sort(chosen.begin(), chosen.end());
  return torch::tensor(chosen, torch::kInt64);
}

// Runs work(k) for k in [0, count) on the LibTorch threads, each item on one thread. The lowest-numbered failure is
// rethrown, so a wave fails as a serial run would. Each item runs single-threaded inside: the factorisations go to
// LAPACK with the BLAS held to one thread (blas_threads.h), so items, not operations, are what parallelise here.
template <class Work>
void inParallel(int64_t count, const JobControl& job, Work work) {
  job.check();
  std::vector<std::exception_ptr> failed(count);
  at::parallel_for(0, count, /*grain_size=*/1, [&](int64_t begin, int64_t stop) {
    torch::NoGradGuard noGrad;
    for (int64_t k = begin; k < stop; ++k) {
      try {
        work(k);
      } catch (...) {
        failed[k] = std::current_exception();
      }
    }
  });
  for (const auto& e : failed)
    if (e) std::rethrow_exception(e);
}

// Arranges a raw array as (datapoints, neurons): layout "datapoints-first", "neurons-first" or "nchw" (channels are
// neurons, every (image, y, x) a datapoint; positions subsampled with `positions` if given). On the CPU a view of the
// array in its own type (strided for neurons-first; nchw's positions gathered), elsewhere float64 on `device`.
torch::Tensor asDatapointsByNeurons(const ArrayData& input, const std::string& layout, const torch::Tensor& positions,
                                    const torch::Device& device, const std::string& what) {
  const auto& s = input.shape;
  int64_t numel = 1;
  for (int64_t d : s) numel *= d;
  const int64_t have = static_cast<int64_t>(input.f32.empty() ? input.f64.size() : input.f32.size());
  if (numel != have)
    throw invalidArg("The shape of " + what + " " + c10::str(c10::IntArrayRef(s)) + " needs " + std::to_string(numel) +
                     " values but the data has " + std::to_string(have));
  // The CPU reads the array where it lies (prepareActivations centres it into float64); a GPU gets a float64 copy.
  auto t = input.f32.empty() ? torch::from_blob(const_cast<double*>(input.f64.data()), s, torch::kFloat64)
                             : torch::from_blob(const_cast<float*>(input.f32.data()), s, torch::kFloat32);
  if (!device.is_cpu()) t = t.to(device, torch::kFloat64);
  if (layout == "datapoints-first" || layout == "neurons-first") {
    if (s.size() != 2) throw invalidArg("Expected " + what + " to be 2-D for layout \"" + layout + "\" but its shape is " + c10::str(c10::IntArrayRef(s)));
    return layout == "datapoints-first" ? t : device.is_cpu() ? t.t() : t.t().contiguous();
  }
  if (layout == "nchw") {
    if (s.size() != 4) throw invalidArg("Expected " + what + " to be 4-D (N, C, H, W) for layout \"nchw\" but its shape is " + c10::str(c10::IntArrayRef(s)));
    // (N, C, H, W) -> (N*H*W, C): every position of every image is a datapoint, every channel a neuron.
    auto flat = t.permute({0, 2, 3, 1}).reshape({-1, s[1]});
    return positions.defined() ? flat.index_select(0, positions.to(device)) : flat;
  }
  throw invalidArg("Expected `layout` to be \"datapoints-first\", \"neurons-first\" or \"nchw\" but received \"" + layout + "\"");
}

}  // namespace

std::vector<SimilarityResult> impl::similarityBatch(const std::vector<ArrayData>& inputs,
                                                  const std::vector<std::pair<int, int>>& pairs,
                                                  const SimilarityOptions& o, const JobControl& job) {
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(o.device);
  } catch (const c10::Error&) {
    throw invalidArg("Expected `device` to be \"cpu\" or \"cuda\" but received \"" + o.device + "\"");
  }
  if (device.is_cuda() && !torch::cuda::is_available()) throw Error("ERR_NO_CUDA", "No CUDA device for similarity");
  for (const auto& [i, j] : pairs)
    if (i < 0 || j < 0 || i >= static_cast<int>(inputs.size()) || j >= static_cast<int>(inputs.size()))
      throw invalidArg("A pair refers to input " + std::to_string(std::max(i, j)) + " but there are " + std::to_string(inputs.size()));
  // nchw: the largest channel count decides the default subsample, so every input keeps the same positions.
  int64_t maxNeurons = 0;
  for (const auto& in : inputs)
    if (o.layout == "nchw" && in.shape.size() == 4) maxNeurons = std::max(maxNeurons, in.shape[1]);
  return compareInputs(
      inputs.size(),
      [&](int i) {
        const auto& in = inputs[i];
        torch::Tensor positions;
        if (o.layout == "nchw" && in.shape.size() == 4) positions = positionsFor(in.shape[0] * in.shape[2] * in.shape[3], maxNeurons, o);
        return asDatapointsByNeurons(in, o.layout, positions, device, "input " + std::to_string(i));
      },
      [](int i) { return "input " + std::to_string(i); }, pairs, o, job, [&](int64_t k) {
        job.report({"pair", {{"done", static_cast<double>(k + 1)}, {"total", static_cast<double>(pairs.size())}}});
      });
}

std::vector<SimilarityResult> compareInputs(size_t count, const std::function<torch::Tensor(int)>& input,
                                            const std::function<std::string(int)>& name,
                                            const std::vector<std::pair<int, int>>& pairs, const SimilarityOptions& o,
                                            const JobControl& job, const std::function<void(int64_t)>& onPair) {
  // Pairs run in waves, in the order given: a wave prepares the inputs its pairs are the first to need (each input
  // once per batch, however many pairs use it), compares its pairs, and lets go of the inputs no later pair needs,
  // whose blocks the next wave's inputs reuse (core/memory/pages.h). A wave holds at least a thread's worth of pairs
  // and grows until its new inputs divide evenly over the threads (at most 4 threads' worth of pairs).
  const auto start = std::chrono::steady_clock::now();
  const SerialBlasScope serialBlas;
  const HugePageReuse reuse;  // declared before `prepared`, so it outlives every input let go of
  WorkMeter meter;
  const Preparation level = preparationFor(o.metrics);  // no more than the metrics asked for read
  const size_t width = static_cast<size_t>(std::max(1, at::get_num_threads()));
  std::vector<size_t> lastUse(count, 0);
  for (size_t k = 0; k < pairs.size(); ++k) lastUse[pairs[k].first] = lastUse[pairs[k].second] = k;
  std::vector<PreparedActivations> prepared(count);
  std::vector<char> state(count, 0);  // 0: not prepared, 1: prepared in this wave, 2: prepared
  std::vector<SimilarityResult> out(pairs.size());
  int64_t preparedInputs = 0;
  std::atomic<bool> onCpu{false};
  for (size_t begin = 0, end = 0; begin < pairs.size(); begin = end) {
    std::vector<int> fresh;
    while (end < pairs.size()) {
      for (int k : {pairs[end].first, pairs[end].second})
        if (state[k] == 0) state[k] = 1, fresh.push_back(k);
      const size_t size = ++end - begin;
      if ((size >= width && fresh.size() % width == 0) || size >= 4 * width) break;
    }
    inParallel(static_cast<int64_t>(fresh.size()), job, [&](int64_t k) {
      torch::Tensor made;
      {
        const PhaseTimer making(&meter, "input");
        made = input(fresh[k]);
      }
      if (made.device().is_cpu()) onCpu = true;
      prepared[fresh[k]] = prepareActivations(made, o.epsilon, name(fresh[k]), &meter, level);
    });
    for (int k : fresh) state[k] = 2;
    preparedInputs += static_cast<int64_t>(fresh.size());
    inParallel(static_cast<int64_t>(end - begin), job, [&](int64_t k) {
      const auto& [i, j] = pairs[begin + k];
      out[begin + k] = compare(prepared[i], prepared[j], o, &meter);
    });
    for (size_t k = begin; k < end; ++k) onPair(static_cast<int64_t>(k));
    for (size_t k = begin; k < end; ++k)
      for (int i : {pairs[k].first, pairs[k].second})
        if (lastUse[i] < end) prepared[i] = PreparedActivations();
  }
  SimilarityWork work;
  work.prepared = preparedInputs;
  work.products = meter.products;
  work.gramFlops = static_cast<double>(meter.flops);
  work.gramThreadSeconds = static_cast<double>(meter.threadNanoseconds) * 1e-9;
  work.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  work.threads = static_cast<int>(width);
  work.phases = meter.phaseSeconds();
  double busy = 0;
  for (const auto& [phase, seconds] : work.phases) busy += seconds;
  work.phases.emplace_back("idle", std::max(0.0, work.seconds * static_cast<double>(width) - busy));
  if (meter.products > 0 && onCpu)
    for (const auto& t : gramCalibration()) work.kernels.emplace_back(t.name, t.gflops);
  for (auto& r : out) r.work = work;
  return out;
}

}  // namespace tn
