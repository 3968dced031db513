// The symmetric eigensolver the similarity engine factorises with, straight from the LAPACK LibTorch links (dsyevr,
// relatively robust representations): for a 512 x 512 Gram with vectors it takes about 0.6x the time of the
// divide-and-conquer dsyevd behind torch::linalg_eigh (measured: README, "Where the engine's time goes"). Torch-free.
#pragma once
#include <cstdint>

namespace tn::lapack {

// True where the loaded LAPACK has dsyevr (Debian's LibTorch links liblapack.so.3); false elsewhere (a LibTorch with
// LAPACK linked in privately, such as pip's), where callers use torch::linalg_eigh.
bool haveSymmetricEigen();

// Every eigenvalue (ascending, into values[n]) and unit eigenvector of the symmetric n x n matrix `a` (both triangles
// filled: row- and column-major alike), the vectors into vectors[n * n] one after another: vector k at vectors + k * n. Returns false (touching nothing but scratch) where
// haveSymmetricEigen() is false or LAPACK reports failure (info != 0). `a` is overwritten.
bool symmetricEigen(int64_t n, double* a, double* values, double* vectors);

}  // namespace tn::lapack
