// ONNX QDQ reader: one converter per ONNX op type of the subset onnx_ops.cpp writes. Each
// reads its inputs' values, checks the layout it needs, turns ONNX attributes (in the
// value's layout) back into the TFLite builtin options (in the graph's NHWC order) and adds
// a pending op (onnx_reader.cpp) with its output shape.
#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/deploy/onnx_builder.h"
#include "engine/deploy/onnx_reader_impl.h"

namespace qat::deploy::onnx_import {

namespace {
size_t perSample(const std::vector<int>& shape) {
  size_t n = 1;
  for (size_t d = 1; d < shape.size(); ++d) n *= static_cast<size_t>(shape[d]);
  return n;
}

// TFLite's padding from explicit ONNX pads (begin H, begin W, end H, end W) on an (h, w)
// input: VALID when there are none, SAME when they are what SAME pads. With no SAME padding
// needed both give the same output, and VALID is returned.
Expected<PaddingKind> paddingOf(const std::vector<int64_t>& pads, int h, int w, int kh, int kw, int sh, int sw, int dh,
                                int dw) {
  if (std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; })) return PaddingKind::Valid;
  int64_t top = 0, bottom = 0, left = 0, right = 0;
  onnx_export::samePads(h, kh, sh, dh, top, bottom);
  onnx_export::samePads(w, kw, sw, dw, left, right);
  if (pads == std::vector<int64_t>{top, left, bottom, right}) return PaddingKind::Same;
  return makeError("pads [" + std::to_string(pads[0]) + ", " + std::to_string(pads[1]) + ", " + std::to_string(pads[2]) +
                   ", " + std::to_string(pads[3]) + "] are neither none (VALID) nor TFLite's SAME padding [" +
                   std::to_string(top) + ", " + std::to_string(left) + ", " + std::to_string(bottom) + ", " +
                   std::to_string(right) + "]");
}

// Output size of a window op along one axis, or an error when the window does not fit.
Expected<int> windowOut(int in, int64_t before, int64_t after, int k, int stride, int dilation) {
  const int64_t span = int64_t(in) + before + after - (int64_t(k) - 1) * dilation - 1;
  if (span < 0) return makeError("the window does not fit the input");
  return static_cast<int>(span / stride + 1);
}

}  // namespace

// ---- convolutions and Gemm -----------------------------------------------------------------

// Conv on NCHW. group 1: CONV_2D with OIHW weights (→ OHWI); group = C with weights
// (C·M, 1, kh, kw): DEPTHWISE_CONV_2D (→ [1, kh, kw, C·M]).
Status Reader::convertConv(const DecodedNode& n) {
  QAT_TRY(onlyAttributes(n, {"kernel_shape", "strides", "dilations", "pads", "group", "auto_pad"}));
  if (n.inputs.size() < 2 || n.inputs.size() > 3) return makeError("needs an input, weights and an optional bias");
  QAT_ONNX_LET(x, tensorValue(n.inputs[0]));
  if (x.perm != kNchw) return makeError("reads '" + n.inputs[0] + "' in a layout other than NCHW");
  const std::vector<int> xs = tensor(x.tensor).shape;
  QAT_ONNX_LET(wd, constantDims(n.inputs[1]));
  if (wd.size() != 4) return makeError("weights must be 4-D (O, I, kh, kw)");
  QAT_ONNX_LET(group, attrInt(n, "group", 1));
  if (std::any_of(wd.begin(), wd.end(), [](int64_t d) { return d < 1; })) return makeError("weights have an empty dimension");
  const int C = xs[3], O = static_cast<int>(wd[0]), kh = static_cast<int>(wd[2]), kw = static_cast<int>(wd[3]);
  const bool depthwise = group != 1;
  if (depthwise && !(group == C && wd[1] == 1 && O % C == 0))
    return makeError("group " + std::to_string(group) + " with weights (" + std::to_string(O) + ", " +
                     std::to_string(wd[1]) + ", ...) on " + std::to_string(C) +
                     " channels: only group 1 or depthwise (group = channels) is in the subset");
  if (!depthwise && wd[1] != C)
    return makeError("weights have " + std::to_string(wd[1]) + " input channels, the input " + std::to_string(C));
  QAT_ONNX_LET(kernel, attrInts(n, "kernel_shape", {kh, kw}));
  if (kernel != std::vector<int64_t>{kh, kw}) return makeError("kernel_shape does not match the weights");
  std::vector<int64_t> strides, dilations, pads;
  QAT_TRY(windowAttrs(n, strides, dilations, pads));
  PendingOp p;
  p.op.kind = depthwise ? OpKind::DepthwiseConv2D : OpKind::Conv2D;
  p.op.strideH = static_cast<int>(strides[0]);
  p.op.strideW = static_cast<int>(strides[1]);
  p.op.dilationH = static_cast<int>(dilations[0]);
  p.op.dilationW = static_cast<int>(dilations[1]);
  p.op.depthMultiplier = depthwise ? O / C : 1;
  QAT_ONNX_LET(padding, paddingOf(pads, xs[1], xs[2], kh, kw, p.op.strideH, p.op.strideW, p.op.dilationH, p.op.dilationW));
  p.op.padding = padding;
  QAT_ONNX_LET(oh, windowOut(xs[1], pads[0], pads[2], kh, p.op.strideH, p.op.dilationH));
  QAT_ONNX_LET(ow, windowOut(xs[2], pads[1], pads[3], kw, p.op.strideW, p.op.dilationW));
  QAT_ONNX_LET(w, constant(n.inputs[1], depthwise ? Perm{3, 0, 1, 2} : Perm{0, 3, 1, 2}, n.inputs[1]));
  p.consts.push_back(std::move(w));
  if (n.inputs.size() == 3 && !n.inputs[2].empty()) {
    QAT_ONNX_LET(b, constant(n.inputs[2], Perm{0}, n.inputs[2]));
    if (b.shape[0] != O) return makeError("bias has " + std::to_string(b.shape[0]) + " values for " + std::to_string(O) + " channels");
    p.consts.push_back(std::move(b));
  }
  p.acts = {x.tensor};
  p.shape = {1, oh, ow, O};
  p.perm = kNchw;
  p.fusable = true;
  return addPending(std::move(p), n.outputs[0]);
}

