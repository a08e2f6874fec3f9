// Float-based rounding modes' kernels (see int_kernels_float.h for what each computes).
// No floating-point contraction in this file: the runtimes emulated here round every
// product before adding it (Arm NN's reference workloads), or use an explicit fused
// multiply-add where they do (std::fma below, MLAS' QLinearAdd).
#pragma GCC optimize("fp-contract=off")

#include "engine/deploy/int_kernels_float.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace qat::deploy::kernels {
namespace {

inline int8_t clampAct(int32_t v, ActRange a) { return static_cast<int8_t>(std::min(a.max, std::max(a.min, v))); }

// Output channel of weight element i in each layout (0 conv OHWI, 1 depthwise [KH, KW, OC],
// 2 FC (units, depth)).
int channelOf(int kind, size_t i, const ConvShape& s, int fcDepth) {
  if (kind == 1) return static_cast<int>(i % size_t(s.OC));
  if (kind == 2) return static_cast<int>(i / size_t(fcDepth));
  return static_cast<int>(i / (size_t(s.KH) * s.KW * s.C));
}

int32_t quantizeHalfEvenOrAway(float v, float scale, int32_t zeroPoint, bool halfEven);
inline int32_t quantizeOut(float v, const DequantConv& p) {
  return quantizeHalfEvenOrAway(v, p.outScale, p.outZeroPoint, p.halfEven);
}

float scaleAt(const std::vector<float>& v, int c) { return v.size() == 1 ? v[0] : v[size_t(c)]; }

// Arm NN's element-wise functions (backends/reference/workloads/Activation.cpp) in float.
float armnnUnary(UnaryFn fn, float alpha, float x) {
  switch (fn) {
    case UnaryFn::Identity: return x;
    case UnaryFn::Relu: return std::max(0.0f, x);
    case UnaryFn::Relu6: return std::min(6.0f, std::max(0.0f, x));
    case UnaryFn::LeakyRelu: return x > 0.0f ? x : x * alpha;
    case UnaryFn::Logistic: return 1.0f / (1.0f + std::exp(-x));
    case UnaryFn::Tanh: return std::tanh(x);
    case UnaryFn::HardSwish: return x * std::min(std::max(x + 3.0f, 0.0f), 6.0f) / 6.0f;
    case UnaryFn::LogisticMlas: {
      // MLAS' logistic (MlasLogisticKernelFma3): x clamped to [−18, 18], p/q + 1/2 with odd
      // and even polynomials in x² (Eigen's coefficients) evaluated with fused multiply-adds.
      const float v = std::min(18.0f, std::max(-18.0f, x)), v2 = v * v;
      float p = std::fma(v2, 4.37031012579801e-11f, 1.15627324459942e-07f);
      p = std::fma(p, v2, 6.08574864600143e-05f);
      p = std::fma(p, v2, 8.51377133304701e-03f);
      p = std::fma(p, v2, 2.48287947061529e-01f);
      p = p * v;
      float q = std::fma(v2, 6.10247389755681e-13f, 5.76102136993427e-09f);
      q = std::fma(q, v2, 6.29106785017040e-06f);
      q = std::fma(q, v2, 1.70198817374094e-03f);
      q = std::fma(q, v2, 1.16817656904453e-01f);
      q = std::fma(q, v2, 9.93151921023180e-01f);
      return std::min(1.0f, std::max(0.0f, p / q + 0.5f));
    }
    case UnaryFn::HardSwishOnnx: return x * std::max(0.0f, std::min(1.0f, (1.0f / 6.0f) * x + 0.5f));
  }
  return x;
}

}  // namespace

int32_t quantizeHalfAway(float v, float scale, int32_t zeroPoint) {
  // armnn::Quantize: round(value / scale) + offset in float, clamped, converted.
  const float r = std::round(v / scale) + static_cast<float>(zeroPoint);
  return static_cast<int32_t>(std::min(127.0f, std::max(-128.0f, r)));
}

int32_t quantizeHalfEven(float v, float scale, int32_t zeroPoint) {
  return roundHalfEvenClamped(v / scale, -128, 127, zeroPoint);
}

