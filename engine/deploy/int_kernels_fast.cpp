// Fast integer kernels: the same integer sums as the reference kernels in another order.
// Integer addition is associative, so as long as no partial sum overflows int32 (|x − zp|
// ≤ 255 and |w| ≤ 128 give < 2^15 per product; a sum of K products stays below 2^31 for
// K < 65,000 taps) the results are bit-identical to convRef / depthwiseRef /
// fullyConnectedRef; tests/engine/test_interpreter.cpp checks every path.
//
// CONV_2D and FULLY_CONNECTED are a GEMM of im2col rows (one per output pixel, taps in
// (ky, kx, c) order, matching the OHWI weight rows) against the packed weights, two rows at
// a time (see GemmPath in int_kernels.h). Padded taps stand for the real value 0: 0 in the
// int16 rows (x − zp), zp + 128 in the uint8 rows (x + 128).
#include <algorithm>
#include <cstring>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "engine/deploy/int_kernels.h"

namespace qat::deploy::kernels {
namespace {

int roundUp(int x, int m) { return (x + m - 1) / m * m; }

// Per-channel requantization constants laid out for the vector loop (one entry per output
// channel, a per-tensor multiplier repeated), by mode:
//   TfliteReference:        multiplier, left shift, right shift;
//   TfliteSingleRounding:   multiplier, total right shift 31 − shift;
//   FloatMultiplierHalfEven: the float multiplier's bits.
void requantTable(const Requant& r, int channels, std::vector<int32_t>& t) {
  t.assign(3 * size_t(channels), 0);
  for (int c = 0; c < channels; ++c) {
    if (r.mode == RoundingMode::FloatMultiplierHalfEven) {
      const float f = r.floatAt(c);
      std::memcpy(&t[size_t(c)], &f, sizeof f);
      continue;
    }
    const QuantizedMultiplier& m = r.at(c);
    t[size_t(c)] = m.q31;
    if (r.mode == RoundingMode::TfliteSingleRounding) {
      t[size_t(channels + c)] = 31 - m.shift;
    } else {
      t[size_t(channels + c)] = m.shift > 0 ? m.shift : 0;
      t[size_t(2 * channels + c)] = m.shift > 0 ? 0 : -m.shift;
    }
  }
}

#if defined(__AVX2__)
// Eight int32 values in [−128, 127] (already clamped) stored as int8.
inline void store8(__m256i v, int8_t* out) {
  const __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_packs_epi16(p16, p16));
}

// TfliteReference: SaturatingRoundingDoublingHighMul with a multiplier q ≥ 0 (never −2^31, so
// no saturation case) is sign(x)·floor((|x|·q + 2^30 − [x < 0]) / 2^31), formed with unsigned
// 32×32→64 products of |x|; RoundingDivideByPOT as in the scalar code.
inline __m256i mbqmDouble(__m256i x, const int32_t* q31, const int32_t* left, const int32_t* right) {
  const __m256i one = _mm256_set1_epi32(1), c30 = _mm256_set1_epi64x(int64_t(1) << 30);
  const __m256i low32 = _mm256_set1_epi64x(0xFFFFFFFFll);
  x = _mm256_sllv_epi32(x, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(left)));
  const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q31));
  const __m256i ax = _mm256_abs_epi32(x);  // |−2^31| reads as 2^31 unsigned
  const __m256i negBit = _mm256_srli_epi32(x, 31);
  const __m256i pe = _mm256_sub_epi64(_mm256_add_epi64(_mm256_mul_epu32(ax, q), c30), _mm256_and_si256(negBit, low32));
  const __m256i po = _mm256_sub_epi64(
      _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(ax, 32), _mm256_srli_epi64(q, 32)), c30),
      _mm256_srli_epi64(negBit, 32));
  __m256i h = _mm256_blend_epi32(_mm256_srli_epi64(pe, 31), _mm256_slli_epi64(_mm256_srli_epi64(po, 31), 32), 0xAA);
  h = _mm256_sign_epi32(h, x);
  const __m256i rs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(right));
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, rs), one);
  const __m256i rem = _mm256_and_si256(h, mask);
  const __m256i thr = _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), _mm256_srai_epi32(h, 31));
  return _mm256_sub_epi32(_mm256_srav_epi32(h, rs), _mm256_cmpgt_epi32(rem, thr));
}

