#include "engine/deploy/float_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace qat::deploy::fkernels {

void applyActivation(FusedActivation a, float* x, size_t n) {
  switch (a) {
    case FusedActivation::None: return;
    case FusedActivation::Relu:
      for (size_t i = 0; i < n; ++i) x[i] = std::max(x[i], 0.0f);
      return;
    case FusedActivation::Relu6:
      for (size_t i = 0; i < n; ++i) x[i] = std::min(std::max(x[i], 0.0f), 6.0f);
      return;
    case FusedActivation::ReluN1To1:
      for (size_t i = 0; i < n; ++i) x[i] = std::min(std::max(x[i], -1.0f), 1.0f);
      return;
  }
}

void conv(const kernels::ConvShape& s, const float* in, const float* filter, const float* bias, float* out,
          FusedActivation a) {
  for (int n = 0; n < s.N; ++n)
    for (int oy = 0; oy < s.OH; ++oy)
      for (int ox = 0; ox < s.OW; ++ox) {
        float* o = out + ((size_t(n) * s.OH + oy) * s.OW + ox) * s.OC;
        for (int oc = 0; oc < s.OC; ++oc) {
          const int iy0 = oy * s.strideH - s.padTop, ix0 = ox * s.strideW - s.padLeft;
          float acc = 0.0f;
          for (int ky = 0; ky < s.KH; ++ky) {
            const int iy = iy0 + ky * s.dilationH;
            if (iy < 0 || iy >= s.H) continue;
            for (int kx = 0; kx < s.KW; ++kx) {
              const int ix = ix0 + kx * s.dilationW;
              if (ix < 0 || ix >= s.W) continue;
              const float* x = in + ((size_t(n) * s.H + iy) * s.W + ix) * s.C;
              const float* w = filter + ((size_t(oc) * s.KH + ky) * s.KW + kx) * s.C;
              for (int c = 0; c < s.C; ++c) acc += w[c] * x[c];
            }
          }
          o[oc] = acc + (bias ? bias[oc] : 0.0f);
        }
        applyActivation(a, o, size_t(s.OC));
      }
}

void depthwise(const kernels::ConvShape& s, const float* in, const float* filter, const float* bias, float* out,
               FusedActivation a) {
  const int M = s.depthMultiplier;
  for (int n = 0; n < s.N; ++n)
    for (int oy = 0; oy < s.OH; ++oy)
      for (int ox = 0; ox < s.OW; ++ox) {
        float* o = out + ((size_t(n) * s.OH + oy) * s.OW + ox) * s.OC;
        for (int oc = 0; oc < s.OC; ++oc) {
          const int ic = oc / M;
          const int iy0 = oy * s.strideH - s.padTop, ix0 = ox * s.strideW - s.padLeft;
          float acc = 0.0f;
          for (int ky = 0; ky < s.KH; ++ky) {
            const int iy = iy0 + ky * s.dilationH;
            if (iy < 0 || iy >= s.H) continue;
            for (int kx = 0; kx < s.KW; ++kx) {
              const int ix = ix0 + kx * s.dilationW;
              if (ix < 0 || ix >= s.W) continue;
              acc += filter[(size_t(ky) * s.KW + kx) * s.OC + oc] * in[((size_t(n) * s.H + iy) * s.W + ix) * s.C + ic];
            }
          }
          o[oc] = acc + (bias ? bias[oc] : 0.0f);
        }
        applyActivation(a, o, size_t(s.OC));
      }
}

void fullyConnected(int rows, int depth, int units, const float* in, const float* filter, const float* bias,
                    float* out, FusedActivation a) {
  for (int r = 0; r < rows; ++r) {
    const float* x = in + size_t(r) * depth;
    float* o = out + size_t(r) * units;
    for (int u = 0; u < units; ++u) {
      const float* w = filter + size_t(u) * depth;
      float acc = 0.0f;
      for (int d = 0; d < depth; ++d) acc += w[d] * x[d];
      o[u] = acc + (bias ? bias[u] : 0.0f);
    }
    applyActivation(a, o, size_t(units));
  }
}

