#pragma once
// The exact (real-valued) result of an int8 operator, to tell rounding differences between
// two int8 runtimes from real disagreements. The op's int8 graph is dequantized into a
// float graph (weights, biases and inputs to real values, same ops and options) and run
// with the interpreter's float kernels; the real output, divided by the output scale plus
// the zero point, is where the int8 output "should" be before rounding. A runtime that
// rounds once lands within 0.5 of it, TFLite's double rounding within 0.5 plus a fraction
// of a step; a wrong layout or parameter lands many steps away.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/deploy/integer_graph.h"
#include "engine/deploy/interpreter.h"

namespace test {

// Real values of an int8 / int4 / int32 constant or of raw int8 values, per axis.
inline std::vector<float> dequantize(const qat::deploy::GraphTensor& t, const std::vector<float>& raw) {
  std::vector<float> r(raw.size());
  const auto& q = t.quant;
  size_t inner = 1;
  if (q.scale.size() > 1)
    for (size_t d = static_cast<size_t>(q.quantizedDimension) + 1; d < t.shape.size(); ++d) inner *= size_t(t.shape[d]);
  for (size_t i = 0; i < raw.size(); ++i) {
    const size_t c = q.scale.size() > 1 ? (i / inner) % q.scale.size() : 0;
    r[i] = q.scale[c] * (raw[i] - float(q.zeroPoint[c]));
  }
  return r;
}

// The stored values of a constant as floats (int8, packed int4, int32).
inline std::vector<float> rawValues(const qat::deploy::GraphTensor& t) {
  using ET = qat::deploy::ElementType;
  size_t n = 1;
  for (int d : t.shape) n *= size_t(d);
  std::vector<float> r(n);
  for (size_t i = 0; i < n; ++i) {
    if (t.type == ET::Int8) r[i] = float(int8_t(t.data[i]));
    else if (t.type == ET::Int4) {
      const int nib = (t.data[i / 2] >> ((i % 2) * 4)) & 0xF;
      r[i] = float(nib >= 8 ? nib - 16 : nib);
    } else if (t.type == ET::Int32) {
      int32_t v;
      std::memcpy(&v, &t.data[i * 4], 4);
      r[i] = float(v);
    } else {
      std::memcpy(&r[i], &t.data[i * 4], 4);
    }
  }
  return r;
}

// For a one-op int8 graph (int8 output) and its raw int8 inputs: the exact output positions
// in the output's int8 units, clamped to [−128, 127]. Empty when the op is not an int8 →
// int8 operator (QUANTIZE, DEQUANTIZE) or the float graph cannot run.
inline std::vector<double> exactPositions(const qat::deploy::IntegerGraph& g, const std::vector<qat::Tensor>& rawInputs) {
  using namespace qat::deploy;
  const GraphTensor& out = g.tensors[size_t(g.outputs[0])];
  if (out.type != ElementType::Int8 || g.ops.size() != 1 || g.ops[0].kind == OpKind::Quantize) return {};
  IntegerGraph f = g;
  for (GraphTensor& t : f.tensors) {
    const bool quantized = t.quant.quantized();
    if (t.isConstant() && (quantized || t.type != ElementType::Int32)) {
      std::vector<float> real = quantized ? dequantize(t, rawValues(t)) : rawValues(t);
      t.data.resize(real.size() * 4);
      std::memcpy(t.data.data(), real.data(), t.data.size());
      t.type = ElementType::Float32;
    } else if (!t.isConstant()) {
      t.type = ElementType::Float32;
    }
    if (t.type == ElementType::Float32) t.quant = {};
    t.valueBits = 8;
  }
  std::vector<qat::Tensor> real;
  for (size_t k = 0; k < g.inputs.size(); ++k) {
    const GraphTensor& t = g.tensors[size_t(g.inputs[k])];
    const std::vector<float> raw(rawInputs[k].data(), rawInputs[k].data() + rawInputs[k].size());
    const std::vector<float> v = dequantize(t, raw);
    qat::Tensor x(rawInputs[k].shape());
    std::copy(v.begin(), v.end(), x.data());
    real.push_back(std::move(x));
  }
  auto in = Interpreter::create(f);
  if (!in) return {};
  auto y = in->run(real);
  if (!y) return {};
  std::vector<double> pos((*y)[0].size());
  for (size_t i = 0; i < pos.size(); ++i)
    pos[i] = std::clamp(double((*y)[0][i]) / double(out.quant.scale[0]) + double(out.quant.zeroPoint[0]), -128.0, 127.0);
  return pos;
}

}  // namespace test