// Gemm(x, W, b, transB = 1) with W (units, in): FULLY_CONNECTED. A Reshape to (−1, in) that
// only this Gemm reads, of an int8 tensor (no QuantizeLinear between them) or across the
// batch, is TFLite's implicit flattening: the Gemm reads the Reshape's input. (Between float
// tensors a RESHAPE then FULLY_CONNECTED computes the same and is what freeze writes.)
Status Reader::convertGemm(const DecodedNode& n) {
  QAT_TRY(onlyAttributes(n, {"transA", "transB", "alpha", "beta"}));
  QAT_ONNX_LET(transA, attrInt(n, "transA", 0));
  QAT_ONNX_LET(transB, attrInt(n, "transB", 0));
  QAT_ONNX_LET(alpha, attrFloat(n, "alpha", 1.0f));
  QAT_ONNX_LET(beta, attrFloat(n, "beta", 1.0f));
  if (transA != 0 || transB != 1 || alpha != 1.0f || beta != 1.0f)
    return makeError("the subset has Gemm with transB = 1 only (no transA, alpha, beta)");
  if (n.inputs.size() < 2 || n.inputs.size() > 3) return makeError("needs an input, weights and an optional bias");
  QAT_ONNX_LET(wd, constantDims(n.inputs[1]));
  if (wd.size() != 2) return makeError("weights must be 2-D (units, in)");
  const int units = static_cast<int>(wd[0]), depth = static_cast<int>(wd[1]);
  if (units < 1 || depth < 1) return makeError("weights have an empty dimension");
  int x = -1;
  QAT_ONNX_LET(v, lookup(n.inputs[0]));
  if (v.kind == Val::Pending && consumers(n.inputs[0]) == 1) {
    PendingOp& r = pending_[static_cast<size_t>(v.pending)];
    const bool int8 = r.acts.size() == 1 && tensor(r.acts[0]).type == ElementType::Int8;
    if (r.tensor < 0 && r.op.kind == OpKind::Reshape && r.target == std::vector<int64_t>{-1, depth} &&
        (int8 || !r.reshapeValid))
      x = r.acts[0];
  }
  if (x < 0) {
    QAT_ONNX_LET(xv, tensorValue(n.inputs[0]));
    if (xv.perm != Perm{0, 1}) return makeError("reads '" + n.inputs[0] + "', which is not 2-D (N, in)");
    x = xv.tensor;
  }
  const size_t count = perSample(tensor(x).shape);
  if (count % static_cast<size_t>(depth) != 0)
    return makeError("reads " + shapeText(tensor(x).shape) + ", not a multiple of the weights' " + std::to_string(depth) + " inputs");
  PendingOp p;
  p.op.kind = OpKind::FullyConnected;
  QAT_ONNX_LET(w, constant(n.inputs[1], Perm{0, 1}, n.inputs[1]));
  p.consts.push_back(std::move(w));
  if (n.inputs.size() == 3 && !n.inputs[2].empty()) {
    QAT_ONNX_LET(b, constant(n.inputs[2], Perm{0}, n.inputs[2]));
    if (b.shape[0] != units) return makeError("bias has " + std::to_string(b.shape[0]) + " values for " + std::to_string(units) + " units");
    p.consts.push_back(std::move(b));
  }
  p.rowsPerSample = static_cast<int>(count / static_cast<size_t>(depth));
  p.acts = {x};
  p.shape = {1, units};
  p.perm = {0, 1};
  p.fusable = true;
  return addPending(std::move(p), n.outputs[0]);
}

