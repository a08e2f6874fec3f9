#pragma once
// Small IntegerGraphs built by hand for the export tests. One GraphMaker builds either the
// int8 graph (int8 activations with the given scale / zero point, int8 weights with
// per-channel or per-tensor scales, int32 biases with scale in·w[c]) or, with
// quantized = false, the float graph of the same structure, so one description serves
// both. Weights are random with real values in about ±1.5/√fanIn, biases in ±0.2.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "engine/core/rng.h"
#include "engine/deploy/integer_graph.h"

namespace qat::test {

struct GraphMaker {
  deploy::IntegerGraph g;
  bool quantized = true;
  Rng rng;

  explicit GraphMaker(bool q, uint64_t seed = 1) : quantized(q), rng(seed) {}

  int floatTensor(const std::string& name, std::vector<int> shape) {
    deploy::GraphTensor t;
    t.name = name;
    t.shape = std::move(shape);
    return g.addTensor(std::move(t));
  }
  // An activation: int8 (scale, zp) in the quantized graph, float otherwise.
  int act(const std::string& name, std::vector<int> shape, float scale, int zp) {
    const int t = floatTensor(name, std::move(shape));
    if (quantized) {
      auto& x = g.tensors[size_t(t)];
      x.type = deploy::ElementType::Int8;
      x.quant.scale = {scale};
      x.quant.zeroPoint = {zp};
    }
    return t;
  }
  // Weights; per-channel along `qdim` when perChannel (scales vary ±20 % per channel).
  int weights(const std::string& name, std::vector<int> shape, int qdim, bool perChannel, int fanIn) {
    const int t = floatTensor(name, shape);
    auto& w = g.tensors[size_t(t)];
    const float range = 1.5f / std::sqrt(float(fanIn));
    size_t n = 1;
    for (int d : shape) n *= size_t(d);
    if (!quantized) {
      std::vector<float> v(n);
      for (auto& x : v) x = rng.uniform(-range, range);
      w.data.resize(4 * n);
      std::memcpy(w.data.data(), v.data(), 4 * n);
      return t;
    }
    w.type = deploy::ElementType::Int8;
    const int channels = perChannel ? shape[size_t(qdim)] : 1;
    for (int c = 0; c < channels; ++c) {
      w.quant.scale.push_back(range * rng.uniform(0.8f, 1.2f) / 127.0f);
      w.quant.zeroPoint.push_back(0);
    }
    w.quant.quantizedDimension = perChannel ? qdim : 0;
    w.data.resize(n);
    for (auto& b : w.data) b = uint8_t(int8_t(std::lround(rng.uniform(-127.0f, 127.0f))));
    return t;
  }
  int bias(const std::string& name, int n, float inScale, int weightTensor) {
    const int t = floatTensor(name, {n});
    auto& b = g.tensors[size_t(t)];
    b.data.resize(4 * size_t(n));
    const auto ws = g.tensors[size_t(weightTensor)].quant.scale;
    for (int c = 0; c < n; ++c) {
      const float real = rng.uniform(-0.2f, 0.2f);
      uint32_t bits;
      if (quantized) {
        const float s = inScale * ws[ws.size() > 1 ? size_t(c) : 0];
        if (ws.size() > 1 || c == 0) {  // per-channel biases follow per-channel weights
          b.quant.scale.push_back(s);
          b.quant.zeroPoint.push_back(0);
        }
        bits = uint32_t(int32_t(std::lround(real / s)));
      } else {
        std::memcpy(&bits, &real, 4);
      }
      for (int k = 0; k < 4; ++k) b.data[4 * size_t(c) + size_t(k)] = uint8_t(bits >> (8 * k));
    }
    if (quantized) b.type = deploy::ElementType::Int32;
    return t;
  }
  int int32Const(const std::string& name, std::vector<int> shape, const std::vector<int32_t>& values) {
    const int t = floatTensor(name, std::move(shape));
    auto& c = g.tensors[size_t(t)];
    c.type = deploy::ElementType::Int32;
    c.data.resize(4 * values.size());
    std::memcpy(c.data.data(), values.data(), c.data.size());
    return t;
  }
  deploy::GraphOp& op(deploy::OpKind kind, std::vector<int> inputs, int output) {
    deploy::GraphOp o;
    o.kind = kind;
    o.inputs = std::move(inputs);
    o.outputs = {output};
    g.ops.push_back(o);
    return g.ops.back();
  }
  // Float model input, then QUANTIZE when quantized; returns the tensor ops read.
  int input(const std::string& name, std::vector<int> shape, float scale, int zp) {
    const int x = floatTensor(name, shape);
    g.inputs.push_back(x);
    if (!quantized) return x;
    const int q = act(name + "_int8", shape, scale, zp);
    op(deploy::OpKind::Quantize, {x}, q);
    return q;
  }
  // DEQUANTIZE (when quantized) into a float model output.
  void output(int t, const std::string& name) {
    if (!quantized) {
      g.outputs.push_back(t);
      return;
    }
    const int y = floatTensor(name, g.tensors[size_t(t)].shape);
    op(deploy::OpKind::Dequantize, {t}, y);
    g.outputs.push_back(y);
  }
};

}  // namespace qat::test
