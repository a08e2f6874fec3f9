#include "engine/train/optimizer.h"

#include <cmath>
#include <numbers>

namespace qat {

std::string_view optimizerName(OptimizerKind k) {
  switch (k) {
    case OptimizerKind::SGD: return "sgd";
    case OptimizerKind::Adam: return "adam";
    case OptimizerKind::AdamW: return "adamw";
  }
  return "?";
}

std::optional<OptimizerKind> optimizerFromName(std::string_view n) {
  if (n == "sgd" || n == "SGD") return OptimizerKind::SGD;
  if (n == "adam" || n == "Adam") return OptimizerKind::Adam;
  if (n == "adamw" || n == "AdamW") return OptimizerKind::AdamW;
  return std::nullopt;
}

Optimizer::Optimizer(OptimizerSpec spec, std::vector<Param*> params)
    : spec_(spec), params_(std::move(params)) {
  for (Param* p : params_) {
    m_.emplace_back(p->value.size(), 0.0f);
    if (spec_.kind != OptimizerKind::SGD) v_.emplace_back(p->value.size(), 0.0f);
  }
}

void Optimizer::step(float lr) {
  ++t_;
  const float wd = spec_.weightDecay;
  for (size_t k = 0; k < params_.size(); ++k) {
    float* p = params_[k]->value.data();
    const float* g = params_[k]->grad.data();
    float* m = m_[k].data();
    const long n = static_cast<long>(params_[k]->value.size());
    if (spec_.kind == OptimizerKind::SGD) {
      const float mu = spec_.momentum;
      const bool nesterov = spec_.nesterov;
#pragma omp parallel for simd if (n > 65536)
      for (long i = 0; i < n; ++i) {
        const float gi = g[i] + wd * p[i];
        if (mu == 0.0f) {
          p[i] -= lr * gi;
          continue;
        }
        m[i] = mu * m[i] - lr * gi;
        p[i] += nesterov ? mu * m[i] - lr * gi : m[i];
      }
      continue;
    }
    float* v = v_[k].data();
    const float b1 = spec_.beta1, b2 = spec_.beta2, eps = spec_.epsilon;
    const double tt = static_cast<double>(t_);
    const float lrT = static_cast<float>(lr * std::sqrt(1.0 - std::pow(b2, tt)) / (1.0 - std::pow(b1, tt)));
    const bool decoupled = spec_.kind == OptimizerKind::AdamW;
    const float l2 = decoupled ? 0.0f : wd;
    const float decay = decoupled ? lr * wd : 0.0f;
#pragma omp parallel for simd if (n > 65536)
    for (long i = 0; i < n; ++i) {
      const float gi = g[i] + l2 * p[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      p[i] -= decay * p[i] + lrT * m[i] / (std::sqrt(v[i]) + eps);
    }
  }
}

std::optional<ScheduleKind> scheduleFromName(std::string_view n) {
  if (n == "constant") return ScheduleKind::Constant;
  if (n == "step") return ScheduleKind::Step;
  if (n == "cosine") return ScheduleKind::Cosine;
  return std::nullopt;
}

float scheduledRate(const ScheduleSpec& s, float base, long step, long totalSteps) {
  switch (s.kind) {
    case ScheduleKind::Constant:
      return base;
    case ScheduleKind::Step:
      return base * std::pow(s.gamma, static_cast<float>(step / std::max(1, s.stepSize)));
    case ScheduleKind::Cosine: {
      if (step < s.warmupSteps) return base * static_cast<float>(step + 1) / static_cast<float>(s.warmupSteps);
      const long span = std::max(1L, totalSteps - s.warmupSteps);
      const double progress = std::min(1.0, static_cast<double>(step - s.warmupSteps) / span);
      const double cosv = 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
      return static_cast<float>(base * (s.minFactor + (1.0 - s.minFactor) * cosv));
    }
  }
  return base;
}

}  // namespace qat
