// The layers of the frozen graph other than the weighted ones: fake quantization nodes,
// activations (fused or standalone), pooling, reshapes, merges, padding, softmax.
// Anything else is refused naming the layer and its class.
#include "engine/deploy/freeze_internal.h"
#include "engine/layers/activation.h"
#include "engine/layers/average_pooling2d.h"
#include "engine/layers/batch_normalization.h"
#include "engine/layers/concatenate.h"
#include "engine/layers/conv2d.h"
#include "engine/layers/depthwise_conv2d.h"
#include "engine/layers/global_average_pooling2d.h"
#include "engine/layers/leaky_relu.h"
#include "engine/layers/max_pooling2d.h"
#include "engine/layers/relu.h"
#include "engine/layers/separable_conv2d.h"
#include "engine/layers/softmax.h"
#include "engine/layers/zero_padding2d.h"
#include "engine/quant/fake_quant_layer.h"
#include "engine/quant/folded_batch_norm.h"
#include "engine/quant/quantize_wrapper.h"

namespace qat::deploy::detail {
namespace {

QuantParams fixedParams(float scale, int64_t zp) {
  QuantParams q;
  q.scale = {scale};
  q.zeroPoint = {zp};
  return q;
}

bool fusesActivation(OpKind k) {
  return k == OpKind::Conv2D || k == OpKind::DepthwiseConv2D || k == OpKind::FullyConnected || k == OpKind::Add ||
         k == OpKind::Sub || k == OpKind::Mul;
}

// RELU then RELU6 (or the reverse) is RELU6; RELU twice is RELU.
FusedActivation combine(FusedActivation a, FusedActivation b) {
  if (a == FusedActivation::None) return b;
  if (a == FusedActivation::Relu6 || b == FusedActivation::Relu6) return FusedActivation::Relu6;
  return FusedActivation::Relu;
}

const char* kSupported =
    "supported: InputLayer, Conv2D, DepthwiseConv2D, SeparableConv2D, Dense, BatchNormalization, ReLU, "
    "LeakyReLU, Activation (relu, relu6, sigmoid, tanh, softmax, linear), Softmax, MaxPooling2D, "
    "AveragePooling2D, GlobalAveragePooling2D, Flatten, Reshape, Dropout, ZeroPadding2D, Add, Subtract, "
    "Multiply, Concatenate";

}  // namespace

Expected<Value> Freezer::visitLayer(int node, const std::vector<Value>& inputs) {
  const Layer& l = *m_.node(node).layer;
  std::vector<int> shape = m_.node(node).shape.dims();
  shape.insert(shape.begin(), 1);
  const int inNode = m_.node(node).inputs.empty() ? -1 : m_.node(node).inputs[0];
  auto pending = [&](OpKind kind, std::vector<int> ins) {
    auto p = std::make_shared<Pending>();
    p->op.kind = kind;
    p->op.inputs = std::move(ins);
    p->op.sourceLayer = l.name();
    p->name = l.name();
    p->shape = shape;
    return p;
  };
  // An op whose output keeps the input's quantization (pooling, reshape).
  auto direct = [&](GraphOp op, int in) {
    op.sourceLayer = l.name();
    return Value{addOp(op, l.name(), shape, tensor(in).type, tensor(in).quant), nullptr, shape};
  };
  // SOFTMAX / LOGISTIC / TANH: TFLite's fixed output parameters.
  auto fixedOutput = [&](OpKind kind) -> Expected<Value> {
    auto t = tensorInput(inputs[0], node);
    if (!t.ok()) return t.error();
    GraphOp op;
    op.kind = kind;
    op.inputs = {t.value()};
    op.sourceLayer = l.name();
    QuantParams q;
    if (quantMode()) q = kind == OpKind::Tanh ? fixedParams(1.0f / 128, 0) : fixedParams(1.0f / 256, -128);
    return Value{addOp(op, l.name(), shape, actType(), q), nullptr, shape};
  };
  auto relu = [&](FusedActivation a) -> Expected<Value> {
    const Value& v = inputs[0];
    if (v.isPending() && v.pending->ownScale && fusesActivation(v.pending->op.kind)) {
      v.pending->op.activation = combine(v.pending->op.activation, a);
      v.pending->name = l.name();
      return v;
    }
    auto t = tensorInput(v, node);
    if (!t.ok()) return t.error();
    return Value{-1, pending(a == FusedActivation::Relu6 ? OpKind::Relu6 : OpKind::Relu, {t.value()}), shape};
  };

  switch (l.op()) {
    case OpType::FakeQuant: {
      if (!quantMode()) return inputs[0];
      const quant::Quantizer& quantizer = static_cast<const quant::FakeQuantLayer&>(l).quantizer();
      auto q = gridParams(quantizer, node);
      if (!q.ok()) return q.error();
      if (quantizer.spec().bits < 8)
        note("Activations quantized to " + std::to_string(quantizer.spec().bits) +
             " bits keep their scale in int8 tensors; the int8 kernels clamp them to the int8 range (or the fused "
             "activation's), not to the " + std::to_string(quantizer.spec().bits) + "-bit grid the QAT model used");
      const Value& v = inputs[0];
      if (!v.isPending() && isGraphInput(v.resolved()) && opt_.int8Io &&
          tensor(v.resolved()).type == ElementType::Float32) {
        GraphTensor& t = g_.tensors[static_cast<size_t>(v.resolved())];
        t.type = ElementType::Int8;
        t.quant = q.value();
        return v;
      }
      auto t = materializeTo(v, q.value(), node);
      if (!t.ok()) return t.error();
      return Value{t.value(), nullptr, shape};
    }
    case OpType::QuantizeWrapper: {
      const Layer& inner = static_cast<const quant::QuantizeWrapper&>(l).inner();
      if (inner.op() == OpType::Conv2D || inner.op() == OpType::DepthwiseConv2D || inner.op() == OpType::Dense)
        return weightedOp(node, inner, &l, inputs[0]);
      return refuse(node, std::string("quantized weights of a ") + std::string(opTypeName(inner.op())) +
                              " have no TFLite integer kernel in this exporter");
    }
    case OpType::FoldedBatchNorm:
      return weightedOp(node, static_cast<const quant::FoldedBatchNorm&>(l).conv(), &l, inputs[0]);
    case OpType::Conv2D:
    case OpType::DepthwiseConv2D:
    case OpType::Dense: return weightedOp(node, l, nullptr, inputs[0]);
    case OpType::SeparableConv2D: {
      // Float freeze: DEPTHWISE_CONV_2D (no bias, linear) then a 1×1 CONV_2D, as the
      // quantize transform splits it.
      auto& sep = const_cast<SeparableConv2D&>(static_cast<const SeparableConv2D&>(l));
      const SeparableConv2DOptions& o = sep.options();
      DepthwiseConv2D dw(l.name() + "_depthwise", DepthwiseConv2DOptions{o.kernelH, o.kernelW, o.strideH, o.strideW,
                                                                        o.dilationH, o.dilationW, o.padding,
                                                                        o.depthMultiplier, false, ActivationFn::Linear});
      Conv2D pw(l.name(), Conv2DOptions{o.filters, 1, 1, 1, 1, 1, 1, Padding::Valid, o.useBias, o.activation});
      const Shape inShape = m_.node(inNode).shape;
      auto mid = dw.build({inShape});
      if (!mid.ok()) return refuse(node, mid.error().message);
      if (auto s = pw.build({mid.value()}); !s.ok()) return refuse(node, s.error().message);
      dw.depthwiseKernel().value = sep.depthwiseKernel().value;
      pw.kernel().value = sep.pointwiseKernel().value;
      if (o.useBias) pw.bias().value = sep.bias().value;
      auto a = weightedOp(node, dw, nullptr, inputs[0]);
      if (!a.ok()) return a;
      a->pending->shape = {1, mid.value()[0], mid.value()[1], mid.value()[2]};
      a->pending->name = dw.name();
      auto t = materialize(a.value(), std::nullopt, node);
      if (!t.ok()) return t.error();
      return weightedOp(node, pw, nullptr, Value{t.value(), nullptr, a->pending->shape});
    }
    case OpType::BatchNormalization: {
      const Value& v = inputs[0];
      if (v.isPending() && v.pending->weighted && v.pending->op.activation == FusedActivation::None) {
        QAT_TRY(foldBatchNorm(node, *v.pending));
        return v;
      }
      return standaloneBatchNorm(node, v);
    }
    case OpType::ReLU: {
      const ReLUOptions& o = static_cast<const ReLU&>(l).options();
      const bool capped = o.maxValue && *o.maxValue > 0.0f;
      if (o.threshold != 0.0f || (capped && (*o.maxValue != 6.0f || o.negativeSlope != 0.0f)))
        return refuse(node, "only ReLU, ReLU(max_value=6) and ReLU(negative_slope=a) have TFLite kernels "
                            "(threshold and other max values do not)");
      if (o.negativeSlope != 0.0f) {
        auto t = tensorInput(inputs[0], node);
        if (!t.ok()) return t.error();
        auto p = pending(OpKind::LeakyRelu, {t.value()});
        p->op.alpha = o.negativeSlope;
        return Value{-1, p, shape};
      }
      return relu(capped ? FusedActivation::Relu6 : FusedActivation::Relu);
    }
    case OpType::Activation: {
      const ActivationFn f = static_cast<const Activation&>(l).options().activation;
      switch (f) {
        case ActivationFn::Linear: return inputs[0];
        case ActivationFn::Relu: return relu(FusedActivation::Relu);
        case ActivationFn::Relu6: return relu(FusedActivation::Relu6);
        case ActivationFn::Sigmoid: return fixedOutput(OpKind::Logistic);
        case ActivationFn::Tanh: return fixedOutput(OpKind::Tanh);
        case ActivationFn::Softmax: return fixedOutput(OpKind::Softmax);
        default:
          return refuse(node, "activation '" + std::string(activationName(f)) +
                                  "' has no TFLite integer kernel in this exporter (relu, relu6, sigmoid, tanh, "
                                  "softmax and linear do)");
      }
    }
    case OpType::Softmax: {
      const int axis = static_cast<const Softmax&>(l).options().axis;
      if (axis != -1 && axis != static_cast<int>(shape.size()) - 1)
        return refuse(node, "TFLite's SOFTMAX works on the last axis only; this one uses axis " + std::to_string(axis));
      return fixedOutput(OpKind::Softmax);
    }
    case OpType::LeakyReLU: {
      auto t = tensorInput(inputs[0], node);
      if (!t.ok()) return t.error();
      auto p = pending(OpKind::LeakyRelu, {t.value()});
      p->op.alpha = static_cast<const LeakyReLU&>(l).options().alpha;
      return Value{-1, p, shape};
    }
    case OpType::MaxPooling2D:
    case OpType::AveragePooling2D: {
      auto t = tensorInput(inputs[0], node);
      if (!t.ok()) return t.error();
      const Pooling2DOptions& o = l.op() == OpType::MaxPooling2D ? static_cast<const MaxPooling2D&>(l).options()
                                                                 : static_cast<const AveragePooling2D&>(l).options();
      GraphOp op;
      op.kind = l.op() == OpType::MaxPooling2D ? OpKind::MaxPool2D : OpKind::AveragePool2D;
      op.inputs = {t.value()};
      op.filterH = o.poolH;
      op.filterW = o.poolW;
      op.strideH = o.strideH == 0 ? o.poolH : o.strideH;
      op.strideW = o.strideW == 0 ? o.poolW : o.strideW;
      op.padding = o.padding == Padding::Same ? PaddingKind::Same : PaddingKind::Valid;
      return direct(op, t.value());
    }
    case OpType::GlobalAveragePooling2D: {
      auto t = tensorInput(inputs[0], node);
      if (!t.ok()) return t.error();
      const int axes = addConstInt32(l.name() + "/axes", {2}, {1, 2});
      auto p = pending(OpKind::Mean, {t.value(), axes});
      p->op.keepDims = static_cast<const GlobalAveragePooling2D&>(l).options().keepDims;
      return Value{-1, p, shape};
    }
    case OpType::Flatten:
    case OpType::Reshape: {
      auto t = tensorInput(inputs[0], node);
      if (!t.ok()) return t.error();
      std::vector<int32_t> target(shape.begin(), shape.end());
      target[0] = -1;  // the batch, dynamic at run time
      GraphOp op;
      op.kind = OpKind::Reshape;
      op.inputs = {t.value(), addConstInt32(l.name() + "/shape", {static_cast<int>(target.size())}, target)};
      return direct(op, t.value());
    }
    case OpType::Dropout: return inputs[0];
    case OpType::ZeroPadding2D: {
      auto t = tensorInput(inputs[0], node);
      if (!t.ok()) return t.error();
      const ZeroPadding2DOptions& o = static_cast<const ZeroPadding2D&>(l).options();
      auto p = pending(OpKind::Pad, {t.value()});
      p->ownScale = false;
      p->pad2d = {o.top, o.bottom, o.left, o.right};
      return Value{-1, p, shape};
    }
    case OpType::Add:
    case OpType::Subtract:
    case OpType::Multiply: {
      const OpKind kind = l.op() == OpType::Add ? OpKind::Add : l.op() == OpType::Subtract ? OpKind::Sub : OpKind::Mul;
      std::vector<int> ts;
      for (const Value& v : inputs) {
        auto t = tensorInput(v, node);
        if (!t.ok()) return t.error();
        ts.push_back(t.value());
      }
      if (ts.size() > 2 && quantMode())
        return refuse(node, "merges " + std::to_string(ts.size()) +
                                " inputs; TFLite's int8 ADD/MUL take two, and the partial sums would need scales "
                                "no quantizer measured: chain two-input layers instead");
      // Float: a chain of binary ops.
      while (ts.size() > 2) {
        GraphOp op;
        op.kind = kind;
        op.inputs = {ts[0], ts[1]};
        op.sourceLayer = l.name();
        const int partial = addOp(op, l.name() + "/partial" + std::to_string(ts.size()), shape, actType(), {});
        ts.erase(ts.begin(), ts.begin() + 2);
        ts.insert(ts.begin(), partial);
      }
      return Value{-1, pending(kind, ts), shape};
    }
    case OpType::Concatenate: {
      int axis = static_cast<const Concatenate&>(l).options().axis;
      if (axis < 0) axis += static_cast<int>(shape.size());
      auto p = pending(OpKind::Concatenation, {});
      p->op.axis = axis;
      p->parts = inputs;
      return Value{-1, p, shape};
    }
    default: break;
  }
  return refuse(node, std::string("has no TFLite integer equivalent in this exporter (") + kSupported +
                          "). Replace the layer, or leave the model float and export a float model instead.");
}

}  // namespace qat::deploy::detail