namespace {
template <bool kMax>
void pool(const kernels::PoolShape& s, const float* in, float* out, FusedActivation a) {
  for (int n = 0; n < s.N; ++n)
    for (int oy = 0; oy < s.OH; ++oy)
      for (int ox = 0; ox < s.OW; ++ox)
        for (int c = 0; c < s.C; ++c) {
          const int iy0 = oy * s.strideH - s.padTop, ix0 = ox * s.strideW - s.padLeft;
          const int ky0 = std::max(0, -iy0), ky1 = std::min(s.KH, s.H - iy0);
          const int kx0 = std::max(0, -ix0), kx1 = std::min(s.KW, s.W - ix0);
          float acc = kMax ? -INFINITY : 0.0f;
          int count = 0;
          for (int ky = ky0; ky < ky1; ++ky)
            for (int kx = kx0; kx < kx1; ++kx, ++count) {
              const float v = in[((size_t(n) * s.H + iy0 + ky) * s.W + ix0 + kx) * s.C + c];
              acc = kMax ? std::max(acc, v) : acc + v;
            }
          out[((size_t(n) * s.OH + oy) * s.OW + ox) * s.C + c] = kMax ? acc : acc / static_cast<float>(count);
        }
  applyActivation(a, out, size_t(s.N) * s.OH * s.OW * s.C);
}
}  // namespace

void avgPool(const kernels::PoolShape& s, const float* in, float* out, FusedActivation a) { pool<false>(s, in, out, a); }
void maxPool(const kernels::PoolShape& s, const float* in, float* out, FusedActivation a) { pool<true>(s, in, out, a); }

void mean(int N, int pixels, int C, const float* in, float* out) {
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) {
      float acc = 0.0f;
      for (int i = 0; i < pixels; ++i) acc += in[(size_t(n) * pixels + i) * C + c];
      out[size_t(n) * C + c] = acc / static_cast<float>(pixels);
    }
}

void softmax(int rows, int depth, float beta, const float* in, float* out) {
  for (int r = 0; r < rows; ++r) {
    const float* x = in + size_t(r) * depth;
    float* y = out + size_t(r) * depth;
    float mx = -INFINITY;
    for (int c = 0; c < depth; ++c) mx = std::max(mx, x[c]);
    float sum = 0.0f;
    for (int c = 0; c < depth; ++c) sum += (y[c] = std::exp((x[c] - mx) * beta));
    for (int c = 0; c < depth; ++c) y[c] /= sum;
  }
}

void binary(Binary op, size_t n, const float* a, const float* b, float* out, FusedActivation act) {
  for (size_t i = 0; i < n; ++i)
    out[i] = op == Binary::Add ? a[i] + b[i] : op == Binary::Sub ? a[i] - b[i] : a[i] * b[i];
  applyActivation(act, out, n);
}

void unary(Unary op, size_t n, float alpha, const float* in, float* out) {
  for (size_t i = 0; i < n; ++i) {
    const float x = in[i];
    switch (op) {
      case Unary::Logistic: out[i] = 1.0f / (1.0f + std::exp(-x)); break;
      case Unary::Tanh: out[i] = std::tanh(x); break;
      case Unary::Relu: out[i] = std::max(x, 0.0f); break;
      case Unary::Relu6: out[i] = std::min(std::max(x, 0.0f), 6.0f); break;
      case Unary::LeakyRelu: out[i] = x > 0.0f ? x : alpha * x; break;
      case Unary::HardSwish: out[i] = x * std::min(std::max(x + 3.0f, 0.0f), 6.0f) / 6.0f; break;
    }
  }
}

void pad(const std::vector<int>& inShape, const int pads[4][2], const float* in, float* out) {
  const int N = inShape[0], H = inShape[1], W = inShape[2], C = inShape[3];
  const int OH = H + pads[1][0] + pads[1][1], OW = W + pads[2][0] + pads[2][1], OC = C + pads[3][0] + pads[3][1];
  const int ON = N + pads[0][0] + pads[0][1];
  std::fill(out, out + size_t(ON) * OH * OW * OC, 0.0f);
  for (int n = 0; n < N; ++n)
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x)
        std::memcpy(out + ((size_t(n + pads[0][0]) * OH + y + pads[1][0]) * OW + x + pads[2][0]) * OC + pads[3][0],
                    in + ((size_t(n) * H + y) * W + x) * C, sizeof(float) * size_t(C));
}

void concat(size_t outer, const std::vector<std::pair<const float*, size_t>>& inputs, float* out) {
  for (size_t o = 0; o < outer; ++o)
    for (const auto& [data, chunk] : inputs) {
      std::memcpy(out, data + o * chunk, sizeof(float) * chunk);
      out += chunk;
    }
}

}  // namespace qat::deploy::fkernels
