// FixedRangeClip: the custom quantizer of tfmot's guide, y = clamp(x, min, max) with no
// integer grid (grids() is empty). min/max come from the extra keys "min" and "max"
// (defaults −1 and 1). Gradient: 1 inside the closed range, 0 outside.
#include <algorithm>
#include <cmath>

#include "engine/quant/range_quantizers.h"

namespace qat::quant {
namespace {

class FixedRangeClipQuantizer final : public Quantizer {
 public:
  FixedRangeClipQuantizer(QuantizerSpec s, float lo, float hi) : Quantizer(std::move(s)), lo_(lo), hi_(hi) {}
  std::unique_ptr<Quantizer> clone() const override { return std::make_unique<FixedRangeClipQuantizer>(*this); }

  Status build(int channels, const std::string& prefix) override {
    if (channels < 1)
      return makeError("FixedRangeClip quantizer '" + prefix + "': channels must be positive, got " +
                       std::to_string(channels));
    channels_ = spec_.perAxis ? channels : 1;  // the same clip for every channel
    return {};
  }

  void forward(const Tensor& x, Tensor& y, const RunContext& ctx) override {
    if (&y != &x) y.resize(x.shape());
    const float* xp = x.data();
    float* yp = y.data();
    const size_t n = x.size();
    if (!ctx.fakeQuant) {
      if (&y != &x) std::copy_n(xp, n, yp);
      return;
    }
    const float lo = lo_, hi = hi_;
#pragma omp simd
    for (size_t i = 0; i < n; ++i) yp[i] = std::min(std::max(xp[i], lo), hi);
  }

  void backward(const Tensor& x, const Tensor& dy, Tensor& dx, const RunContext& ctx) override {
    if (&dx != &dy) dx.resize(x.shape());
    const float* xp = x.data();
    const float* g = dy.data();
    float* o = dx.data();
    const size_t n = x.size();
    if (!ctx.fakeQuant) {
      if (&dx != &dy) std::copy_n(g, n, o);
      return;
    }
    const float lo = lo_, hi = hi_;
#pragma omp simd
    for (size_t i = 0; i < n; ++i) o[i] = (xp[i] >= lo && xp[i] <= hi) ? g[i] : 0.0f;
  }

  std::vector<Grid> grids() const override { return {}; }

 private:
  float lo_, hi_;
};

}  // namespace

Expected<std::unique_ptr<Quantizer>> makeFixedRangeClipQuantizer(const QuantizerSpec& spec) {
  QAT_TRY(validateSpec(spec));
  QAT_TRY(checkExtraKeys(spec, {"min", "max"}));
  float bound[2] = {-1.0f, 1.0f};
  const char* keys[2] = {"min", "max"};
  for (int i = 0; i < 2; ++i) {
    if (!spec.extra.contains(keys[i])) continue;
    const auto& v = spec.extra[keys[i]];
    if (!v.is_number() || !std::isfinite(v.get<double>()))
      return makeError(std::string("FixedRangeClip setting '") + keys[i] + "' must be a finite number, got " +
                       v.dump());
    bound[i] = v.get<float>();
  }
  if (!(bound[0] < bound[1]))
    return makeError("FixedRangeClip min " + spec.extra.value("min", nlohmann::json(-1)).dump() +
                     " must be below max " + spec.extra.value("max", nlohmann::json(1)).dump());
  return std::unique_ptr<Quantizer>(std::make_unique<FixedRangeClipQuantizer>(spec, bound[0], bound[1]));
}

}  // namespace qat::quant
