// Scalar reference integer kernels (see int_kernels.h for the arithmetic they follow).
#include "engine/deploy/int_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace qat::deploy {

QuantizedMultiplier quantizeMultiplier(double real) {
  QuantizedMultiplier m;
  if (real == 0.0) return m;
  int shift = 0;
  const double q = std::frexp(real, &shift);  // real = q · 2^shift, q ∈ [0.5, 1)
  int64_t q31 = static_cast<int64_t>(std::round(q * double(int64_t(1) << 31)));
  QAT_ASSERT(q31 <= (int64_t(1) << 31));
  if (q31 == (int64_t(1) << 31)) {  // the mantissa rounded up to 1.0
    q31 /= 2;
    ++shift;
  }
  // Below 2^-31 every product would shift out to zero: flush to zero, as TFLite does,
  // instead of shifting right by more than 31 bits.
  if (shift < -31) {
    shift = 0;
    q31 = 0;
  }
  // Above 2^30 the left shift would overflow int32 for any useful input: saturate.
  if (shift > 30) {
    shift = 30;
    q31 = (int64_t(1) << 31) - 1;
  }
  m.q31 = static_cast<int32_t>(q31);
  m.shift = shift;
  return m;
}

int32_t multiplyByQuantizedMultiplier(int32_t x, QuantizedMultiplier m) {
  return kernels::mulByQuantizedMultiplier(x, m.q31, m.shift);
}