namespace {
int32_t quantizeHalfEvenOrAway(float v, float scale, int32_t zeroPoint, bool halfEven) {
  return halfEven ? quantizeHalfEven(v, scale, zeroPoint) : quantizeHalfAway(v, scale, zeroPoint);
}
}  // namespace

DequantConv makeDequantConv(int kind, const ConvShape& s, int fcDepth, int fcUnits, const std::vector<int8_t>& w,
                            const std::vector<float>& wScales, const std::vector<int32_t>& bias,
                            const std::vector<float>& bScales, float inScale, int32_t inZp, float outScale,
                            int32_t outZp, ActRange act) {
  DequantConv p;
  p.inScale = inScale;
  p.inZeroPoint = inZp;
  p.outScale = outScale;
  p.outZeroPoint = outZp;
  p.act = act;
  p.w.resize(w.size());
  for (size_t i = 0; i < w.size(); ++i)
    p.w[i] = static_cast<float>(w[i]) * scaleAt(wScales, channelOf(kind, i, s, fcDepth));
  const int channels = kind == 2 ? fcUnits : s.OC;
  p.bias.resize(bias.size());
  for (size_t c = 0; c < bias.size(); ++c) {
    const float sb = bScales.empty() ? inScale * scaleAt(wScales, int(c)) : scaleAt(bScales, int(c));
    p.bias[c] = static_cast<float>(bias[c]) * sb;
  }
  if (kind == 0) {  // (c, ky, kx) taps by OC
    const size_t taps = size_t(s.C) * s.KH * s.KW;
    p.wT.resize(taps * size_t(channels));
    for (int oc = 0; oc < channels; ++oc)
      for (int ky = 0; ky < s.KH; ++ky)
        for (int kx = 0; kx < s.KW; ++kx)
          for (int c = 0; c < s.C; ++c)
            p.wT[((size_t(c) * s.KH + ky) * s.KW + kx) * channels + oc] =
                p.w[((size_t(oc) * s.KH + ky) * s.KW + kx) * s.C + c];
  } else if (kind == 2) {  // (depth, units)
    p.wT.resize(size_t(fcDepth) * fcUnits);
    for (int u = 0; u < fcUnits; ++u)
      for (int d = 0; d < fcDepth; ++d) p.wT[size_t(d) * fcUnits + u] = p.w[size_t(u) * fcDepth + d];
  }
  return p;
}

// ------------------------------------------------------------------ scalar reference

void convDequantRef(const ConvShape& s, const DequantConv& p, const int8_t* in, int8_t* out) {
  for (int n = 0; n < s.N; ++n)
    for (int oy = 0; oy < s.OH; ++oy)
      for (int ox = 0; ox < s.OW; ++ox)
        for (int oc = 0; oc < s.OC; ++oc) {
          const int iy0 = oy * s.strideH - s.padTop, ix0 = ox * s.strideW - s.padLeft;
          float sum = 0.0f;
          for (int c = 0; c < s.C; ++c)
            for (int ky = 0; ky < s.KH; ++ky) {
              const int iy = iy0 + ky * s.dilationH;
              if (iy < 0 || iy >= s.H) continue;
              for (int kx = 0; kx < s.KW; ++kx) {
                const int ix = ix0 + kx * s.dilationW;
                if (ix < 0 || ix >= s.W) continue;
                const float x = dequantizeArmnn(in[((size_t(n) * s.H + iy) * s.W + ix) * s.C + c], p.inScale,
                                                p.inZeroPoint);
                sum += p.w[((size_t(oc) * s.KH + ky) * s.KW + kx) * s.C + c] * x;
              }
            }
          if (!p.bias.empty()) sum += p.bias[size_t(oc)];
          out[((size_t(n) * s.OH + oy) * s.OW + ox) * s.OC + oc] =
              clampAct(quantizeOut(sum, p), p.act);
        }
}