// TfliteSingleRounding: (x·q + 2^(t−1)) >> t with t ∈ [1, 62] per lane. AVX2 has no 64-bit
// arithmetic shift, so 2^62 is added first (|x·q| < 2^62 keeps the sum in [0, 2^64)), the
// sum shifted logically and 2^(62−t) taken off again; the low 32 bits are the result.
inline __m256i mbqmSingle(__m256i x, const int32_t* q31, const int32_t* total) {
  const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q31));
  const __m256i t = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(total));
  const __m256i one64 = _mm256_set1_epi64x(1), bias = _mm256_set1_epi64x(int64_t(1) << 62);
  const __m256i c62 = _mm256_set1_epi64x(62);
  auto lanes = [&](__m256i xs, __m256i qs, __m256i ts) {  // the even 32-bit lanes, as 64-bit
    const __m256i p = _mm256_mul_epi32(xs, qs);
    const __m256i round = _mm256_sllv_epi64(one64, _mm256_sub_epi64(ts, one64));
    const __m256i sh = _mm256_srlv_epi64(_mm256_add_epi64(_mm256_add_epi64(p, round), bias), ts);
    return _mm256_sub_epi64(sh, _mm256_sllv_epi64(one64, _mm256_sub_epi64(c62, ts)));
  };
  const __m256i low32 = _mm256_set1_epi64x(0xFFFFFFFFll);
  const __m256i even = lanes(x, q, _mm256_and_si256(t, low32));
  const __m256i odd = lanes(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(q, 32), _mm256_srli_epi64(t, 32));
  return _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}
#endif

// out[c] = requantize(acc[c] + bias[c], r, c) eight lanes at a time; the scalar tail calls the
// reference's requantize(), so every mode matches it bit for bit.
void requantizeRow(const int32_t* acc, const int32_t* bias, const std::vector<int32_t>& t, int n, const Requant& r,
                   int8_t* out) {
  const int32_t* t0 = t.data();
  const int32_t* t1 = t0 + n;
  const int32_t* t2 = t0 + 2 * size_t(n);
  int c = 0;
#if defined(__AVX2__)
  const __m256i zp = _mm256_set1_epi32(r.outputOffset), lo = _mm256_set1_epi32(r.act.min),
                hi = _mm256_set1_epi32(r.act.max);
  const __m256 loF = _mm256_set1_ps(static_cast<float>(r.act.min - r.outputOffset));
  const __m256 hiF = _mm256_set1_ps(static_cast<float>(r.act.max - r.outputOffset));
  for (; c + 8 <= n; c += 8) {
    __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + c));
    if (bias) x = _mm256_add_epi32(x, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + c)));
    __m256i v;
    switch (r.mode) {
      case RoundingMode::FloatMultiplierHalfEven: {
        // cvtps2dq rounds half to even in the default MXCSR mode, as nearbyint does.
        __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(x), _mm256_loadu_ps(reinterpret_cast<const float*>(t0 + c)));
        f = _mm256_min_ps(_mm256_max_ps(f, loF), hiF);
        v = _mm256_add_epi32(_mm256_cvtps_epi32(f), zp);
        break;
      }
      case RoundingMode::TfliteSingleRounding:
        v = _mm256_add_epi32(mbqmSingle(x, t0 + c, t1 + c), zp);
        break;
      default:
        v = _mm256_add_epi32(mbqmDouble(x, t0 + c, t1 + c, t2 + c), zp);
        break;
    }
    store8(_mm256_min_epi32(_mm256_max_epi32(v, lo), hi), out + c);
  }
