#pragma once
// Hand-built int8 IntegerGraphs for the export tests: one graph per operator kind (int8
// input and output, so runtimes can be compared value by value) and a small CNN with
// float I/O (QUANTIZE ... DEQUANTIZE). Weights are random but scaled so activations use a
// good part of the int8 range instead of saturating: for a dot product over `fanIn` terms
// of x (|x| ≤ X, uniform) and w (|w| ≤ W, uniform) the output's standard deviation is
// sqrt(fanIn · X²/3 · W²/3); output ranges are set to three of those.
#include <cmath>
#include <string>
#include <vector>

#include "engine/core/rng.h"
#include "engine/deploy/integer_graph.h"

namespace test {

class GraphBuilder {
 public:
  using ET = qat::deploy::ElementType;
  explicit GraphBuilder(uint64_t seed, std::string name) : rng_(seed) { g_.name = std::move(name); }
  qat::deploy::IntegerGraph& graph() { return g_; }
  qat::Rng& rng() { return rng_; }

  int floatTensor(const std::string& name, std::vector<int> shape) {
    qat::deploy::GraphTensor t;
    t.name = name;
    t.shape = std::move(shape);
    return g_.addTensor(std::move(t));
  }
  int int8Tensor(const std::string& name, std::vector<int> shape, float scale, int zeroPoint) {
    qat::deploy::GraphTensor t;
    t.name = name;
    t.shape = std::move(shape);
    t.type = ET::Int8;
    t.quant.scale = {scale};
    t.quant.zeroPoint = {zeroPoint};
    return g_.addTensor(std::move(t));
  }
  // An activation whose real range is [lo, hi] (asymmetric int8, zero exactly representable).
  int int8Range(const std::string& name, std::vector<int> shape, float lo, float hi) {
    const float scale = (hi - lo) / 255.0f;
    const int zp = static_cast<int>(std::lround(-128.0 - lo / scale));
    return int8Tensor(name, std::move(shape), scale, std::max(-128, std::min(127, zp)));
  }
  // Constant int8 weights with values uniform in [−q, q] (q = 127, or 7 when bits is 4),
  // one scale per channel along `qdim` (or one for all) so that |w| ≤ maxAbs.
  int weights(const std::string& name, std::vector<int> shape, int qdim, bool perChannel, float maxAbs, int bits = 8) {
    qat::deploy::GraphTensor t;
    t.name = name;
    t.shape = shape;
    t.type = ET::Int8;
    t.valueBits = bits;
    const int q = bits == 4 ? 7 : 127;
    const int channels = perChannel ? shape[static_cast<size_t>(qdim)] : 1;
    for (int c = 0; c < channels; ++c) {
      t.quant.scale.push_back(maxAbs * rng_.uniform(0.6f, 1.0f) / float(q));
      t.quant.zeroPoint.push_back(0);
    }
    t.quant.quantizedDimension = perChannel ? qdim : 0;
    size_t n = 1;
    for (int d : shape) n *= static_cast<size_t>(d);
    t.data.resize(n);
    for (auto& b : t.data) b = static_cast<uint8_t>(static_cast<int8_t>(std::lround(rng_.uniform(-float(q), float(q)))));
    return g_.addTensor(std::move(t));
  }
  // int32 bias with scale input_scale · weight_scale[c] (one scale when the weights have
  // one, as TFLite requires), values of about ±maxReal.
  int bias(const std::string& name, int n, int input, int weights, float maxReal) {
    const auto& w = g_.tensors[static_cast<size_t>(weights)].quant;
    const float inScale = g_.tensors[static_cast<size_t>(input)].quant.scale[0];
    qat::deploy::GraphTensor t;
    t.name = name;
    t.shape = {n};
    t.type = ET::Int32;
    t.data.resize(static_cast<size_t>(n) * 4);
    for (size_t c = 0; c < w.scale.size(); ++c) {
      t.quant.scale.push_back(inScale * w.scale[c]);
      t.quant.zeroPoint.push_back(0);
    }
    for (int c = 0; c < n; ++c) {
      const float s = t.quant.scale[t.quant.scale.size() == 1 ? 0 : static_cast<size_t>(c)];
      const int32_t v = static_cast<int32_t>(std::lround(rng_.uniform(-maxReal, maxReal) / s));
      for (int k = 0; k < 4; ++k) t.data[size_t(c) * 4 + size_t(k)] = static_cast<uint8_t>(uint32_t(v) >> (8 * k));
    }
    return g_.addTensor(std::move(t));
  }
  int int32Const(const std::string& name, std::vector<int> shape, const std::vector<int32_t>& values) {
    qat::deploy::GraphTensor t;
    t.name = name;
    t.shape = std::move(shape);
    t.type = ET::Int32;
    for (int32_t v : values)
      for (int k = 0; k < 4; ++k) t.data.push_back(static_cast<uint8_t>(uint32_t(v) >> (8 * k)));
    return g_.addTensor(std::move(t));
  }
  qat::deploy::GraphOp& op(qat::deploy::OpKind k, std::vector<int> in, std::vector<int> out, std::string layer = {}) {
    qat::deploy::GraphOp o;
    o.kind = k;
    o.inputs = std::move(in);
    o.outputs = std::move(out);
    o.sourceLayer = std::move(layer);
    g_.ops.push_back(std::move(o));
    return g_.ops.back();
  }
  float scale(int t) const { return g_.tensors[static_cast<size_t>(t)].quant.scale[0]; }
  // Three standard deviations of a dot product over fanIn terms (see the file comment).
  static float dotRange(int fanIn, float xMax, float wMax) {
    return 3.0f * std::sqrt(float(fanIn) * xMax * xMax / 3.0f * wMax * wMax / 3.0f);
  }

