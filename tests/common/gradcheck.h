#pragma once
// Finite-difference gradient checks for layers and whole models (no Qt needed).
//
// The scalar checked is L = Σ out ⊙ w for fixed random weights w, so every output
// element contributes with its own weight. Central differences in float32 with
// step `eps`; the loss is summed in double. An element passes when
//   |analytic − numeric| <= atol + rtol · max(|analytic|, |numeric|).
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "engine/graph/executor.h"
#include "engine/layers/layer.h"

namespace qat::test {

struct GradCheckOptions {
  float eps = 1e-2f;
  double rtol = 2e-2;
  double atol = 2e-3;
  bool training = true;
  uint64_t seed = 1234;  // rng reseeded before every forward (dropout masks repeat)
};

struct GradCheckResult {
  bool ok = true;
  int checked = 0;
  std::string worst;  // description of the worst element
  double worstExcess = -1;
};

inline void fillUniform(Tensor& t, Rng& rng, float lo = -1.0f, float hi = 1.0f) {
  for (size_t i = 0; i < t.size(); ++i) t[i] = rng.uniform(lo, hi);
}

namespace detail {
inline void record(GradCheckResult& r, const std::string& what, size_t idx, double a, double n,
                   const GradCheckOptions& o) {
  ++r.checked;
  const double excess = std::abs(a - n) - (o.atol + o.rtol * std::max(std::abs(a), std::abs(n)));
  if (excess > r.worstExcess) {
    r.worstExcess = excess;
    r.worst = what + "[" + std::to_string(idx) + "] analytic " + std::to_string(a) + " numeric " +
              std::to_string(n);
  }
  if (excess > 0) r.ok = false;
}
}  // namespace detail

// Checks dL/d(inputs) and dL/d(trainable params) of one layer. `inputs` are batched.
// The layer must already be built for the inputs' per-sample shapes.
inline GradCheckResult gradCheckLayer(Layer& layer, std::vector<Tensor> inputs,
                                      GradCheckOptions opt = {}) {
  Rng rng(opt.seed);
  RunContext ctx{opt.training, &rng};
  auto ptrs = [&]() {
    std::vector<const Tensor*> p;
    for (auto& t : inputs) p.push_back(&t);
    return p;
  };
  Tensor out;
  auto loss = [&](const Tensor& w) {
    rng = Rng(opt.seed);
    layer.forward(ptrs(), out, ctx);
    double l = 0;
    for (size_t i = 0; i < out.size(); ++i) l += static_cast<double>(out[i]) * w[i];
    return l;
  };
  // Output weights, drawn once.
  rng = Rng(opt.seed);
  layer.forward(ptrs(), out, ctx);
  Tensor w(out.shape());
  Rng wrng(opt.seed + 1);
  fillUniform(w, wrng);

  // Analytic gradients.
  for (Param* p : layer.params())
    if (p->trainable) p->grad.zero();
  std::vector<Tensor> din(inputs.size());
  std::vector<Tensor*> dptr;
  for (size_t i = 0; i < inputs.size(); ++i) {
    din[i].resize(inputs[i].shape());
    dptr.push_back(&din[i]);
  }
  loss(w);
  layer.backward(ptrs(), out, w, dptr, ctx);

  GradCheckResult r;
  auto numeric = [&](float& v) {
    const float saved = v;
    v = saved + opt.eps;
    const double lp = loss(w);
    v = saved - opt.eps;
    const double lm = loss(w);
    v = saved;
    return (lp - lm) / (2.0 * opt.eps);
  };
  for (size_t k = 0; k < inputs.size(); ++k)
    for (size_t i = 0; i < inputs[k].size(); ++i)
      detail::record(r, "input" + std::to_string(k), i, din[k][i], numeric(inputs[k][i]), opt);
  for (Param* p : layer.params()) {
    if (!p->trainable) continue;
    Tensor analytic = p->grad;
    for (size_t i = 0; i < p->value.size(); ++i)
      detail::record(r, p->name, i, analytic[i], numeric(p->value[i]), opt);
  }
  return r;
}

// Builds `layer` for the per-sample shapes of `inputs` (batched) and checks it.
inline GradCheckResult buildAndCheck(Layer& layer, std::vector<Tensor> inputs,
                                     GradCheckOptions opt = {}) {
  std::vector<Shape> shapes;
  for (auto& t : inputs) shapes.push_back(t.shape().withoutBatch());
  auto s = layer.build(shapes);
  if (!s.ok()) return GradCheckResult{false, 0, "build failed: " + s.error().message, 1};
  Rng init(opt.seed + 7);
  layer.initialize(init);
  // Non-zero biases etc. so that their gradients are exercised in a generic state.
  for (Param* p : layer.params())
    if (p->trainable)
      for (size_t i = 0; i < p->value.size(); ++i) p->value[i] += init.uniform(-0.1f, 0.1f);
  return gradCheckLayer(layer, std::move(inputs), opt);
}

// Whole-model check of trainable parameters through the Executor (fan-out, multi-input).
inline GradCheckResult gradCheckModel(Model& model, std::vector<Tensor> inputs,
                                      GradCheckOptions opt = {}) {
  Executor ex(model);
  Rng rng(opt.seed);
  RunContext ctx{opt.training, &rng};
  std::vector<const Tensor*> in;
  for (auto& t : inputs) in.push_back(&t);
  rng = Rng(opt.seed);
  auto outs = ex.forward(in, ctx);
  std::vector<Tensor> w;
  Rng wrng(opt.seed + 1);
  for (auto* o : outs) {
    w.emplace_back(o->shape());
    fillUniform(w.back(), wrng);
  }
  auto loss = [&]() {
    rng = Rng(opt.seed);
    auto o = ex.forward(in, ctx);
    double l = 0;
    for (size_t k = 0; k < o.size(); ++k)
      for (size_t i = 0; i < o[k]->size(); ++i) l += static_cast<double>((*o[k])[i]) * w[k][i];
    return l;
  };
  model.zeroGrad();
  loss();
  std::vector<const Tensor*> wp;
  for (auto& t : w) wp.push_back(&t);
  ex.backward(wp, ctx);
  GradCheckResult r;
  for (Param* p : model.trainableParams()) {
    Tensor analytic = p->grad;
    for (size_t i = 0; i < p->value.size(); ++i) {
      const float saved = p->value[i];
      p->value[i] = saved + opt.eps;
      const double lp = loss();
      p->value[i] = saved - opt.eps;
      const double lm = loss();
      p->value[i] = saved;
      detail::record(r, p->name, i, analytic[i], (lp - lm) / (2.0 * opt.eps), opt);
    }
  }
  return r;
}

}  // namespace qat::test