#else
  (void)t1;
  (void)t2;
#endif
  for (; c < n; ++c) out[c] = static_cast<int8_t>(requantize(acc[c] + (bias ? bias[c] : 0), r, c));
}

#if defined(__AVX2__)
inline int32_t hsum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

// o_r[oc] = Σ_k a_r[k]·w[oc][k] for two int16 rows (vpmaddwd: pairs of int16 products
// summed into int32 lanes).
void gemm2Int16(const int16_t* a0, const int16_t* a1, const PackedWeights& w, int32_t* o0, int32_t* o1) {
  const int K = w.K16, OC = w.OC;
  int oc = 0;
  for (; oc + 4 <= OC; oc += 4) {
    const int16_t* b = w.w16.data() + size_t(oc) * K;
    __m256i s[2][4] = {};
    for (int k = 0; k < K; k += 16) {
      const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a0 + k));
      const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a1 + k));
      for (int j = 0; j < 4; ++j) {
        const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + size_t(j) * K + k));
        s[0][j] = _mm256_add_epi32(s[0][j], _mm256_madd_epi16(x0, y));
        s[1][j] = _mm256_add_epi32(s[1][j], _mm256_madd_epi16(x1, y));
      }
    }
    for (int j = 0; j < 4; ++j) {
      o0[oc + j] = hsum(s[0][j]);
      o1[oc + j] = hsum(s[1][j]);
    }
  }
  for (; oc < OC; ++oc) {
    const int16_t* b = w.w16.data() + size_t(oc) * K;
    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
    for (int k = 0; k < K; k += 16) {
      const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + k));
      s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a0 + k)), y));
      s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a1 + k)), y));
    }
    o0[oc] = hsum(s0);
    o1[oc] = hsum(s1);
  }
}

// The same with uint8 rows and int8 weights through vpdpbusd (four u8·s8 products summed
// into each int32 lane, no saturation). Returns Σ w·u; the caller removes (zp + 128)·Σ w.
__attribute__((target("avx2,avxvnni"))) void gemm2Vnni(const uint8_t* a0, const uint8_t* a1,
                                                        const PackedWeights& w, int32_t* o0, int32_t* o1) {
  const int K = w.K32, OC = w.OC;
  int oc = 0;
  for (; oc + 4 <= OC; oc += 4) {
    const int8_t* b = w.w8.data() + size_t(oc) * K;
    __m256i s[2][4] = {};
    for (int k = 0; k < K; k += 32) {
      const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a0 + k));
      const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a1 + k));
      for (int j = 0; j < 4; ++j) {
        const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + size_t(j) * K + k));
        s[0][j] = _mm256_dpbusd_avx_epi32(s[0][j], x0, y);
        s[1][j] = _mm256_dpbusd_avx_epi32(s[1][j], x1, y);
      }
    }
    for (int j = 0; j < 4; ++j) {
      o0[oc + j] = hsum(s[0][j]);
      o1[oc + j] = hsum(s[1][j]);
    }
  }
  for (; oc < OC; ++oc) {
    const int8_t* b = w.w8.data() + size_t(oc) * K;
    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
    for (int k = 0; k < K; k += 32) {
      const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + k));
      s0 = _mm256_dpbusd_avx_epi32(s0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a0 + k)), y);
      s1 = _mm256_dpbusd_avx_epi32(s1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a1 + k)), y);
    }
    o0[oc] = hsum(s0);
    o1[oc] = hsum(s1);
  }
}
#else
void gemm2Int16(const int16_t* a0, const int16_t* a1, const PackedWeights& w, int32_t* o0, int32_t* o1) {
  for (int oc = 0; oc < w.OC; ++oc) {
    const int16_t* b = w.w16.data() + size_t(oc) * w.K16;
    int32_t s0 = 0, s1 = 0;
    for (int k = 0; k < w.K16; ++k) {
      s0 += int32_t(a0[k]) * b[k];
      s1 += int32_t(a1[k]) * b[k];
    }
    o0[oc] = s0;
    o1[oc] = s1;
  }
}
#endif