 private:
  qat::deploy::IntegerGraph g_;
  qat::Rng rng_;
};

// The operator rows singleOpGraph() knows, by name.
inline std::vector<std::string> singleOpNames() {
  return {"conv2d",    "conv2d_dilated", "depthwise", "fully_connected", "average_pool", "max_pool",
          "mean",      "reshape",        "softmax",   "logistic",        "tanh",         "add",
          "sub",       "mul",            "concat",    "pad",             "leaky_relu",   "hard_swish",
          "relu",      "relu6",          "leaky_relu_small_multiplier"};
}

// One operator between an int8 input [1, 6, 6, 4] (scale 0.0311, zero point 3: about ±4)
// and an int8 output; ADD / SUB / MUL / CONCATENATION take a second int8 input [1, 6, 6, 4]
// (with other parameters, except for CONCATENATION, where TFLite wants them shared).
// PAD's input has zero point 0 (Arm NN 20.08 pads with raw 0).
// LEAKY_RELU: "leaky_relu" has output parameters as a converter would choose them (range
// [alpha·min, max]), so the alpha multiplier is below 0.5 and TFLite's two roundings
// (SRDHM, then a rounding shift) apply; "leaky_relu_small_multiplier" keeps both
// multipliers at 0.5 or above, where TFLite rounds once.
inline qat::deploy::IntegerGraph singleOpGraph(const std::string& which, uint64_t seed = 1) {
  using qat::deploy::OpKind;
  using qat::deploy::PaddingKind;
  using qat::deploy::FusedActivation;
  GraphBuilder b(seed, which);
  const std::vector<int> s = {1, 6, 6, 4};
  const bool flat = which == "fully_connected" || which == "softmax";
  // Scales are arbitrary numbers, as calibration gives: simple binary fractions would put
  // many results exactly on a rounding tie, where runtimes legitimately differ.
  const float xs = 0.0311f;
  const int x = which == "pad" ? b.int8Tensor("x", s, xs, 0)
                : flat         ? b.int8Tensor("x", {1, 24}, 0.0613f, -4)
                               : b.int8Tensor("x", s, xs, 3);
  int y = -1;
  if (which == "conv2d" || which == "conv2d_dilated") {
    const bool dil = which == "conv2d_dilated";
    const int w = b.weights("w", {6, 3, 3, 4}, 0, true, 0.3f);
    const int bi = b.bias("b", 6, x, w, 0.5f);
    const float r = GraphBuilder::dotRange(36, 4.0f, 0.3f);
    y = dil ? b.int8Range("y", {1, 2, 2, 6}, -r, r) : b.int8Range("y", {1, 6, 6, 6}, 0.0f, r);
    auto& o = b.op(OpKind::Conv2D, {x, w, bi}, {y}, "conv");
    o.padding = dil ? PaddingKind::Valid : PaddingKind::Same;
    o.dilationH = o.dilationW = dil ? 2 : 1;
    o.activation = dil ? FusedActivation::None : FusedActivation::Relu;
  } else if (which == "depthwise") {
    const int w = b.weights("w", {1, 3, 3, 8}, 3, true, 0.5f);
    const int bi = b.bias("b", 8, x, w, 0.3f);
    y = b.int8Range("y", {1, 3, 3, 8}, 0.0f, std::min(6.0f, GraphBuilder::dotRange(9, 4.0f, 0.5f)));
    auto& o = b.op(OpKind::DepthwiseConv2D, {x, w, bi}, {y}, "dw");
    o.padding = PaddingKind::Same;
    o.strideH = o.strideW = 2;
    o.depthMultiplier = 2;
    o.activation = FusedActivation::Relu6;
  } else if (which == "fully_connected") {
    const int w = b.weights("w", {10, 24}, 0, false, 0.4f);
    const int bi = b.bias("b", 10, x, w, 0.5f);
    const float r = GraphBuilder::dotRange(24, 8.0f, 0.4f);
    y = b.int8Range("y", {1, 10}, -r, r);
    b.op(OpKind::FullyConnected, {x, w, bi}, {y}, "dense");
  } else if (which == "average_pool" || which == "max_pool") {
    const bool avg = which == "average_pool";
    y = b.int8Tensor("y", {1, 3, 3, 4}, xs, 3);
    auto& o = b.op(avg ? OpKind::AveragePool2D : OpKind::MaxPool2D, {x}, {y}, "pool");
    o.filterH = o.filterW = avg ? 2 : 3;
    o.strideH = o.strideW = 2;
    o.padding = avg ? PaddingKind::Valid : PaddingKind::Same;
  } else if (which == "mean") {
    const int axes = b.int32Const("axes", {2}, {1, 2});
    y = b.int8Tensor("y", {1, 4}, 0.0173f, 1);
    b.op(OpKind::Mean, {x, axes}, {y}, "gap");
  } else if (which == "reshape") {
    const int shape = b.int32Const("shape", {2}, {1, 144});
    y = b.int8Tensor("y", {1, 144}, xs, 3);
    b.op(OpKind::Reshape, {x, shape}, {y}, "flatten");
  } else if (which == "softmax") {
    y = b.int8Tensor("y", {1, 24}, 1.0f / 256, -128);
    b.op(OpKind::Softmax, {x}, {y}, "softmax").beta = 1.0f;
  } else if (which == "logistic" || which == "tanh") {
    const bool logistic = which == "logistic";
    y = logistic ? b.int8Tensor("y", s, 1.0f / 256, -128) : b.int8Tensor("y", s, 1.0f / 128, 0);
    b.op(logistic ? OpKind::Logistic : OpKind::Tanh, {x}, {y}, which);
  } else if (which == "add" || which == "sub" || which == "mul" || which == "concat") {
    const bool cat = which == "concat";
    const int c = cat ? b.int8Tensor("c", s, xs, 3) : b.int8Tensor("c", s, 0.0497f, -5);
    b.graph().inputs = {x, c};
    if (which == "add") {
      y = b.int8Range("y", s, 0.0f, 8.0f);
      b.op(OpKind::Add, {x, c}, {y}, "add").activation = FusedActivation::Relu;
    } else if (which == "sub") {
      y = b.int8Range("y", s, -8.0f, 8.0f);
      b.op(OpKind::Sub, {x, c}, {y}, "sub");
    } else if (which == "mul") {
      y = b.int8Range("y", s, -16.0f, 16.0f);
      b.op(OpKind::Mul, {x, c}, {y}, "mul");
    } else {
      y = b.int8Tensor("y", {1, 6, 6, 8}, xs, 3);
      b.op(OpKind::Concatenation, {x, c}, {y}, "concat").axis = 3;
    }
  } else if (which == "pad") {
    const int pads = b.int32Const("paddings", {4, 2}, {0, 0, 1, 2, 2, 1, 0, 0});
    y = b.int8Tensor("y", {1, 9, 9, 4}, xs, 0);
    b.op(OpKind::Pad, {x, pads}, {y}, "zero_padding");
  } else if (which == "leaky_relu") {
    y = b.int8Range("y", s, -0.82f, 3.9f);
    b.op(OpKind::LeakyRelu, {x}, {y}, "leaky").alpha = 0.2f;
  } else if (which == "leaky_relu_small_multiplier") {
    y = b.int8Tensor("y", s, 0.0119f, -59);  // [−0.82, 2.21]: multipliers 0.2 · xs / 0.0119 = 0.52 and 2.61
    b.op(OpKind::LeakyRelu, {x}, {y}, "leaky").alpha = 0.2f;
  } else if (which == "hard_swish") {
    y = b.int8Range("y", s, -0.375f, 4.0f);
    b.op(OpKind::HardSwish, {x}, {y}, "hswish");
  } else if (which == "relu" || which == "relu6") {
    y = b.int8Range("y", s, 0.0f, 4.0f);
    b.op(which == "relu" ? OpKind::Relu : OpKind::Relu6, {x}, {y}, which);
  }
  if (b.graph().inputs.empty()) b.graph().inputs = {x};
  b.graph().outputs = {y};
  return b.graph();
}

// A small CNN with float I/O: QUANTIZE → CONV_2D (ReLU) → DEPTHWISE_CONV_2D (ReLU6,
// stride 2, multiplier 2) → MAX_POOL_2D → CONV_2D 1×1 → ADD (ReLU, residual) →
// AVERAGE_POOL_2D → RESHAPE → FULLY_CONNECTED → SOFTMAX → DEQUANTIZE. Input (1, 8, 8, 3)
// in [0, 1]; output (1, 10) probabilities. `weightBits` 4 puts conv weights on the 4-bit grid.
inline qat::deploy::IntegerGraph cnnGraph(uint64_t seed = 7, int weightBits = 8) {
  using qat::deploy::OpKind;
  using qat::deploy::PaddingKind;
  using qat::deploy::FusedActivation;
  GraphBuilder b(seed, "cnn");
  const int in = b.floatTensor("input", {1, 8, 8, 3});
  const int xq = b.int8Tensor("input_int8", {1, 8, 8, 3}, 1.0f / 255, -128);
  b.op(OpKind::Quantize, {in}, {xq}, "input");

  const int w1 = b.weights("conv1/kernel", {8, 3, 3, 3}, 0, true, 0.5f, weightBits);
  const int b1 = b.bias("conv1/bias", 8, xq, w1, 0.2f);
  const float r1 = GraphBuilder::dotRange(27, 1.0f, 0.5f);
  const int y1 = b.int8Range("conv1", {1, 8, 8, 8}, 0.0f, r1);
  auto& c1 = b.op(OpKind::Conv2D, {xq, w1, b1}, {y1}, "conv1");
  c1.padding = PaddingKind::Same;
  c1.activation = FusedActivation::Relu;

  const int w2 = b.weights("dw/kernel", {1, 3, 3, 16}, 3, true, 0.6f, weightBits);
  const int b2 = b.bias("dw/bias", 16, y1, w2, 0.2f);
  const float r2 = std::min(6.0f, GraphBuilder::dotRange(9, r1, 0.6f));
  const int y2 = b.int8Range("dw", {1, 4, 4, 16}, 0.0f, r2);
  auto& c2 = b.op(OpKind::DepthwiseConv2D, {y1, w2, b2}, {y2}, "dw");
  c2.padding = PaddingKind::Same;
  c2.strideH = c2.strideW = 2;
  c2.depthMultiplier = 2;
  c2.activation = FusedActivation::Relu6;

  const int y3 = b.int8Tensor("pool", {1, 2, 2, 16}, b.scale(y2), b.graph().tensors[size_t(y2)].quant.zeroPoint[0]);
  auto& p = b.op(OpKind::MaxPool2D, {y2}, {y3}, "pool");
  p.filterH = p.filterW = p.strideH = p.strideW = 2;

  const int w4 = b.weights("proj/kernel", {16, 1, 1, 16}, 0, true, 0.4f);
  const int b4 = b.bias("proj/bias", 16, y3, w4, 0.1f);
  const float r4 = GraphBuilder::dotRange(16, r2, 0.4f);
  const int y4 = b.int8Range("proj", {1, 2, 2, 16}, -r4, r4);
  b.op(OpKind::Conv2D, {y3, w4, b4}, {y4}, "proj");

  const int y5 = b.int8Range("add", {1, 2, 2, 16}, 0.0f, r2 + r4);
  b.op(OpKind::Add, {y3, y4}, {y5}, "add").activation = FusedActivation::Relu;
  const int y6 = b.int8Tensor("gap", {1, 1, 1, 16}, b.scale(y5), b.graph().tensors[size_t(y5)].quant.zeroPoint[0]);
  auto& ap = b.op(OpKind::AveragePool2D, {y5}, {y6}, "gap");
  ap.filterH = ap.filterW = ap.strideH = ap.strideW = 2;
  const int shape = b.int32Const("flatten/shape", {2}, {-1, 16});
  const int y7 = b.int8Tensor("flatten", {1, 16}, b.scale(y6), b.graph().tensors[size_t(y6)].quant.zeroPoint[0]);
  b.op(OpKind::Reshape, {y6, shape}, {y7}, "flatten");

  const int w8 = b.weights("dense/kernel", {10, 16}, 0, false, 0.5f);
  const int b8 = b.bias("dense/bias", 10, y7, w8, 0.3f);
  const float r8 = GraphBuilder::dotRange(16, r2 + r4, 0.5f);
  const int y8 = b.int8Range("dense", {1, 10}, -r8, r8);
  b.op(OpKind::FullyConnected, {y7, w8, b8}, {y8}, "dense");
  const int y9 = b.int8Tensor("softmax", {1, 10}, 1.0f / 256, -128);
  b.op(OpKind::Softmax, {y8}, {y9}, "softmax");
  const int out = b.floatTensor("output", {1, 10});
  b.op(OpKind::Dequantize, {y9}, {out}, "output");
  b.graph().inputs = {in};
  b.graph().outputs = {out};
  return b.graph();
}

// First difference between two graphs ("" when equal): name, tensors (all fields), ops
// (kind, tensors, every builtin option), inputs, outputs. sourceLayer and notes are not
// compared: a .tflite file has no place for them.
inline std::string graphDifference(const qat::deploy::IntegerGraph& a, const qat::deploy::IntegerGraph& b) {
  if (a.name != b.name) return "graph name '" + a.name + "' vs '" + b.name + "'";
  if (a.tensors.size() != b.tensors.size())
    return "tensor count " + std::to_string(a.tensors.size()) + " vs " + std::to_string(b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const auto& x = a.tensors[i];
    const auto& y = b.tensors[i];
    const std::string t = "tensor " + std::to_string(i) + " '" + x.name + "': ";
    if (x.name != y.name) return t + "name vs '" + y.name + "'";
    if (x.shape != y.shape) return t + "shape";
    if (x.type != y.type) return t + "type";
    if (x.quant.scale != y.quant.scale) return t + "scales";
    if (x.quant.zeroPoint != y.quant.zeroPoint) return t + "zero points";
    if (x.quant.quantizedDimension != y.quant.quantizedDimension) return t + "quantized dimension";
    if (x.data != y.data) return t + "data";
    if (x.valueBits != y.valueBits) return t + "value bits";
  }
  if (a.ops.size() != b.ops.size()) return "op count " + std::to_string(a.ops.size()) + " vs " + std::to_string(b.ops.size());
  for (size_t i = 0; i < a.ops.size(); ++i) {
    const auto& x = a.ops[i];
    const auto& y = b.ops[i];
    const std::string o = "op " + std::to_string(i) + " (" + std::string(qat::deploy::opKindName(x.kind)) + "): ";
    if (x.kind != y.kind) return o + "kind";
    if (x.inputs != y.inputs || x.outputs != y.outputs) return o + "tensors";
    if (x.padding != y.padding || x.strideH != y.strideH || x.strideW != y.strideW) return o + "padding / strides";
    if (x.dilationH != y.dilationH || x.dilationW != y.dilationW) return o + "dilation";
    if (x.filterH != y.filterH || x.filterW != y.filterW) return o + "filter size";
    if (x.depthMultiplier != y.depthMultiplier) return o + "depth multiplier";
    if (x.activation != y.activation) return o + "fused activation";
    if (x.axis != y.axis || x.keepDims != y.keepDims) return o + "axis / keep_dims";
    if (x.alpha != y.alpha || x.beta != y.beta) return o + "alpha / beta";
  }
  if (a.inputs != b.inputs || a.outputs != b.outputs) return "graph inputs / outputs";
  return {};
}

}  // namespace test
