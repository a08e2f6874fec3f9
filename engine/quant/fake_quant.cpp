// Fake quantization math (QUANT_SPEC.md §1, TensorFlow's FakeQuantWithMinMaxVars):
//   scale      = (max − min) / (qmax − qmin)
//   zeroPoint  = clamp(round_half_away(qmin − min / scale), qmin, qmax)
//   nudgedMin  = (qmin − zeroPoint) · scale,  nudgedMax = (qmax − zeroPoint) · scale
//   out        = floor((clamp(x, nudgedMin, nudgedMax) − nudgedMin) / scale + 0.5) · scale + nudgedMin
// The element loops are the hot path (every activation, every step). They compute exactly
// the float formula above, bit for bit, without a division or a floor call per element:
//  * v / scale: v·(1/scale) in double, then rounded to float. For floats a, b the exact
//    quotient a/b is never an exact midpoint between two floats and stays at least
//    2^-49 (relative) away from one, while the double product is within 2^-52 of a/b;
//    so rounding it to float gives the correctly rounded float quotient fl(a/b).
//  * floor(t) for t ≥ 0.5 (t = fl(v/scale) + 0.5 with v ≥ 0) is truncation to int, exact
//    because t < 2^17.
//  * k·scale + nudgedMin is two rounded float operations, never a fused multiply-add
//    (GCC contracts a·b + c under -mfma; the pragma below keeps the formula's rounding).
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/quant/quant_kernels.h"
#include "engine/quant/quantizer.h"

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace qat::quant {

// ------------------------------------------------------------------ the grid

Grid nudgedGrid(float min, float max, int bits, bool narrowRange, bool pow2Scale) {
  QAT_ASSERT(bits >= 2 && bits <= 16);
  Grid g;
  g.qmin = narrowRange ? 1 : 0;
  g.qmax = (1 << bits) - 1;
  const float qminF = static_cast<float>(g.qmin), qmaxF = static_cast<float>(g.qmax);
  // The grid must represent real 0 exactly (zero padding, ReLU zeros): widen to contain it.
  // NaN bounds (a NaN in the data) count as 0.
  min = std::min(min, 0.0f);
  max = std::max(max, 0.0f);
  if (std::isnan(min)) min = 0.0f;
  if (std::isnan(max)) max = 0.0f;
  float scale = (max - min) / (qmaxF - qminF);
  // min == max (both 0 after widening: an all-zero tensor), a range so small that the
  // scale underflows, or an infinite range: a tiny positive scale and the nudged range
  // 0..0, so every output is 0 and nothing divides by zero or produces NaN. The zero
  // point sits mid-grid (128 for 8 bits), the symmetric int8 zero point 0.
  auto degenerate = [&] {
    g.scale = 1e-8f;
    g.zeroPoint = (g.qmin + g.qmax + 1) / 2;
    g.nudgedMin = g.nudgedMax = 0.0f;
    return g;
  };
  if (!(scale >= std::numeric_limits<float>::min()) || !std::isfinite(scale)) return degenerate();
  if (pow2Scale) {
    // Round the scale UP to a power of two, so the range still fits the grid.
    int e = 0;
    const float m = std::frexp(scale, &e);  // scale = m · 2^e, m in [0.5, 1)
    if (m != 0.5f) scale = std::ldexp(1.0f, e);
    if (!std::isfinite(scale)) return degenerate();
  }
  const float zpFromMin = qminF - min / scale;
  int zp;
  if (zpFromMin < qminF)
    zp = g.qmin;
  else if (zpFromMin > qmaxF)
    zp = g.qmax;
  else
    zp = static_cast<int>(std::round(zpFromMin));  // half away from zero, as TF's StdRound
  g.scale = scale;
  g.zeroPoint = zp;
  g.nudgedMin = (qminF - static_cast<float>(zp)) * scale;
  g.nudgedMax = (qmaxF - static_cast<float>(zp)) * scale;
  return g;
}

namespace {

constexpr size_t kParallelMin = 1 << 16;  // elements; smaller arrays stay on one thread
constexpr size_t kMinPeriod = 64;         // per-channel blocks are at least this long

inline float fakeQuantOne(float x, float lo, float hi, float scale, double inv) {
  const float v = std::min(std::max(x, lo), hi) - lo;                   // ≥ 0
  const float q = static_cast<float>(static_cast<double>(v) * inv);     // = fl(v / scale)
  const float k = static_cast<float>(static_cast<int>(q + 0.5f));       // = floor(q + 0.5)
  const float p = k * scale;
  // v − v is +0 unless x is NaN (v is finite otherwise: ±inf clamp to a bound), so this
  // adds nothing to p + lo (never −0) but keeps NaN as NaN, as the formula does (the int
  // cast alone would turn it into a large finite value). A select here stops GCC
  // vectorising the loop.
  return (p + lo) + (v - v);
}

// Per-channel constants repeated over `period` elements (a multiple of the channel
// count, at least kMinPeriod), so that per-axis loops run long unit-stride SIMD loops
// even for 3 channels: element j of any block starting at a multiple of `period` uses
// entry j.
struct ChannelBlock {
  size_t period = 0;
  std::vector<float> lo, hi, scale;
  std::vector<double> inv;
  explicit ChannelBlock(std::span<const Grid> grids) {
    const size_t C = grids.size();
    period = C * ((kMinPeriod + C - 1) / C);
    lo.resize(period);
    hi.resize(period);
    scale.resize(period);
    inv.resize(period);
    for (size_t j = 0; j < period; ++j) {
      const Grid& g = grids[j % C];
      lo[j] = g.nudgedMin;
      hi[j] = g.nudgedMax;
      scale[j] = g.scale;
      inv[j] = 1.0 / static_cast<double>(g.scale);
    }
  }
};

// Runs body(begin, count) over [0, n) in blocks of `period` (threads over blocks when the
// array is large); each call starts at a multiple of `period`.
template <class Body>
void forBlocks(size_t n, size_t period, Body body) {
  const auto blocks = static_cast<std::ptrdiff_t>(n / period);
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (std::ptrdiff_t b = 0; b < blocks; ++b) body(static_cast<size_t>(b) * period, period);
  const size_t tail = n % period;
  if (tail) body(n - tail, tail);
}

}  // namespace

// ------------------------------------------------------------------ forward / backward

void fakeQuantForward(const float* x, float* y, size_t n, std::span<const Grid> grids) {
  QAT_ASSERT(!grids.empty());
  if (grids.size() == 1) {
    const Grid& g = grids[0];
    const float lo = g.nudgedMin, hi = g.nudgedMax, s = g.scale;
    const double inv = 1.0 / static_cast<double>(s);
    const auto N = static_cast<std::ptrdiff_t>(n);
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
    for (std::ptrdiff_t i = 0; i < N; ++i) y[i] = fakeQuantOne(x[i], lo, hi, s, inv);
    return;
  }
  const ChannelBlock cb(grids);
  forBlocks(n, cb.period, [&](size_t begin, size_t count) {
    const float* xb = x + begin;
    float* yb = y + begin;
    const float *lo = cb.lo.data(), *hi = cb.hi.data(), *s = cb.scale.data();
    const double* inv = cb.inv.data();
#pragma omp simd
    for (size_t j = 0; j < count; ++j) yb[j] = fakeQuantOne(xb[j], lo[j], hi[j], s[j], inv[j]);
  });
}

void fakeQuantBackward(const float* x, const float* dy, float* dx, size_t n, std::span<const Grid> grids) {
  QAT_ASSERT(!grids.empty());
  // Straight-through inside the closed nudged range: clamp() is the identity there.
  if (grids.size() == 1) {
    const float lo = grids[0].nudgedMin, hi = grids[0].nudgedMax;
    const auto N = static_cast<std::ptrdiff_t>(n);
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
    for (std::ptrdiff_t i = 0; i < N; ++i) dx[i] = (x[i] >= lo && x[i] <= hi) ? dy[i] : 0.0f;
    return;
  }
  const ChannelBlock cb(grids);
  forBlocks(n, cb.period, [&](size_t begin, size_t count) {
    const float* xb = x + begin;
    const float* db = dy + begin;
    float* ob = dx + begin;
    const float *lo = cb.lo.data(), *hi = cb.hi.data();
#pragma omp simd
    for (size_t j = 0; j < count; ++j) ob[j] = (xb[j] >= lo[j] && xb[j] <= hi[j]) ? db[j] : 0.0f;
  });
}

void fakeQuantRangeGrad(const float* x, const float* dy, size_t n, std::span<const Grid> grids, float* dmin,
                        float* dmax) {
  QAT_ASSERT(!grids.empty());
  const size_t C = grids.size();
  // Sums in double per block position (period entries per thread), folded to channels.
  const ChannelBlock cb(grids);
  const size_t P = cb.period;
  const int nt = n > kParallelMin ? omp_get_max_threads() : 1;
  std::vector<double> part(static_cast<size_t>(nt) * 2 * P, 0.0);
  const auto blocks = static_cast<std::ptrdiff_t>(n / P);
  const size_t tail = n % P;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    double* below = part.data() + static_cast<size_t>(omp_get_thread_num()) * 2 * P;
    double* above = below + P;
    auto block = [&](size_t begin, size_t count) {
      const float* xb = x + begin;
      const float* db = dy + begin;
      const float *lo = cb.lo.data(), *hi = cb.hi.data();
#pragma omp simd
      for (size_t j = 0; j < count; ++j) {
        below[j] += xb[j] < lo[j] ? static_cast<double>(db[j]) : 0.0;
        above[j] += xb[j] > hi[j] ? static_cast<double>(db[j]) : 0.0;
      }
    };
#pragma omp for schedule(static)
    for (std::ptrdiff_t b = 0; b < blocks; ++b) block(static_cast<size_t>(b) * P, P);
#pragma omp single
    if (tail) block(n - tail, tail);
  }
  std::vector<double> sumMin(C, 0.0), sumMax(C, 0.0);
  for (int t = 0; t < nt; ++t) {
    const double* below = part.data() + static_cast<size_t>(t) * 2 * P;
    for (size_t j = 0; j < P; ++j) {
      sumMin[j % C] += below[j];
      sumMax[j % C] += below[P + j];
    }
  }
  for (size_t c = 0; c < C; ++c) {
    dmin[c] += static_cast<float>(sumMin[c]);
    dmax[c] += static_cast<float>(sumMax[c]);
  }
}