// o[oc] = Σ_k a[k]·wT[k][oc], vectorised over the output channels (few taps).
void gemmOuter(const int16_t* a, const PackedWeights& w, int32_t* __restrict o) {
  std::fill(o, o + w.OC, 0);
  for (int k = 0; k < w.K; ++k) {
    const int32_t x = a[k];
    const int32_t* __restrict b = w.wT.data() + size_t(k) * w.OC;
    for (int oc = 0; oc < w.OC; ++oc) o[oc] += x * b[oc];
  }
}

GemmPath choose(GemmPath path, const PackedWeights& w) {
  // A forced path the weights or the CPU cannot serve falls back to Int16.
  if (path == GemmPath::Outer && w.wT.empty()) return GemmPath::Int16;
  if (path == GemmPath::Vnni && !vnniAvailable()) return GemmPath::Int16;
  if (path != GemmPath::Auto) return path;
  if (!w.wT.empty()) return GemmPath::Outer;
  return vnniAvailable() ? GemmPath::Vnni : GemmPath::Int16;
}

// Accumulators of one or two rows (rows given both as int16 x − zp and uint8 x + 128;
// only the one the path reads is filled).
struct Rows {
  const int16_t* a16[2];
  const uint8_t* a8[2];
};
void gemmRows(GemmPath path, const PackedWeights& w, const Rows& rows, int n, int32_t zp, int32_t* acc) {
  int32_t* o0 = acc;
  int32_t* o1 = acc + w.OC;
  switch (path) {
    case GemmPath::Outer:
      for (int r = 0; r < n; ++r) gemmOuter(rows.a16[r], w, r ? o1 : o0);
      return;
    case GemmPath::Vnni:
#if defined(__AVX2__)
      gemm2Vnni(rows.a8[0], rows.a8[n - 1], w, o0, o1);
      for (int r = 0; r < n; ++r)
        for (int oc = 0; oc < w.OC; ++oc) (r ? o1 : o0)[oc] -= (zp + 128) * w.rowSum[size_t(oc)];
      return;
#endif
    case GemmPath::Int16:
    case GemmPath::Auto: gemm2Int16(rows.a16[0], rows.a16[n - 1], w, o0, o1); return;
  }
}

}  // namespace

bool vnniAvailable() {
#if defined(__AVX2__) && defined(__GNUC__)
  static const bool ok = __builtin_cpu_supports("avxvnni");
  return ok;
#else
  return false;
#endif
}

PackedWeights packWeights(const int8_t* w, int OC, int K) {
  PackedWeights p;
  p.OC = OC;
  p.K = K;
  p.K16 = roundUp(K, 16);
  p.K32 = roundUp(K, 32);
  p.w16.assign(size_t(OC) * p.K16, 0);
  p.w8.assign(size_t(OC) * p.K32, 0);
  p.rowSum.assign(size_t(OC), 0);
  for (int oc = 0; oc < OC; ++oc)
    for (int k = 0; k < K; ++k) {
      const int8_t v = w[size_t(oc) * K + k];
      p.w16[size_t(oc) * p.K16 + k] = v;
      p.w8[size_t(oc) * p.K32 + k] = v;
      p.rowSum[size_t(oc)] += v;
    }
  if (K < 16) {
    p.wT.resize(size_t(K) * OC);
    for (int oc = 0; oc < OC; ++oc)
      for (int k = 0; k < K; ++k) p.wT[size_t(k) * OC + oc] = w[size_t(oc) * K + k];
  }
  return p;
}

