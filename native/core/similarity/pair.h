// One pair's shared pieces, for the metric table (core/similarity/metrics.cc): compare() (cca.cc) makes a PairWork
// and each metric asks for what it reads; each piece is computed once, on first use, however many metrics read it.
#pragma once
#include <torch/torch.h>

#include "core/error.h"
#include "core/similarity/cca.h"

namespace tn {

// Canonical correlations from M = Wa^T S_ab Wb: rho (descending, min(rows, cols) of them) and, where asked, the
// singular vectors on one side (left = A's), one per rho (see cca.cc).
struct Canonical {
  torch::Tensor rho, rotation;
};
Canonical canonicalOf(const torch::Tensor& m, bool left, bool withRotation);
// a b for the small (neurons x neurons) products, through the Gram kernel on the CPU.
torch::Tensor smallProduct(const torch::Tensor& a, const torch::Tensor& b);

class PairWork {
 public:
  PairWork(const PreparedActivations& a, const PreparedActivations& b, const SimilarityOptions& options, WorkMeter* meter, SimilarityResult& result)
      : a(a), b(b), options(options), result(result), meter_(meter) {}
  const PreparedActivations& a;
  const PreparedActivations& b;
  const SimilarityOptions& options;
  SimilarityResult& result;  // where metrics leave their side outputs (canonical correlations, SVCCA's kept directions)

  const torch::Tensor& cross();     // (pa, pb) A^T B over the live neurons: the pair's only product over datapoints
  double crossSquares();            // ||A^T B||_F^2, read by linear CKA and its debiased form
  const torch::Tensor& whitened();  // (ra, rb) Wa^T A^T B Wb
  const Canonical& canonical();     // of whitened(), with the rotation on the smaller side
  const PreparedActivations& smallerSide() const;  // the side with fewer live neurons (A on a tie)
  WorkMeter* meter() const { return meter_; }      // where the metrics' time goes (may be null)

 private:
  WorkMeter* meter_;
  torch::Tensor cross_, whitened_;
  double crossSquares_ = -1;  // < 0: not yet computed
  Canonical canonical_;
};

// Every metric of the table into result.values (table order). Throws ERR_NUMERICS for a non-finite value a metric
// does not allow.
void computeMetrics(PairWork& w);

}  // namespace tn
