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
// Other runtimes' arithmetic is available as RoundingMode (below), chosen at create(): the
// tests compare exported files with Arm NN and onnxruntime through them.
// Float graphs (freezeFloat) run with float kernels.
// Inputs and outputs are float tensors (N, ...) when the graph has float I/O, or hold
// int8 values as floats when it has int8 I/O.
#include <memory>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/deploy/integer_graph.h"

namespace qat::deploy {

// How requantization (and every other rounding of an int8 result) is computed. The studio's
// numbers use TfliteReference; the other modes reproduce other runtimes bit for bit, so an
// exported file can be checked against the interpreter run the way that runtime runs it.
enum class RoundingMode {
  // TFLite's reference kernels as built by default: Q31 multiplier and shift,
  // SaturatingRoundingDoublingHighMul then RoundingDivideByPOT (two roundings, ties of the
  // second away from zero).
  TfliteReference,
  // TFLite built with TFLITE_SINGLE_ROUNDING=1: the same Q31 multiplier and shift, one
  // rounding: (x·q31 + 2^(30 − shift)) >> (31 − shift), ties toward +∞. Only the
  // MultiplyByQuantizedMultiplier steps change (conv, depthwise, FC, ADD/SUB, MUL, MEAN
  // with keep_dims, RELU/RELU6, LEAKY_RELU, requantizing QUANTIZE).
  TfliteSingleRounding,
  // Every operand dequantized to float32 (float(q − zp)·s, weights float(w)·s_w[c], bias
  // float(b)·s_b[c]), the op computed in float32 in a fixed order (convolutions summed over
  // input channel, then kernel row, then column; FC over its inputs in order; no fused
  // multiply-add), and the result quantized once: round(v / s_out) + zp, ties away from zero,
  // saturated. Arm NN's CpuRef backend (20.08: Decoder/Encoder<float>, armnn::Quantize).
  FloatDequantizedHalfAway,
  // The same float32 computation on dequantized values, quantized as ONNX QuantizeLinear:
  // nearbyint(v / s_out) + zp, ties to even, saturated; unary functions as onnxruntime's
  // float kernels. onnxruntime with graph optimizations disabled (DequantizeLinear, float
  // op, QuantizeLinear); its float kernels sum in their own (blocked, fused multiply-add)
  // order, so this mode matches it up to float rounding of near-ties, not bit for bit.
  FloatDequantizedHalfEven,
  // onnxruntime's CPU QLinear* kernels (MLAS on x86-64), the QDQ groups its graph optimizer
  // fuses (optimization level "all", the default):
  //   conv / depthwise / FC (QLinearConv, QGemm): exact int32 accumulators (bias included)
  //     converted to float32, times the float32 multiplier s_in·s_w[c]/s_out (formed in
  //     float), clamped, rounded half to even (cvtps2dq);
  //   ADD (QLinearAdd): fma(a, r1, fma(b, r2, zp_out − (r1·zp1 + r2·zp2))), r = s/s_out;
  //   MUL (QLinearMul): (a − zp1)(b − zp2)·(s1·s2/s_out); AVERAGE_POOL (QLinearAveragePool):
  //     float mean of dequantized values, nearbyint(v/s + zp); SOFTMAX: QLinearSoftmax's
  //     float exp table; LOGISTIC, LEAKY_RELU (QLinearLookupTable): a table of MLAS' float
  //     function, quantized half to even;
  //   everything else (MEAN, SUB, TANH, HARD_SWISH, requantizing CONCAT / QUANTIZE) as the
  //     float op between DequantizeLinear and QuantizeLinear (x / s, ties to even).
  //   ADD and AVERAGE_POOL are computed on the uint8 grid the ONNX export writes (values and
  //     zero points + 128), as onnxruntime runs them; a requantize after AVERAGE_POOL is
  //     merged into it as onnxruntime's graph optimizer does (interpreter.cpp).
  //   The tensors' int8 values (int8Values) are those onnxruntime computes.
  FloatMultiplierHalfEven,
};
const char* roundingModeName(RoundingMode mode);

class Interpreter {
 public:
  // Validates the graph and precomputes multipliers (in the form `mode` uses); errors name
  // the op.
  static Expected<Interpreter> create(const IntegerGraph& graph, RoundingMode mode = RoundingMode::TfliteReference);

  // One input tensor per graph input, batch first. Returns one tensor per graph output.
  Expected<std::vector<Tensor>> run(const std::vector<Tensor>& inputs);

  // After run(): the int8 values of every tensor (as stored, one row per batch sample
  // concatenated), for per-layer comparisons. Float tensors are empty.
  const std::vector<int8_t>& int8Values(int tensor) const;

  const IntegerGraph& graph() const;
  RoundingMode roundingMode() const;

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
