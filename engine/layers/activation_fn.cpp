#include "engine/layers/activation_fn.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "engine/kernels/elementwise.h"

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

inline float gelu(float x) { return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f)); }

// Gelu keeps a scalar loop: Eigen 3.4 has no vectorised erf in its core module.
template <class F>
void mapScalar(const float* x, float* y, size_t n, F f) {
  kern::parallelChunks(n, [&](size_t b, size_t m) {
    for (size_t i = b; i < b + m; ++i) y[i] = f(x[i]);
  });
}

void softmaxRows(const float* x, float* y, size_t n, int lastDim) {
  const size_t rows = n / static_cast<size_t>(lastDim), L = static_cast<size_t>(lastDim);
#pragma omp parallel for if (rows > 256)
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * L;
    float* yr = y + r * L;
    float m = *std::max_element(xr, xr + L);
    float s = 0;
    for (size_t i = 0; i < L; ++i) s += (yr[i] = std::exp(xr[i] - m));
    float inv = 1.0f / s;
    for (size_t i = 0; i < L; ++i) yr[i] *= inv;
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

// Eigen array expressions per function, each SIMD over a chunk (see kernels/elementwise.h).
// Overflow-safe forms: logistic() is Eigen's rational approximation (exact limits, no
// exp of large arguments); softplus = max(x, 0) + log1p(e^−|x|); exp only ever sees
// min(x, 0) in the ELU family.
void activationForward(ActivationFn f, const float* x, float* y, size_t n, int lastDim) {
  using kern::mapArray;
  switch (f) {
    case ActivationFn::Linear:
      if (x != y) std::copy(x, x + n, y);
      return;
    case ActivationFn::Softmax:
      softmaxRows(x, y, n, lastDim);
      return;
    case ActivationFn::Relu:
      return mapArray(x, y, n, [](auto v, auto o) { o = v.max(0.0f); });
    case ActivationFn::Relu6:
      return mapArray(x, y, n, [](auto v, auto o) { o = v.max(0.0f).min(6.0f); });
    case ActivationFn::Sigmoid:
      return mapArray(x, y, n, [](auto v, auto o) { o = v.logistic(); });
    case ActivationFn::Tanh:
      return mapArray(x, y, n, [](auto v, auto o) { o = v.tanh(); });
    case ActivationFn::Swish:
      return mapArray(x, y, n, [](auto v, auto o) { o = v * v.logistic(); });
    case ActivationFn::HardSigmoid:  // tf.keras 2.x: clip(0.2x + 0.5, 0, 1)
      return mapArray(x, y, n, [](auto v, auto o) { o = (0.2f * v + 0.5f).max(0.0f).min(1.0f); });
    case ActivationFn::Elu:  // alpha = 1
      // max(x, 0) + (e^min(x, 0) − 1): x for x > 0, eˣ − 1 otherwise, without a select.
      return mapArray(x, y, n,
                      [](auto v, auto o) { o = v.max(0.0f) + (v.min(0.0f).exp() - 1.0f); });
    case ActivationFn::Selu:
      return mapArray(x, y, n, [](auto v, auto o) {
        o = kSeluScale * (v.max(0.0f) + kSeluAlpha * (v.min(0.0f).exp() - 1.0f));
      });
    case ActivationFn::Gelu:  // exact (approximate=False, the Keras default)
      return mapScalar(x, y, n, [](float v) { return gelu(v); });
    case ActivationFn::Softplus:
      return mapArray(x, y, n, [](auto v, auto o) {
        o = v.max(0.0f) + (-v.abs()).exp().log1p();
      });
  }
}

void activationBackward(ActivationFn f, const float* x, const float* y, const float* dy,
                        float* dx, size_t n, int lastDim) {
  using kern::mapArray2;
  switch (f) {
    case ActivationFn::Linear:
      if (dx != dy) std::copy(dy, dy + n, dx);
      return;
    case ActivationFn::Softmax: {
      // dx = y * (dy - sum(dy * y)) per row.
      const size_t rows = n / static_cast<size_t>(lastDim), L = static_cast<size_t>(lastDim);
#pragma omp parallel for if (rows > 256)
      for (size_t r = 0; r < rows; ++r) {
        const float* yr = y + r * L;
        const float* gr = dy + r * L;
        float* dr = dx + r * L;
        float dot = 0;
        for (size_t i = 0; i < L; ++i) dot += gr[i] * yr[i];
        for (size_t i = 0; i < L; ++i) dr[i] = yr[i] * (gr[i] - dot);
      }
      return;
    }
    case ActivationFn::Relu:
      return mapArray2(x, dy, dx, n, [](auto v, auto g, auto d) { d = (v > 0.0f).select(g, 0.0f); });
    case ActivationFn::Relu6:
      return mapArray2(x, dy, dx, n, [](auto v, auto g, auto d) {
        d = (v > 0.0f && v < 6.0f).select(g, 0.0f);
      });
    case ActivationFn::Sigmoid:  // σ' = y (1 − y)
      return mapArray2(y, dy, dx, n, [](auto o, auto g, auto d) { d = g * o * (1.0f - o); });
    case ActivationFn::Tanh:  // 1 − y²
      return mapArray2(y, dy, dx, n, [](auto o, auto g, auto d) { d = g * (1.0f - o * o); });
    case ActivationFn::Swish:  // d/dx x·σ(x) = σ(x) · (1 + x · (1 − σ(x)))
      // σ is evaluated twice rather than stored: a temporary would cost a heap array.
      return mapArray2(x, dy, dx, n, [](auto v, auto g, auto d) {
        d = g * v.logistic() * (1.0f + v * (1.0f - v.logistic()));
      });
    case ActivationFn::HardSigmoid:
      return mapArray2(x, dy, dx, n, [](auto v, auto g, auto d) {
        d = (v > -2.5f && v < 2.5f).select(0.2f * g, 0.0f);
      });
    case ActivationFn::Elu:  // 1 for x > 0, eˣ otherwise: both are e^min(x, 0)
      return mapArray2(x, dy, dx, n, [](auto v, auto g, auto d) { d = g * v.min(0.0f).exp(); });
    case ActivationFn::Selu:  // x <= 0: scale·alpha·eˣ
      // (Eigen 3.4's select() has no SIMD path, so this one runs scalar.)
      return mapArray2(x, dy, dx, n, [](auto v, auto g, auto d) {
        d = kSeluScale * (v > 0.0f).select(g, kSeluAlpha * g * v.min(0.0f).exp());
      });
    case ActivationFn::Gelu:  // Φ(x) + x·φ(x)
      kern::parallelChunks(n, [&](size_t b, size_t m) {
        for (size_t i = b; i < b + m; ++i) {
          const float v = x[i];
          const float cdf = 0.5f * (1.0f + std::erf(v * 0.70710678118654752f));
          const float pdf = 0.3989422804014327f * std::exp(-0.5f * v * v);
          dx[i] = dy[i] * (cdf + v * pdf);
        }
      });
      return;
    case ActivationFn::Softplus:  // σ(x)
      return mapArray2(x, dy, dx, n, [](auto v, auto g, auto d) { d = g * v.logistic(); });
  }
}

}  // namespace qat
