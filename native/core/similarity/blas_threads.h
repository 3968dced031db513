// The system BLAS held to one thread while a similarity batch runs its items in parallel. Each item (an input's
// factorisation, a pair's comparison) runs on one LibTorch thread and calls LAPACK's eigensolvers; where the system
// BLAS is OpenBLAS's pthreads build (Debian's libblas.so.3 once libopenblas0 is installed), each such call wakes
// OpenBLAS's own threads too, and two items then keep four threads yielding on two cores (measured here: a third of a
// shared-activation batch's time in OpenBLAS's thread hand-off). Items, not operations, are what parallelise here.
// Torch-free.
#pragma once

namespace tn {

// While one or more exist, OpenBLAS (when it is the BLAS in this process) runs on one thread; the last one to go
// restores the count it found. Elsewhere (reference BLAS, MKL, which runs serially inside OpenMP's parallel regions by
// itself) it does nothing. OpenBLAS 0.3.21's setting is process-wide: a BLAS call elsewhere in the process during a
// batch runs on one thread too.
class SerialBlasScope {
 public:
  SerialBlasScope();
  ~SerialBlasScope();
  SerialBlasScope(const SerialBlasScope&) = delete;
  SerialBlasScope& operator=(const SerialBlasScope&) = delete;
};

}  // namespace tn