namespace kernels {
namespace {

inline int8_t clampTo(int32_t v, ActRange a) { return static_cast<int8_t>(std::min(a.max, std::max(a.min, v))); }
inline int8_t saturate8(int32_t v) { return static_cast<int8_t>(std::min(127, std::max(-128, v))); }

// Rounded integer division with ties away from zero (TFLite's pooling and MEAN).
inline int32_t divRound(int32_t acc, int32_t count) {
  return acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
}

}  // namespace

ActRange activationRange(FusedActivation act, float outScale, int32_t outZeroPoint) {
  auto quantize = [&](float f) { return outZeroPoint + static_cast<int32_t>(std::round(f / outScale)); };
  ActRange r;
  switch (act) {
    case FusedActivation::None: break;
    case FusedActivation::Relu: r.min = std::max(r.min, quantize(0.0f)); break;
    case FusedActivation::Relu6:
      r.min = std::max(r.min, quantize(0.0f));
      r.max = std::min(r.max, quantize(6.0f));
      break;
    case FusedActivation::ReluN1To1:
      r.min = std::max(r.min, quantize(-1.0f));
      r.max = std::min(r.max, quantize(1.0f));
      break;
  }
  return r;
}

// ------------------------------------------------------------------ convolutions

void convRef(const ConvShape& s, const Requant& r, const int8_t* in, const int8_t* filter, const int32_t* bias,
             int8_t* out) {
  for (int n = 0; n < s.N; ++n)
    for (int oy = 0; oy < s.OH; ++oy)
      for (int ox = 0; ox < s.OW; ++ox)
        for (int oc = 0; oc < s.OC; ++oc) {
          const int iy0 = oy * s.strideH - s.padTop, ix0 = ox * s.strideW - s.padLeft;
          int32_t acc = 0;
          for (int ky = 0; ky < s.KH; ++ky) {
            const int iy = iy0 + ky * s.dilationH;
            if (iy < 0 || iy >= s.H) continue;
            for (int kx = 0; kx < s.KW; ++kx) {
              const int ix = ix0 + kx * s.dilationW;
              if (ix < 0 || ix >= s.W) continue;
              const int8_t* x = in + ((size_t(n) * s.H + iy) * s.W + ix) * s.C;
              const int8_t* w = filter + ((size_t(oc) * s.KH + ky) * s.KW + kx) * s.C;
              for (int c = 0; c < s.C; ++c) acc += int32_t(w[c]) * (int32_t(x[c]) + r.inputOffset);
            }
          }
          if (bias) acc += bias[oc];
          out[((size_t(n) * s.OH + oy) * s.OW + ox) * s.OC + oc] = static_cast<int8_t>(requantize(acc, r, oc));
        }
}

void depthwiseRef(const ConvShape& s, const Requant& r, const int8_t* in, const int8_t* filter,
                  const int32_t* bias, int8_t* out) {
  const int M = s.depthMultiplier;
  for (int n = 0; n < s.N; ++n)
    for (int oy = 0; oy < s.OH; ++oy)
      for (int ox = 0; ox < s.OW; ++ox)
        for (int ic = 0; ic < s.C; ++ic)
          for (int m = 0; m < M; ++m) {
            const int oc = ic * M + m;
            const int iy0 = oy * s.strideH - s.padTop, ix0 = ox * s.strideW - s.padLeft;
            int32_t acc = 0;
            for (int ky = 0; ky < s.KH; ++ky) {
              const int iy = iy0 + ky * s.dilationH;
              if (iy < 0 || iy >= s.H) continue;
              for (int kx = 0; kx < s.KW; ++kx) {
                const int ix = ix0 + kx * s.dilationW;
                if (ix < 0 || ix >= s.W) continue;
                const int32_t x = in[((size_t(n) * s.H + iy) * s.W + ix) * s.C + ic];
                const int32_t w = filter[(size_t(ky) * s.KW + kx) * s.OC + oc];
                acc += w * (x + r.inputOffset);
              }
            }
            if (bias) acc += bias[oc];
            out[((size_t(n) * s.OH + oy) * s.OW + ox) * s.OC + oc] = static_cast<int8_t>(requantize(acc, r, oc));
          }
}

void fullyConnectedRef(int rows, int depth, int units, const Requant& r, const int8_t* in, const int8_t* filter,
                       const int32_t* bias, int8_t* out) {
  for (int b = 0; b < rows; ++b)
    for (int u = 0; u < units; ++u) {
      int32_t acc = 0;
      for (int d = 0; d < depth; ++d)
        acc += int32_t(filter[size_t(u) * depth + d]) * (int32_t(in[size_t(b) * depth + d]) + r.inputOffset);
      if (bias) acc += bias[u];
      out[size_t(b) * units + u] = static_cast<int8_t>(requantize(acc, r, u));
    }
}

// ------------------------------------------------------------------ pooling, mean

void avgPoolRef(const PoolShape& s, ActRange act, const int8_t* in, int8_t* out) {
  for (int n = 0; n < s.N; ++n)
    for (int oy = 0; oy < s.OH; ++oy)
      for (int ox = 0; ox < s.OW; ++ox)
        for (int c = 0; c < s.C; ++c) {
          const int iy0 = oy * s.strideH - s.padTop, ix0 = ox * s.strideW - s.padLeft;
          const int ky0 = std::max(0, -iy0), ky1 = std::min(s.KH, s.H - iy0);
          const int kx0 = std::max(0, -ix0), kx1 = std::min(s.KW, s.W - ix0);
          int32_t acc = 0, count = 0;
          for (int ky = ky0; ky < ky1; ++ky)
            for (int kx = kx0; kx < kx1; ++kx) {
              acc += in[((size_t(n) * s.H + iy0 + ky) * s.W + ix0 + kx) * s.C + c];
              ++count;
            }
          const int32_t v = count > 0 ? divRound(acc, count) : 0;
          out[((size_t(n) * s.OH + oy) * s.OW + ox) * s.C + c] = clampTo(v, act);
        }
}

void maxPoolRef(const PoolShape& s, ActRange act, const int8_t* in, int8_t* out) {
  for (int n = 0; n < s.N; ++n)
    for (int oy = 0; oy < s.OH; ++oy)
      for (int ox = 0; ox < s.OW; ++ox)
        for (int c = 0; c < s.C; ++c) {
          const int iy0 = oy * s.strideH - s.padTop, ix0 = ox * s.strideW - s.padLeft;
          const int ky0 = std::max(0, -iy0), ky1 = std::min(s.KH, s.H - iy0);
          const int kx0 = std::max(0, -ix0), kx1 = std::min(s.KW, s.W - ix0);
          int32_t best = -128;
          for (int ky = ky0; ky < ky1; ++ky)
            for (int kx = kx0; kx < kx1; ++kx)
              best = std::max(best, int32_t(in[((size_t(n) * s.H + iy0 + ky) * s.W + ix0 + kx) * s.C + c]));
          out[((size_t(n) * s.OH + oy) * s.OW + ox) * s.C + c] = clampTo(best, act);
        }
}

void meanRef(int N, int pixels, int C, const MeanParams& p, const int8_t* in, int8_t* out) {
  const bool sameParams = p.inScale == p.outScale && p.inZeroPoint == p.outZeroPoint;
  const float scale = p.inScale / p.outScale;
  const float bias = static_cast<float>(-p.inZeroPoint) * scale;
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) {
      const int8_t* x = in + size_t(n) * pixels * C + c;
      int32_t v;
      if (p.keepDims) {
        int32_t acc = 0;
        for (int i = 0; i < pixels; ++i) acc += int32_t(x[size_t(i) * C]) - p.inZeroPoint;
        acc = mulByQuantizedMultiplier(acc, p.mult, p.mode);
        v = divRound(acc, pixels) + p.outZeroPoint;
      } else {
        int32_t sum = 0;
        for (int i = 0; i < pixels; ++i) sum += x[size_t(i) * C];
        if (sameParams) {
          v = sum / pixels;
        } else {
          const float mean = static_cast<float>(sum) / static_cast<float>(pixels);
          const float r = std::round(mean * scale + bias) + static_cast<float>(p.outZeroPoint);
          v = static_cast<int32_t>(std::max(-128.0f, std::min(127.0f, r)));
        }
      }
      out[size_t(n) * C + c] = saturate8(v);
    }
}

