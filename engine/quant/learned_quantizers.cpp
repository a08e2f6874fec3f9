// Learned quantizers: the grid's range or step size is a trainable parameter.
//
// LearnedRange: trainable min/max (prefix_min, prefix_max), set from the first updating
//   batch unless given; gradients as TensorFlow's FakeQuantWithMinMaxVarsGradient:
//     dL/dmin = Σ dL/dy over x < nudgedMin,   dL/dmax = Σ dL/dy over x > nudgedMax
//   (through the symmetric map by the chain rule when spec().symmetric).
//
// LSQ (Esser et al. 2020, "Learned Step Size Quantization"): trainable step size s per
//   channel (prefix_step_size) on the grid v̂ = (clamp(round(v/s), −Qn, Qp))·s, where
//   Qn = zp − qmin and Qp = qmax − zp. Symmetric: zp = 2^(b−1), so Qn = 2^(b−1)
//   (2^(b−1) − 1 narrow) and Qp = 2^(b−1) − 1: the paper's signed grid. Not symmetric: zp is
//   fixed at initialisation from the first batch's range (0 for non-negative data: the
//   paper's unsigned grid Qn = 0, Qp = 2^b − 1) and kept as state (prefix_zero_point).
//     ∂v̂/∂s = round(v/s) − v/s inside, −Qn below, Qp above      (paper eq. 3)
//     dL/ds = g · Σ dL/dv̂ · ∂v̂/∂s,  g = 1/sqrt(N·Qp)               (paper §2.2)
//   N is the number of elements sharing the step size in the tensor quantized (all of a
//   weight tensor's channel; for activations that count includes the batch).
//   Initial s = 2·mean|v| / sqrt(Qp) over the first updating batch (paper §2.1).
#include <algorithm>
#include <cmath>

#include "engine/quant/quant_kernels.h"
#include "engine/quant/range_quantizers.h"

namespace qat::quant {
namespace {

// ------------------------------------------------------------------ LearnedRange

class LearnedRangeQuantizer final : public RangeQuantizer {
 public:
  explicit LearnedRangeQuantizer(QuantizerSpec s) : RangeQuantizer(std::move(s), -6.0f, 6.0f, true) {}
  std::unique_ptr<Quantizer> clone() const override { return std::make_unique<LearnedRangeQuantizer>(*this); }

 protected:
  // Only the first batch sets the range; training moves it afterwards.
  bool observesBatch() const override { return !initialized(); }
  void observe(const float* bmin, const float* bmax) override {
    std::copy_n(bmin, channels_, min_.value.data());
    std::copy_n(bmax, channels_, max_.value.data());
  }

  void accumulateStateGrad(const Tensor& x, const Tensor& dy) override {
    const size_t C = static_cast<size_t>(channels_);
    gLo_.assign(C, 0.0f);
    gHi_.assign(C, 0.0f);
    // Gradients w.r.t. the bounds of the grid's range [lo', hi'] ...
    fakeQuantRangeGrad(x.data(), dy.data(), x.size(), lastGrids(), gLo_.data(), gHi_.data());
    float* dmin = min_.grad.data();
    float* dmax = max_.grad.data();
    for (size_t c = 0; c < C; ++c) {
      const float lo = min_.value[c], hi = max_.value[c];
      if (!spec_.symmetric) {  // lo' = min, hi' = max
        dmin[c] += gLo_[c];
        dmax[c] += gHi_[c];
      } else if (spec_.narrowRange) {
        // ... lo' = −a, hi' = a, a = max(|min|, |max|): da = gHi − gLo to the larger bound.
        const float da = gHi_[c] - gLo_[c];
        if (std::abs(lo) >= std::abs(hi))
          dmin[c] += lo < 0 ? -da : da;
        else
          dmax[c] += hi < 0 ? -da : da;
      } else {
        // ... makeSymmetric's ratio form, r = (2^(b−1) − 1)/2^(b−1):
        //   lo < −hi/r: lo' = lo, hi' = −r·lo;   else lo' = −hi/r, hi' = hi.
        const float half = static_cast<float>(1 << (spec_.bits - 1));
        const float r = (half - 1.0f) / half;
        if (lo < -hi / r)
          dmin[c] += gLo_[c] - r * gHi_[c];
        else
          dmax[c] += gHi_[c] - gLo_[c] / r;
      }
    }
  }

