// The batched similarity job: every input prepared once, then every pair compared.
#include <chrono>
#include <exception>

#include <ATen/Parallel.h>

#include "core/compat.h"
#include "core/data/raster.h"
#include "core/error.h"
#include "core/similarity/blas_threads.h"
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

// Runs work(k) for k in [0, count) on the LibTorch threads, a thread's worth at a time, then after(k) in order on
// the calling thread. The lowest-numbered failure is rethrown, so a batch fails as a serial run would. Each item runs
// single-threaded inside: the factorisations go to LAPACK with the BLAS held to one thread (blas_threads.h), so
// items, not operations, are what parallelise here.
template <class Work, class After>
void inParallel(int64_t count, const JobControl& job, Work work, After after) {
  const int64_t width = std::max(1, at::get_num_threads());
  for (int64_t start = 0; start < count; start += width) {
    job.check();
    const int64_t end = std::min(count, start + width);
    std::vector<std::exception_ptr> failed(end - start);
    at::parallel_for(start, end, /*grain_size=*/1, [&](int64_t begin, int64_t stop) {
      torch::NoGradGuard noGrad;
      for (int64_t k = begin; k < stop; ++k) {
        try {
          work(k);
        } catch (...) {
          failed[k - start] = std::current_exception();
        }
      }
    });
    for (const auto& e : failed)
      if (e) std::rethrow_exception(e);
    for (int64_t k = start; k < end; ++k) after(k);
  }
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
  // Every input a pair needs, in order of first use, prepared in parallel; then every pair compared in parallel.
  const auto start = std::chrono::steady_clock::now();
  const SerialBlasScope serialBlas;
  GramMeter meter;
  std::vector<int> order;
  std::vector<char> needed(count, 0);
  for (const auto& [i, j] : pairs)
    for (int k : {i, j})
      if (!needed[k]) needed[k] = 1, order.push_back(k);
  std::vector<PreparedActivations> prepared(count);
  inParallel(static_cast<int64_t>(order.size()), job, [&](int64_t k) {
    prepared[order[k]] = prepareActivations(input(order[k]), o.epsilon, name(order[k]), &meter);
  }, [](int64_t) {});
  std::vector<SimilarityResult> out(pairs.size());
  inParallel(static_cast<int64_t>(pairs.size()), job, [&](int64_t k) {
    out[k] = compare(prepared[pairs[k].first], prepared[pairs[k].second], o, &meter);
  }, onPair);
  SimilarityWork work;
  work.prepared = static_cast<int64_t>(order.size());
  work.products = meter.products;
  work.gramFlops = static_cast<double>(meter.flops);
  work.gramThreadSeconds = static_cast<double>(meter.threadNanoseconds) * 1e-9;
  work.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (auto& r : out) r.work = work;
  return out;
}

}  // namespace tn
