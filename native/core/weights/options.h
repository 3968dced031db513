// Options and reports of weight loading (LoadOptions, LoadReport) and Mean Var initialisation. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tn {

struct LoadOptions {
  bool strict = true;        // any missing, unexpected or mismatched key is an error
  bool replaceHead = false;  // drop the file's classifier and draw a fresh one for this model's classes
  uint64_t headSeed = 0;
  std::string upTo;          // load only the stages up to and including this one (empty: all)
};
struct LoadReport {
  std::vector<std::string> loaded, missing, unexpected, mismatched, reinitialised;
  // Model keys left as initialised: above `upTo`, or BatchNorm counters a file without any (pre-PyTorch 0.4.1) lacks.
  std::vector<std::string> kept;
};

// Mean Var (the paper's Section 5): every conv and linear weight and bias of the model is drawn i.i.d. from
// N(mean, var) of the same tensor in the pretrained file, from a generator seeded with `seed`. BatchNorm affine
// parameters: "meanvar" (drawn the same way) or "default" (weight 1, bias 0). BatchNorm running statistics describe
// data, not weights: always reset to 0 / 1. The classifier stays as initialised (a new head, as in transfer).
struct MeanVarOptions {
  uint64_t seed = 0;
  std::string batchNorm = "meanvar";
  // "normal": i.i.d. from N(mean, var) of the pretrained tensor (Mean Var); "shuffle": the pretrained tensor's own
  // values at permuted positions (its whole distribution kept, its arrangement lost).
  std::string draw = "normal";
};
struct MeanVarReport {
  std::vector<std::string> drawn, reset, kept;
};

}  // namespace tn