// ---- pooling, mean, reshape, softmax -------------------------------------------------------

Status Reader::convertPool(const DecodedNode& n) {
  const bool avg = n.opType == "AveragePool";
  QAT_TRY(onlyAttributes(n, {"kernel_shape", "strides", "pads", "auto_pad", "ceil_mode", "count_include_pad", "dilations",
                             "storage_order"}));
  if (n.inputs.size() != 1) return makeError("needs one input");
  QAT_ONNX_LET(x, tensorValue(n.inputs[0]));
  if (x.perm != kNchw) return makeError("reads '" + n.inputs[0] + "' in a layout other than NCHW");
  const std::vector<int> xs = tensor(x.tensor).shape;
  QAT_ONNX_LET(kernel, attrInts(n, "kernel_shape", {}));
  if (kernel.size() != 2 || kernel[0] < 1 || kernel[1] < 1 || kernel[0] > 4096 || kernel[1] > 4096)
    return makeError("kernel_shape must be two sizes ≥ 1");
  std::vector<int64_t> strides, dilations, pads;
  QAT_TRY(windowAttrs(n, strides, dilations, pads));
  QAT_ONNX_LET(ceil, attrInt(n, "ceil_mode", 0));
  QAT_ONNX_LET(order, attrInt(n, "storage_order", 0));
  QAT_ONNX_LET(includePad, attrInt(n, "count_include_pad", 0));
  if (dilations != std::vector<int64_t>{1, 1} || ceil != 0 || order != 0)
    return makeError("dilations, ceil_mode and storage_order are outside the subset");
  if (avg && includePad != 0 && std::any_of(pads.begin(), pads.end(), [](int64_t v) { return v != 0; }))
    return makeError("count_include_pad = 1 with padding; TFLite averages over the real pixels only");
  PendingOp p;
  p.op.kind = avg ? OpKind::AveragePool2D : OpKind::MaxPool2D;
  p.op.filterH = static_cast<int>(kernel[0]);
  p.op.filterW = static_cast<int>(kernel[1]);
  p.op.strideH = static_cast<int>(strides[0]);
  p.op.strideW = static_cast<int>(strides[1]);
  QAT_ONNX_LET(padding, paddingOf(pads, xs[1], xs[2], p.op.filterH, p.op.filterW, p.op.strideH, p.op.strideW, 1, 1));
  p.op.padding = padding;
  QAT_ONNX_LET(oh, windowOut(xs[1], pads[0], pads[2], p.op.filterH, p.op.strideH, 1));
  QAT_ONNX_LET(ow, windowOut(xs[2], pads[1], pads[3], p.op.filterW, p.op.strideW, 1));
  p.acts = {x.tensor};
  p.shape = {1, oh, ow, xs[3]};
  p.perm = kNchw;
  p.fusable = true;
  return addPending(std::move(p), n.outputs[0]);
}

