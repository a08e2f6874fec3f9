#pragma once
// Test quantizers for the layers that quantize weights (QuantizeWrapper, FoldedBatchNorm).
//
// StepQuantizer: an independent, per-tensor fake quantizer with a fixed range [lo, hi] and
// step h: q(x) = lo + round((clamp(x, lo, hi) − lo) / h)·h, straight-through gradient inside
// [lo, hi]. Its arithmetic is written here, apart from engine/quant, so the layer tests do
// not depend on the quantizer code they sit on.
//
// SurrogateQuantizer: makes a gradient check through a quantized layer meaningful. Finite
// differences through rounding measure the steps of the staircase, not the
// straight-through estimator (STE) the layer implements. The surrogate wraps any quantizer
// and, at the first forward, records x0, q(x0) and the reference's STE mask
// m = ∂STE(x0) (obtained from its backward); afterwards it computes the affine function
//   q̃(x) = q(x0) + m ⊙ (x − x0)
// which equals the real quantizer at x0 and whose exact derivative is the STE there. A
// layer whose backward is right gives gradients that match finite differences of the
// surrogate-quantized layer, and match the real quantizer's analytic gradients at x0.
#include <cmath>
#include <memory>

#include "engine/quant/quantizer.h"

namespace qat::test {

class StepQuantizer : public quant::Quantizer {
 public:
  StepQuantizer(float lo, float hi, float step) : Quantizer(spec()), lo_(lo), hi_(hi), step_(step) {}
  std::unique_ptr<Quantizer> clone() const override { return std::make_unique<StepQuantizer>(*this); }
  Status build(int channels, const std::string&) override {
    channels_ = channels;
    return {};
  }
  float apply(float x) const {
    const float c = std::fmin(std::fmax(x, lo_), hi_);
    return lo_ + std::round((c - lo_) / step_) * step_;
  }
  bool inside(float x) const { return x >= lo_ && x <= hi_; }
  void forward(const Tensor& x, Tensor& y, const RunContext& ctx) override {
    y.resize(x.shape());
    for (size_t i = 0; i < x.size(); ++i) y[i] = ctx.fakeQuant ? apply(x[i]) : x[i];
  }
  void backward(const Tensor& x, const Tensor& dy, Tensor& dx, const RunContext& ctx) override {
    dx.resize(x.shape());
    for (size_t i = 0; i < x.size(); ++i) dx[i] = (!ctx.fakeQuant || inside(x[i])) ? dy[i] : 0.0f;
  }
  std::vector<quant::Grid> grids() const override { return {}; }

 private:
  static quant::QuantizerSpec spec() {
    quant::QuantizerSpec s;
    s.type = "TestStep";
    return s;
  }
  float lo_, hi_, step_;
};

class SurrogateQuantizer : public quant::Quantizer {
 public:
  explicit SurrogateQuantizer(std::unique_ptr<Quantizer> ref) : Quantizer(ref->spec()), ref_(std::move(ref)) {}
  SurrogateQuantizer(const SurrogateQuantizer& o)
      : Quantizer(o), ref_(o.ref_->clone()), recorded_(o.recorded_), x0_(o.x0_), q0_(o.q0_), mask_(o.mask_) {}
  std::unique_ptr<Quantizer> clone() const override { return std::make_unique<SurrogateQuantizer>(*this); }
  Status build(int channels, const std::string& prefix) override {
    channels_ = channels;
    return ref_->build(channels, prefix);
  }
  void forward(const Tensor& x, Tensor& y, const RunContext& ctx) override {
    if (!recorded_) {
      ref_->forward(x, q0_, ctx);
      Tensor ones(x.shape(), 1.0f);
      ref_->backward(x, ones, mask_, ctx);
      x0_ = x;
      recorded_ = true;
    }
    y.resize(x.shape());
    for (size_t i = 0; i < x.size(); ++i) y[i] = q0_[i] + mask_[i] * (x[i] - x0_[i]);
  }
  void backward(const Tensor& x, const Tensor& dy, Tensor& dx, const RunContext&) override {
    dx.resize(x.shape());
    for (size_t i = 0; i < x.size(); ++i) dx[i] = mask_[i] * dy[i];
  }
  std::vector<quant::Grid> grids() const override { return ref_->grids(); }

  // Entries whose STE gradient is zero (outside the range) and those passed through.
  int blocked() const {
    int n = 0;
    for (size_t i = 0; i < mask_.size(); ++i) n += mask_[i] == 0.0f;
    return n;
  }
  int passed() const { return static_cast<int>(mask_.size()) - blocked(); }
  // Entries where q(x0) differs from x0 (rounding actually happened).
  int rounded() const {
    int n = 0;
    for (size_t i = 0; i < q0_.size(); ++i) n += q0_[i] != x0_[i];
    return n;
  }

 private:
  std::unique_ptr<Quantizer> ref_;
  bool recorded_ = false;
  Tensor x0_, q0_, mask_;
};

// Largest |a − b| / (atol + rtol·scale) over the tensors, with `scale` the largest |b|
// (errors relative to the tensor's magnitude): ≤ 1 passes. Used for "equal up to float rounding" comparisons.
inline double worstRatio(const Tensor& a, const Tensor& b, double rtol, double atol = 0.0) {
  if (a.size() != b.size()) return 1e30;
  double scale = 0;
  for (size_t i = 0; i < b.size(); ++i) scale = std::fmax(scale, std::fabs(b[i]));
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double err = std::fabs(static_cast<double>(a[i]) - b[i]);
    worst = std::fmax(worst, err / (atol + rtol * scale + 1e-30));
  }
  return worst;
}

}  // namespace qat::test

namespace qat::test {

inline quant::QuantizerSpec quantSpec(const std::string& type, int bits, bool perAxis, bool symmetric,
                                      bool narrowRange, std::optional<float> initMin = std::nullopt,
                                      std::optional<float> initMax = std::nullopt) {
  quant::QuantizerSpec s;
  s.type = type;
  s.bits = bits;
  s.perAxis = perAxis;
  s.symmetric = symmetric;
  s.narrowRange = narrowRange;
  s.initMin = initMin;
  s.initMax = initMax;
  return s;
}

// One layer call on a single input (din resized to x's shape).
inline void fwd(Layer& l, const Tensor& x, Tensor& y, const RunContext& ctx) {
  const Tensor* p = &x;
  l.forward(TensorList(&p, 1), y, ctx);
}
inline void bwd(Layer& l, const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx, const RunContext& ctx) {
  const Tensor* p = &x;
  dx.resize(x.shape());
  Tensor* d = &dx;
  l.backward(TensorList(&p, 1), y, dy, GradList(&d, 1), ctx);
}
inline void zeroGrads(Layer& l) {
  for (Param* p : l.params())
    if (p->trainable) p->grad.zero();
}

// A built-in quantizer from the registry (the spec must be valid).
inline std::unique_ptr<quant::Quantizer> realQuantizer(const quant::QuantizerSpec& spec) {
  auto q = quant::makeQuantizer(spec);
  QAT_ASSERT(q.ok());
  return std::move(q.value());
}

// y = fake-quantized x with the quantizer's current grids (channel i % grids.size()).
inline Tensor fakeQuantWith(const quant::Quantizer& q, const Tensor& x) {
  Tensor y(x.shape());
  const std::vector<quant::Grid> g = q.grids();
  quant::fakeQuantForward(x.data(), y.data(), x.size(), g);
  return y;
}

}  // namespace qat::test
