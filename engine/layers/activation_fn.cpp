#include "engine/layers/activation_fn.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace qat {
namespace {

struct NamedFn {
  std::string_view name;
  ActivationFn fn;
};
constexpr std::array<NamedFn, 13> kNames = {{
    {"linear", ActivationFn::Linear},   {"relu", ActivationFn::Relu},
    {"relu6", ActivationFn::Relu6},     {"sigmoid", ActivationFn::Sigmoid},
    {"tanh", ActivationFn::Tanh},       {"softmax", ActivationFn::Softmax},
    {"swish", ActivationFn::Swish},     {"silu", ActivationFn::Swish},
    {"hard_sigmoid", ActivationFn::HardSigmoid}, {"elu", ActivationFn::Elu},
    {"selu", ActivationFn::Selu},       {"gelu", ActivationFn::Gelu},
    {"softplus", ActivationFn::Softplus},
}};

constexpr float kSeluAlpha = 1.6732632423543772f;
constexpr float kSeluScale = 1.0507009873554805f;

inline float sigmoid(float x) {
  // Stable for large |x|: never exp of a large positive number.
  if (x >= 0) return 1.0f / (1.0f + std::exp(-x));
  float e = std::exp(x);
  return e / (1.0f + e);
}
inline float softplus(float x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

void softmaxRows(const float* x, float* y, size_t n, int lastDim) {
  const size_t rows = n / static_cast<size_t>(lastDim);
#pragma omp parallel for if (rows > 256)
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * lastDim;
    float* yr = y + r * lastDim;
    float m = *std::max_element(xr, xr + lastDim);
    float s = 0;
    for (int i = 0; i < lastDim; ++i) s += (yr[i] = std::exp(xr[i] - m));
    float inv = 1.0f / s;
    for (int i = 0; i < lastDim; ++i) yr[i] *= inv;
  }
}

}  // namespace

std::string_view activationName(ActivationFn f) {
  for (const auto& e : kNames)
    if (e.fn == f) return e.name;
  return "linear";
}

std::optional<ActivationFn> activationFromName(std::string_view name) {
  for (const auto& e : kNames)
    if (e.name == name) return e.fn;
  return std::nullopt;
}

void activationForward(ActivationFn f, const float* x, float* y, size_t n, int lastDim) {
  switch (f) {
    case ActivationFn::Linear:
      if (x != y) std::copy(x, x + n, y);
      return;
    case ActivationFn::Softmax:
      softmaxRows(x, y, n, lastDim);
      return;
    default:
      break;
  }
#pragma omp parallel for simd if (n > 65536)
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i];
    float r = v;
    switch (f) {
      case ActivationFn::Relu: r = v > 0 ? v : 0; break;
      case ActivationFn::Relu6: r = std::min(std::max(v, 0.0f), 6.0f); break;
      case ActivationFn::Sigmoid: r = sigmoid(v); break;
      case ActivationFn::Tanh: r = std::tanh(v); break;
      case ActivationFn::Swish: r = v * sigmoid(v); break;
      case ActivationFn::HardSigmoid: r = std::min(std::max(0.2f * v + 0.5f, 0.0f), 1.0f); break;
      case ActivationFn::Elu: r = v > 0 ? v : std::expm1(v); break;
      case ActivationFn::Selu: r = kSeluScale * (v > 0 ? v : kSeluAlpha * std::expm1(v)); break;
      case ActivationFn::Gelu: r = 0.5f * v * (1.0f + std::erf(v * 0.70710678118654752f)); break;
      case ActivationFn::Softplus: r = softplus(v); break;
      default: break;
    }
    y[i] = r;
  }
}

void activationBackward(ActivationFn f, const float* x, const float* y, const float* dy,
                        float* dx, size_t n, int lastDim) {
  if (f == ActivationFn::Linear) {
    if (dx != dy) std::copy(dy, dy + n, dx);
    return;
  }
  if (f == ActivationFn::Softmax) {
    // dx = y * (dy - sum(dy * y)) per row.
    const size_t rows = n / static_cast<size_t>(lastDim);
#pragma omp parallel for if (rows > 256)
    for (size_t r = 0; r < rows; ++r) {
      const float* yr = y + r * lastDim;
      const float* gr = dy + r * lastDim;
      float* dr = dx + r * lastDim;
      float dot = 0;
      for (int i = 0; i < lastDim; ++i) dot += gr[i] * yr[i];
      for (int i = 0; i < lastDim; ++i) dr[i] = yr[i] * (gr[i] - dot);
    }
    return;
  }
#pragma omp parallel for simd if (n > 65536)
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float o = y[i];
    float d = 1.0f;
    switch (f) {
      case ActivationFn::Relu: d = v > 0 ? 1.0f : 0.0f; break;
      case ActivationFn::Relu6: d = (v > 0 && v < 6) ? 1.0f : 0.0f; break;
      case ActivationFn::Sigmoid: d = o * (1.0f - o); break;
      case ActivationFn::Tanh: d = 1.0f - o * o; break;
      case ActivationFn::Swish: {
        float s = sigmoid(v);
        d = s * (1.0f + v * (1.0f - s));
        break;
      }
      case ActivationFn::HardSigmoid: d = (v > -2.5f && v < 2.5f) ? 0.2f : 0.0f; break;
      case ActivationFn::Elu: d = v > 0 ? 1.0f : o + 1.0f; break;
      case ActivationFn::Selu: d = v > 0 ? kSeluScale : o + kSeluScale * kSeluAlpha; break;
      case ActivationFn::Gelu: {
        const float cdf = 0.5f * (1.0f + std::erf(v * 0.70710678118654752f));
        const float pdf = 0.3989422804014327f * std::exp(-0.5f * v * v);
        d = cdf + v * pdf;
        break;
      }
      case ActivationFn::Softplus: d = sigmoid(v); break;
      default: break;
    }
    dx[i] = dy[i] * d;
  }
}

}  // namespace qat
