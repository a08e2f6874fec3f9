#pragma once
// Small register-blocked SGEMM for the shapes the convolution kernels produce and Eigen
// handles poorly: small K (first conv layer, K = kh·kw·cin = 9) and many small products
// (the 16 per-tile-block products of Winograd convolution).
//
//   C (M x N) = [C +] A (M x K) · B (K x N)
//
// A is addressed with explicit strides, A(i, k) = A[i·rsA + k·csA], so Aᵀ of a row-major
// matrix is just (rsA = 1, csA = ld). B and C are row-major. N must be a multiple of 8.
// No packing and no allocation: meant for operands that already sit in L1/L2. Runs on
// the calling thread (callers parallelise around it).
//
// The kernel is built for AVX2 and for AVX-512 whatever the compile flags; Best picks
// AVX-512 at run time when the CPU has it (tests force Avx2 to cover both).
#include <cstddef>

namespace qat {

enum class MicroGemmIsa { Best, Avx2 };

void microGemm(int M, int N, int K, const float* A, ptrdiff_t rsA, ptrdiff_t csA, const float* B,
               ptrdiff_t ldb, float* C, ptrdiff_t ldc, bool accumulate,
               MicroGemmIsa isa = MicroGemmIsa::Best);

}  // namespace qat