// ------------------------------------------------------------------ elementwise

AddParams makeAddParams(float s1, int32_t zp1, float s2, int32_t zp2, float sOut, int32_t zpOut, FusedActivation a) {
  AddParams p;
  p.in1Offset = -zp1;
  p.in2Offset = -zp2;
  p.outOffset = zpOut;
  p.leftShift = 20;
  const double twiceMax = 2.0 * static_cast<double>(std::max(s1, s2));
  p.in1 = quantizeMultiplier(static_cast<double>(s1) / twiceMax);
  p.in2 = quantizeMultiplier(static_cast<double>(s2) / twiceMax);
  p.out = quantizeMultiplier(twiceMax / static_cast<double>(static_cast<float>(1 << p.leftShift) * sOut));
  p.act = activationRange(a, sOut, zpOut);
  return p;
}

void addRef(size_t n, const AddParams& p, const int8_t* a, const int8_t* b, int8_t* out, bool subtract) {
  for (size_t i = 0; i < n; ++i) {
    const int32_t x = (p.in1Offset + a[i]) * (1 << p.leftShift);
    const int32_t y = (p.in2Offset + b[i]) * (1 << p.leftShift);
    const int32_t sx = mulByQuantizedMultiplier(x, p.in1, p.mode);
    const int32_t sy = mulByQuantizedMultiplier(y, p.in2, p.mode);
    const int32_t raw = subtract ? sx - sy : sx + sy;
    const int32_t o = mulByQuantizedMultiplier(raw, p.out, p.mode) + p.outOffset;
    out[i] = clampTo(o, p.act);
  }
}

void mulRef(size_t n, const MulParams& p, const int8_t* a, const int8_t* b, int8_t* out) {
  for (size_t i = 0; i < n; ++i) {
    const int32_t prod = (p.in1Offset + a[i]) * (p.in2Offset + b[i]);
    const int32_t o = p.outOffset + mulByQuantizedMultiplier(prod, p.mult, p.mode);
    out[i] = clampTo(o, p.act);
  }
}

void rescaleRef(size_t n, const RescaleParams& p, const int8_t* in, int8_t* out) {
  for (size_t i = 0; i < n; ++i) {
    const int32_t o = p.outZeroPoint + mulByQuantizedMultiplier(int32_t(in[i]) - p.inZeroPoint, p.mult, p.mode);
    out[i] = clampTo(o, p.act);
  }
}

