#pragma once
// Kernels of the float-based rounding modes (see RoundingMode in interpreter.h):
//  * FloatDequantizedHalfAway (Arm NN CpuRef): every operand dequantized to float32,
//    x = float(q − zp)·s, the op computed in float32 in a fixed order, the result quantized
//    once with armnn::Quantize: q = saturate(round(v / s_out) + zp), round half away from
//    zero, v / s_out a float division.
//  * FloatMultiplierHalfEven (onnxruntime's QLinear* kernels): the binary ops and the tables
//    that differ from the integer kernels' (the requantization of conv / FC is
//    requantize() in int_kernels.h).
// Sums are formed exactly in the runtime's order with separate multiplies and adds (this
// file is compiled without floating-point contraction: a fused multiply-add would round
// once where the runtimes round twice). The *Fast twins reorder only independent work
// (vectorised across output channels), so they are bit-exact to the *Ref kernels (tested).
#include <vector>

#include "engine/deploy/int_kernels.h"

namespace qat::deploy::kernels {

// The ONNX export writes activations on the uint8 grid (q + 128, zero point + 128), which
// onnxruntime runs as uint8. Its QLinearAdd and QLinearAveragePool use the zero points in
// float arithmetic before rounding, which is not exact under that shift, so the
// FloatMultiplierHalfEven kernels for them work on the shifted values.
inline constexpr int32_t kOnnxGridShift = 128;

// Arm NN's Dequantize / Quantize (armnn/TypesUtils.cpp).
inline float dequantizeArmnn(int32_t q, float scale, int32_t zeroPoint) {
  return static_cast<float>(q - zeroPoint) * scale;
}
int32_t quantizeHalfAway(float v, float scale, int32_t zeroPoint);  // saturated to int8
// ONNX QuantizeLinear as MLAS computes it: saturate(nearbyint(v / s) + zp), ties to even.
int32_t quantizeHalfEven(float v, float scale, int32_t zeroPoint);

// CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED on dequantized values. The weights are
// dequantized once (float(w)·s_w[c]), the bias too (float(b)·s_b[c], the bias tensor's own
// scales). Per output: sum = 0; sum += w·x over the taps (conv: input channel, kernel row,
// kernel column; depthwise: row, column; FC: inputs in order), skipping padded taps (Arm NN
// adds w·0, which leaves the sum unchanged); sum += bias; q = Quantize(sum) clamped to the
// fused activation's range (Arm NN runs it as a separate float activation on the
// dequantized result, which amounts to the same clamp).
struct DequantConv {
  float inScale = 1, outScale = 1;
  int32_t inZeroPoint = 0, outZeroPoint = 0;
  ActRange act;
  std::vector<float> w;     // dequantized weights in the int8 layout (OHWI, [KH, KW, OC], (units, depth))
  std::vector<float> wT;    // the fast kernels' copy: conv (C·KH·KW taps in (c, ky, kx) order, OC),
                            // FC (depth, units); empty for depthwise
  std::vector<float> bias;  // OC values, or empty
  bool halfEven = false;    // quantize as QuantizeLinear (FloatDequantizedHalfEven) instead of armnn::Quantize
};
// Builds w, wT and bias. kind: 0 conv (w OHWI), 1 depthwise ([KH, KW, OC]), 2 FC ((units, depth)).
// wScales: one per output channel or one; bScales likewise (empty: s_in·s_w[c]).
DequantConv makeDequantConv(int kind, const ConvShape& s, int fcDepth, int fcUnits, const std::vector<int8_t>& w,
                            const std::vector<float>& wScales, const std::vector<int32_t>& bias,
                            const std::vector<float>& bScales, float inScale, int32_t inZp, float outScale,
                            int32_t outZp, ActRange act);

void convDequantRef(const ConvShape& s, const DequantConv& p, const int8_t* in, int8_t* out);
void depthwiseDequantRef(const ConvShape& s, const DequantConv& p, const int8_t* in, int8_t* out);
void fullyConnectedDequantRef(int rows, int depth, int units, const DequantConv& p, const int8_t* in, int8_t* out);
// Fast twins; `scratch` holds the dequantized input and the accumulators.
void convDequantFast(const ConvShape& s, const DequantConv& p, const int8_t* in, int8_t* out, std::vector<float>& scratch);
void depthwiseDequantFast(const ConvShape& s, const DequantConv& p, const int8_t* in, int8_t* out,
                          std::vector<float>& scratch);
void fullyConnectedDequantFast(int rows, int depth, int units, const DequantConv& p, const int8_t* in, int8_t* out,
                               std::vector<float>& scratch);

// AVERAGE_POOL_2D: the dequantized cells inside the image summed row by row from 0, divided
// by their count (float), quantized: by mode, Arm NN's Quantize (FloatDequantizedHalfAway),
// QuantizeLinear (FloatDequantizedHalfEven), or onnxruntime's QLinearAveragePool,
// nearbyint(v / s + zp) (FloatMultiplierHalfEven; over the whole unpadded image its integer
// global average pool instead, see the .cpp). In and out parameters are equal in TFLite;
// they differ only where the FloatMultiplierHalfEven interpreter models onnxruntime's
// merged requantization (interpreter.cpp).
struct PoolQuant {
  float inScale = 1, outScale = 1;
  int32_t inZeroPoint = 0, outZeroPoint = 0;
};
void avgPoolDequant(const PoolShape& s, const PoolQuant& q, ActRange act, RoundingMode mode, const int8_t* in,
                    int8_t* out);
// MEAN over H, W of (N, H, W, C): per channel the dequantized values summed in (h, w) order
// from 0, divided by H·W (float), quantized with the output's parameters (half away, or
// QuantizeLinear's half to even for onnxruntime's float ReduceMean between DQ and Q).
void meanDequant(int N, int pixels, int C, const MeanParams& p, bool halfEven, const int8_t* in, int8_t* out);
// SOFTMAX (Arm NN): m = max of the dequantized row; e_c = expf((x_c − m)·β); sum in order;
// q = Quantize(e_c / sum) (half away, or half to even).
void softmaxDequant(int rows, int depth, float inScale, int32_t inZp, float beta, float outScale, int32_t outZp,
                    bool halfEven, const int8_t* in, int8_t* out);
// SOFTMAX (onnxruntime's QLinearSoftmax, int8): a float table
// t[d] = float(exp((−d + b)·s_in)) for d = max − q ∈ [0, 255], b = max(0, ln(FLT_MAX / depth) − 5) / s_in
// (double arithmetic); per row sum = Σ t in order (float); q = nearbyint(t·floor(1/s_out) / sum) + zp,
// saturated (checked against onnxruntime 1.30: a row's only nonzero entry gives 127).
std::vector<float> makeSoftmaxTableOnnx(float inScale, int depth);
void softmaxOnnx(int rows, int depth, const std::vector<float>& table, float outScale, int32_t outZp, const int8_t* in,
                 int8_t* out);

// ADD / SUB / MUL of two int8 tensors of the same shape.
struct BinaryFloatParams {
  int op = 0;  // 0 add, 1 sub, 2 mul
  float s1 = 1, s2 = 1, sOut = 1;
  int32_t zp1 = 0, zp2 = 0, zpOut = 0;
  ActRange act;
  RoundingMode mode = RoundingMode::FloatDequantizedHalfAway;
};
// FloatDequantizedHalfAway: Quantize(Dequantize(a) op Dequantize(b)).
// FloatMultiplierHalfEven: onnxruntime's QLinearAdd / QLinearMul (MLAS), see the .cpp.
void binaryFloat(size_t n, const BinaryFloatParams& p, const int8_t* a, const int8_t* b, int8_t* out);

// A 256-entry table of an element-wise function on the dequantized input, requantized:
// table[q] = clamp(quantize(f(float(q − zp_in)·s_in))) with quantizeHalfAway or
// quantizeHalfEven (halfEven = true). Run with lutRef.
// Arm NN's float expressions (Activation.cpp), and onnxruntime's where they differ:
// LogisticMlas is MLAS' rational approximation (FMA3 kernel) that QLinearSigmoid tabulates;
// HardSwishOnnx is the exported x·HardSigmoid(x; 1/6, 1/2).
enum class UnaryFn { Identity, Relu, Relu6, LeakyRelu, Logistic, Tanh, HardSwish, LogisticMlas, HardSwishOnnx };
std::vector<int8_t> makeFloatTable(UnaryFn fn, float alpha, float inScale, int32_t inZp, float outScale, int32_t outZp,
                                   ActRange act, bool halfEven);

}  // namespace qat::deploy::kernels
