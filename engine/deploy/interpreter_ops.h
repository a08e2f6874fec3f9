#pragma once
// Internal to the interpreter: one prepared operator (its multipliers, tables and weights
// decoded once at Interpreter::create) and the per-thread buffers it runs on.
#include <string>
#include <vector>

#include "engine/deploy/int_kernels.h"
#include "engine/deploy/int_kernels_float.h"

namespace qat::deploy::detail {

// Activation buffers of one worker thread: one per tensor, `n` samples each.
struct Workspace {
  std::vector<std::vector<int8_t>> i8;
  std::vector<std::vector<float>> f;
  kernels::ConvScratch scratch;
  std::vector<float> floatScratch;  // FloatDequantizedHalfAway's fast conv / FC
};

struct PreparedOp {
  OpKind kind = OpKind::Conv2D;
  std::string label;       // "op 3 (CONV_2D, layer 'conv1')" for errors
  bool isFloat = false;    // runs on float tensors
  std::vector<int> in;     // activation inputs (tensor indices)
  int out = -1;
  FusedActivation act = FusedActivation::None;

  // CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED
  kernels::ConvShape conv;  // N set per run
  int fcDepth = 0, fcUnits = 0;
  kernels::Requant rq;
  std::vector<int8_t> w8;
  kernels::PackedWeights packed;  // the fast conv / FC's copy
  std::vector<int32_t> bias32;
  std::vector<float> wf, bf;
  bool hasBias = false;
  bool requantize = false;  // QUANTIZE int8 → int8

  kernels::PoolShape pool;
  kernels::MeanParams mean;
  int meanPixels = 0, meanChannels = 0;
  kernels::AddParams add;
  kernels::MulParams mul;
  kernels::RescaleParams rescale;
  kernels::LeakyReluParams leaky;
  kernels::HardSwishParams hardSwish;
  std::vector<int8_t> lut;
  std::vector<float> softmaxTable;
  float outScale = 1, inScale = 1, alpha = 0, beta = 1;
  int32_t outZeroPoint = 0, inZeroPoint = 0;
  int rowDepth = 0;  // softmax: last axis
  int pads[4][2] = {};
  std::vector<int> padInShape;  // per sample, batch 1
  size_t concatOuter = 1;
  std::vector<size_t> concatChunk;
  std::vector<float> concatScale;
  std::vector<int32_t> concatZeroPoint;

  // Rounding modes other than TfliteReference (RoundingMode in interpreter.h).
  RoundingMode mode = RoundingMode::TfliteReference;
  kernels::DequantConv dq;         // FloatDequantizedHalfAway: CONV_2D / DEPTHWISE_CONV_2D / FC
  kernels::BinaryFloatParams bin;  // float modes: ADD / SUB / MUL
  bool useLut = false;             // float modes: an element-wise op run as `lut`
  std::vector<std::vector<int8_t>> concatTables;  // float modes: per input, empty = copied
};

inline bool isFloatMode(RoundingMode m) {
  return m == RoundingMode::FloatDequantizedHalfAway || m == RoundingMode::FloatMultiplierHalfEven ||
         m == RoundingMode::FloatDequantizedHalfEven;
}
// Modes computing every op in float on dequantized values (own conv / FC kernels).
inline bool isDequantizedMode(RoundingMode m) {
  return m == RoundingMode::FloatDequantizedHalfAway || m == RoundingMode::FloatDequantizedHalfEven;
}

// Decodes op i of a validated graph; errors name the op and say what is unsupported.
Expected<PreparedOp> prepareOp(const IntegerGraph& g, size_t i, RoundingMode mode);

// Runs the op on `n` samples held in ws (tensor buffers already sized). perSample[t] is
// tensor t's element count per sample.
void executeOp(const PreparedOp& op, const std::vector<size_t>& perSample, Workspace& ws, int n, bool reference);

}  // namespace qat::deploy::detail
