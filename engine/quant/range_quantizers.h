#pragma once
// Internal to engine/quant: the shared base of every quantizer whose grid comes from a
// stored [min, max] per channel (LastValue, MovingAverage, AllValues, Fixed, LearnedRange),
// and the factories of the built-in kinds that quantizer_registry.cpp registers.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "engine/quant/quantizer.h"

namespace qat::quant {

// State: Params prefix+"_min", prefix+"_max" (channels() entries each) and
// prefix+"_initialized" (1 entry, 0 or 1, never trainable) so a checkpoint restores
// whether the first batch has been seen. grid(c) = nudgedGrid of channel c's range,
// made symmetric (±max(|min|, |max|)) when spec().symmetric.
class RangeQuantizer : public Quantizer {
 public:
  // defaultMin/defaultMax: the range before anything set it (tfmot's initial values).
  // trainable: min/max are trained (gradients sized like the values) instead of observed.
  RangeQuantizer(QuantizerSpec spec, float defaultMin, float defaultMax, bool trainable);

  Status build(int channels, const std::string& prefix) override;
  void forward(const Tensor& x, Tensor& y, const RunContext& ctx) override;
  void backward(const Tensor& x, const Tensor& dy, Tensor& dx, const RunContext& ctx) override;
  std::vector<Param*> state() override { return {&min_, &max_, &initialized_}; }
  std::vector<Grid> grids() const override;

  bool initialized() const { return !initialized_.value.empty() && initialized_.value[0] != 0.0f; }

 protected:
  // Called with this batch's per-channel range (symmetric already when spec().symmetric)
  // when ranges update; initialized() tells whether this is the first batch.
  virtual void observe(const float* batchMin, const float* batchMax) = 0;
  // False when this batch's range would be ignored (Fixed; a learned range once set), so
  // forward() skips computing it.
  virtual bool observesBatch() const { return true; }
  // Accumulates trainable-state gradients after the input gradient is written.
  virtual void accumulateStateGrad(const Tensor& /*x*/, const Tensor& /*dy*/) {}

  Grid gridFor(size_t channel) const;
  void refreshGrids();  // grids_ = the current grid of every channel
  const std::vector<Grid>& lastGrids() const { return grids_; }

  Param min_, max_, initialized_;

 private:
  float defaultMin_, defaultMax_;
  bool trainable_;
  std::vector<Grid> grids_;          // the grids of the last forward (backward uses them)
  std::vector<float> batchMin_, batchMax_;
};

// The symmetric version of [lo, hi] (tfmot's formula): narrow range ±a with
// a = max(|lo|, |hi|); otherwise the grid [−2^(b−1), 2^(b−1) − 1]·scale needs the range
// [−a, a·r] or [−a/r, a] with r = (2^(b−1) − 1)/2^(b−1), so that the zero point is exactly
// 2^(b−1) (int8 zero point 0). Plain ±a would give zp_from_min ≈ 2^(b−1) − 0.5, which
// float rounding sends either way.
inline void makeSymmetric(float& lo, float& hi, int bits, bool narrowRange) {
  if (narrowRange) {
    const float a = std::max(std::abs(lo), std::abs(hi));
    lo = -a;
    hi = a;
    return;
  }
  const float half = static_cast<float>(1 << (bits - 1));
  const float r = (half - 1.0f) / half;
  const float newLo = std::min(lo, -hi / r), newHi = std::max(hi, -lo * r);
  lo = newLo;
  hi = newHi;
}

// Validation shared by quantizerSpecFromJson and the factories (quantizer_spec.cpp).
Status validateSpec(const QuantizerSpec& spec);
// Error unless every key of spec.extra is in `allowed` (names the key and the kind).
Status checkExtraKeys(const QuantizerSpec& spec, std::initializer_list<const char*> allowed);

// Factories of the built-in kinds (range_quantizers.cpp, learned_quantizers.cpp,
// clip_quantizer.cpp).
Expected<std::unique_ptr<Quantizer>> makeLastValueQuantizer(const QuantizerSpec& spec);
Expected<std::unique_ptr<Quantizer>> makeMovingAverageQuantizer(const QuantizerSpec& spec);
Expected<std::unique_ptr<Quantizer>> makeAllValuesQuantizer(const QuantizerSpec& spec);
Expected<std::unique_ptr<Quantizer>> makeFixedQuantizer(const QuantizerSpec& spec);
Expected<std::unique_ptr<Quantizer>> makeLearnedRangeQuantizer(const QuantizerSpec& spec);
Expected<std::unique_ptr<Quantizer>> makeLsqQuantizer(const QuantizerSpec& spec);
Expected<std::unique_ptr<Quantizer>> makeFixedRangeClipQuantizer(const QuantizerSpec& spec);

}  // namespace qat::quant