void leakyReluRef(size_t n, const LeakyReluParams& p, const int8_t* in, int8_t* out) {
  for (size_t i = 0; i < n; ++i) {
    const int32_t x = int32_t(in[i]) - p.inZeroPoint;
    const QuantizedMultiplier& m = x >= 0 ? p.identity : p.alpha;
    out[i] = saturate8(p.outZeroPoint + mulByQuantizedMultiplier(x, m, p.mode));
  }
}

std::vector<int8_t> makeLut(float inScale, int32_t inZeroPoint, float outScale, int32_t outZeroPoint,
                            float (*f)(float)) {
  std::vector<int8_t> table(256);
  const float inverseOut = 1.0f / outScale;
  for (int32_t q = -128; q <= 127; ++q) {
    const float x = inScale * static_cast<float>(q - inZeroPoint);
    const float y = std::round(f(x) * inverseOut);
    const int32_t v = static_cast<int32_t>(y + static_cast<float>(outZeroPoint));
    table[static_cast<uint8_t>(static_cast<int8_t>(q))] = saturate8(v);
  }
  return table;
}

void lutRef(size_t n, const std::vector<int8_t>& table, const int8_t* in, int8_t* out) {
  for (size_t i = 0; i < n; ++i) out[i] = table[static_cast<uint8_t>(in[i])];
}

std::vector<float> makeSoftmaxTable(float inScale, float beta) {
  std::vector<float> table(256);
  const float scale = -inScale * beta;
  for (int d = 0; d <= 255; ++d) table[static_cast<size_t>(255 - d)] = std::exp(scale * static_cast<float>(d));
  return table;
}

void softmaxRef(int rows, int depth, const std::vector<float>& table, float outScale, int32_t outZeroPoint,
                const int8_t* in, int8_t* out) {
  for (int r = 0; r < rows; ++r) {
    const int8_t* x = in + size_t(r) * depth;
    int32_t mx = -128;
    for (int c = 0; c < depth; ++c) mx = std::max(mx, int32_t(x[c]));
    // table[255 − (max − q)] = exp(−s·β·(max − q))
    const float* t = table.data() + (255 - mx);
    float sum = 0.0f;
    for (int c = 0; c < depth; ++c) sum += t[x[c]];
    const float inv = 1.0f / (sum * outScale);
    for (int c = 0; c < depth; ++c) {
      const int32_t q = static_cast<int32_t>(std::round(t[x[c]] * inv)) + outZeroPoint;
      out[size_t(r) * depth + c] = saturate8(q);
    }
  }
}

// ------------------------------------------------------------------ hard swish (int16 fixed point)

namespace {
int16_t srdhm16(int16_t a, int16_t b) {
  if (a == b && a == INT16_MIN) return INT16_MAX;
  const int32_t ab = int32_t(a) * int32_t(b);
  const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return static_cast<int16_t>((ab + nudge) / (1 << 15));
}
// Without rounding (TFLite uses it for the final product to cancel the rounding bias above).
int16_t sdhm16(int16_t a, int16_t b) {
  if (a == b && a == INT16_MIN) return INT16_MAX;
  return static_cast<int16_t>((int32_t(a) * int32_t(b)) / (1 << 15));
}
int16_t saturatingLeftShift16(int16_t v, int amount) {
  const int64_t r = int64_t(v) * (int64_t(1) << amount);
  return static_cast<int16_t>(std::min<int64_t>(INT16_MAX, std::max<int64_t>(INT16_MIN, r)));
}
int16_t downscaleTo16(int32_t q31) {
  constexpr int32_t kRound = 1 << 15;
  if (q31 >= INT32_MAX - kRound) return INT16_MAX;
  return static_cast<int16_t>((q31 + kRound) >> 16);
}
}  // namespace

HardSwishParams makeHardSwishParams(float inScale, int32_t inZp, float outScale, int32_t outZp) {
  HardSwishParams p;
  p.inZeroPoint = inZp;
  p.outZeroPoint = outZp;
  const float hiresInScale = (1.0f / 128.0f) * inScale;
  const float reluishScale = 3.0f / 32768.0f;
  const QuantizedMultiplier o = quantizeMultiplier(hiresInScale / outScale);
  p.outMultiplier16 = downscaleTo16(o.q31);
  p.outExponent = o.shift;
  const QuantizedMultiplier r = quantizeMultiplier(hiresInScale / reluishScale);
  p.reluishMultiplier16 = downscaleTo16(r.q31);
  p.reluishExponent = r.shift;
  return p;
}

