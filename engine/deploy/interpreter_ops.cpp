// Prepare and execute one operator of the interpreter. The multipliers are computed from
// the tensors' float scales exactly as TFLite's Prepare functions do (including which
// products are formed in float and which in double), so the integer results match.
#include <cmath>
#include <cstring>

#include "engine/deploy/float_kernels.h"
#include "engine/deploy/interpreter_ops.h"
#include "engine/layers/padding.h"

namespace qat::deploy::detail {
namespace {

const GraphTensor& tensorAt(const IntegerGraph& g, int t) { return g.tensors[static_cast<size_t>(t)]; }
bool isInt8(const GraphTensor& t) { return t.type == ElementType::Int8; }
float scale0(const GraphTensor& t) { return t.quant.scale.empty() ? 1.0f : t.quant.scale[0]; }
int32_t zp0(const GraphTensor& t) { return t.quant.zeroPoint.empty() ? 0 : static_cast<int32_t>(t.quant.zeroPoint[0]); }

std::vector<int32_t> readInt32(const GraphTensor& t) {
  std::vector<int32_t> v(t.data.size() / 4);
  if (!v.empty()) std::memcpy(v.data(), t.data.data(), v.size() * 4);
  return v;
}
std::vector<float> readFloat(const GraphTensor& t) {
  std::vector<float> v(t.data.size() / 4);
  if (!v.empty()) std::memcpy(v.data(), t.data.data(), v.size() * 4);
  return v;
}
// Int8 as stored; Int4 two values per byte, low nibble first, sign-extended.
std::vector<int8_t> readInt8(const GraphTensor& t) {
  size_t n = 1;
  for (int d : t.shape) n *= static_cast<size_t>(d);
  std::vector<int8_t> v(n);
  if (t.type == ElementType::Int8) {
    std::memcpy(v.data(), t.data.data(), n);
  } else {
    for (size_t i = 0; i < n; ++i) {
      const int nib = (t.data[i / 2] >> (4 * (i % 2))) & 0xF;
      v[i] = static_cast<int8_t>(nib >= 8 ? nib - 16 : nib);
    }
  }
  return v;
}

Error opError(const PreparedOp& op, const std::string& what) { return makeError("Interpreter: " + op.label + ": " + what); }

// Window geometry along one axis with TFLite's padding (same as Keras').
AxisPadding pad1(PaddingKind p, int in, int k, int stride, int dilation) {
  return axisPadding(p == PaddingKind::Same ? Padding::Same : Padding::Valid, in, k, stride, dilation);
}

Status prepareConvLike(const IntegerGraph& g, const GraphOp& gop, PreparedOp& op) {
  const GraphTensor& x = tensorAt(g, gop.inputs[0]);
  const GraphTensor& w = tensorAt(g, gop.inputs[1]);
  const GraphTensor& y = tensorAt(g, gop.outputs[0]);
  const bool hasBias = gop.inputs.size() > 2 && gop.inputs[2] >= 0;
  op.hasBias = hasBias;
  if (!w.isConstant()) return opError(op, "weights must be a constant tensor");
  if (hasBias && !tensorAt(g, gop.inputs[2]).isConstant()) return opError(op, "bias must be a constant tensor");
  op.isFloat = x.type == ElementType::Float32;
  const bool fc = gop.kind == OpKind::FullyConnected;
  int channels = 0;
  if (fc) {
    if (w.shape.size() != 2) return opError(op, "FULLY_CONNECTED weights must be [units, depth]");
    op.fcUnits = w.shape[0];
    op.fcDepth = w.shape[1];
    channels = op.fcUnits;
  } else {
    if (x.shape.size() != 4 || y.shape.size() != 4 || w.shape.size() != 4)
      return opError(op, "convolutions need rank-4 input, weights and output");
    kernels::ConvShape& s = op.conv;
    s.H = x.shape[1];
    s.W = x.shape[2];
    s.C = x.shape[3];
    s.KH = w.shape[1];
    s.KW = w.shape[2];
    s.OC = gop.kind == OpKind::Conv2D ? w.shape[0] : w.shape[3];
    s.strideH = gop.strideH;
    s.strideW = gop.strideW;
    s.dilationH = gop.dilationH;
    s.dilationW = gop.dilationW;
    if (gop.kind == OpKind::Conv2D && w.shape[3] != s.C)
      return opError(op, "weights have " + std::to_string(w.shape[3]) + " input channels, the input " + std::to_string(s.C));
    if (gop.kind == OpKind::DepthwiseConv2D) {
      if (s.C <= 0 || s.OC % s.C != 0) return opError(op, "depthwise output channels are not a multiple of the input's");
      s.depthMultiplier = s.OC / s.C;
    }
    const AxisPadding ph = pad1(gop.padding, s.H, s.KH, s.strideH, s.dilationH);
    const AxisPadding pw = pad1(gop.padding, s.W, s.KW, s.strideW, s.dilationW);
    s.OH = ph.out;
    s.OW = pw.out;
    s.padTop = ph.before;
    s.padLeft = pw.before;
    if (y.shape[1] != s.OH || y.shape[2] != s.OW || y.shape[3] != s.OC)
      return opError(op, "output shape does not match the convolution geometry");
    channels = s.OC;
  }
  if (op.isFloat) {
    if (w.type != ElementType::Float32 || y.type != ElementType::Float32)
      return opError(op, "a float input needs float weights and output");
    op.wf = readFloat(w);
    if (hasBias) op.bf = readFloat(tensorAt(g, gop.inputs[2]));
    return {};
  }
  if (!isInt8(x) || !isInt8(y) || !(w.type == ElementType::Int8 || w.type == ElementType::Int4))
    return opError(op, "only int8 activations with int8 (or int4) weights are supported");
  if (!x.quant.quantized() || !y.quant.quantized() || !w.quant.quantized())
    return opError(op, "input, weights and output need quantization parameters");
  for (int64_t z : w.quant.zeroPoint)
    if (z != 0) return opError(op, "weights must be symmetric (zero point 0), got " + std::to_string(z));
  const bool perChannel = w.quant.scale.size() > 1;
  if (perChannel && static_cast<int>(w.quant.scale.size()) != channels)
    return opError(op, "per-channel weight scales do not match the output channels");
  if (hasBias && tensorAt(g, gop.inputs[2]).type != ElementType::Int32) return opError(op, "bias must be int32");
  const float sIn = scale0(x), sOut = scale0(y);
  op.rq.inputOffset = -zp0(x);
  op.rq.outputOffset = zp0(y);
  op.rq.act = kernels::activationRange(gop.activation, sOut, zp0(y));
  if (fc && !perChannel) {
    // TFLite's FULLY_CONNECTED forms input_scale·filter_scale in float.
    op.rq.mult = {quantizeMultiplier(static_cast<double>(sIn * w.quant.scale[0]) / static_cast<double>(sOut))};
  } else {
    for (int c = 0; c < (perChannel ? channels : 1); ++c)
      op.rq.mult.push_back(quantizeMultiplier(static_cast<double>(sIn) * static_cast<double>(w.quant.scale[size_t(c)]) /
                                              static_cast<double>(sOut)));
  }
  op.rq.mode = op.mode;
  if (op.mode == RoundingMode::FloatMultiplierHalfEven)  // onnxruntime: x_scale · w_scale[c] / y_scale in float
    for (int c = 0; c < (perChannel ? channels : 1); ++c) op.rq.multF.push_back(sIn * w.quant.scale[size_t(c)] / sOut);
  op.w8 = readInt8(w);
  if (hasBias) op.bias32 = readInt32(tensorAt(g, gop.inputs[2]));
  if (isDequantizedMode(op.mode)) {
    const int kind = fc ? 2 : gop.kind == OpKind::DepthwiseConv2D ? 1 : 0;
    const std::vector<float> biasScales = hasBias ? tensorAt(g, gop.inputs[2]).quant.scale : std::vector<float>{};
    op.dq = kernels::makeDequantConv(kind, op.conv, op.fcDepth, op.fcUnits, op.w8, w.quant.scale, op.bias32, biasScales,
                                     sIn, zp0(x), sOut, zp0(y), op.rq.act);
    op.dq.halfEven = op.mode == RoundingMode::FloatDequantizedHalfEven;
    return {};
  }
  if (gop.kind != OpKind::DepthwiseConv2D) {
    const int taps = fc ? op.fcDepth : op.conv.KH * op.conv.KW * op.conv.C;
    op.packed = kernels::packWeights(op.w8.data(), channels, taps);
  }
  return {};
}

Status preparePool(const IntegerGraph& g, const GraphOp& gop, PreparedOp& op) {
  const GraphTensor& x = tensorAt(g, gop.inputs[0]);
  const GraphTensor& y = tensorAt(g, gop.outputs[0]);
  if (x.shape.size() != 4 || y.shape.size() != 4) return opError(op, "pooling needs rank-4 tensors");
  kernels::PoolShape& s = op.pool;
  s.H = x.shape[1];
  s.W = x.shape[2];
  s.C = x.shape[3];
  s.KH = gop.filterH;
  s.KW = gop.filterW;
  s.strideH = gop.strideH;
  s.strideW = gop.strideW;
  const AxisPadding ph = pad1(gop.padding, s.H, s.KH, s.strideH, 1), pw = pad1(gop.padding, s.W, s.KW, s.strideW, 1);
  s.OH = ph.out;
  s.OW = pw.out;
  s.padTop = ph.before;
  s.padLeft = pw.before;
  if (y.shape[1] != s.OH || y.shape[2] != s.OW || y.shape[3] != s.C)
    return opError(op, "output shape does not match the pooling geometry");
  op.isFloat = x.type == ElementType::Float32;
  if (!op.isFloat) {
    // (Except for the merged requantization the FloatMultiplierHalfEven interpreter models,
    // see interpreter.cpp.)
    const bool merged = gop.kind == OpKind::AveragePool2D && op.mode == RoundingMode::FloatMultiplierHalfEven;
    if (!merged && (scale0(x) != scale0(y) || zp0(x) != zp0(y)))
      return opError(op, "int8 pooling needs the same scale and zero point in and out (TFLite requires it)");
    op.rq.act = kernels::activationRange(gop.activation, scale0(y), zp0(y));
    op.inScale = scale0(x);
    op.inZeroPoint = zp0(x);
    op.outScale = scale0(y);
    op.outZeroPoint = zp0(y);
  }
  return {};
}

Status prepareMean(const IntegerGraph& g, const GraphOp& gop, PreparedOp& op) {
  const GraphTensor& x = tensorAt(g, gop.inputs[0]);
  const GraphTensor& axes = tensorAt(g, gop.inputs[1]);
  const GraphTensor& y = tensorAt(g, gop.outputs[0]);
  if (x.shape.size() != 4 || !axes.isConstant() || axes.type != ElementType::Int32)
    return opError(op, "MEAN is supported over a rank-4 input with constant int32 axes");
  auto a = readInt32(axes);
  for (auto& v : a) v = v < 0 ? v + 4 : v;
  if (!(a.size() == 2 && ((a[0] == 1 && a[1] == 2) || (a[0] == 2 && a[1] == 1))))
    return opError(op, "MEAN is supported over axes [1, 2] (global average pooling) only");
  op.meanPixels = x.shape[1] * x.shape[2];
  op.meanChannels = x.shape[3];
  op.isFloat = x.type == ElementType::Float32;
  if (!op.isFloat) {
    op.mean.keepDims = gop.keepDims;
    op.mean.inScale = scale0(x);
    op.mean.outScale = scale0(y);
    op.mean.inZeroPoint = zp0(x);
    op.mean.outZeroPoint = zp0(y);
    op.mean.mult = quantizeMultiplier(static_cast<double>(scale0(x)) / static_cast<double>(scale0(y)));
    op.mean.mode = op.mode;
  }
  return {};
}

Status preparePad(const IntegerGraph& g, const GraphOp& gop, PreparedOp& op) {
  const GraphTensor& x = tensorAt(g, gop.inputs[0]);
  const GraphTensor& p = tensorAt(g, gop.inputs[1]);
  const GraphTensor& y = tensorAt(g, gop.outputs[0]);
  const int r = static_cast<int>(x.shape.size());
  if (!p.isConstant() || p.type != ElementType::Int32 || p.shape.size() != 2 || p.shape[0] != r || p.shape[1] != 2 ||
      r < 2 || r > 4)
    return opError(op, "PAD needs constant int32 paddings [rank, 2] on a rank 2..4 input");
  const auto v = readInt32(p);
  if (v[0] != 0 || v[1] != 0) return opError(op, "padding the batch dimension is not supported");
  // Extend to 4-D (N, H, W, C) by inserting unit axes after the batch.
  op.padInShape = {1, 1, 1, 1};
  const int shift = 4 - r;
  for (int d = 1; d < r; ++d) {
    op.padInShape[size_t(d + shift)] = x.shape[size_t(d)];
    op.pads[d + shift][0] = v[size_t(2 * d)];
    op.pads[d + shift][1] = v[size_t(2 * d + 1)];
  }
  op.isFloat = x.type == ElementType::Float32;
  if (!op.isFloat && (scale0(x) != scale0(y) || zp0(x) != zp0(y)))
    return opError(op, "int8 PAD needs the same scale and zero point in and out");
  op.outZeroPoint = zp0(y);
  return {};
}

Status prepareConcat(const IntegerGraph& g, const GraphOp& gop, PreparedOp& op) {
  const GraphTensor& y = tensorAt(g, gop.outputs[0]);
  const int r = static_cast<int>(y.shape.size());
  const int axis = gop.axis < 0 ? gop.axis + r : gop.axis;
  if (axis <= 0 || axis >= r) return opError(op, "concatenation along the batch axis (or outside the rank) is not supported");
  op.concatOuter = 1;
  for (int d = 1; d < axis; ++d) op.concatOuter *= static_cast<size_t>(y.shape[size_t(d)]);
  op.isFloat = y.type == ElementType::Float32;
  for (int t : gop.inputs) {
    const GraphTensor& x = tensorAt(g, t);
    if (static_cast<int>(x.shape.size()) != r) return opError(op, "inputs must have the output's rank");
    size_t chunk = 1;
    for (int d = axis; d < r; ++d) chunk *= static_cast<size_t>(x.shape[size_t(d)]);
    op.concatChunk.push_back(chunk);
    op.concatScale.push_back(scale0(x));
    op.concatZeroPoint.push_back(zp0(x));
  }
  op.outScale = scale0(y);
  op.outZeroPoint = zp0(y);
  if (isFloatMode(op.mode) && !op.isFloat)
    for (size_t k = 0; k < op.concatScale.size(); ++k)
      op.concatTables.push_back(
          op.concatScale[k] == op.outScale && op.concatZeroPoint[k] == op.outZeroPoint
              ? std::vector<int8_t>{}
              : kernels::makeFloatTable(kernels::UnaryFn::Identity, 0.0f, op.concatScale[k], op.concatZeroPoint[k],
                                        op.outScale, op.outZeroPoint, kernels::ActRange{},
                                        op.mode != RoundingMode::FloatDequantizedHalfAway));
  return {};
}

float logisticF(float v) { return 1.0f / (1.0f + std::exp(-v)); }
float tanhF(float v) { return std::tanh(v); }

// The float modes' element-wise ops on int8 tensors: binary ops in float, unary ones as a
// table of the runtime's float function, SOFTMAX with the runtime's kernel (chosen in
// executeOp), QUANTIZE / DEQUANTIZE as in TfliteReference apart from QuantizeLinear's
// rounding (executeOp).
Status prepareElementwiseFloatMode(const IntegerGraph& g, const GraphOp& gop, PreparedOp& op) {
  namespace k = kernels;
  const GraphTensor& x = tensorAt(g, gop.inputs[0]);
  const GraphTensor& y = tensorAt(g, gop.outputs[0]);
  const bool onnx = op.mode != RoundingMode::FloatDequantizedHalfAway;
  auto table = [&](k::UnaryFn fn, float alpha, k::ActRange act = {}) {
    op.lut = k::makeFloatTable(fn, alpha, scale0(x), zp0(x), scale0(y), zp0(y), act, onnx);
    op.useLut = true;
  };
  switch (gop.kind) {
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul: {
      const GraphTensor& b = tensorAt(g, gop.inputs[1]);
      op.bin.op = gop.kind == OpKind::Add ? 0 : gop.kind == OpKind::Sub ? 1 : 2;
      op.bin.s1 = scale0(x);
      op.bin.s2 = scale0(b);
      op.bin.sOut = scale0(y);
      op.bin.zp1 = zp0(x);
      op.bin.zp2 = zp0(b);
      op.bin.zpOut = zp0(y);
      op.bin.act = k::activationRange(gop.activation, scale0(y), zp0(y));
      op.bin.mode = op.mode;
      break;
    }
    case OpKind::Relu: table(k::UnaryFn::Relu, 0.0f); break;
    case OpKind::Relu6: table(k::UnaryFn::Relu6, 0.0f); break;
    case OpKind::LeakyRelu: table(k::UnaryFn::LeakyRelu, gop.alpha); break;
    case OpKind::HardSwish: table(onnx ? k::UnaryFn::HardSwishOnnx : k::UnaryFn::HardSwish, 0.0f); break;
    case OpKind::Logistic: table(onnx ? k::UnaryFn::LogisticMlas : k::UnaryFn::Logistic, 0.0f); break;
    case OpKind::Tanh: table(k::UnaryFn::Tanh, 0.0f); break;
    case OpKind::Quantize:  // int8 → int8
      op.requantize = true;
      table(k::UnaryFn::Identity, 0.0f);
      break;
    case OpKind::Softmax:
      if (op.mode == RoundingMode::FloatMultiplierHalfEven) op.softmaxTable = k::makeSoftmaxTableOnnx(scale0(x), op.rowDepth);
      break;
    default: break;
  }
  return {};
}

Status prepareElementwise(const IntegerGraph& g, const GraphOp& gop, PreparedOp& op) {
  const GraphTensor& x = tensorAt(g, gop.inputs[0]);
  const GraphTensor& y = tensorAt(g, gop.outputs[0]);
  op.isFloat = x.type == ElementType::Float32 && y.type == ElementType::Float32;
  op.inScale = scale0(x);
  op.inZeroPoint = zp0(x);
  op.outScale = scale0(y);
  op.outZeroPoint = zp0(y);
  op.alpha = gop.alpha;
  op.beta = gop.beta;
  if (!x.shape.empty()) op.rowDepth = x.shape.back();
  const bool int8 = isInt8(x) && isInt8(y);
  if (!op.isFloat && !int8 && gop.kind != OpKind::Quantize && gop.kind != OpKind::Dequantize)
    return opError(op, "needs int8 or float32 input and output of the same type");
  if (int8 && (!x.quant.quantized() || !y.quant.quantized()))
    return opError(op, "int8 tensors need quantization parameters");
  // Checks every rounding mode shares, before the mode-specific set-up.
  const bool binary = gop.kind == OpKind::Add || gop.kind == OpKind::Sub || gop.kind == OpKind::Mul;
  if (binary) {
    const GraphTensor& b = tensorAt(g, gop.inputs[1]);
    if (b.shape != x.shape || y.shape != x.shape)
      return opError(op, "inputs and output must have the same shape (broadcasting is not supported)");
    if (b.type != x.type) return opError(op, "both inputs must have the same type");
  }
  if (gop.kind == OpKind::Reshape && !op.isFloat && (scale0(x) != scale0(y) || zp0(x) != zp0(y)))
    return opError(op, "int8 RESHAPE needs the same scale and zero point in and out");
  if (int8 && isFloatMode(op.mode)) return prepareElementwiseFloatMode(g, gop, op);
  switch (gop.kind) {
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul: {
      const GraphTensor& b = tensorAt(g, gop.inputs[1]);
      if (op.isFloat) break;
      if (gop.kind == OpKind::Mul) {
        op.mul.in1Offset = -zp0(x);
        op.mul.in2Offset = -zp0(b);
        op.mul.outOffset = zp0(y);
        op.mul.mult = quantizeMultiplier(static_cast<double>(scale0(x) * scale0(b) / scale0(y)));
        op.mul.act = kernels::activationRange(gop.activation, scale0(y), zp0(y));
        op.mul.mode = op.mode;
      } else {
        op.add = kernels::makeAddParams(scale0(x), zp0(x), scale0(b), zp0(b), scale0(y), zp0(y), gop.activation);
        op.add.mode = op.mode;
      }
      break;
    }
    case OpKind::Relu:
    case OpKind::Relu6:
      if (!op.isFloat) {
        op.rescale.inZeroPoint = zp0(x);
        op.rescale.outZeroPoint = zp0(y);
        op.rescale.mult = quantizeMultiplier(static_cast<double>(scale0(x) / scale0(y)));
        op.rescale.act = kernels::activationRange(gop.kind == OpKind::Relu ? FusedActivation::Relu : FusedActivation::Relu6,
                                                  scale0(y), zp0(y));
        op.rescale.mode = op.mode;
      }
      break;
    case OpKind::Quantize:
      if (int8) {  // requantize int8 → int8
        op.requantize = true;
        op.rescale.inZeroPoint = zp0(x);
        op.rescale.outZeroPoint = zp0(y);
        op.rescale.mult = quantizeMultiplier(static_cast<double>(scale0(x)) / static_cast<double>(scale0(y)));
        op.rescale.mode = op.mode;
      } else if (!(x.type == ElementType::Float32 && isInt8(y) && y.quant.quantized())) {
        return opError(op, "QUANTIZE supports float32 → int8 and int8 → int8");
      }
      break;
    case OpKind::Dequantize:
      if (!(isInt8(x) && x.quant.quantized() && y.type == ElementType::Float32))
        return opError(op, "DEQUANTIZE supports int8 → float32");
      break;
    case OpKind::LeakyRelu:
      if (!op.isFloat) {
        op.leaky.inZeroPoint = zp0(x);
        op.leaky.outZeroPoint = zp0(y);
        op.leaky.alpha = quantizeMultiplier(static_cast<double>(scale0(x) * gop.alpha / scale0(y)));
        op.leaky.identity = quantizeMultiplier(static_cast<double>(scale0(x) / scale0(y)));
        op.leaky.mode = op.mode;
      }
      break;
    case OpKind::HardSwish:
      if (!op.isFloat) op.hardSwish = kernels::makeHardSwishParams(scale0(x), zp0(x), scale0(y), zp0(y));
      break;
    case OpKind::Logistic:
    case OpKind::Tanh:
      if (!op.isFloat)
        op.lut = kernels::makeLut(scale0(x), zp0(x), scale0(y), zp0(y), gop.kind == OpKind::Logistic ? logisticF : tanhF);
      break;
    case OpKind::Softmax:
      if (!op.isFloat) op.softmaxTable = kernels::makeSoftmaxTable(scale0(x), gop.beta);
      break;
    default: break;
  }
  return {};
}

}  // namespace

Expected<PreparedOp> prepareOp(const IntegerGraph& g, size_t i, RoundingMode mode) {
  const GraphOp& gop = g.ops[i];
  PreparedOp op;
  op.kind = gop.kind;
  op.mode = mode;
  op.label = "op " + std::to_string(i) + " (" + std::string(opKindName(gop.kind)) +
             (gop.sourceLayer.empty() ? "" : ", layer '" + gop.sourceLayer + "'") + ")";
  op.out = gop.outputs[0];
  op.act = gop.activation;
  switch (gop.kind) {
    case OpKind::Conv2D:
    case OpKind::DepthwiseConv2D:
    case OpKind::FullyConnected:
      op.in = {gop.inputs[0]};
      QAT_TRY(prepareConvLike(g, gop, op));
      break;
    case OpKind::AveragePool2D:
    case OpKind::MaxPool2D:
      op.in = {gop.inputs[0]};
      QAT_TRY(preparePool(g, gop, op));
      break;
    case OpKind::Mean:
      op.in = {gop.inputs[0]};
      QAT_TRY(prepareMean(g, gop, op));
      break;
    case OpKind::Pad:
      op.in = {gop.inputs[0]};
      QAT_TRY(preparePad(g, gop, op));
      break;
    case OpKind::Concatenation:
      op.in = gop.inputs;
      QAT_TRY(prepareConcat(g, gop, op));
      break;
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
      op.in = gop.inputs;
      QAT_TRY(prepareElementwise(g, gop, op));
      break;
    default:
      op.in = {gop.inputs[0]};
      QAT_TRY(prepareElementwise(g, gop, op));
      break;
  }
  for (int t : op.in)
    if (tensorAt(g, t).isConstant())
      return opError(op, "constant activation inputs (tensor '" + tensorAt(g, t).name + "') are not supported");
  return op;
}

}  // namespace qat::deploy::detail
