// ONNX QDQ export: one converter per OpKind. Each reads its inputs' float values in the
// layout it needs (onnx_writer.cpp explains values and layouts), emits float ONNX
// operators and hands the result to setResult(), which adds the Q/DQ pair of an int8
// output.
#include <algorithm>

#include "engine/deploy/onnx_builder.h"

namespace qat::deploy::onnx_export {

namespace {
std::vector<int64_t> i64(std::initializer_list<int> v) { return {v.begin(), v.end()}; }
}  // namespace

#define QAT_VALUE(var, expr)        \
  auto var##_r = (expr);            \
  if (!var##_r.ok()) return var##_r.error(); \
  const auto var = std::move(var##_r.value())

Status OnnxBuilder::convert(const GraphOp& op) {
  if (op.outputs.size() != 1) return makeError("expected exactly one output");
  if (op.inputs.empty() || op.inputs[0] < 0) return makeError("missing input");
  switch (op.kind) {
    case OpKind::Conv2D:
    case OpKind::DepthwiseConv2D:
      return convertConv(op);
    case OpKind::FullyConnected:
      return convertFullyConnected(op);
    case OpKind::AveragePool2D:
    case OpKind::MaxPool2D:
      return convertPool(op);
    case OpKind::Mean:
      return convertMean(op);
    case OpKind::Reshape:
      return convertReshape(op);
    case OpKind::Softmax:
      return convertSoftmax(op);
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Concatenation:
      return convertElementwise(op);
    case OpKind::Pad:
      return convertPad(op);
    case OpKind::Logistic:
    case OpKind::Tanh:
    case OpKind::Relu:
    case OpKind::Relu6:
    case OpKind::LeakyRelu:
    case OpKind::HardSwish:
    case OpKind::Quantize:
    case OpKind::Dequantize:
      return convertUnary(op);
  }
  return makeError("has no ONNX equivalent");
}

// CONV_2D → Conv on NCHW with OIHW weights. DEPTHWISE_CONV_2D → Conv with group = C and
// weights (C·M, 1, kh, kw): in both, output channel c·M + m reads input channel c only.
// SAME padding becomes TFLite's explicit (possibly asymmetric) pads.
Status OnnxBuilder::convertConv(const GraphOp& op) {
  const bool depthwise = op.kind == OpKind::DepthwiseConv2D;
  if (op.inputs.size() < 2 || op.inputs[1] < 0) return makeError("needs an input and a weight tensor");
  const int xt = op.inputs[0], wt = op.inputs[1];
  const int bt = op.inputs.size() > 2 ? op.inputs[2] : -1;
  const auto& xs = tensor(xt).shape;
  const auto& ws = tensor(wt).shape;
  if (xs.size() != 4 || ws.size() != 4) return makeError("input and weights must be 4-D");
  QAT_VALUE(x, valueNchw(xt));
  QAT_VALUE(w, constantPermuted(wt, depthwise ? Perm{3, 0, 1, 2} : Perm{0, 3, 1, 2}));
  const int kh = ws[1], kw = ws[2];
  int64_t group = 1;
  if (depthwise) {
    group = xs[3];
    if (ws[3] != xs[3] * op.depthMultiplier)
      return makeError("depthwise weights have " + std::to_string(ws[3]) + " channels, expected C·M = " +
                       std::to_string(xs[3] * op.depthMultiplier));
  } else if (ws[3] <= 0 || xs[3] % ws[3] != 0) {
    return makeError("weights have " + std::to_string(ws[3]) + " input channels for an input with " +
                     std::to_string(xs[3]));
  } else {
    group = xs[3] / ws[3];
  }
  int64_t top = 0, bottom = 0, left = 0, right = 0;
  if (op.padding == PaddingKind::Same) {
    samePads(xs[1], kh, op.strideH, op.dilationH, top, bottom);
    samePads(xs[2], kw, op.strideW, op.dilationW, left, right);
  }
  std::vector<std::string> inputs = {x, w};
  if (bt >= 0) {
    QAT_VALUE(b, constantPermuted(bt, Perm{0}));
    inputs.push_back(b);
  }
  const std::string base = tensorBase(op.outputs[0]);
  std::string y = node("Conv", inputs, base + "_conv",
                       {Attribute::ofInts("kernel_shape", i64({kh, kw})),
                        Attribute::ofInts("strides", i64({op.strideH, op.strideW})),
                        Attribute::ofInts("dilations", i64({op.dilationH, op.dilationW})),
                        Attribute::ofInts("pads", {top, left, bottom, right}), Attribute::ofInt("group", group)});
  return setResult(op.outputs[0], activation(y, op.activation, base), kNchw);
}

// FULLY_CONNECTED → Gemm(x, W, b, transB = 1) with W (units, in) as TFLite stores it. An
// input of rank > 2 is first flattened to (−1, in) in the graph's NHWC order, as TFLite
// does; an output of rank > 2 is reshaped back.
Status OnnxBuilder::convertFullyConnected(const GraphOp& op) {
  if (op.inputs.size() < 2 || op.inputs[1] < 0) return makeError("needs an input and a weight tensor");
  const int xt = op.inputs[0], wt = op.inputs[1];
  const int bt = op.inputs.size() > 2 ? op.inputs[2] : -1;
  const auto& ws = tensor(wt).shape;
  if (ws.size() != 2) return makeError("weights must be 2-D (units, in)");
  const std::string base = tensorBase(op.outputs[0]);
  QAT_VALUE(xin, valueAs(xt, identity(rankOf(xt))));
  std::string x = xin;
  if (rankOf(xt) != 2) x = node("Reshape", {xin, int64Vector(base + "_in_shape", i64({-1, ws[1]}))}, base + "_flat");
  QAT_VALUE(w, constantPermuted(wt, Perm{0, 1}));
  std::vector<std::string> inputs = {x, w};
  if (bt >= 0) {
    QAT_VALUE(b, constantPermuted(bt, Perm{0}));
    inputs.push_back(b);
  }
  std::string y = node("Gemm", inputs, base + "_gemm", {Attribute::ofInt("transB", 1)});
  y = activation(y, op.activation, base);
  const int outRank = rankOf(op.outputs[0]);
  if (outRank != 2) {
    std::vector<int64_t> shape(tensor(op.outputs[0]).shape.begin(), tensor(op.outputs[0]).shape.end());
    shape[0] = -1;
    y = node("Reshape", {y, int64Vector(base + "_out_shape", shape)}, base + "_reshaped");
  }
  return setResult(op.outputs[0], y, identity(outRank));
}

// MAX_POOL_2D / AVERAGE_POOL_2D → MaxPool / AveragePool on NCHW. TFLite's SAME average
// pooling divides by the number of real (unpadded) pixels: count_include_pad = 0.
Status OnnxBuilder::convertPool(const GraphOp& op) {
  const int xt = op.inputs[0];
  QAT_VALUE(x, valueNchw(xt));
  const auto& xs = tensor(xt).shape;
  int64_t top = 0, bottom = 0, left = 0, right = 0;
  if (op.padding == PaddingKind::Same) {
    samePads(xs[1], op.filterH, op.strideH, 1, top, bottom);
    samePads(xs[2], op.filterW, op.strideW, 1, left, right);
  }
  std::vector<Attribute> attrs = {Attribute::ofInts("kernel_shape", i64({op.filterH, op.filterW})),
                                  Attribute::ofInts("strides", i64({op.strideH, op.strideW})),
                                  Attribute::ofInts("pads", {top, left, bottom, right})};
  const bool avg = op.kind == OpKind::AveragePool2D;
  if (avg) attrs.push_back(Attribute::ofInt("count_include_pad", 0));
  const std::string base = tensorBase(op.outputs[0]);
  std::string y = node(avg ? "AveragePool" : "MaxPool", {x}, base + (avg ? "_avgpool" : "_maxpool"), attrs);
  return setResult(op.outputs[0], activation(y, op.activation, base), kNchw);
}

// MEAN (axes from its constant second input) → ReduceMean over the same graph axes in the
// value's layout. Without keepdims the remaining dims keep their relative order, so the
// result's layout is the input's with the reduced dims removed (NCHW mean over H, W gives
// (N, C), the graph's own order).
Status OnnxBuilder::convertMean(const GraphOp& op) {
  if (op.inputs.size() < 2 || op.inputs[1] < 0 || !tensor(op.inputs[1]).isConstant() ||
      tensor(op.inputs[1]).type != ElementType::Int32)
    return makeError("needs a constant int32 axes tensor");
  QAT_VALUE(v, value(op.inputs[0]));
  const int rank = static_cast<int>(v.perm.size());
  std::vector<bool> reduced(static_cast<size_t>(rank), false);
  for (int32_t a : int32Values(tensor(op.inputs[1]))) {
    const int axis = a < 0 ? a + rank : a;
    if (axis < 0 || axis >= rank) return makeError("axis " + std::to_string(a) + " out of range");
    reduced[static_cast<size_t>(axis)] = true;
  }
  std::vector<int64_t> axes;
  for (int i = 0; i < rank; ++i)
    if (reduced[static_cast<size_t>(v.perm[static_cast<size_t>(i)])]) axes.push_back(i);
  Perm outPerm = v.perm;
  if (!op.keepDims) {
    // Renumber the surviving graph dims 0..k-1 in order, keep their ONNX order.
    outPerm.clear();
    for (int d : v.perm) {
      if (reduced[static_cast<size_t>(d)]) continue;
      int newIndex = 0;
      for (int e = 0; e < d; ++e) newIndex += reduced[static_cast<size_t>(e)] ? 0 : 1;
      outPerm.push_back(newIndex);
    }
  }
  const std::string base = tensorBase(op.outputs[0]);
  std::string y = node("ReduceMean", {v.name}, base + "_mean",
                       {Attribute::ofInts("axes", axes), Attribute::ofInt("keepdims", op.keepDims ? 1 : 0)});
  return setResult(op.outputs[0], y, outPerm);
}

// RESHAPE → Reshape in the graph's NHWC order (a 4-D input is transposed back first, so a
// flatten reads pixels in Keras' order) with the output shape, batch left as −1.
Status OnnxBuilder::convertReshape(const GraphOp& op) {
  const int xt = op.inputs[0];
  QAT_VALUE(x, valueAs(xt, identity(rankOf(xt))));
  std::vector<int64_t> shape(tensor(op.outputs[0]).shape.begin(), tensor(op.outputs[0]).shape.end());
  if (shape.empty()) return makeError("output has rank 0");
  shape[0] = -1;
  const std::string base = tensorBase(op.outputs[0]);
  std::string y = node("Reshape", {x, int64Vector(base + "_shape", shape)}, base + "_reshape");
  return setResult(op.outputs[0], y, identity(static_cast<int>(shape.size())));
}

// SOFTMAX over the graph's last axis: softmax(beta·x) along wherever that axis sits.
Status OnnxBuilder::convertSoftmax(const GraphOp& op) {
  QAT_VALUE(v, value(op.inputs[0]));
  const std::string base = tensorBase(op.outputs[0]);
  std::string x = v.name;
  if (op.beta != 1.0f) x = node("Mul", {x, floatScalar(base + "_beta", op.beta)}, base + "_scaled");
  const int axis = onnxAxis(v.perm, static_cast<int>(v.perm.size()) - 1);
  std::string y = node("Softmax", {x}, base + "_softmax", {Attribute::ofInt("axis", axis)});
  return setResult(op.outputs[0], y, v.perm);
}

// ADD / SUB / MUL / CONCATENATION. Inputs of equal rank are read in the layout of the first
// non-constant input (broadcasting and the concat axis survive any common permutation);
// with mixed ranks everything is read in graph order, where TFLite's right-aligned
// broadcasting is ONNX's too.
Status OnnxBuilder::convertElementwise(const GraphOp& op) {
  const bool concat = op.kind == OpKind::Concatenation;
  if (!concat && op.inputs.size() != 2) return makeError("needs two inputs");
  const int outRank = rankOf(op.outputs[0]);
  Perm perm = identity(outRank);
  bool sameRank = true;
  for (int t : op.inputs) {
    if (t < 0) return makeError("missing input");
    sameRank = sameRank && rankOf(t) == outRank;
  }
  if (sameRank) {
    for (int t : op.inputs) {
      if (tensor(t).isConstant()) continue;
      QAT_VALUE(v, value(t));
      perm = v.perm;
      break;
    }
  }
  std::vector<std::string> inputs;
  for (int t : op.inputs) {
    QAT_VALUE(name, valueAs(t, sameRank ? perm : identity(rankOf(t))));
    inputs.push_back(name);
  }
  const std::string base = tensorBase(op.outputs[0]);
  std::string y;
  if (concat) {
    const int axis = op.axis < 0 ? op.axis + outRank : op.axis;
    if (axis < 0 || axis >= outRank) return makeError("axis " + std::to_string(op.axis) + " out of range");
    y = node("Concat", inputs, base + "_concat", {Attribute::ofInt("axis", onnxAxis(perm, axis))});
  } else {
    const char* name = op.kind == OpKind::Add ? "Add" : op.kind == OpKind::Sub ? "Sub" : "Mul";
    y = node(name, inputs, base + "_" + name);
  }
  return setResult(op.outputs[0], activation(y, op.activation, base), perm);
}

// PAD (paddings (rank, 2) int32 constant) → Pad with constant 0: real zero, which an int8
// output quantizes to its zero point, as TFLite pads int8 tensors.
Status OnnxBuilder::convertPad(const GraphOp& op) {
  if (op.inputs.size() < 2 || op.inputs[1] < 0 || !tensor(op.inputs[1]).isConstant() ||
      tensor(op.inputs[1]).type != ElementType::Int32)
    return makeError("needs a constant int32 paddings tensor");
  QAT_VALUE(v, value(op.inputs[0]));
  const auto pad = int32Values(tensor(op.inputs[1]));
  const size_t rank = v.perm.size();
  if (pad.size() != 2 * rank) return makeError("paddings must be (" + std::to_string(rank) + ", 2)");
  std::vector<int64_t> pads(2 * rank);
  for (size_t i = 0; i < rank; ++i) {
    const size_t d = static_cast<size_t>(v.perm[i]);
    pads[i] = pad[2 * d];
    pads[rank + i] = pad[2 * d + 1];
  }
  const std::string base = tensorBase(op.outputs[0]);
  std::string y = node("Pad", {v.name, int64Vector(base + "_pads", pads), floatScalar(base + "_pad_value", 0.0f)},
                       base + "_pad");
  return setResult(op.outputs[0], y, v.perm);
}

// Element-wise single-input ops keep their input's layout. QUANTIZE / DEQUANTIZE are the
// identity on real values: the Q/DQ pair that setResult adds (or not) does the work.
Status OnnxBuilder::convertUnary(const GraphOp& op) {
  QAT_VALUE(v, value(op.inputs[0]));
  const std::string base = tensorBase(op.outputs[0]);
  std::string y;
  switch (op.kind) {
    case OpKind::Logistic:
      y = node("Sigmoid", {v.name}, base + "_sigmoid");
      break;
    case OpKind::Tanh:
      y = node("Tanh", {v.name}, base + "_tanh");
      break;
    case OpKind::Relu:
      y = activation(v.name, FusedActivation::Relu, base);
      break;
    case OpKind::Relu6:
      y = activation(v.name, FusedActivation::Relu6, base);
      break;
    case OpKind::LeakyRelu:
      y = node("LeakyRelu", {v.name}, base + "_leaky_relu", {Attribute::ofFloat("alpha", op.alpha)});
      break;
    case OpKind::HardSwish: {
      // x · relu6(x + 3) / 6 = x · HardSigmoid(x; alpha 1/6, beta 1/2) (HardSwish is opset 14).
      std::string hs = node("HardSigmoid", {v.name}, base + "_hard_sigmoid",
                            {Attribute::ofFloat("alpha", 1.0f / 6.0f), Attribute::ofFloat("beta", 0.5f)});
      y = node("Mul", {v.name, hs}, base + "_hard_swish");
      break;
    }
    case OpKind::Quantize:
    case OpKind::Dequantize:
      y = v.name;
      break;
    default:
      return makeError("is not an element-wise op");
  }
  return setResult(op.outputs[0], y, v.perm);
}

#undef QAT_VALUE

}  // namespace qat::deploy::onnx_export