void hardSwishRef(size_t n, const HardSwishParams& p, const int8_t* in, int8_t* out) {
  for (size_t i = 0; i < n; ++i) {
    const int16_t x = static_cast<int16_t>(int32_t(in[i]) - p.inZeroPoint);
    const int16_t hires = static_cast<int16_t>(x * (1 << 7));  // input at 1/128 of its scale
    const int16_t preshiftOut = srdhm16(hires, p.outMultiplier16);
    // "reluish" = clamp(x / 3, −1, 1) on a 2^15 scale, shifted with saturation.
    int16_t reluish = hires;
    if (p.reluishExponent > 0) reluish = saturatingLeftShift16(reluish, p.reluishExponent - 1);
    reluish = srdhm16(reluish, p.reluishMultiplier16);
    if (p.reluishExponent > 0) reluish = saturatingLeftShift16(reluish, 1);
    if (p.reluishExponent < 0) reluish = static_cast<int16_t>(roundingDivideByPOT(reluish, -p.reluishExponent));
    reluish = static_cast<int16_t>((int32_t(reluish) + (1 << 15)) >> 1);  // [−1, 1] → [0, 1]
    const int16_t pre = sdhm16(reluish, preshiftOut);
    int32_t o = roundingDivideByPOT(pre, -p.outExponent) + p.outZeroPoint;
    out[i] = saturate8(o);
  }
}

// ------------------------------------------------------------------ data movement

void quantizeRef(size_t n, float scale, int32_t zeroPoint, const float* in, int8_t* out) {
  for (size_t i = 0; i < n; ++i) {
    // Bounded before the int conversion (same result inside int32; NaN goes to the
    // bottom like x86's conversion of NaN to INT32_MIN).
    const float r = std::fmin(std::fmax(std::round(in[i] / scale), -1e6f), 1e6f);
    out[i] = saturate8(static_cast<int32_t>(r) + zeroPoint);
  }
}

void dequantizeRef(size_t n, float scale, int32_t zeroPoint, const int8_t* in, float* out) {
  const double s = scale;
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(s * (int32_t(in[i]) - zeroPoint));
}

void padRef(const std::vector<int>& inShape, const int pads[4][2], int8_t value, const int8_t* in, int8_t* out) {
  const int N = inShape[0], H = inShape[1], W = inShape[2], C = inShape[3];
  const int ON = N + pads[0][0] + pads[0][1], OH = H + pads[1][0] + pads[1][1];
  const int OW = W + pads[2][0] + pads[2][1], OC = C + pads[3][0] + pads[3][1];
  std::memset(out, static_cast<unsigned char>(value), size_t(ON) * OH * OW * OC);
  for (int n = 0; n < N; ++n)
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        int8_t* dst = out + ((size_t(n + pads[0][0]) * OH + y + pads[1][0]) * OW + x + pads[2][0]) * OC + pads[3][0];
        std::memcpy(dst, in + ((size_t(n) * H + y) * W + x) * C, size_t(C));
      }
}

void concatRef(size_t outer, const std::vector<ConcatInput>& inputs, float outScale, int32_t outZeroPoint,
               int8_t* out) {
  const float inverseOut = 1.0f / outScale;
  for (size_t o = 0; o < outer; ++o)
    for (const ConcatInput& k : inputs) {
      const int8_t* src = k.data + o * k.chunk;
      if (k.scale == outScale && k.zeroPoint == outZeroPoint) {
        std::memcpy(out, src, k.chunk);
      } else {
        const float scale = k.scale * inverseOut;
        const float bias = static_cast<float>(-k.zeroPoint) * scale;
        for (size_t i = 0; i < k.chunk; ++i)
          out[i] = saturate8(static_cast<int32_t>(std::round(float(src[i]) * scale + bias)) + outZeroPoint);
      }
      out += k.chunk;
    }
}

}  // namespace kernels
}  // namespace qat::deploy
