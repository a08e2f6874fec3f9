#pragma once
// The integer interpreter: runs an IntegerGraph with TFLite's reference integer arithmetic
// (QUANT_SPEC.md §4), the studio's "integer" evaluation mode and the oracle every export
// is checked against.
//
// Arithmetic, as TFLite's reference kernels:
//  * real multipliers (input_scale · weight_scale[c] / output_scale, ...) become a Q31
//    value and a shift (QuantizeMultiplier: frexp, round the mantissa to 31 bits);
//  * MultiplyByQuantizedMultiplier = SaturatingRoundingDoublingHighMul followed by a
//    rounding right shift (RoundingDivideByPOT: ties away from zero), the mode named
//    RoundingMode::TfliteReference; int32 accumulators; saturation to [−128, 127] and to
//    the fused activation's range;
//  * QUANTIZE rounds half away from zero (TFLite's reference), DEQUANTIZE is exact;
//  * SOFTMAX / LOGISTIC / TANH: TFLite's reference int8 kernels (softmax via its
//    fixed-point exp), so outputs match TFLite bit for bit.
// Float graphs (freezeFloat) run with float kernels.
// Inputs and outputs are float tensors (N, ...) when the graph has float I/O, or hold
// int8 values as floats when it has int8 I/O.
#include <memory>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/deploy/integer_graph.h"

namespace qat::deploy {

enum class RoundingMode { TfliteReference };

class Interpreter {
 public:
  // Validates the graph and precomputes multipliers; errors name the op.
  static Expected<Interpreter> create(const IntegerGraph& graph);

  // One input tensor per graph input, batch first. Returns one tensor per graph output.
  Expected<std::vector<Tensor>> run(const std::vector<Tensor>& inputs);

  // After run(): the int8 values of every tensor (as stored, one row per batch sample
  // concatenated), for per-layer comparisons. Float tensors are empty.
  const std::vector<int8_t>& int8Values(int tensor) const;

  const IntegerGraph& graph() const;

  // Keep every tensor's int8 values for int8Values() (default on). Whole-data-set
  // evaluations turn it off: the values of all tensors of 10,000 samples take hundreds
  // of megabytes.
  void setKeepTensors(bool keep);
  // Run the scalar reference kernels instead of the fast ones (bit-identical results;
  // for tests and for checking a suspected kernel problem).
  void setReferenceKernels(bool reference);

 private:
  Interpreter() = default;
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// QuantizeMultiplier of TFLite: real = q31 · 2^(shift − 31), q31 in [2^30, 2^31).
struct QuantizedMultiplier {
  int32_t q31 = 0;
  int shift = 0;
};
QuantizedMultiplier quantizeMultiplier(double real);
int32_t multiplyByQuantizedMultiplier(int32_t x, QuantizedMultiplier m);

}  // namespace qat::deploy