void convFast(const ConvShape& s, const Requant& r, const int8_t* in, const PackedWeights& w, const int32_t* bias,
              int8_t* out, ConvScratch& scratch, GemmPath pathIn) {
  const GemmPath path = choose(pathIn, w);
  scratch.col16.assign(2 * size_t(w.K16), 0);
  scratch.col8.assign(2 * size_t(w.K32), 0);
  scratch.acc.resize(2 * size_t(s.OC));
  const int32_t zp = -r.inputOffset;
  const uint8_t pad8 = static_cast<uint8_t>(zp + 128);
  const bool u8 = path == GemmPath::Vnni;
  const int16_t off = static_cast<int16_t>(r.inputOffset);
  const int span = s.KW * s.C;  // one kernel row of taps, contiguous in the input when dilationW = 1
  // im2col row of output pixel (n, oy, ox) into slot `slot`.
  auto buildRow = [&](int n, int oy, int ox, int slot) {
    const int iy0 = oy * s.strideH - s.padTop, ix0 = ox * s.strideW - s.padLeft;
    int16_t* __restrict d16 = scratch.col16.data() + size_t(slot) * w.K16;
    uint8_t* __restrict d8 = scratch.col8.data() + size_t(slot) * w.K32;
    const bool interior = s.dilationW == 1 && iy0 >= 0 && iy0 + (s.KH - 1) * s.dilationH < s.H && ix0 >= 0 &&
                          ix0 + s.KW <= s.W;
    if (interior) {  // every tap inside the image: KH contiguous runs of KW·C values
      for (int ky = 0; ky < s.KH; ++ky) {
        const int8_t* __restrict x = in + ((size_t(n) * s.H + iy0 + ky * s.dilationH) * s.W + ix0) * s.C;
        if (u8)
          for (int i = 0; i < span; ++i) d8[ky * span + i] = static_cast<uint8_t>(x[i] + 128);
        else
          for (int i = 0; i < span; ++i) d16[ky * span + i] = static_cast<int16_t>(x[i] + off);
      }
      return;
    }
    int k = 0;
    for (int ky = 0; ky < s.KH; ++ky) {
      const int iy = iy0 + ky * s.dilationH;
      for (int kx = 0; kx < s.KW; ++kx, k += s.C) {
        const int ix = ix0 + kx * s.dilationW;
        const bool inside = iy >= 0 && iy < s.H && ix >= 0 && ix < s.W;
        const int8_t* x = in + ((size_t(n) * s.H + (inside ? iy : 0)) * s.W + (inside ? ix : 0)) * s.C;
        if (u8) {
          if (!inside) std::fill(d8 + k, d8 + k + s.C, pad8);
          else
            for (int c = 0; c < s.C; ++c) d8[k + c] = static_cast<uint8_t>(x[c] + 128);
        } else {
          if (!inside) std::fill(d16 + k, d16 + k + s.C, int16_t(0));
          else
            for (int c = 0; c < s.C; ++c) d16[k + c] = static_cast<int16_t>(x[c] + off);
        }
      }
    }
  };
  const int pixels = s.OH * s.OW;
  requantTable(r, s.OC, scratch.requant);
  const Rows rows{{scratch.col16.data(), scratch.col16.data() + w.K16}, {scratch.col8.data(), scratch.col8.data() + w.K32}};
  for (int n = 0; n < s.N; ++n)
    for (int p = 0; p < pixels; p += 2) {
      const int cnt = std::min(2, pixels - p);
      for (int j = 0; j < cnt; ++j) buildRow(n, (p + j) / s.OW, (p + j) % s.OW, j);
      gemmRows(path, w, rows, cnt, zp, scratch.acc.data());
      for (int j = 0; j < cnt; ++j)
        requantizeRow(scratch.acc.data() + size_t(j) * s.OC, bias, scratch.requant, s.OC, r,
                      out + (size_t(n) * pixels + p + j) * s.OC);
    }
}