 private:
  std::vector<float> gLo_, gHi_;
};

// ------------------------------------------------------------------ LSQ

constexpr float kMinStep = 1e-8f;  // the step size never reaches 0 (the optimizer may try)

class LsqQuantizer final : public Quantizer {
 public:
  explicit LsqQuantizer(QuantizerSpec s) : Quantizer(std::move(s)) {}
  std::unique_ptr<Quantizer> clone() const override { return std::make_unique<LsqQuantizer>(*this); }

  Status build(int channels, const std::string& prefix) override {
    if (channels < 1)
      return makeError("LSQ quantizer '" + prefix + "': channels must be positive, got " + std::to_string(channels));
    const int c = spec_.perAxis ? channels : 1;
    const Shape shape{c};
    step_.name = prefix + "_step_size";
    zeroPoint_.name = prefix + "_zero_point";
    initialized_.name = prefix + "_initialized";
    step_.trainable = true;
    zeroPoint_.trainable = initialized_.trainable = false;
    if (step_.grad.shape() != shape) step_.grad = Tensor(shape);
    if (c == channels_ && step_.value.shape() == shape && zeroPoint_.value.shape() == shape &&
        initialized_.value.size() == 1)
      return {};
    channels_ = c;
    // The given range, or ±6 (tfmot's start), fixes s and zp until the first batch.
    const bool given = spec_.initMin && spec_.initMax;
    float lo = given ? *spec_.initMin : -6.0f, hi = given ? *spec_.initMax : 6.0f;
    if (spec_.symmetric || !given) makeSymmetric(lo, hi, spec_.bits, spec_.narrowRange);
    const Grid g = nudgedGrid(lo, hi, spec_.bits, spec_.narrowRange);
    step_.value = Tensor(shape, g.scale);
    zeroPoint_.value = Tensor(shape, static_cast<float>(spec_.symmetric ? half() : g.zeroPoint));
    initialized_.value = Tensor(Shape{1}, given || spec_.tfmotInit ? 1.0f : 0.0f);
    grids_.clear();
    return {};
  }

  void forward(const Tensor& x, Tensor& y, const RunContext& ctx) override {
    QAT_ASSERT(channels_ > 0);
    const size_t n = x.size(), C = static_cast<size_t>(channels_);
    QAT_ASSERT(n % C == 0);
    if (ctx.updatesRanges() && n > 0 && initialized_.value[0] == 0.0f) initializeFrom(x);
    if (&y != &x) y.resize(x.shape());
    if (!ctx.fakeQuant) {
      if (&y != &x) std::copy_n(x.data(), n, y.data());
      return;
    }
    grids_ = grids();
    fakeQuantForward(x.data(), y.data(), n, grids_);
  }

  void backward(const Tensor& x, const Tensor& dy, Tensor& dx, const RunContext& ctx) override {
    const size_t n = x.size(), C = static_cast<size_t>(channels_);
    QAT_ASSERT(dy.size() == n);
    if (&dx != &dy) dx.resize(x.shape());
    if (!ctx.fakeQuant) {
      if (&dx != &dy) std::copy_n(dy.data(), n, dx.data());
      return;
    }
    if (grids_.size() != C) grids_ = grids();
    // dL/ds before dx is written (dx may alias dy). yq = v̂ recomputed.
    yq_.resize(n);
    fakeQuantForward(x.data(), yq_.data(), n, grids_);
    acc_.assign(C, 0.0);
    const float* xp = x.data();
    const float* g = dy.data();
    const size_t rows = n / C;
    for (size_t r = 0; r < rows; ++r) {
      const size_t base = r * C;
      for (size_t c = 0; c < C; ++c) {
        const Grid& gr = grids_[c];
        const size_t i = base + c;
        float d;  // ∂v̂/∂s
        if (xp[i] < gr.nudgedMin)
          d = static_cast<float>(gr.qmin - gr.zeroPoint);  // −Qn
        else if (xp[i] > gr.nudgedMax)
          d = static_cast<float>(gr.qmax - gr.zeroPoint);  // Qp
        else
          d = (yq_[i] - xp[i]) / gr.scale;  // round(v/s) − v/s
        acc_[c] += static_cast<double>(g[i]) * d;
      }
    }
    for (size_t c = 0; c < C; ++c) {
      const double qp = std::max(grids_[c].qmax - grids_[c].zeroPoint, 1);
      const double gs = 1.0 / std::sqrt(static_cast<double>(std::max<size_t>(rows, 1)) * qp);
      step_.grad[c] += static_cast<float>(acc_[c] * gs);
    }
    fakeQuantBackward(x.data(), dy.data(), dx.data(), n, grids_);
  }