// ReduceMean over ONNX axes a: graph axes perm[a], as MEAN's int32 axes input. Without
// keepdims the remaining dims keep their ONNX order (the writer's rule, inverted).
Status Reader::convertReduceMean(const DecodedNode& n) {
  QAT_TRY(onlyAttributes(n, {"axes", "keepdims"}));
  if (n.inputs.size() != 1) return makeError("needs one input (axes as an attribute, opset 13)");
  QAT_ONNX_LET(x, tensorValue(n.inputs[0]));
  QAT_ONNX_LET(axes, attrInts(n, "axes", {}));
  QAT_ONNX_LET(keep, attrInt(n, "keepdims", 1));
  if (keep != 0 && keep != 1) return makeError("keepdims " + std::to_string(keep));
  const int rank = static_cast<int>(x.perm.size());
  std::vector<bool> reduced(static_cast<size_t>(rank), false);
  for (int64_t a : axes) {
    if (a < -rank || a >= rank) return makeError("axis " + std::to_string(a) + " is outside rank " + std::to_string(rank));
    const int d = x.perm[static_cast<size_t>(a < 0 ? a + rank : a)];
    if (reduced[static_cast<size_t>(d)]) return makeError("axis " + std::to_string(a) + " is listed twice");
    reduced[static_cast<size_t>(d)] = true;
  }
  std::vector<int32_t> graphAxes;
  std::vector<int> shape;
  const std::vector<int> xs = tensor(x.tensor).shape;
  for (int d = 0; d < rank; ++d) {
    if (reduced[static_cast<size_t>(d)]) graphAxes.push_back(d);
    if (!reduced[static_cast<size_t>(d)] || keep) shape.push_back(reduced[static_cast<size_t>(d)] ? 1 : xs[static_cast<size_t>(d)]);
  }
  if (graphAxes.empty() || reduced[0]) return makeError("the subset's mean reduces some non-batch axes");
  PendingOp p;
  p.op.kind = OpKind::Mean;
  p.op.keepDims = keep != 0;
  p.perm = x.perm;
  if (!keep) {
    p.perm.clear();
    for (int d : x.perm) {
      if (reduced[static_cast<size_t>(d)]) continue;
      int index = 0;
      for (int e = 0; e < d; ++e) index += reduced[static_cast<size_t>(e)] ? 0 : 1;
      p.perm.push_back(index);
    }
  }
  p.consts.push_back(int32Constant(n.outputs[0] + "/axes", {static_cast<int>(graphAxes.size())}, graphAxes));
  p.acts = {x.tensor};
  p.shape = shape;
  return addPending(std::move(p), n.outputs[0]);
}

// Reshape(x, (−1, d1, ...)) in the graph's order. After a Gemm (that nothing else reads) it is
// the Gemm's output shape; on its own a RESHAPE, or TFLite's implicit flattening when the
// new shape moves values into the batch (then only a Gemm may read it).
Status Reader::convertReshape(const DecodedNode& n) {
  QAT_TRY(onlyAttributes(n, {"allowzero"}));
  QAT_ONNX_LET(allowZero, attrInt(n, "allowzero", 0));
  if (n.inputs.size() != 2 || allowZero != 0) return makeError("needs an input and a shape (allowzero 0)");
  QAT_ONNX_LET(target, int64Values(n.inputs[1]));
  if (target.size() < 2 || target[0] != -1)
    return makeError("the subset's Reshape keeps a dynamic batch: the shape must be (−1, d1, ...) with rank ≥ 2");
  std::vector<int> shape = {1};
  size_t count = 1;
  for (size_t i = 1; i < target.size(); ++i) {
    if (target[i] < 1 || target[i] > std::numeric_limits<int32_t>::max() ||
        count > std::numeric_limits<size_t>::max() / 4 / static_cast<size_t>(target[i]))
      return makeError("shape entry " + std::to_string(target[i]));
    shape.push_back(static_cast<int>(target[i]));
    count *= static_cast<size_t>(target[i]);
  }
  QAT_ONNX_LET(v, lookup(n.inputs[0]));
  if (v.kind == Val::Pending && consumers(n.inputs[0]) == 1) {
    PendingOp& fc = pending_[static_cast<size_t>(v.pending)];
    if (fc.tensor < 0 && fc.op.kind == OpKind::FullyConnected) {
      if (count != static_cast<size_t>(fc.rowsPerSample) * static_cast<size_t>(fc.shape[1]))
        return makeError("reshapes " + std::to_string(fc.rowsPerSample) + " × " + std::to_string(fc.shape[1]) +
                         " Gemm outputs per sample to " + shapeText(shape));
      fc.shape = shape;
      fc.rowsPerSample = 1;
      fc.perm = identityPerm(shape.size());
      v.perm = fc.perm;
      values_[n.outputs[0]] = v;
      return {};
    }
  }
  QAT_ONNX_LET(x, tensorValue(n.inputs[0]));
  if (x.perm != identityPerm(x.perm.size())) return makeError("reads '" + n.inputs[0] + "' in a layout other than the graph's");
  PendingOp p;
  p.op.kind = OpKind::Reshape;
  p.target = target;
  p.reshapeValid = count == perSample(tensor(x.tensor).shape);
  std::vector<int32_t> values(target.begin(), target.end());
  p.consts.push_back(int32Constant(n.outputs[0] + "/shape", {static_cast<int>(values.size())}, values));
  p.acts = {x.tensor};
  p.shape = shape;
  p.perm = identityPerm(shape.size());
  return addPending(std::move(p), n.outputs[0]);
}