void fullyConnectedFast(int rows, int depth, int units, const Requant& r, const int8_t* in, const PackedWeights& w,
                        const int32_t* bias, int8_t* out, ConvScratch& scratch, GemmPath pathIn) {
  const GemmPath path = choose(pathIn, w);
  scratch.col16.assign(2 * size_t(w.K16), 0);
  scratch.col8.assign(2 * size_t(w.K32), 0);
  scratch.acc.resize(2 * size_t(units));
  const Rows rs{{scratch.col16.data(), scratch.col16.data() + w.K16}, {scratch.col8.data(), scratch.col8.data() + w.K32}};
  requantTable(r, units, scratch.requant);
  for (int b = 0; b < rows; b += 2) {
    const int cnt = std::min(2, rows - b);
    for (int j = 0; j < cnt; ++j) {
      const int8_t* x = in + size_t(b + j) * depth;
      if (path == GemmPath::Vnni) {
        uint8_t* d = scratch.col8.data() + size_t(j) * w.K32;
        for (int k = 0; k < depth; ++k) d[k] = static_cast<uint8_t>(x[k] + 128);
      } else {
        int16_t* d = scratch.col16.data() + size_t(j) * w.K16;
        for (int k = 0; k < depth; ++k) d[k] = static_cast<int16_t>(x[k] + r.inputOffset);
      }
    }
    gemmRows(path, w, rs, cnt, -r.inputOffset, scratch.acc.data());
    for (int j = 0; j < cnt; ++j)
      requantizeRow(scratch.acc.data() + size_t(j) * units, bias, scratch.requant, units, r, out + size_t(b + j) * units);
  }
}

void depthwiseFast(const ConvShape& s, const Requant& r, const int8_t* in, const int8_t* filter, const int32_t* bias,
                   int8_t* out) {
  const int M = s.depthMultiplier, OC = s.OC;
  std::vector<int32_t> acc(size_t(OC), 0), table;
  requantTable(r, OC, table);
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
        requantizeRow(acc.data(), bias, table, OC, r, out + ((size_t(n) * s.OH + oy) * s.OW + ox) * OC);
      }
}

void maxPoolFast(const PoolShape& s, ActRange act, const int8_t* in, int8_t* out) {
  const int8_t lo = static_cast<int8_t>(act.min), hi = static_cast<int8_t>(act.max);
  const int C = s.C;
  for (int n = 0; n < s.N; ++n)
    for (int oy = 0; oy < s.OH; ++oy)
      for (int ox = 0; ox < s.OW; ++ox) {
        const int iy0 = oy * s.strideH - s.padTop, ix0 = ox * s.strideW - s.padLeft;
        const int ky0 = std::max(0, -iy0), ky1 = std::min(s.KH, s.H - iy0);
        const int kx0 = std::max(0, -ix0), kx1 = std::min(s.KW, s.W - ix0);
        int8_t* o = out + ((size_t(n) * s.OH + oy) * s.OW + ox) * C;
        auto cell = [&](int ky, int kx) { return in + ((size_t(n) * s.H + iy0 + ky) * s.W + ix0 + kx) * C; };
        int c = 0;
#if defined(__AVX2__)
        const __m256i vlo = _mm256_set1_epi8(lo), vhi = _mm256_set1_epi8(hi);
        for (; c + 32 <= C; c += 32) {
          __m256i m = _mm256_set1_epi8(-128);
          for (int ky = ky0; ky < ky1; ++ky)
            for (int kx = kx0; kx < kx1; ++kx)
              m = _mm256_max_epi8(m, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cell(ky, kx) + c)));
          m = _mm256_min_epi8(_mm256_max_epi8(m, vlo), vhi);
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + c), m);
        }
#endif
        for (; c < C; ++c) {
          int8_t m = -128;
          for (int ky = ky0; ky < ky1; ++ky)
            for (int kx = kx0; kx < kx1; ++kx) m = std::max(m, cell(ky, kx)[c]);
          o[c] = std::min(hi, std::max(lo, m));
        }
      }
}

}  // namespace qat::deploy::kernels