void depthwiseDequantRef(const ConvShape& s, const DequantConv& p, const int8_t* in, int8_t* out) {
  const int M = s.depthMultiplier;
  for (int n = 0; n < s.N; ++n)
    for (int oy = 0; oy < s.OH; ++oy)
      for (int ox = 0; ox < s.OW; ++ox)
        for (int oc = 0; oc < s.OC; ++oc) {
          const int iy0 = oy * s.strideH - s.padTop, ix0 = ox * s.strideW - s.padLeft;
          float sum = 0.0f;
          for (int ky = 0; ky < s.KH; ++ky) {
            const int iy = iy0 + ky * s.dilationH;
            if (iy < 0 || iy >= s.H) continue;
            for (int kx = 0; kx < s.KW; ++kx) {
              const int ix = ix0 + kx * s.dilationW;
              if (ix < 0 || ix >= s.W) continue;
              const float x = dequantizeArmnn(in[((size_t(n) * s.H + iy) * s.W + ix) * s.C + oc / M], p.inScale,
                                              p.inZeroPoint);
              sum += p.w[(size_t(ky) * s.KW + kx) * s.OC + oc] * x;
            }
          }
          if (!p.bias.empty()) sum += p.bias[size_t(oc)];
          out[((size_t(n) * s.OH + oy) * s.OW + ox) * s.OC + oc] =
              clampAct(quantizeOut(sum, p), p.act);
        }
}

void fullyConnectedDequantRef(int rows, int depth, int units, const DequantConv& p, const int8_t* in, int8_t* out) {
  for (int b = 0; b < rows; ++b)
    for (int u = 0; u < units; ++u) {
      float sum = 0.0f;
      for (int d = 0; d < depth; ++d)
        sum += p.w[size_t(u) * depth + d] * dequantizeArmnn(in[size_t(b) * depth + d], p.inScale, p.inZeroPoint);
      if (!p.bias.empty()) sum += p.bias[size_t(u)];
      out[size_t(b) * units + u] = clampAct(quantizeOut(sum, p), p.act);
    }
}

// ------------------------------------------------------------------ fast twins
// The input is dequantized once; each output's sum still runs over its taps in the
// reference order, the loops over output channels (independent sums) being the vectorised
// ones.

namespace {
void dequantizeAll(size_t n, const DequantConv& p, const int8_t* in, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = dequantizeArmnn(in[i], p.inScale, p.inZeroPoint);
}
void finishRow(const float* acc, int n, const DequantConv& p, int8_t* out) {
  for (int c = 0; c < n; ++c) {
    float v = acc[c];
    if (!p.bias.empty()) v += p.bias[size_t(c)];
    out[c] = clampAct(quantizeOut(v, p), p.act);
  }
}
}  // namespace

void convDequantFast(const ConvShape& s, const DequantConv& p, const int8_t* in, int8_t* out, std::vector<float>& scratch) {
  const size_t inN = size_t(s.N) * s.H * s.W * s.C;
  scratch.resize(inN + size_t(s.OC));
  float* xf = scratch.data();
  float* __restrict acc = xf + inN;
  dequantizeAll(inN, p, in, xf);
  const int OC = s.OC;
  for (int n = 0; n < s.N; ++n)
    for (int oy = 0; oy < s.OH; ++oy)
      for (int ox = 0; ox < s.OW; ++ox) {
        const int iy0 = oy * s.strideH - s.padTop, ix0 = ox * s.strideW - s.padLeft;
        std::fill(acc, acc + OC, 0.0f);
        for (int c = 0; c < s.C; ++c)
          for (int ky = 0; ky < s.KH; ++ky) {
            const int iy = iy0 + ky * s.dilationH;
            if (iy < 0 || iy >= s.H) continue;
            for (int kx = 0; kx < s.KW; ++kx) {
              const int ix = ix0 + kx * s.dilationW;
              if (ix < 0 || ix >= s.W) continue;
              const float x = xf[((size_t(n) * s.H + iy) * s.W + ix) * s.C + c];
              const float* __restrict w = p.wT.data() + ((size_t(c) * s.KH + ky) * s.KW + kx) * OC;
              for (int oc = 0; oc < OC; ++oc) acc[oc] += w[oc] * x;
            }
          }
        finishRow(acc, OC, p, out + ((size_t(n) * s.OH + oy) * s.OW + ox) * OC);
      }
}

