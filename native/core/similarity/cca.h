// Representational similarity in float64: canonical correlations, mean CCA, SVCCA, PWCCA, linear CKA (and its
// debiased form). Each activation set is prepared once (centred, dead neurons dropped, factorised by SVD) and may be
// compared with many others: a batch of layer pairs shares those factorisations.
#pragma once
#include <torch/torch.h>

#include "core/api.h"

namespace tn {

// One side, ready for comparison. `data` is (datapoints, neurons) float64 on the compute device.
struct PreparedActivations {
  torch::Tensor centred;   // (n, p) all neurons, centred
  torch::Tensor basis;     // (n, r) orthonormal basis of the live neurons' span (left singular vectors)
  torch::Tensor singular;  // (r) singular values of the centred live neurons
  int64_t neurons = 0, dead = 0, datapoints = 0;
};

// (n, p) float64 -> prepared. Neurons whose variance is below epsilon x the largest variance are dead: dropped and
// counted. Throws ERR_INVALID_ARG naming `what` for non-finite values or too few datapoints.
PreparedActivations prepareActivations(const torch::Tensor& data, double epsilon, const std::string& what);

SimilarityResult compare(const PreparedActivations& a, const PreparedActivations& b, const SimilarityOptions& options);

// Arranges a raw array as (datapoints, neurons) float64 on `device`: layout "datapoints-first", "neurons-first" or
// "nchw" (channels are neurons, every (image, y, x) a datapoint; positions subsampled with `positions` if given).
torch::Tensor asDatapointsByNeurons(const ArrayData& input, const std::string& layout, const torch::Tensor& positions,
                                    const torch::Device& device, const std::string& what);

std::vector<SimilarityResult> similarityBatchImpl(const std::vector<ArrayData>& inputs,
                                                  const std::vector<std::pair<int, int>>& pairs,
                                                  const SimilarityOptions& options, const JobControl& job);

}  // namespace tn
