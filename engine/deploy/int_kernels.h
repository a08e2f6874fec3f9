#pragma once
// Integer kernels of the interpreter, written from TFLite's reference kernels
// (tensorflow/lite/kernels/internal/reference/integer_ops/*.h and the kernels' Prepare
// functions). Quantized values: real = scale · (q − zero_point), int8 activations.
//
// Fixed-point arithmetic (gemmlowp, TFLite's quantization_util):
//   QuantizeMultiplier(M):  M = q31 · 2^(shift − 31), q31 ∈ [2^30, 2^31) from frexp, the
//                           mantissa rounded half away from zero.
//   SaturatingRoundingDoublingHighMul(a, b) = round(a·b / 2^31), ties toward +∞ (gemmlowp's
//                           nudge of ±2^30 then a division truncating toward zero: 1.5 → 2,
//                           −1.5 → −1), saturating the single overflow case a = b = −2^31.
//   RoundingDivideByPOT(x, e) = round(x / 2^e), ties away from zero.
//   MultiplyByQuantizedMultiplier(x, M) = RoundingDivideByPOT(SRDHM(x · 2^max(shift, 0), q31),
//                                                            max(−shift, 0))
// (two roundings, TFLite's default build; RoundingMode::TfliteReference).
//
// Every kernel here is the scalar reference; the *Fast variants (int_kernels_fast.cpp)
// compute the same integer sums in another order and are bit-exact to them (tested).
// Shapes are NHWC, batch first; weights in TFLite layouts (CONV_2D OHWI, DEPTHWISE_CONV_2D
// [1, KH, KW, C·M], FULLY_CONNECTED [units, in]).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/deploy/interpreter.h"

namespace qat::deploy::kernels {

// ------------------------------------------------------------------ fixed point

inline int32_t saturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  if (a == b && a == INT32_MIN) return INT32_MAX;
  const int64_t ab = int64_t(a) * int64_t(b);
  const int64_t nudge = ab >= 0 ? (int64_t(1) << 30) : (1 - (int64_t(1) << 30));
  return static_cast<int32_t>((ab + nudge) / (int64_t(1) << 31));  // C++ division truncates toward zero
}

inline int32_t roundingDivideByPOT(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t(1) << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

inline int32_t mulByQuantizedMultiplier(int32_t x, int32_t q31, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  // x · 2^left wrapping like TFLite's int32 product on every target (an unsigned shift, so
  // no signed-overflow UB here).
  const int32_t xs = static_cast<int32_t>(static_cast<uint32_t>(x) << left);
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(xs, q31), right);
}
// shift <= 0 (multipliers below one: ADD/SUB input and output scaling).
inline int32_t mulByQuantizedMultiplierSmallerThanOne(int32_t x, int32_t q31, int shift) {
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(x, q31), -shift);
}

// TFLITE_SINGLE_ROUNDING's MultiplyByQuantizedMultiplier: round(x·q31 / 2^(31 − shift)) in one
// step, ties toward +∞ (an arithmetic shift of x·q31 + 2^(30 − shift)). shift ∈ [−31, 30]
// (quantizeMultiplier guarantees it), so the total shift is 1..62.
inline int32_t mulByQuantizedMultiplierSingleRounding(int32_t x, int32_t q31, int shift) {
  const int total = 31 - shift;
  const int64_t round = int64_t(1) << (total - 1);
  return static_cast<int32_t>((int64_t(x) * q31 + round) >> total);
}

// MultiplyByQuantizedMultiplier of the TFLite modes (TfliteReference: two roundings;
// TfliteSingleRounding: one).
inline int32_t mulByQuantizedMultiplier(int32_t x, QuantizedMultiplier m, RoundingMode mode) {
  return mode == RoundingMode::TfliteSingleRounding ? mulByQuantizedMultiplierSingleRounding(x, m.q31, m.shift)
                                                    : mulByQuantizedMultiplier(x, m.q31, m.shift);
}