void depthwiseDequantFast(const ConvShape& s, const DequantConv& p, const int8_t* in, int8_t* out,
                          std::vector<float>& scratch) {
  const size_t inN = size_t(s.N) * s.H * s.W * s.C;
  const int OC = s.OC, M = s.depthMultiplier;
  scratch.resize(inN + 2 * size_t(OC));
  float* xf = scratch.data();
  float* __restrict acc = xf + inN;
  float* __restrict xs = acc + OC;  // the input value each output channel reads
  dequantizeAll(inN, p, in, xf);
  for (int n = 0; n < s.N; ++n)
    for (int oy = 0; oy < s.OH; ++oy)
      for (int ox = 0; ox < s.OW; ++ox) {
        const int iy0 = oy * s.strideH - s.padTop, ix0 = ox * s.strideW - s.padLeft;
        std::fill(acc, acc + OC, 0.0f);
        for (int ky = 0; ky < s.KH; ++ky) {
          const int iy = iy0 + ky * s.dilationH;
          if (iy < 0 || iy >= s.H) continue;
          for (int kx = 0; kx < s.KW; ++kx) {
            const int ix = ix0 + kx * s.dilationW;
            if (ix < 0 || ix >= s.W) continue;
            const float* x = xf + ((size_t(n) * s.H + iy) * s.W + ix) * s.C;
            const float* __restrict w = p.w.data() + (size_t(ky) * s.KW + kx) * OC;
            if (M == 1) {
              for (int oc = 0; oc < OC; ++oc) acc[oc] += w[oc] * x[oc];
            } else {
              for (int oc = 0; oc < OC; ++oc) xs[oc] = x[oc / M];
              for (int oc = 0; oc < OC; ++oc) acc[oc] += w[oc] * xs[oc];
            }
          }
        }
        finishRow(acc, OC, p, out + ((size_t(n) * s.OH + oy) * s.OW + ox) * OC);
      }
}

void fullyConnectedDequantFast(int rows, int depth, int units, const DequantConv& p, const int8_t* in, int8_t* out,
                               std::vector<float>& scratch) {
  scratch.resize(size_t(depth) + size_t(units));
  float* xf = scratch.data();
  float* __restrict acc = xf + depth;
  for (int b = 0; b < rows; ++b) {
    dequantizeAll(size_t(depth), p, in + size_t(b) * depth, xf);
    std::fill(acc, acc + units, 0.0f);
    for (int d = 0; d < depth; ++d) {
      const float x = xf[d];
      const float* __restrict w = p.wT.data() + size_t(d) * units;
      for (int u = 0; u < units; ++u) acc[u] += w[u] * x;
    }
    finishRow(acc, units, p, out + size_t(b) * units);
  }
}

// ------------------------------------------------------------------ pooling, mean, softmax

void avgPoolDequant(const PoolShape& s, const PoolQuant& q, ActRange act, RoundingMode mode, const int8_t* in,
                    int8_t* out) {
  if (mode == RoundingMode::FloatMultiplierHalfEven && s.KH == s.H && s.KW == s.W && s.OH == 1 && s.OW == 1 &&
      s.padTop == 0 && s.padLeft == 0) {
    // A window over the whole unpadded image: onnxruntime's QLinearAveragePool falls back to
    // MLAS' global average pool, an exact integer sum Σ(q − zp_in) times the float
    // s_in / (s_out · count), clamped and rounded half to even.
    const int pixels = s.H * s.W;
    const float m = q.inScale / (q.outScale * static_cast<float>(pixels));
    for (int n = 0; n < s.N; ++n)
      for (int c = 0; c < s.C; ++c) {
        int32_t acc = -q.inZeroPoint * pixels;
        for (int i = 0; i < pixels; ++i) acc += in[(size_t(n) * pixels + i) * s.C + c];
        out[size_t(n) * s.C + c] =
            clampAct(roundHalfEvenClamped(static_cast<float>(acc) * m, -128, 127, q.outZeroPoint), act);
      }
    return;
  }
  for (int n = 0; n < s.N; ++n)
    for (int oy = 0; oy < s.OH; ++oy)
      for (int ox = 0; ox < s.OW; ++ox)
        for (int c = 0; c < s.C; ++c) {
          const int iy0 = oy * s.strideH - s.padTop, ix0 = ox * s.strideW - s.padLeft;
          const int ky0 = std::max(0, -iy0), ky1 = std::min(s.KH, s.H - iy0);
          const int kx0 = std::max(0, -ix0), kx1 = std::min(s.KW, s.W - ix0);
          float sum = 0.0f;
          for (int ky = ky0; ky < ky1; ++ky)
            for (int kx = kx0; kx < kx1; ++kx)
              sum += dequantizeArmnn(in[((size_t(n) * s.H + iy0 + ky) * s.W + ix0 + kx) * s.C + c], q.inScale,
                                     q.inZeroPoint);
          const int count = std::max(0, ky1 - ky0) * std::max(0, kx1 - kx0);
          if (count > 0) sum /= static_cast<float>(count);
          int32_t v;
          if (mode == RoundingMode::FloatMultiplierHalfEven)  // on the uint8 grid, see kOnnxGridShift
            v = static_cast<int32_t>(std::fmax(0.0f, std::fmin(std::nearbyint(sum / q.outScale +
                                                                               float(q.outZeroPoint + kOnnxGridShift)),
                                                               255.0f))) -
                kOnnxGridShift;
          else if (mode == RoundingMode::FloatDequantizedHalfEven)
            v = quantizeHalfEven(sum, q.outScale, q.outZeroPoint);
          else
            v = quantizeHalfAway(sum, q.outScale, q.outZeroPoint);
          out[((size_t(n) * s.OH + oy) * s.OW + ox) * s.C + c] = clampAct(v, act);
        }
}

