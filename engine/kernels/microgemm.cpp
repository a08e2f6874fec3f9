#include "engine/kernels/microgemm.h"

#include <immintrin.h>

#include "engine/core/error.h"

namespace qat {
namespace {

// C[0:MR, 0:8·NV] (+)= A[0:MR, 0:K] · B[0:K, 0:8·NV], accumulators in registers.
// 6 x 16 (12 accumulators, 2 B vectors, 1 broadcast) fits AVX2's 16 ymm registers.
template <int MR, int NV>
void block(int K, const float* A, ptrdiff_t rsA, ptrdiff_t csA, const float* B, ptrdiff_t ldb,
           float* C, ptrdiff_t ldc, bool accumulate) {
  // Accumulators start at zero and C is added at the end: a conditional initial load
  // makes GCC keep a stack copy of every accumulator inside the k loop.
  __m256 c[MR][NV];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) c[i][v] = _mm256_setzero_ps();
  for (int k = 0; k < K; ++k) {
    __m256 b[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) b[v] = _mm256_loadu_ps(B + k * ldb + 8 * v);
    const float* a = A + k * csA;
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i * rsA);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) c[i][v] = _mm256_fmadd_ps(ai, b[v], c[i][v]);
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      float* p = C + i * ldc + 8 * v;
      _mm256_storeu_ps(p, accumulate ? _mm256_add_ps(_mm256_loadu_ps(p), c[i][v]) : c[i][v]);
    }
}

template <int NV>
void panel(int M, int K, const float* A, ptrdiff_t rsA, ptrdiff_t csA, const float* B,
           ptrdiff_t ldb, float* C, ptrdiff_t ldc, bool acc) {
  int i = 0;
  for (; i + 6 <= M; i += 6) block<6, NV>(K, A + i * rsA, rsA, csA, B, ldb, C + i * ldc, ldc, acc);
  const float* a = A + i * rsA;
  float* c = C + i * ldc;
  switch (M - i) {
    case 5: block<5, NV>(K, a, rsA, csA, B, ldb, c, ldc, acc); break;
    case 4: block<4, NV>(K, a, rsA, csA, B, ldb, c, ldc, acc); break;
    case 3: block<3, NV>(K, a, rsA, csA, B, ldb, c, ldc, acc); break;
    case 2: block<2, NV>(K, a, rsA, csA, B, ldb, c, ldc, acc); break;
    case 1: block<1, NV>(K, a, rsA, csA, B, ldb, c, ldc, acc); break;
    default: break;
  }
}

}  // namespace

void microGemm(int M, int N, int K, const float* A, ptrdiff_t rsA, ptrdiff_t csA, const float* B,
               ptrdiff_t ldb, float* C, ptrdiff_t ldc, bool accumulate) {
  QAT_ASSERT(N % 8 == 0);
  int j = 0;
  for (; j + 16 <= N; j += 16) panel<2>(M, K, A, rsA, csA, B + j, ldb, C + j, ldc, accumulate);
  if (j < N) panel<1>(M, K, A, rsA, csA, B + j, ldb, C + j, ldc, accumulate);
}

}  // namespace qat