  std::vector<Param*> state() override { return {&step_, &zeroPoint_, &initialized_}; }

  std::vector<Grid> grids() const override {
    std::vector<Grid> gs(static_cast<size_t>(channels_));
    const int qmin = spec_.narrowRange ? 1 : 0, qmax = (1 << spec_.bits) - 1;
    for (size_t c = 0; c < gs.size(); ++c) {
      float s = std::max(step_.value[c], kMinStep);
      if (std::isnan(s)) s = kMinStep;
      if (spec_.pow2Scale) {
        int e = 0;
        if (std::frexp(s, &e) != 0.5f) s = std::ldexp(1.0f, e);
      }
      Grid& g = gs[c];
      g.qmin = qmin;
      g.qmax = qmax;
      g.scale = s;
      g.zeroPoint = std::clamp(static_cast<int>(std::lround(zeroPoint_.value[c])), qmin, qmax);
      g.nudgedMin = static_cast<float>(qmin - g.zeroPoint) * s;
      g.nudgedMax = static_cast<float>(qmax - g.zeroPoint) * s;
    }
    return gs;
  }

 private:
  int half() const { return 1 << (spec_.bits - 1); }

  // Paper §2.1: s = 2·mean|v| / sqrt(Qp) per channel; zp from the batch's range unless
  // symmetric. An all-zero channel keeps its current step.
  void initializeFrom(const Tensor& x) {
    const size_t n = x.size(), C = static_cast<size_t>(channels_);
    std::vector<double> meanAbs(C);
    channelMeanAbs(x.data(), n, C, meanAbs.data());
    std::vector<float> bmin(C), bmax(C);
    if (!spec_.symmetric) channelMinMax(x.data(), n, C, bmin.data(), bmax.data());
    const int qmin = spec_.narrowRange ? 1 : 0, qmax = (1 << spec_.bits) - 1;
    for (size_t c = 0; c < C; ++c) {
      const int zp = spec_.symmetric ? half() : nudgedGrid(bmin[c], bmax[c], spec_.bits, spec_.narrowRange).zeroPoint;
      int qp = qmax - zp;
      if (qp == 0) qp = zp - qmin;  // all data ≤ 0: size the step by the negative side
      zeroPoint_.value[c] = static_cast<float>(zp);
      const double s = 2.0 * meanAbs[c] / std::sqrt(static_cast<double>(qp));
      if (s > kMinStep && std::isfinite(s)) step_.value[c] = static_cast<float>(s);
    }
    initialized_.value[0] = 1.0f;
  }

  Param step_, zeroPoint_, initialized_;
  std::vector<Grid> grids_;  // the grids of the last forward
  std::vector<float> yq_;
  std::vector<double> acc_;
};

}  // namespace

Expected<std::unique_ptr<Quantizer>> makeLearnedRangeQuantizer(const QuantizerSpec& spec) {
  QAT_TRY(validateSpec(spec));
  QAT_TRY(checkExtraKeys(spec, {}));
  return std::unique_ptr<Quantizer>(std::make_unique<LearnedRangeQuantizer>(spec));
}

Expected<std::unique_ptr<Quantizer>> makeLsqQuantizer(const QuantizerSpec& spec) {
  QAT_TRY(validateSpec(spec));
  QAT_TRY(checkExtraKeys(spec, {}));
  return std::unique_ptr<Quantizer>(std::make_unique<LsqQuantizer>(spec));
}

}  // namespace qat::quant
