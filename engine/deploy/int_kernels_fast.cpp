// Fast integer kernels: the same integer sums as the reference kernels in another order.
// Integer addition is associative, so as long as no partial sum overflows int32 (|x − zp|
// ≤ 255 and |w| ≤ 128 give < 2^15 per product; a sum of K products stays below 2^31 for
// K < 65,000 taps) the results are bit-identical to convRef / depthwiseRef /
// fullyConnectedRef; tests/engine/test_interpreter.cpp checks it.
//
// CONV_2D: per output pixel an im2col row of (x − zp) widened to int16 (padded taps are 0,
// the real value 0, which is what skipping them means), then int16·int16 → int32 dot
// products against each output channel's OHWI filter row, which GCC turns into
// vpmaddwd (AVX2). Four output channels share one pass over the row.
#include <algorithm>
#include <cstring>

#include "engine/deploy/int_kernels.h"

namespace qat::deploy::kernels {
namespace {

inline int8_t requantize(int32_t acc, const Requant& r, int c) {
  const QuantizedMultiplier& m = r.at(c);
  const int32_t v = mulByQuantizedMultiplier(acc, m.q31, m.shift) + r.outputOffset;
  return static_cast<int8_t>(std::min(r.act.max, std::max(r.act.min, v)));
}

// Σ a[k]·b[k] over K int16 values (vectorised to vpmaddwd by GCC at -O2/-O3 with AVX2).
inline int32_t dot16(const int16_t* __restrict a, const int16_t* __restrict b, int K) {
  int32_t s = 0;
  for (int k = 0; k < K; ++k) s += int32_t(a[k]) * int32_t(b[k]);
  return s;
}

// Four dot products of one row against four filter rows.
inline void dot16x4(const int16_t* __restrict a, const int16_t* __restrict b0, const int16_t* __restrict b1,
                    const int16_t* __restrict b2, const int16_t* __restrict b3, int K, int32_t* out) {
  int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int k = 0; k < K; ++k) {
    const int32_t x = a[k];
    s0 += x * b0[k];
    s1 += x * b1[k];
    s2 += x * b2[k];
    s3 += x * b3[k];
  }
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
  out[3] = s3;
}

// acc[oc] = Σ_k row[k]·filter[oc][k] for every output channel.
void rowTimesFilter(const int16_t* row, const int16_t* filter16, int K, int OC, int32_t* acc) {
  int oc = 0;
  for (; oc + 4 <= OC; oc += 4) {
    const int16_t* f = filter16 + size_t(oc) * K;
    dot16x4(row, f, f + K, f + 2 * size_t(K), f + 3 * size_t(K), K, acc + oc);
  }
  for (; oc < OC; ++oc) acc[oc] = dot16(row, filter16 + size_t(oc) * K, K);
}

}  // namespace

std::vector<int16_t> widenFilter(const int8_t* filter, size_t n) {
  std::vector<int16_t> w(n);
  for (size_t i = 0; i < n; ++i) w[i] = filter[i];
  return w;
}

void convFast(const ConvShape& s, const Requant& r, const int8_t* in, const int16_t* filter16, const int32_t* bias,
              int8_t* out, ConvScratch& scratch) {
  const int K = s.KH * s.KW * s.C;
  scratch.col.resize(size_t(K));
  scratch.acc.resize(size_t(s.OC));
  int16_t* col = scratch.col.data();
  int32_t* acc = scratch.acc.data();
  const int16_t off = static_cast<int16_t>(r.inputOffset);
  for (int n = 0; n < s.N; ++n)
    for (int oy = 0; oy < s.OH; ++oy)
      for (int ox = 0; ox < s.OW; ++ox) {
        // im2col row in (ky, kx, c) order, matching the OHWI filter rows.
        const int iy0 = oy * s.strideH - s.padTop, ix0 = ox * s.strideW - s.padLeft;
        int16_t* dst = col;
        for (int ky = 0; ky < s.KH; ++ky) {
          const int iy = iy0 + ky * s.dilationH;
          for (int kx = 0; kx < s.KW; ++kx, dst += s.C) {
            const int ix = ix0 + kx * s.dilationW;
            if (iy < 0 || iy >= s.H || ix < 0 || ix >= s.W) {
              std::fill(dst, dst + s.C, int16_t(0));
              continue;
            }
            const int8_t* x = in + ((size_t(n) * s.H + iy) * s.W + ix) * s.C;
            for (int c = 0; c < s.C; ++c) dst[c] = static_cast<int16_t>(x[c] + off);
          }
        }
        rowTimesFilter(col, filter16, K, s.OC, acc);
        int8_t* o = out + ((size_t(n) * s.OH + oy) * s.OW + ox) * s.OC;
        for (int oc = 0; oc < s.OC; ++oc) o[oc] = requantize(acc[oc] + (bias ? bias[oc] : 0), r, oc);
      }
}

void depthwiseFast(const ConvShape& s, const Requant& r, const int8_t* in, const int8_t* filter, const int32_t* bias,
                   int8_t* out) {
  const int M = s.depthMultiplier, OC = s.OC;
  std::vector<int32_t> acc(size_t(OC), 0);
  for (int n = 0; n < s.N; ++n)
    for (int oy = 0; oy < s.OH; ++oy)
      for (int ox = 0; ox < s.OW; ++ox) {
        std::fill(acc.begin(), acc.end(), 0);
        const int iy0 = oy * s.strideH - s.padTop, ix0 = ox * s.strideW - s.padLeft;
        for (int ky = 0; ky < s.KH; ++ky) {
          const int iy = iy0 + ky * s.dilationH;
          if (iy < 0 || iy >= s.H) continue;
          for (int kx = 0; kx < s.KW; ++kx) {
            const int ix = ix0 + kx * s.dilationW;
            if (ix < 0 || ix >= s.W) continue;
            const int8_t* x = in + ((size_t(n) * s.H + iy) * s.W + ix) * s.C;
            const int8_t* w = filter + (size_t(ky) * s.KW + kx) * OC;
            if (M == 1) {
              for (int c = 0; c < OC; ++c) acc[size_t(c)] += int32_t(w[c]) * (int32_t(x[c]) + r.inputOffset);
            } else {
              for (int c = 0; c < OC; ++c) acc[size_t(c)] += int32_t(w[c]) * (int32_t(x[c / M]) + r.inputOffset);
            }
          }
        }
        int8_t* o = out + ((size_t(n) * s.OH + oy) * s.OW + ox) * OC;
        for (int c = 0; c < OC; ++c) o[c] = requantize(acc[size_t(c)] + (bias ? bias[c] : 0), r, c);
      }
}

void fullyConnectedFast(int rows, int depth, int units, const Requant& r, const int8_t* in, const int16_t* filter16,
                        const int32_t* bias, int8_t* out, ConvScratch& scratch) {
  scratch.col.resize(size_t(depth));
  scratch.acc.resize(size_t(units));
  int16_t* row = scratch.col.data();
  int32_t* acc = scratch.acc.data();
  for (int b = 0; b < rows; ++b) {
    const int8_t* x = in + size_t(b) * depth;
    for (int d = 0; d < depth; ++d) row[d] = static_cast<int16_t>(int32_t(x[d]) + r.inputOffset);
    rowTimesFilter(row, filter16, depth, units, acc);
    int8_t* o = out + size_t(b) * units;
    for (int u = 0; u < units; ++u) o[u] = requantize(acc[u] + (bias ? bias[u] : 0), r, u);
  }
}

}  // namespace qat::deploy::kernels
