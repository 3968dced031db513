// Results of the transfer analyses (core/analysis/transfer.cc) and their entry points. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/job.h"

namespace tn {

struct Model;    // core/models/model.h
struct Dataset;  // core/data/dataset.h

// k-NN classification from one stage's pooled features.
struct KnnStage {
  std::string stage;
  int64_t dimensions = 0;    // the pooled feature's length (a conv stage's channels)
  std::vector<double> aucs;  // per output; NaN where the queries' labels hold one class
  double meanAuc = 0;        // over the outputs that have one; NaN where none does
};
struct KnnResult {
  std::vector<KnnStage> stages;
  int k = 0;  // neighbours used: k, or the bank's size if smaller
  int64_t bank = 0, queries = 0;
};

namespace impl {
void interpolateWeights(Model& out, Model& a, Model& b, double alpha);
int64_t recomputeBatchNorm(Model& model, const Dataset& data, int batches, int batchSize, const JobControl& job);
int64_t copyStages(Model& to, Model& from, const std::vector<std::string>& stages);
int64_t perturbStages(Model& model, const std::vector<std::string>& stages, double sigma, uint64_t seed);
double stageDistance(Model& a, Model& b, const std::vector<std::string>& stages);
KnnResult knnEvaluate(Model& model, const Dataset& bank, const Dataset& queries, const std::vector<std::string>& stages,
                      int k, double temperature, int batchSize, const JobControl& job);
}  // namespace impl

}  // namespace tn