// Softmax along the graph's last axis, softmax(beta·x) when it reads Mul(x, beta).
Status Reader::convertSoftmax(const DecodedNode& n) {
  QAT_TRY(onlyAttributes(n, {"axis"}));
  if (n.inputs.size() != 1) return makeError("needs one input");
  QAT_ONNX_LET(v, lookup(n.inputs[0]));
  const float beta = v.kind == Val::Scaled ? v.param : 1.0f;
  QAT_ONNX_LET(x, tensorValue(v.kind == Val::Scaled ? v.source : n.inputs[0]));
  QAT_ONNX_LET(axis, attrInt(n, "axis", -1));
  const int rank = static_cast<int>(x.perm.size());
  if (axis < -rank || axis >= rank) return makeError("axis " + std::to_string(axis) + " is outside rank " + std::to_string(rank));
  if (x.perm[static_cast<size_t>(axis < 0 ? axis + rank : axis)] != rank - 1)
    return makeError("runs along another axis than the graph's last (channels)");
  PendingOp p;
  p.op.kind = OpKind::Softmax;
  p.op.beta = beta;
  p.acts = {x.tensor};
  p.shape = tensor(x.tensor).shape;
  p.perm = x.perm;
  return addPending(std::move(p), n.outputs[0]);
}

// ---- element-wise --------------------------------------------------------------------------

// Mul is MUL, Softmax's beta (by a FLOAT scalar, read only by a Softmax), or the product
// of HARD_SWISH: Mul(x, HardSigmoid(x; 1/6, 1/2)).
Status Reader::convertMul(const DecodedNode& n) {
  if (n.inputs.size() != 2) return makeError("needs two inputs");
  for (int k = 0; k < 2; ++k) {
    const std::string& c = n.inputs[static_cast<size_t>(k)];
    const std::string& other = n.inputs[static_cast<size_t>(1 - k)];
    if (initializer(c)) {
      auto it = consumers_.find(n.outputs[0]);
      const bool beforeSoftmax = consumers(n.outputs[0]) == 1 && it != consumers_.end() && it->second[0]->opType == "Softmax";
      if (!beforeSoftmax)
        return makeError("multiplies by the constant '" + c + "'; the subset has that only as Softmax's beta");
      QAT_ONNX_LET(beta, floatScalar(c));
      QAT_ONNX_LET(v, lookup(other));
      Val s;
      s.kind = Val::Scaled;
      s.source = other;
      s.param = beta;
      s.perm = v.perm;
      values_[n.outputs[0]] = s;
      return {};
    }
    auto it = values_.find(c);
    if (it != values_.end() && it->second.kind == Val::HardSigmoid) {
      if (it->second.source != other) return makeError("multiplies a HardSigmoid by another value than its input");
      return unaryOp(n, other, OpKind::HardSwish);
    }
  }
  return convertElementwise(n);
}