void meanDequant(int N, int pixels, int C, const MeanParams& p, bool halfEven, const int8_t* in, int8_t* out) {
  std::vector<float> sum(static_cast<size_t>(C));
  for (int n = 0; n < N; ++n) {
    std::fill(sum.begin(), sum.end(), 0.0f);
    const int8_t* x = in + size_t(n) * pixels * C;
    for (int i = 0; i < pixels; ++i)
      for (int c = 0; c < C; ++c) sum[size_t(c)] += dequantizeArmnn(x[size_t(i) * C + c], p.inScale, p.inZeroPoint);
    for (int c = 0; c < C; ++c) {
      const float v = sum[size_t(c)] / static_cast<float>(pixels);
      out[size_t(n) * C + c] = static_cast<int8_t>(halfEven ? quantizeHalfEven(v, p.outScale, p.outZeroPoint)
                                                            : quantizeHalfAway(v, p.outScale, p.outZeroPoint));
    }
  }
}

void softmaxDequant(int rows, int depth, float inScale, int32_t inZp, float beta, float outScale, int32_t outZp,
                    bool halfEven, const int8_t* in, int8_t* out) {
  std::vector<float> e(static_cast<size_t>(depth));
  for (int r = 0; r < rows; ++r) {
    const int8_t* x = in + size_t(r) * depth;
    float mx = dequantizeArmnn(x[0], inScale, inZp);
    for (int c = 1; c < depth; ++c) mx = std::max(mx, dequantizeArmnn(x[c], inScale, inZp));
    float sum = 0.0f;
    for (int c = 0; c < depth; ++c) {
      e[size_t(c)] = std::exp((dequantizeArmnn(x[c], inScale, inZp) - mx) * beta);
      sum += e[size_t(c)];
    }
    for (int c = 0; c < depth; ++c)
      out[size_t(r) * depth + c] = static_cast<int8_t>(halfEven ? quantizeHalfEven(e[size_t(c)] / sum, outScale, outZp)
                                                                : quantizeHalfAway(e[size_t(c)] / sum, outScale, outZp));
  }
}

std::vector<float> makeSoftmaxTableOnnx(float inScale, int depth) {
  const double headroom = std::log(static_cast<double>(std::numeric_limits<float>::max() / static_cast<float>(depth)));
  const double shift = std::max(0.0, headroom - 5.0) / static_cast<double>(inScale);
  std::vector<float> table(256);
  for (int d = 0; d <= 255; ++d)  // d = max − q
    table[size_t(d)] = static_cast<float>(std::exp((static_cast<double>(-d) + shift) * static_cast<double>(inScale)));
  return table;
}