// The float multiplier rounded half to even (RoundingMode::FloatMultiplierHalfEven, MLAS):
// v = float(x)·m clamped to [lo − zp, hi − zp], converted with round-to-nearest-even
// (nearbyint in the default rounding mode, as cvtps2dq), plus zp.
inline int32_t roundHalfEvenClamped(float v, int32_t lo, int32_t hi, int32_t zp) {
  v = std::fmin(std::fmax(v, static_cast<float>(lo - zp)), static_cast<float>(hi - zp));
  return static_cast<int32_t>(std::nearbyint(v)) + zp;
}

// TFLite's CalculateActivationRangeQuantized for int8 outputs.
struct ActRange {
  int32_t min = -128, max = 127;
};
ActRange activationRange(FusedActivation act, float outScale, int32_t outZeroPoint);

// ------------------------------------------------------------------ convolutions

// Geometry of CONV_2D / DEPTHWISE_CONV_2D (input N, H, W, C; output N, OH, OW, OC).
struct ConvShape {
  int N = 0, H = 0, W = 0, C = 0;
  int OH = 0, OW = 0, OC = 0;
  int KH = 1, KW = 1;
  int strideH = 1, strideW = 1, dilationH = 1, dilationW = 1;
  int padTop = 0, padLeft = 0;
  int depthMultiplier = 1;  // depthwise: OC = C · depthMultiplier
};

// Output requantization shared by conv / depthwise / FC: per output channel multipliers
// (one entry = per tensor), offsets and the fused activation range.
// The TFLite modes use `mult`; FloatMultiplierHalfEven uses `multF` (s_in·s_w[c]/s_out formed
// in float, as onnxruntime does). FloatDequantizedHalfAway has kernels of its own
// (DequantConv below).
struct Requant {
  int32_t inputOffset = 0;   // −input zero point
  int32_t outputOffset = 0;  // output zero point
  ActRange act;
  std::vector<QuantizedMultiplier> mult;  // OC entries, or 1
  RoundingMode mode = RoundingMode::TfliteReference;
  std::vector<float> multF;  // OC entries, or 1 (FloatMultiplierHalfEven)
  const QuantizedMultiplier& at(int c) const { return mult.size() == 1 ? mult[0] : mult[static_cast<size_t>(c)]; }
  float floatAt(int c) const { return multF.size() == 1 ? multF[0] : multF[static_cast<size_t>(c)]; }
};

// The int8 value of accumulator `acc` (bias included) of output channel c: requantized in
// r.mode, offset, clamped to the activation range.
inline int32_t requantize(int32_t acc, const Requant& r, int c) {
  if (r.mode == RoundingMode::FloatMultiplierHalfEven)
    return roundHalfEvenClamped(static_cast<float>(acc) * r.floatAt(c), r.act.min, r.act.max, r.outputOffset);
  const int32_t v = mulByQuantizedMultiplier(acc, r.at(c), r.mode) + r.outputOffset;
  return v < r.act.min ? r.act.min : v > r.act.max ? r.act.max : v;
}

// acc = Σ w·(x + inputOffset) + bias; out = clamp(MBQM(acc, M[c]) + outputOffset).
// Padded taps are skipped (they stand for the real value 0). filter OHWI; bias may be null.
void convRef(const ConvShape& s, const Requant& r, const int8_t* in, const int8_t* filter, const int32_t* bias,
             int8_t* out);
// filter [KH, KW, OC], output channel c·M + m reads input channel c.
void depthwiseRef(const ConvShape& s, const Requant& r, const int8_t* in, const int8_t* filter,
                  const int32_t* bias, int8_t* out);
// in (rows, depth), filter (units, depth), out (rows, units). Weights have zero point 0.
void fullyConnectedRef(int rows, int depth, int units, const Requant& r, const int8_t* in, const int8_t* filter,
                       const int32_t* bias, int8_t* out);

struct PoolShape;

