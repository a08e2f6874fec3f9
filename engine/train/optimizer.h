#pragma once
// Optimizers over a fixed list of trainable Params. State (momentum, Adam moments) is
// kept per parameter in the order given at construction.
//   SGD (Keras):  v ← μ·v − lr·g;  p ← p + v   (Nesterov: p ← p + μ·v − lr·g)
//   Adam:         m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
//                 p ← p − lr·√(1−β2ᵗ)/(1−β1ᵗ) · m / (√v + ε)          (Keras form)
//   AdamW:        Adam plus decoupled decay p ← p − lr·λ·p
// weightDecay for SGD/Adam is coupled L2: g ← g + λ·p.
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "engine/layers/layer.h"

namespace qat {

enum class OptimizerKind { SGD, Adam, AdamW };

struct OptimizerSpec {
  OptimizerKind kind = OptimizerKind::Adam;
  float learningRate = 1e-3f;
  float momentum = 0.0f;  // SGD
  bool nesterov = false;  // SGD
  float beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-7f;
  float weightDecay = 0.0f;  // L2 for SGD/Adam, decoupled for AdamW (default 0.004 there)
};

std::string_view optimizerName(OptimizerKind k);
std::optional<OptimizerKind> optimizerFromName(std::string_view name);  // "sgd", "adam", "adamw"

class Optimizer {
 public:
  Optimizer(OptimizerSpec spec, std::vector<Param*> params);
  // One update with learning rate `lr` (from the schedule) using the accumulated grads.
  void step(float lr);
  const OptimizerSpec& spec() const { return spec_; }
  long iterations() const { return t_; }

 private:
  OptimizerSpec spec_;
  std::vector<Param*> params_;
  std::vector<FloatBuffer> m_, v_;  // momentum / first moment, second moment
  long t_ = 0;
};

enum class ScheduleKind { Constant, Step, Cosine };

struct ScheduleSpec {
  ScheduleKind kind = ScheduleKind::Constant;
  int stepSize = 1000;      // Step: multiply by gamma every stepSize steps
  float gamma = 0.1f;
  int warmupSteps = 0;      // Cosine: linear warm-up from 0 over these steps
  float minFactor = 0.0f;   // Cosine: final lr = base · minFactor
};

std::optional<ScheduleKind> scheduleFromName(std::string_view name);  // constant|step|cosine

// Learning rate at 0-based `step` of `totalSteps`.
float scheduledRate(const ScheduleSpec& s, float base, long step, long totalSteps);

}  // namespace qat