// ------------------------------------------------------------------ channel statistics

void channelMinMax(const float* x, size_t n, size_t channels, float* mins, float* maxs) {
  QAT_ASSERT(channels > 0);
  constexpr float kInf = std::numeric_limits<float>::infinity();
  // One path for any channel count: per-tensor runs kMinPeriod independent running
  // min/max lanes (a single reduction chain would not vectorise as well).
  const size_t C = channels;
  const size_t P = C * ((kMinPeriod + C - 1) / C);
  const int nt = n > kParallelMin ? omp_get_max_threads() : 1;
  std::vector<float> part(static_cast<size_t>(nt) * 2 * P);
  for (size_t i = 0; i < part.size(); ++i) part[i] = (i / P) % 2 == 0 ? kInf : -kInf;
  const auto blocks = static_cast<std::ptrdiff_t>(n / P);
  const size_t tail = n % P;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    float* lo = part.data() + static_cast<size_t>(omp_get_thread_num()) * 2 * P;
    float* hi = lo + P;
    auto block = [&](size_t begin, size_t count) {
      const float* xb = x + begin;
#pragma omp simd
      for (size_t j = 0; j < count; ++j) {
        lo[j] = std::min(lo[j], xb[j]);
        hi[j] = std::max(hi[j], xb[j]);
      }
    };
#pragma omp for schedule(static)
    for (std::ptrdiff_t b = 0; b < blocks; ++b) block(static_cast<size_t>(b) * P, P);
#pragma omp single
    if (tail) block(n - tail, tail);
  }
  std::fill_n(mins, C, kInf);
  std::fill_n(maxs, C, -kInf);
  for (int t = 0; t < nt; ++t) {
    const float* lo = part.data() + static_cast<size_t>(t) * 2 * P;
    for (size_t j = 0; j < P; ++j) {
      mins[j % C] = std::min(mins[j % C], lo[j]);
      maxs[j % C] = std::max(maxs[j % C], lo[P + j]);
    }
  }
}

void channelMeanAbs(const float* x, size_t n, size_t channels, double* means) {
  QAT_ASSERT(channels > 0);
  const size_t C = channels;
  std::fill_n(means, C, 0.0);
  for (size_t i = 0; i < n; ++i) means[i % C] += std::abs(static_cast<double>(x[i]));
  const size_t perChannel = n / C;
  for (size_t c = 0; c < C; ++c) means[c] = perChannel ? means[c] / static_cast<double>(perChannel) : 0.0;
}

}  // namespace qat::quant
