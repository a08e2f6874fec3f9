// tfmot's range quantizers (QUANT_SPEC.md §2) on one shared base: the range is state, the
// grid is the nudged grid of that range, the gradient is straight-through.
//   LastValue      [min, max] = this batch's range
//   MovingAverage  m ← m − (m − batch)·(1 − decay)   (tf.assign_moving_average, no zero-debias)
//   AllValues      [min, max] = [min(min, batch min), max(max, batch max)]
//   Fixed          [min, max] = spec.initMin/initMax, never updated
// Uninitialised (no initMin/initMax and no tfmotInit): the first updating batch sets the
// range; until then the kind's default range (±6, or 0/0 for AllValues) is used.
#include "engine/quant/range_quantizers.h"

#include <algorithm>
#include <cmath>

#include "engine/quant/quant_kernels.h"

namespace qat::quant {

RangeQuantizer::RangeQuantizer(QuantizerSpec spec, float defaultMin, float defaultMax, bool trainable)
    : Quantizer(std::move(spec)), defaultMin_(defaultMin), defaultMax_(defaultMax), trainable_(trainable) {}

Status RangeQuantizer::build(int channels, const std::string& prefix) {
  if (channels < 1)
    return makeError(spec_.type + " quantizer '" + prefix + "': channels must be positive, got " +
                     std::to_string(channels));
  const int c = spec_.perAxis ? channels : 1;
  const Shape shape{c};
  min_.name = prefix + "_min";
  max_.name = prefix + "_max";
  initialized_.name = prefix + "_initialized";
  min_.trainable = max_.trainable = trainable_;
  initialized_.trainable = false;
  if (trainable_) {
    if (min_.grad.shape() != shape) min_.grad = Tensor(shape);
    if (max_.grad.shape() != shape) max_.grad = Tensor(shape);
  }
  if (c == channels_ && min_.value.shape() == shape && max_.value.shape() == shape &&
      initialized_.value.size() == 1)
    return {};  // same size: keep the learned/observed state
  channels_ = c;
  const bool given = spec_.initMin.has_value() && spec_.initMax.has_value();
  min_.value = Tensor(shape, given ? *spec_.initMin : defaultMin_);
  max_.value = Tensor(shape, given ? *spec_.initMax : defaultMax_);
  initialized_.value = Tensor(Shape{1}, given || spec_.tfmotInit ? 1.0f : 0.0f);
  grids_.clear();
  return {};
}

Grid RangeQuantizer::gridFor(size_t channel) const {
  float lo = min_.value[channel], hi = max_.value[channel];
  if (spec_.symmetric) makeSymmetric(lo, hi, spec_.bits, spec_.narrowRange);
  return nudgedGrid(lo, hi, spec_.bits, spec_.narrowRange, spec_.pow2Scale);
}

std::vector<Grid> RangeQuantizer::grids() const {
  std::vector<Grid> g(static_cast<size_t>(channels_));
  for (size_t c = 0; c < g.size(); ++c) g[c] = gridFor(c);
  return g;
}

void RangeQuantizer::refreshGrids() {
  grids_.resize(static_cast<size_t>(channels_));  // keeps its capacity: no allocation per step
  for (size_t c = 0; c < grids_.size(); ++c) grids_[c] = gridFor(c);
}

void RangeQuantizer::forward(const Tensor& x, Tensor& y, const RunContext& ctx) {
  QAT_ASSERT(channels_ > 0);  // built
  const size_t C = static_cast<size_t>(channels_), n = x.size();
  QAT_ASSERT(n % C == 0);
  if (ctx.updatesRanges() && n > 0 && observesBatch()) {
    batchMin_.resize(C);
    batchMax_.resize(C);
    channelMinMax(x.data(), n, C, batchMin_.data(), batchMax_.data());
    if (spec_.symmetric) {
      // Symmetric before the update, as tfmot does, so an EMA averages symmetric ranges.
      for (size_t c = 0; c < C; ++c) makeSymmetric(batchMin_[c], batchMax_[c], spec_.bits, spec_.narrowRange);
    }
    observe(batchMin_.data(), batchMax_.data());
    initialized_.value[0] = 1.0f;
  }
  if (&y != &x) y.resize(x.shape());
  if (!ctx.fakeQuant) {
    // The float model inside the quantized one (ranges above still learned: calibration).
    if (&y != &x) std::copy_n(x.data(), n, y.data());
    return;
  }
  refreshGrids();
  fakeQuantForward(x.data(), y.data(), n, grids_);
}

void RangeQuantizer::backward(const Tensor& x, const Tensor& dy, Tensor& dx, const RunContext& ctx) {
  QAT_ASSERT(dy.size() == x.size());
  if (&dx != &dy) dx.resize(x.shape());
  if (!ctx.fakeQuant) {
    if (&dx != &dy) std::copy_n(dy.data(), dy.size(), dx.data());
    return;
  }
  if (grids_.size() != static_cast<size_t>(channels_)) refreshGrids();
  // State gradients first: they read dy, which dx may alias.
  accumulateStateGrad(x, dy);
  fakeQuantBackward(x.data(), dy.data(), dx.data(), x.size(), grids_);
}

namespace {

// tfmot LastValueQuantizer: the range of the batch (weights: the current kernel).
class LastValueQuantizer final : public RangeQuantizer {
 public:
  explicit LastValueQuantizer(QuantizerSpec s) : RangeQuantizer(std::move(s), -6.0f, 6.0f, false) {}
  std::unique_ptr<Quantizer> clone() const override { return std::make_unique<LastValueQuantizer>(*this); }