// ADD / SUB / MUL / CONCATENATION: inputs in one common layout (the writer reads them so),
// shapes equal (no broadcasting in the subset) or, for Concat, equal except on the axis.
Status Reader::convertElementwise(const DecodedNode& n) {
  const bool concat = n.opType == "Concat";
  QAT_TRY(concat ? onlyAttributes(n, {"axis"}) : onlyAttributes(n, {}));
  if (concat ? n.inputs.empty() : n.inputs.size() != 2) return makeError(concat ? "needs inputs" : "needs two inputs");
  std::vector<Val> ins;
  for (const auto& name : n.inputs) {
    QAT_ONNX_LET(v, tensorValue(name));
    if (!ins.empty() && v.perm != ins[0].perm)
      return makeError("reads '" + name + "' in another layout than '" + n.inputs[0] + "'");
    ins.push_back(v);
  }
  PendingOp p;
  p.perm = ins[0].perm;
  p.shape = tensor(ins[0].tensor).shape;
  const int rank = static_cast<int>(p.perm.size());
  int axis = -1;
  if (concat) {
    QAT_ONNX_LET(a, attrInt(n, "axis", std::numeric_limits<int64_t>::min()));
    if (a < -rank || a >= rank) return makeError("axis is missing or outside rank " + std::to_string(rank));
    axis = p.perm[static_cast<size_t>(a < 0 ? a + rank : a)];
    p.shape[static_cast<size_t>(axis)] = 0;
  }
  for (const Val& v : ins) {
    const std::vector<int>& s = tensor(v.tensor).shape;
    bool same = s.size() == p.shape.size();
    for (size_t d = 0; same && d < s.size(); ++d) same = static_cast<int>(d) == axis || s[d] == p.shape[d];
    if (!same) return makeError("inputs " + shapeText(tensor(ins[0].tensor).shape) + " and " + shapeText(s) +
                                (concat ? " differ off the axis" : " differ (broadcasting is outside the subset)"));
    if (concat) {
      const int64_t sum = int64_t(p.shape[static_cast<size_t>(axis)]) + s[static_cast<size_t>(axis)];
      if (sum > std::numeric_limits<int32_t>::max()) return makeError("the concatenation is too large");
      p.shape[static_cast<size_t>(axis)] = static_cast<int>(sum);
    }
    p.acts.push_back(v.tensor);
  }
  const std::string& op = n.opType;
  p.op.kind = op == "Add" ? OpKind::Add : op == "Sub" ? OpKind::Sub : op == "Mul" ? OpKind::Mul : OpKind::Concatenation;
  p.op.axis = concat ? axis : -1;
  p.fusable = !concat;  // the interpreter (as TFLite's reference) applies no activation after a concat
  return addPending(std::move(p), n.outputs[0]);
}

// Pad(x, pads, 0) in any layout: ONNX pads (begins, then ends, by ONNX axis) become PAD's
// (rank, 2) int32 paddings by graph dim.
Status Reader::convertPad(const DecodedNode& n) {
  QAT_TRY(onlyAttributes(n, {"mode"}));
  QAT_ONNX_LET(mode, attrString(n, "mode", "constant"));
  if (mode != "constant") return makeError("mode '" + mode + "'; the subset pads with zeros");
  if (n.inputs.size() < 2 || n.inputs.size() > 3) return makeError("needs an input, pads and an optional value");
  QAT_ONNX_LET(x, tensorValue(n.inputs[0]));
  QAT_ONNX_LET(pads, int64Values(n.inputs[1]));
  if (n.inputs.size() == 3 && !n.inputs[2].empty()) {
    QAT_ONNX_LET(value, floatScalar(n.inputs[2]));
    if (value != 0.0f) return makeError("pads with " + std::to_string(value) + "; the subset pads with zeros");
  }
  const size_t rank = x.perm.size();
  if (pads.size() != 2 * rank) return makeError("has " + std::to_string(pads.size()) + " pads for rank " + std::to_string(rank));
  std::vector<int32_t> paddings(2 * rank);
  std::vector<int> shape = tensor(x.tensor).shape;
  for (size_t i = 0; i < rank; ++i) {
    const size_t d = static_cast<size_t>(x.perm[i]);
    if (pads[i] < 0 || pads[rank + i] < 0 || pads[i] > 4096 || pads[rank + i] > 4096)
      return makeError("pads must be between 0 and 4096");
    paddings[2 * d] = static_cast<int32_t>(pads[i]);
    paddings[2 * d + 1] = static_cast<int32_t>(pads[rank + i]);
    shape[d] += paddings[2 * d] + paddings[2 * d + 1];
  }
  if (paddings[0] != 0 || paddings[1] != 0) return makeError("pads the batch dimension");
  PendingOp p;
  p.op.kind = OpKind::Pad;
  p.consts.push_back(int32Constant(n.outputs[0] + "/paddings", {static_cast<int>(rank), 2}, paddings));
  p.acts = {x.tensor};
  p.shape = shape;
  p.perm = x.perm;
  return addPending(std::move(p), n.outputs[0]);
}