void softmaxOnnx(int rows, int depth, const std::vector<float>& table, float outScale, int32_t outZp, const int8_t* in,
                 int8_t* out) {
  const float yScale = std::floor(1.0f / outScale);
  for (int r = 0; r < rows; ++r) {
    const int8_t* x = in + size_t(r) * depth;
    int32_t mx = -128;
    for (int c = 0; c < depth; ++c) mx = std::max(mx, int32_t(x[c]));
    float sum = 0.0f;
    for (int c = 0; c < depth; ++c) sum += table[size_t(mx - x[c])];
    for (int c = 0; c < depth; ++c) {
      const int32_t v = static_cast<int32_t>(std::nearbyint(table[size_t(mx - x[c])] * yScale / sum)) + outZp;
      out[size_t(r) * depth + c] = static_cast<int8_t>(std::min(127, std::max(-128, v)));
    }
  }
}

// ------------------------------------------------------------------ element-wise

void binaryFloat(size_t n, const BinaryFloatParams& p, const int8_t* a, const int8_t* b, int8_t* out) {
  // onnxruntime has no fused kernel for Sub (nor any without graph optimizations):
  // DequantizeLinear, a float op, QuantizeLinear.
  const bool halfEven = p.mode != RoundingMode::FloatDequantizedHalfAway;
  if (p.mode != RoundingMode::FloatMultiplierHalfEven || p.op == 1) {
    for (size_t i = 0; i < n; ++i) {
      const float x = dequantizeArmnn(a[i], p.s1, p.zp1), y = dequantizeArmnn(b[i], p.s2, p.zp2);
      const float v = p.op == 0 ? x + y : p.op == 1 ? x - y : x * y;
      out[i] = clampAct(halfEven ? quantizeHalfEven(v, p.sOut, p.zpOut) : quantizeHalfAway(v, p.sOut, p.zpOut), p.act);
    }
    return;
  }
  // onnxruntime (MLAS, AVX2): QLinearAdd forms r1 = s1/s_out, r2 = s2/s_out and
  // fixed = zp_out − (r1·zp1 + r2·zp2) in float, then per element
  // fma(a, r1, fma(b, r2, fixed)) rounded half to even and saturated. QLinearMul:
  // (a − zp1)·(b − zp2) as an integer product times s1·s2/s_out, rounded half to even.
  if (p.op == 2) {
    const float m = p.s1 * p.s2 / p.sOut;
    for (size_t i = 0; i < n; ++i) {
      const int32_t prod = (int32_t(a[i]) - p.zp1) * (int32_t(b[i]) - p.zp2);
      out[i] = clampAct(roundHalfEvenClamped(static_cast<float>(prod) * m, -128, 127, p.zpOut), p.act);
    }
    return;
  }
  // QLinearAdd on the uint8 grid (see kOnnxGridShift): every value and zero point + 128.
  constexpr int32_t g = kOnnxGridShift;
  const float r1 = p.s1 / p.sOut, r2 = p.s2 / p.sOut;
  const float fixed = static_cast<float>(p.zpOut + g) -
                      (r1 * static_cast<float>(p.zp1 + g) + r2 * static_cast<float>(p.zp2 + g));
  for (size_t i = 0; i < n; ++i) {
    const float v = std::fma(static_cast<float>(a[i] + g), r1, std::fma(static_cast<float>(b[i] + g), r2, fixed));
    out[i] = clampAct(roundHalfEvenClamped(v, 0, 255, 0) - g, p.act);
  }
}

std::vector<int8_t> makeFloatTable(UnaryFn fn, float alpha, float inScale, int32_t inZp, float outScale, int32_t outZp,
                                   ActRange act, bool halfEven) {
  std::vector<int8_t> table(256);
  for (int32_t q = -128; q <= 127; ++q) {
    const float y = armnnUnary(fn, alpha, dequantizeArmnn(q, inScale, inZp));
    const int32_t v = halfEven ? quantizeHalfEven(y, outScale, outZp) : quantizeHalfAway(y, outScale, outZp);
    table[static_cast<uint8_t>(static_cast<int8_t>(q))] = clampAct(v, act);
  }
  return table;
}

}  // namespace qat::deploy::kernels