 protected:
  void observe(const float* bmin, const float* bmax) override {
    std::copy_n(bmin, channels_, min_.value.data());
    std::copy_n(bmax, channels_, max_.value.data());
  }
};

// tfmot MovingAverageQuantizer: exponential moving average of the batch ranges.
class MovingAverageQuantizer final : public RangeQuantizer {
 public:
  explicit MovingAverageQuantizer(QuantizerSpec s) : RangeQuantizer(std::move(s), -6.0f, 6.0f, false) {}
  std::unique_ptr<Quantizer> clone() const override { return std::make_unique<MovingAverageQuantizer>(*this); }

 protected:
  void observe(const float* bmin, const float* bmax) override {
    float* lo = min_.value.data();
    float* hi = max_.value.data();
    if (!initialized()) {  // the first batch's range, then the average
      std::copy_n(bmin, channels_, lo);
      std::copy_n(bmax, channels_, hi);
      return;
    }
    const float k = 1.0f - spec_.emaDecay;
    for (int c = 0; c < channels_; ++c) {
      lo[c] -= (lo[c] - bmin[c]) * k;
      hi[c] -= (hi[c] - bmax[c]) * k;
    }
  }
};

// tfmot AllValuesQuantizer: the range of everything seen.
class AllValuesQuantizer final : public RangeQuantizer {
 public:
  explicit AllValuesQuantizer(QuantizerSpec s) : RangeQuantizer(std::move(s), 0.0f, 0.0f, false) {}
  std::unique_ptr<Quantizer> clone() const override { return std::make_unique<AllValuesQuantizer>(*this); }

 protected:
  void observe(const float* bmin, const float* bmax) override {
    float* lo = min_.value.data();
    float* hi = max_.value.data();
    const bool first = !initialized();
    for (int c = 0; c < channels_; ++c) {
      lo[c] = first ? bmin[c] : std::min(lo[c], bmin[c]);
      hi[c] = first ? bmax[c] : std::max(hi[c], bmax[c]);
    }
  }
};

// tfmot FixedQuantizer: a given range. Keeps it as (non-trainable) state anyway so that
// export and reports read every range quantizer the same way.
class FixedQuantizer final : public RangeQuantizer {
 public:
  explicit FixedQuantizer(QuantizerSpec s) : RangeQuantizer(std::move(s), 0.0f, 0.0f, false) {}
  std::unique_ptr<Quantizer> clone() const override { return std::make_unique<FixedQuantizer>(*this); }

 protected:
  void observe(const float*, const float*) override {}
  bool observesBatch() const override { return false; }
};

template <class Q>
Expected<std::unique_ptr<Quantizer>> makeRange(const QuantizerSpec& spec, bool needsRange) {
  QAT_TRY(validateSpec(spec));
  QAT_TRY(checkExtraKeys(spec, {}));
  if (needsRange && !(spec.initMin && spec.initMax))
    return makeError(spec.type + " quantizer needs both init_min and init_max (the fixed range)");
  return std::unique_ptr<Quantizer>(std::make_unique<Q>(spec));
}

}  // namespace

Expected<std::unique_ptr<Quantizer>> makeLastValueQuantizer(const QuantizerSpec& spec) {
  return makeRange<LastValueQuantizer>(spec, false);
}
Expected<std::unique_ptr<Quantizer>> makeMovingAverageQuantizer(const QuantizerSpec& spec) {
  return makeRange<MovingAverageQuantizer>(spec, false);
}
Expected<std::unique_ptr<Quantizer>> makeAllValuesQuantizer(const QuantizerSpec& spec) {
  return makeRange<AllValuesQuantizer>(spec, false);
}
Expected<std::unique_ptr<Quantizer>> makeFixedQuantizer(const QuantizerSpec& spec) {
  return makeRange<FixedQuantizer>(spec, true);
}

}  // namespace qat::quant
