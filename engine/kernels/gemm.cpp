#include "engine/kernels/gemm.h"

#include <Eigen/Core>

namespace qat {
namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMat, 0, Eigen::OuterStride<>>;
using MutMap = Eigen::Map<RowMat, 0, Eigen::OuterStride<>>;

template <class LhsExpr, class RhsExpr>
void gemmInto(MutMap& c, const LhsExpr& a, const RhsExpr& b, float alpha, float beta) {
  if (beta == 0.0f) {
    if (alpha == 1.0f) c.noalias() = a * b;
    else c.noalias() = alpha * (a * b);
    return;
  }
  if (beta != 1.0f) c *= beta;
  if (alpha == 1.0f) c.noalias() += a * b;
  else c.noalias() += alpha * (a * b);
}

}  // namespace

void sgemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc) {
  MutMap c(C, M, N, Eigen::OuterStride<>(ldc));
  if (M == 0 || N == 0) return;
  if (K == 0) {
    if (beta == 0.0f) c.setZero();
    else c *= beta;
    return;
  }
  ConstMap a(A, transA ? K : M, transA ? M : K, Eigen::OuterStride<>(lda));
  ConstMap b(B, transB ? N : K, transB ? K : N, Eigen::OuterStride<>(ldb));
  if (!transA && !transB) gemmInto(c, a, b, alpha, beta);
  else if (transA && !transB) gemmInto(c, a.transpose(), b, alpha, beta);
  else if (!transA && transB) gemmInto(c, a, b.transpose(), alpha, beta);
  else gemmInto(c, a.transpose(), b.transpose(), alpha, beta);
}

void sgemmRef(bool transA, bool transB, int M, int N, int K, float alpha, const float* A,
              int lda, const float* B, int ldb, float beta, float* C, int ldc) {
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      double acc = 0;
      for (int k = 0; k < K; ++k) {
        const float a = transA ? A[k * lda + i] : A[i * lda + k];
        const float b = transB ? B[j * ldb + k] : B[k * ldb + j];
        acc += static_cast<double>(a) * b;
      }
      float& c = C[i * ldc + j];
      c = static_cast<float>(alpha * acc + (beta == 0.0f ? 0.0 : beta * static_cast<double>(c)));
    }
  }
}

}  // namespace qat
