#pragma once
// Single-precision GEMM on row-major matrices:
//   C (M x N) = alpha * op(A) * op(B) + beta * C
// op(A) is (M x K): A itself (lda >= K) or, with transA, the transpose of a (K x M) A
// (lda >= M). Likewise op(B) is (K x N).
// sgemm() uses Eigen's blocked kernels and parallelises over the engine's threads when
// called outside an OpenMP parallel region (inside one it runs on the calling thread).
// sgemmRef() is the scalar reference it is tested against.
namespace qat {

void sgemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc);

void sgemmRef(bool transA, bool transB, int M, int N, int K, float alpha, const float* A,
              int lda, const float* B, int ldb, float beta, float* C, int ldc);

}  // namespace qat
