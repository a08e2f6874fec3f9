#include "engine/train/loss.h"

#include <algorithm>
#include <cmath>

namespace qat {
namespace {

constexpr double kEps = 1e-7;  // Keras backend epsilon

// log(softmax(z))_k for one row, stable: z_k − max − log Σ exp(z − max).
void logSoftmaxRow(const float* z, int c, double* out) {
  const float m = *std::max_element(z, z + c);
  double s = 0;
  for (int i = 0; i < c; ++i) s += std::exp(static_cast<double>(z[i] - m));
  const double lse = std::log(s);
  for (int i = 0; i < c; ++i) out[i] = static_cast<double>(z[i] - m) - lse;
}

double categorical(const LossSpec& spec, const Tensor& pred, const int* labels, const Tensor* onehot,
                   Tensor& grad) {
  const int n = pred.dim(0);
  const int c = static_cast<int>(pred.size() / static_cast<size_t>(n));
  const double invN = 1.0 / n;
  double total = 0;
#pragma omp parallel for reduction(+ : total) if (n >= 256)
  for (int r = 0; r < n; ++r) {
    const float* p = pred.data() + static_cast<size_t>(r) * c;
    float* g = grad.data() + static_cast<size_t>(r) * c;
    const float* y = onehot ? onehot->data() + static_cast<size_t>(r) * c : nullptr;
    auto target = [&](int i) { return y ? static_cast<double>(y[i]) : (i == labels[r] ? 1.0 : 0.0); };
    if (spec.fromLogits) {
      std::vector<double> ls(static_cast<size_t>(c));
      logSoftmaxRow(p, c, ls.data());
      double ysum = 0;
      for (int i = 0; i < c; ++i) ysum += target(i);
      for (int i = 0; i < c; ++i) {
        total -= target(i) * ls[static_cast<size_t>(i)];
        // d/dz of −Σ y log softmax(z) = softmax(z)·Σy − y
        g[i] = static_cast<float>((std::exp(ls[static_cast<size_t>(i)]) * ysum - target(i)) * invN);
      }
    } else {
      for (int i = 0; i < c; ++i) {
        const double t = target(i);
        const double pc = std::clamp(static_cast<double>(p[i]), kEps, 1.0 - kEps);
        total -= t * std::log(pc);
        g[i] = static_cast<float>(-t / pc * invN);
      }
    }
  }
  return total * invN;
}

double binary(const LossSpec& spec, const Tensor& pred, const Tensor& t, Tensor& grad) {
  const size_t m = pred.size();
  const double invN = 1.0 / pred.dim(0);
  const double perRow = static_cast<double>(m) / pred.dim(0);  // Keras averages over the last axis
  double total = 0;
  for (size_t i = 0; i < m; ++i) {
    const double y = t[i];
    if (spec.fromLogits) {
      const double z = pred[i];
      // max(z,0) − z·y + log(1 + exp(−|z|))
      total += std::max(z, 0.0) - z * y + std::log1p(std::exp(-std::abs(z)));
      const double s = z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z));
      grad[i] = static_cast<float>((s - y) * invN / perRow);
    } else {
      const double p = std::clamp(static_cast<double>(pred[i]), kEps, 1.0 - kEps);
      total -= y * std::log(p) + (1 - y) * std::log(1 - p);
      grad[i] = static_cast<float>((-(y / p) + (1 - y) / (1 - p)) * invN / perRow);
    }
  }
  return total * invN / perRow;
}

double mse(const Tensor& pred, const Tensor& t, Tensor& grad) {
  const size_t m = pred.size();
  const double inv = 1.0 / static_cast<double>(m);
  double total = 0;
  for (size_t i = 0; i < m; ++i) {
    const double d = static_cast<double>(pred[i]) - t[i];
    total += d * d;
    grad[i] = static_cast<float>(2.0 * d * inv);
  }
  return total * inv;
}

struct NamedLoss {
  std::string_view name;
  LossKind kind;
};
constexpr NamedLoss kLossNames[] = {
    {"sparse_categorical_crossentropy", LossKind::SparseCategoricalCrossentropy},
    {"categorical_crossentropy", LossKind::CategoricalCrossentropy},
    {"binary_crossentropy", LossKind::BinaryCrossentropy},
    {"mean_squared_error", LossKind::MeanSquaredError},
    {"mse", LossKind::MeanSquaredError},
};

}  // namespace

std::string_view lossName(LossKind k) {
  for (const auto& e : kLossNames)
    if (e.kind == k) return e.name;
  return "?";
}

std::optional<LossKind> lossFromName(std::string_view name) {
  for (const auto& e : kLossNames)
    if (e.name == name) return e.kind;
  return std::nullopt;
}

double computeLoss(const LossSpec& spec, const Tensor& pred, const std::vector<int>& labels,
                   const Tensor& targets, Tensor& grad) {
  grad.resize(pred.shape());
  switch (spec.kind) {
    case LossKind::SparseCategoricalCrossentropy:
      QAT_ASSERT(labels.size() == static_cast<size_t>(pred.dim(0)));
      return categorical(spec, pred, labels.data(), nullptr, grad);
    case LossKind::CategoricalCrossentropy:
      QAT_ASSERT(targets.size() == pred.size());
      return categorical(spec, pred, nullptr, &targets, grad);
    case LossKind::BinaryCrossentropy:
      QAT_ASSERT(targets.size() == pred.size());
      return binary(spec, pred, targets, grad);
    case LossKind::MeanSquaredError:
      QAT_ASSERT(targets.size() == pred.size());
      return mse(pred, targets, grad);
  }
  return 0;
}

}  // namespace qat
