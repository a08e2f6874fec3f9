#pragma once
// Small helpers shared by the convolution and pooling kernels.
#include <algorithm>
#include <cstddef>

namespace qat {

// Below about this many inner-loop operations a kernel runs on the calling thread: waking
// the OpenMP team costs more than it saves (and tiny layers are common in tests and in
// the head of a network).
constexpr double kMinParallelWork = 65536.0;

// Taps k in [lo, hi) of a window whose tap k sits at start + k·dilation, restricted to
// the ones inside [0, size). lo == hi when none is.
struct TapRange {
  int lo = 0, hi = 0;
};

inline TapRange validTaps(int start, int dilation, int size, int taps) {
  // First tap at or after 0, first tap at or after `size`: ceil divisions of
  // non-negative numerators.
  const int lo = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
  const int hi = start >= size ? 0 : (size - start + dilation - 1) / dilation;
  TapRange r;
  r.hi = std::clamp(hi, 0, taps);
  r.lo = std::min(lo, r.hi);
  return r;
}

// Called by every thread of an OpenMP parallel region, after a barrier: sums the nt
// per-thread partial gradients (thread t's slice at parts + t·partSize: wSize kernel
// entries, then the bias entries) into dw and db (either may be null), each thread
// reducing its own share of the entries.
inline void reducePartialGrads(const float* parts, int nt, size_t partSize, size_t wSize, float* dw,
                               float* db) {
#pragma omp for schedule(static)
  for (long long i = 0; i < (long long)partSize; ++i) {
    float s = 0.0f;
    for (int t = 0; t < nt; ++t) s += parts[size_t(t) * partSize + size_t(i)];
    if (size_t(i) < wSize) {
      if (dw) dw[i] += s;
    } else if (db) {
      db[size_t(i) - wSize] += s;
    }
  }
}

}  // namespace qat