// ---- activations ---------------------------------------------------------------------------

Status Reader::unaryOp(const DecodedNode& n, const std::string& input, OpKind kind, float alpha) {
  QAT_ONNX_LET(x, tensorValue(input));
  PendingOp p;
  p.op.kind = kind;
  if (kind == OpKind::LeakyRelu) p.op.alpha = alpha;
  p.acts = {x.tensor};
  p.shape = tensor(x.tensor).shape;
  p.perm = x.perm;
  return addPending(std::move(p), n.outputs[0]);
}

// Relu and Clip(0, 6) right after a fusable op are its fused activation (Clip(−1, 1) only
// that); otherwise RELU / RELU6 ops. Sigmoid, Tanh, LeakyRelu: LOGISTIC, TANH, LEAKY_RELU.
Status Reader::convertActivation(const DecodedNode& n) {
  const std::string& op = n.opType;
  if (n.inputs.empty() || (op != "Clip" && n.inputs.size() != 1) || n.inputs.size() > 3) return makeError("needs one input");
  const std::string& in = n.inputs[0];
  const std::string& out = n.outputs[0];
  if (op == "Relu") {
    QAT_TRY(onlyAttributes(n, {}));
    return fuse(in, FusedActivation::Relu, out) ? Status{} : unaryOp(n, in, OpKind::Relu);
  }
  if (op == "Clip") {
    QAT_TRY(onlyAttributes(n, {}));
    float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
    if (n.inputs.size() > 1 && !n.inputs[1].empty()) {
      QAT_ONNX_LET(v, floatScalar(n.inputs[1]));
      lo = v;
    }
    if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
      QAT_ONNX_LET(v, floatScalar(n.inputs[2]));
      hi = v;
    }
    if (lo == 0.0f && hi == 6.0f) return fuse(in, FusedActivation::Relu6, out) ? Status{} : unaryOp(n, in, OpKind::Relu6);
    if (lo == -1.0f && hi == 1.0f) {
      if (fuse(in, FusedActivation::ReluN1To1, out)) return {};
      return makeError("Clip(−1, 1) is in the subset only as the fused activation of the op before it");
    }
    return makeError("Clip(" + std::to_string(lo) + ", " + std::to_string(hi) + "); the subset has Clip(0, 6) and Clip(−1, 1)");
  }
  if (op == "LeakyRelu") {
    QAT_TRY(onlyAttributes(n, {"alpha"}));
    QAT_ONNX_LET(alpha, attrFloat(n, "alpha", 0.01f));
    return unaryOp(n, in, OpKind::LeakyRelu, alpha);
  }
  QAT_TRY(onlyAttributes(n, {}));
  return unaryOp(n, in, op == "Sigmoid" ? OpKind::Logistic : OpKind::Tanh);
}

// HardSigmoid(x; 1/6, 1/2), read only by Mul(x, ·): the writer's HARD_SWISH (opset 13 has no
// HardSwish).
Status Reader::convertHardSigmoid(const DecodedNode& n) {
  QAT_TRY(onlyAttributes(n, {"alpha", "beta"}));
  if (n.inputs.size() != 1) return makeError("needs one input");
  QAT_ONNX_LET(alpha, attrFloat(n, "alpha", 0.2f));
  QAT_ONNX_LET(beta, attrFloat(n, "beta", 0.5f));
  auto it = consumers_.find(n.outputs[0]);
  const bool inHardSwish = alpha == 1.0f / 6.0f && beta == 0.5f && consumers(n.outputs[0]) == 1 &&
                           it != consumers_.end() && it->second[0]->opType == "Mul";
  if (!inHardSwish)
    return makeError("the subset has HardSigmoid only as x · HardSigmoid(x; alpha 1/6, beta 1/2) (HARD_SWISH)");
  QAT_ONNX_LET(v, lookup(n.inputs[0]));
  Val h;
  h.kind = Val::HardSigmoid;
  h.source = n.inputs[0];
  h.perm = v.perm;
  values_[n.outputs[0]] = h;
  return {};
}

}  // namespace qat::deploy::onnx_import