// Fast, bit-exact twins (int_kernels_fast.cpp). Weights are packed once per op:
//   Outer  K < 16 taps (e.g. a 3×3 conv on one channel): per tap, the tap value times a row
//          of weights, vectorised over the output channels (int32);
//   Int16  (x − zp) and w widened to int16, dot products with vpmaddwd (AVX2), two pixels
//          by four output channels per pass;
//   Vnni   u = x + 128 as uint8 times int8 weights with vpdpbusd (AVX-VNNI, chosen at run
//          time when the CPU has it): Σ w·(x − zp) = Σ w·u − (zp + 128)·Σ w, exact in int32.
enum class GemmPath { Auto, Outer, Int16, Vnni };
bool vnniAvailable();
struct PackedWeights {
  int OC = 0, K = 0;      // output channels, taps per output (KH·KW·C, or the FC depth)
  int K16 = 0, K32 = 0;   // K rounded up to 16 / 32 (zero padded)
  std::vector<int16_t> w16;    // (OC, K16)
  std::vector<int8_t> w8;      // (OC, K32)
  std::vector<int32_t> rowSum;  // (OC) Σ_k w
  std::vector<int32_t> wT;      // (K, OC) for the Outer path
};
PackedWeights packWeights(const int8_t* w, int OC, int K);
struct ConvScratch {
  std::vector<int16_t> col16;  // two im2col rows of (x − zp), int16
  std::vector<uint8_t> col8;   // two im2col rows of x + 128, uint8
  std::vector<int32_t> acc;    // two rows of OC accumulators
  std::vector<int32_t> requant;  // per-channel multiplier, left shift, right shift
};
void convFast(const ConvShape& s, const Requant& r, const int8_t* in, const PackedWeights& w, const int32_t* bias,
              int8_t* out, ConvScratch& scratch, GemmPath path = GemmPath::Auto);
void depthwiseFast(const ConvShape& s, const Requant& r, const int8_t* in, const int8_t* filter, const int32_t* bias,
                   int8_t* out);
void fullyConnectedFast(int rows, int depth, int units, const Requant& r, const int8_t* in, const PackedWeights& w,
                        const int32_t* bias, int8_t* out, ConvScratch& scratch, GemmPath path = GemmPath::Auto);
// Channel-vectorised max pooling (bit-exact: a max is a max).
void maxPoolFast(const PoolShape& s, ActRange act, const int8_t* in, int8_t* out);

// ------------------------------------------------------------------ pooling, mean

struct PoolShape {
  int N = 0, H = 0, W = 0, C = 0, OH = 0, OW = 0;
  int KH = 1, KW = 1, strideH = 1, strideW = 1, padTop = 0, padLeft = 0;
};
// Average over the cells of the window inside the image, rounded half away from zero;
// same scale in and out (TFLite requires it).
void avgPoolRef(const PoolShape& s, ActRange act, const int8_t* in, int8_t* out);
void maxPoolRef(const PoolShape& s, ActRange act, const int8_t* in, int8_t* out);

// MEAN over H and W of (N, H, W, C) → (N, C). TFLite's int8 MEAN has three paths:
//   keepDims (4-D, axes {1, 2}):  acc = Σ (q − zp_in); acc = MBQM(acc, s_in/s_out);
//                                 acc = round_half_away(acc / count); + zp_out
//   !keepDims, same params:       Σ q / count, integer division truncating toward zero
//   !keepDims, other params:      round(float(Σ q)/count · (s_in/s_out) − zp_in·(s_in/s_out)) + zp_out
struct MeanParams {
  bool keepDims = false;
  float inScale = 1, outScale = 1;
  int32_t inZeroPoint = 0, outZeroPoint = 0;
  QuantizedMultiplier mult;  // s_in / s_out (keepDims path)
  RoundingMode mode = RoundingMode::TfliteReference;  // a TFLite mode
};
void meanRef(int N, int pixels, int C, const MeanParams& p, const int8_t* in, int8_t* out);

// ------------------------------------------------------------------ elementwise

// ADD / SUB (TFLite's int8 arithmetic: both inputs brought to twice the larger input
// scale with a left shift of 20, summed, then scaled to the output).
struct AddParams {
  int32_t in1Offset = 0, in2Offset = 0, outOffset = 0;
  int leftShift = 20;
  QuantizedMultiplier in1, in2, out;
  ActRange act;
  RoundingMode mode = RoundingMode::TfliteReference;  // a TFLite mode
};
AddParams makeAddParams(float s1, int32_t zp1, float s2, int32_t zp2, float sOut, int32_t zpOut, FusedActivation a);
void addRef(size_t n, const AddParams& p, const int8_t* a, const int8_t* b, int8_t* out, bool subtract);

