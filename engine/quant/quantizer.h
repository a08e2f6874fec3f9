#pragma once
// Quantizers: objects that map a float tensor onto an n-bit grid ("fake quantization":
// the values stay float but take only grid values), keep the range that defines the grid
// as state, and give the gradient for training (straight-through estimator).
//
// Tensor layout: a quantizer sees a flat float array whose innermost axis holds its
// channels. Per-tensor quantizers have one channel; per-axis ones one grid per entry of
// the innermost axis (Conv2D HWIO kernel: O; Dense (in, units): units; DepthwiseConv2D
// (kh, kw, C, M): the C·M flattened pair, TFLite's channel order). So element i belongs to
// channel i % channels().
//
// Kinds (QUANT_SPEC.md §2; names are the registry's and the config files'):
//   LastValue      range = this batch's min/max (weights in tfmot's scheme)
//   MovingAverage  range = EMA of batch min/max, decay 0.999, no zero-debias (activations)
//   AllValues      range = min/max over every batch seen (model inputs)
//   Fixed          range = the spec's initMin/initMax, never updated
//   LearnedRange   trainable min/max, gradients as TensorFlow's FakeQuantWithMinMaxVarsGradient
//   LSQ            trainable step size (Esser et al. 2020, "Learned Step Size Quantization")
//   FixedRangeClip the custom-quantizer example of the tfmot guide: clip to [−1, 1], no grid
// New kinds are added in C++ and registered by name (registerQuantizer below), the
// studio's equivalent of tfmot's quantize_scope.
//
// Modes come from RunContext (engine/layers/layer.h): ranges update when
// ctx.updatesRanges() (QAT training or PTQ calibration); values are rounded unless
// ctx.fakeQuant is false. At evaluation every quantizer uses its stored range.
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/core/tensor.h"
#include "engine/layers/layer.h"

namespace qat::quant {

// ------------------------------------------------------------------ fake quant math

// The grid of an n-bit fake quantizer after TensorFlow's nudging (QUANT_SPEC.md §1):
// real value of integer q is (q − zeroPoint) · scale, q in [qmin, qmax].
struct Grid {
  float scale = 1.0f;
  float nudgedMin = 0.0f;
  float nudgedMax = 0.0f;
  int zeroPoint = 0;  // in [qmin, qmax]
  int qmin = 0;       // 1 with narrow range, else 0
  int qmax = 255;     // 2^bits − 1
};

// [min, max] → nudged grid. The range is first widened to contain 0; min == max (an
// all-zero tensor) gets a tiny positive scale instead of a division by zero. With
// pow2Scale the scale is rounded up to the next power of two (shift-only hardware) and
// the zero point nudged again for it. Bits 2..16.
Grid nudgedGrid(float min, float max, int bits, bool narrowRange, bool pow2Scale = false);

// y[i] = fakeQuant(x[i]) with grid grids[i % grids.size()]. y may alias x.
//   out = floor((clamp(x, nudgedMin, nudgedMax) − nudgedMin) / scale + 0.5) · scale + nudgedMin
void fakeQuantForward(const float* x, float* y, size_t n, std::span<const Grid> grids);
// Straight-through gradient: dx[i] = dy[i] when nudgedMin ≤ x[i] ≤ nudgedMax, else 0.
// dx may alias dy.
void fakeQuantBackward(const float* x, const float* dy, float* dx, size_t n, std::span<const Grid> grids);
// TensorFlow's gradients w.r.t. the range, per channel, ACCUMULATED:
//   dmin[c] += Σ dy where x < nudgedMin,  dmax[c] += Σ dy where x > nudgedMax.
void fakeQuantRangeGrad(const float* x, const float* dy, size_t n, std::span<const Grid> grids, float* dmin,
                        float* dmax);

// ------------------------------------------------------------------ specification

// What a config file says about one quantizer. Serialised as a JSON object with these
// keys (unknown keys of custom kinds go to `extra`).
struct QuantizerSpec {
  std::string type = "MovingAverage";  // registry name
  int bits = 8;                        // 2..16
  bool perAxis = false;
  bool symmetric = false;  // range ±max(|min|, |max|)
  bool narrowRange = false;  // qmin = 1: an int8 grid of [−127, 127]
  bool pow2Scale = false;
  float emaDecay = 0.999f;  // MovingAverage
  // Fixed: the range (required). Others: the range before the first update; when unset,
  // the first batch sets it (tfmot starts LastValue/MovingAverage at ±6, which
  // "tfmotInit" reproduces).
  std::optional<float> initMin, initMax;
  bool tfmotInit = false;
  nlohmann::json extra = nlohmann::json::object();  // settings of custom kinds

  bool operator==(const QuantizerSpec&) const = default;
};

nlohmann::json toJson(const QuantizerSpec& spec);
// Errors name the offending key and value ("bits 1 is outside 2..16").
Expected<QuantizerSpec> quantizerSpecFromJson(const nlohmann::json& j);
// "W8 per-axis symmetric", for badges and reports.
std::string describe(const QuantizerSpec& spec);

// ------------------------------------------------------------------ quantizer

class Quantizer {
 public:
  explicit Quantizer(QuantizerSpec spec) : spec_(std::move(spec)) {}
  virtual ~Quantizer() = default;
  virtual std::unique_ptr<Quantizer> clone() const = 0;

  const QuantizerSpec& spec() const { return spec_; }
  int channels() const { return channels_; }

  // Sizes the state for `channels` channels (1 unless spec().perAxis) and names its
  // Params prefix + "_min", prefix + "_max", ... (e.g. "kernel_min", "output_max").
  // Keeps the state when called again with the same size. Errors name the problem.
  virtual Status build(int channels, const std::string& prefix) = 0;

  // y = q(x) (y resized to x's shape). Updates the range first when ctx.updatesRanges();
  // copies x unchanged when !ctx.fakeQuant.
  virtual void forward(const Tensor& x, Tensor& y, const RunContext& ctx) = 0;
  // OVERWRITES dx (resized to x's shape) with dL/dx for the x of the last forward and
  // ACCUMULATES gradients of trainable state. When !ctx.fakeQuant, dx = dy.
  virtual void backward(const Tensor& x, const Tensor& dy, Tensor& dx, const RunContext& ctx) = 0;

  // Range state as Params (non-trainable for tfmot's kinds, trainable for learned ones);
  // part of the model state and of checkpoints.
  virtual std::vector<Param*> state() { return {}; }
  std::vector<const Param*> state() const {
    auto s = const_cast<Quantizer*>(this)->state();
    return {s.begin(), s.end()};
  }
  // The grid per channel that forward() uses now (export, histograms). Empty for
  // quantizers without a grid (FixedRangeClip).
  virtual std::vector<Grid> grids() const = 0;

 protected:
  QuantizerSpec spec_;
  int channels_ = 0;
};

// ------------------------------------------------------------------ registry

using QuantizerFactory = std::function<Expected<std::unique_ptr<Quantizer>>(const QuantizerSpec&)>;

// Adds (or replaces) a kind. `description` is one line for the GUI's quantizer menu.
void registerQuantizer(const std::string& type, QuantizerFactory factory, const std::string& description);
// The built-in kinds are always registered. Unknown type: the error lists the known ones.
Expected<std::unique_ptr<Quantizer>> makeQuantizer(const QuantizerSpec& spec);
std::vector<std::string> quantizerTypes();
std::string quantizerDescription(const std::string& type);

}  // namespace qat::quant
