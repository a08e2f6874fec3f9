#include "engine/kernels/microgemm.h"

#include <immintrin.h>

#include "engine/core/error.h"

namespace qat {

// AVX2 + FMA: what the whole engine is compiled for.
namespace mg_avx2 {
struct S {
  using V = __m256;
  static constexpr int kWidth = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
};
#include "engine/kernels/microgemm_block.inc"
}  // namespace mg_avx2

// AVX-512: compiled for it whatever the build flags, used only when the CPU has it
// (twice the floats per FMA; on CPUs with full-width AVX-512 units, twice the speed).
#pragma GCC push_options
#pragma GCC target("avx512f")
namespace mg_avx512 {
struct S {
  using V = __m512;
  static constexpr int kWidth = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
};
#include "engine/kernels/microgemm_block.inc"

// Columns [0, N − N mod 16) in panels of 32 and 16; returns how many it did.
int wideColumns(int M, int N, int K, const float* A, ptrdiff_t rsA, ptrdiff_t csA,
                const float* B, ptrdiff_t ldb, float* C, ptrdiff_t ldc, bool acc) {
  int j = 0;
  for (; j + 32 <= N; j += 32) panel<2>(M, K, A, rsA, csA, B + j, ldb, C + j, ldc, acc);
  if (j + 16 <= N) {
    panel<1>(M, K, A, rsA, csA, B + j, ldb, C + j, ldc, acc);
    j += 16;
  }
  return j;
}
}  // namespace mg_avx512
#pragma GCC pop_options

namespace {
bool cpuHasAvx512() {
  static const bool has = [] {
    __builtin_cpu_init();  // safe even if called before libgcc's own constructor ran
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return has;
}
}  // namespace

void microGemm(int M, int N, int K, const float* A, ptrdiff_t rsA, ptrdiff_t csA, const float* B,
               ptrdiff_t ldb, float* C, ptrdiff_t ldc, bool accumulate, MicroGemmIsa isa) {
  QAT_ASSERT(N % 8 == 0);
  int j = 0;
  if (isa == MicroGemmIsa::Best && cpuHasAvx512())
    j = mg_avx512::wideColumns(M, N, K, A, rsA, csA, B, ldb, C, ldc, accumulate);
  for (; j + 16 <= N; j += 16)
    mg_avx2::panel<2>(M, K, A, rsA, csA, B + j, ldb, C + j, ldc, accumulate);
  if (j < N) mg_avx2::panel<1>(M, K, A, rsA, csA, B + j, ldb, C + j, ldc, accumulate);
}

}  // namespace qat