struct MulParams {
  int32_t in1Offset = 0, in2Offset = 0, outOffset = 0;
  QuantizedMultiplier mult;  // s1·s2/s_out (float arithmetic, as TFLite)
  ActRange act;
  RoundingMode mode = RoundingMode::TfliteReference;  // a TFLite mode
};
void mulRef(size_t n, const MulParams& p, const int8_t* a, const int8_t* b, int8_t* out);

// RELU / RELU6 / requantizing QUANTIZE (int8 → int8): out = clamp(zp_out + MBQM(q − zp_in, M)).
struct RescaleParams {
  int32_t inZeroPoint = 0, outZeroPoint = 0;
  QuantizedMultiplier mult;
  ActRange act;
  RoundingMode mode = RoundingMode::TfliteReference;  // a TFLite mode
};
void rescaleRef(size_t n, const RescaleParams& p, const int8_t* in, int8_t* out);

struct LeakyReluParams {
  int32_t inZeroPoint = 0, outZeroPoint = 0;
  QuantizedMultiplier identity, alpha;
  RoundingMode mode = RoundingMode::TfliteReference;  // a TFLite mode
};
void leakyReluRef(size_t n, const LeakyReluParams& p, const int8_t* in, int8_t* out);

// LOGISTIC / TANH: TFLite's int8 kernels look up a 256-entry table built in float,
//   table[q] = clamp(round(f(s_in·(q − zp_in)) / s_out) + zp_out).
std::vector<int8_t> makeLut(float inScale, int32_t inZeroPoint, float outScale, int32_t outZeroPoint,
                            float (*f)(float));
void lutRef(size_t n, const std::vector<int8_t>& table, const int8_t* in, int8_t* out);

// SOFTMAX int8 → int8, TFLite's kernel (the same for its reference and optimized
// registrations): table[255 − d] = expf(−s_in·β·d) for d = max − q ∈ [0, 255]; per row a
// float sum of the table entries, p = round(e / (sum · s_out)) + zp_out.
std::vector<float> makeSoftmaxTable(float inScale, float beta);
void softmaxRef(int rows, int depth, const std::vector<float>& table, float outScale, int32_t outZeroPoint,
                const int8_t* in, int8_t* out);

// HARD_SWISH int8 (TFLite's reference: a 16-bit "reluish" term times the input at 1/128 of
// the input scale, both with int16 fixed-point multipliers).
struct HardSwishParams {
  int32_t inZeroPoint = 0, outZeroPoint = 0;
  int16_t outMultiplier16 = 0, reluishMultiplier16 = 0;
  int outExponent = 0, reluishExponent = 0;
};
HardSwishParams makeHardSwishParams(float inScale, int32_t inZp, float outScale, int32_t outZp);
void hardSwishRef(size_t n, const HardSwishParams& p, const int8_t* in, int8_t* out);

// ------------------------------------------------------------------ data movement

// QUANTIZE float → int8: q = clamp(round_half_away(x / s) + zp).
void quantizeRef(size_t n, float scale, int32_t zeroPoint, const float* in, int8_t* out);
// DEQUANTIZE: x = float(double(s) · (q − zp)).
void dequantizeRef(size_t n, float scale, int32_t zeroPoint, const int8_t* in, float* out);

// PAD of (N, H, W, C) with `value` (the zero point): pads[4][2] before/after per axis.
void padRef(const std::vector<int>& inShape, const int pads[4][2], int8_t value, const int8_t* in, int8_t* out);

// CONCATENATION along an axis: each input viewed as (outer, chunk[k]); inputs with other
// scales are requantized as TFLite's ConcatenationWithScaling does:
// q_out = round(q·s_k/s_out − zp_k·s_k/s_out) + zp_out (float arithmetic).
struct ConcatInput {
  const int8_t* data;
  size_t chunk;
  float scale;
  int32_t zeroPoint;
};
void concatRef(size_t outer, const std::vector<ConcatInput>& inputs, float outScale, int32_t outZeroPoint,
               int8_t* out);

}  // namespace qat::deploy::kernels
