#pragma once
// Small helpers shared by the convolution and pooling kernels.
#include <algorithm>

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

}  // namespace qat
