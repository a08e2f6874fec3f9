// Weighted layers in the frozen graph: Conv2D / DepthwiseConv2D / Dense (plain, wrapped,
// or a FoldedBatchNorm's conv), BatchNormalization folded into them, a standalone
// BatchNormalization, and the int8 weights, int32 biases and layouts TFLite expects.
//
// Weights. The int8 value of a weight is its index on the fake-quant grid the QAT model
// used, computed with the fake-quant formula itself (floor((clamp(w) − nudgedMin)/scale
// + 0.5) in float), so the integer graph multiplies with exactly the values the
// fake-quant model multiplied with: int8 = q − zero_point, the zero point of a symmetric
// grid being 2^(bits−1) (int8 zero point 0). Sub-8-bit grids keep their values ([−7, 7]
// for 4 bits) inside int8 tensors (GraphTensor::valueBits).
//
// BatchNorm folding at freeze (tfmot mode, and every float freeze). With
// s = γ / sqrt(moving_var + ε):  W' = W_q · s (per output channel),
// b' = (b − moving_mean) · s + β. W_q is the fake-quantized kernel the QAT model used;
// W' is no longer on a grid, so its grid is computed again with the layer's weight
// quantizer settings (bits, narrow range, symmetric): per channel for CONV_2D and
// DEPTHWISE_CONV_2D, per tensor for FULLY_CONNECTED. TFLite's converter does the same
// when it folds the BatchNorm of a tfmot model (the folded float kernel is quantized per
// channel). For a per-axis 8-bit kernel quantizer whose channels span the full grid the
// recomputed grid is the old one scaled by |s|, and the int8 values are unchanged.
//
// Standalone BatchNormalization (not after a linear conv/dense, e.g. after a ReLU):
// DEPTHWISE_CONV_2D 1×1 with multiplier 1, weight s[c] and bias β − mean·s. One op, as
// TFLite would run it after its converter lowers the BN to a per-channel multiply-add;
// we do not emit MUL + ADD because the tensor between them would need a scale that no
// quantizer measured. Per-channel weights make s exact: each channel's weight is ±127 with
// scale |s|/127.
#include <cmath>
#include <cstring>

#include "engine/deploy/freeze_internal.h"
#include "engine/layers/batch_normalization.h"
#include "engine/layers/conv2d.h"
#include "engine/layers/dense.h"
#include "engine/layers/depthwise_conv2d.h"
#include "engine/layers/padding.h"
#include "engine/quant/folded_batch_norm.h"
#include "engine/quant/quantize_wrapper.h"

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace qat::deploy::detail {
namespace {

bool degenerate(const quant::Grid& g) { return g.nudgedMin == g.nudgedMax; }

// Index of x on grid g relative to the zero point (the stored integer), by the fake-quant
// formula, so that (index) · scale is the fake-quantized value.
int gridValue(float x, const quant::Grid& g) {
  if (degenerate(g)) return 0;
  const float c = std::fmin(std::fmax(x, g.nudgedMin), g.nudgedMax);
  const float t = (c - g.nudgedMin) / g.scale + 0.5f;
  return static_cast<int>(std::floor(t)) + g.qmin - g.zeroPoint;
}

// Symmetric grid over [−m, m] with the layer's settings.
quant::Grid symmetricGrid(float m, int bits, bool narrow) { return quant::nudgedGrid(-m, m, bits, narrow); }

struct ConvInfo {
  OpKind kind = OpKind::Conv2D;
  const Param* kernel = nullptr;
  const Param* bias = nullptr;
  ActivationFn activation = ActivationFn::Linear;
  int strideH = 1, strideW = 1, dilationH = 1, dilationW = 1, depthMultiplier = 1;
  Padding padding = Padding::Valid;
  std::string kernelName = "kernel";
};

bool convInfo(const Layer& l, ConvInfo& ci) {
  auto& layer = const_cast<Layer&>(l);  // read-only access to the Params
  if (auto* c = dynamic_cast<Conv2D*>(&layer)) {
    const Conv2DOptions& o = c->options();
    ci = {OpKind::Conv2D, &c->kernel(), o.useBias ? &c->bias() : nullptr, o.activation, o.strideH, o.strideW,
          o.dilationH, o.dilationW, 1, o.padding, "kernel"};
    return true;
  }
  if (auto* d = dynamic_cast<DepthwiseConv2D*>(&layer)) {
    const DepthwiseConv2DOptions& o = d->options();
    ci = {OpKind::DepthwiseConv2D, &d->depthwiseKernel(), o.useBias ? &d->bias() : nullptr, o.activation, o.strideH,
          o.strideW, o.dilationH, o.dilationW, o.depthMultiplier, o.padding, "depthwise_kernel"};
    return true;
  }
  if (auto* f = dynamic_cast<Dense*>(&layer)) {
    const DenseOptions& o = f->options();
    ci = {OpKind::FullyConnected, &f->kernel(), o.useBias ? &f->bias() : nullptr, o.activation};
    return true;
  }
  return false;
}

std::vector<float> values(const Tensor& t) { return std::vector<float>(t.data(), t.data() + t.size()); }

// TFLite layout of a Keras kernel: CONV_2D HWIO → OHWI, FULLY_CONNECTED (in, units) →
// (units, in); DEPTHWISE_CONV_2D (kh, kw, C, M) is already [1, kh, kw, C·M] in memory.
template <class T>
std::vector<T> toTfliteLayout(OpKind kind, const std::vector<int>& ks, const std::vector<T>& v,
                              std::vector<int>& shape) {
  if (kind == OpKind::Conv2D) {
    const int KH = ks[0], KW = ks[1], I = ks[2], O = ks[3];
    shape = {O, KH, KW, I};
    std::vector<T> out(v.size());
    for (int h = 0; h < KH; ++h)
      for (int w = 0; w < KW; ++w)
        for (int i = 0; i < I; ++i)
          for (int o = 0; o < O; ++o)
            out[((size_t(o) * KH + h) * KW + w) * I + i] = v[((size_t(h) * KW + w) * I + i) * O + o];
    return out;
  }
  if (kind == OpKind::FullyConnected) {
    const int in = ks[0], units = ks[1];
    shape = {units, in};
    std::vector<T> out(v.size());
    for (int d = 0; d < in; ++d)
      for (int u = 0; u < units; ++u) out[size_t(u) * in + d] = v[size_t(d) * units + u];
    return out;
  }
  shape = {1, ks[0], ks[1], ks[2] * ks[3]};
  return v;
}

template <class T>
std::vector<uint8_t> bytesOf(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// The activation fused into a conv from its in-layer `activation`.
std::optional<FusedActivation> fusedOf(ActivationFn f) {
  switch (f) {
    case ActivationFn::Linear: return FusedActivation::None;
    case ActivationFn::Relu: return FusedActivation::Relu;
    case ActivationFn::Relu6: return FusedActivation::Relu6;
    default: return std::nullopt;
  }
}

}  // namespace

Expected<Value> Freezer::weightedOp(int node, const Layer& layer, const Layer* wrapperOrFold, const Value& input) {
  ConvInfo ci;
  if (!convInfo(layer, ci)) return refuse(node, "is not a Conv2D, DepthwiseConv2D or Dense layer");
  auto p = std::make_shared<Pending>();
  p->weighted = true;
  p->op.kind = ci.kind;
  p->op.sourceLayer = layer.name();
  p->name = m_.node(node).layer->name();
  p->weightLayer = layer.name();
  p->op.strideH = ci.strideH;
  p->op.strideW = ci.strideW;
  p->op.dilationH = ci.dilationH;
  p->op.dilationW = ci.dilationW;
  p->op.depthMultiplier = ci.depthMultiplier;
  p->op.padding = ci.padding == Padding::Same ? PaddingKind::Same : PaddingKind::Valid;
  p->kernelShape = ci.kernel->value.shape().dims();
  p->channels = p->kernelShape.back() * (ci.kind == OpKind::DepthwiseConv2D ? p->kernelShape[2] : 1);
  p->perChannel = ci.kind != OpKind::FullyConnected;

  const quant::Quantizer* kq = nullptr;
  const quant::Quantizer* bq = nullptr;
  if (auto* fold = dynamic_cast<const quant::FoldedBatchNorm*>(wrapperOrFold)) {
    Tensor k, b;
    fold->foldedWeights(k, b);
    p->kernel = values(k);
    p->bias = values(b);
    kq = fold->weightQuantizer();
  } else {
    p->kernel = values(ci.kernel->value);
    if (ci.bias) p->bias = values(ci.bias->value);
    if (auto* w = dynamic_cast<const quant::QuantizeWrapper*>(wrapperOrFold)) {
      kq = w->weightQuantizer(ci.kernelName);
      bq = w->weightQuantizer("bias");
    }
  }
  if (quantMode()) {
    if (!kq)
      return refuse(node, "has no weight quantizer on '" + ci.kernelName +
                              "'; the int8 export needs int8 weights: give it a kernel quantizer (config "
                              "\"weights\": {\"" + ci.kernelName + "\": {...}})");
    p->grids = kq->grids();
    const quant::QuantizerSpec& spec = kq->spec();
    if (p->grids.empty())
      return refuse(node, "its weight quantizer (" + quant::describe(spec) + ") has no integer grid");
    if (p->grids.size() != 1 && static_cast<int>(p->grids.size()) != p->channels)
      return refuse(node, "its weight quantizer has " + std::to_string(p->grids.size()) + " grids for " +
                              std::to_string(p->channels) + " output channels");
    if (spec.bits > 8) return refuse(node, "its weights are quantized to " + std::to_string(spec.bits) +
                                               " bits; TFLite int8 weights hold at most 8");
    for (const quant::Grid& gr : p->grids)
      if (!degenerate(gr) && gr.zeroPoint != (1 << (spec.bits - 1)))
        return refuse(node, "its weight quantizer is asymmetric (zero point " + std::to_string(gr.zeroPoint) +
                                " on a 0.." + std::to_string(gr.qmax) +
                                " grid); TFLite int8 weights are symmetric: set \"symmetric\": true");
    p->weightBits = spec.bits;
    p->narrowRange = spec.narrowRange;
    p->perChannel = p->grids.size() > 1 || ci.kind != OpKind::FullyConnected;
    // The values the QAT model multiplies with.
    quant::fakeQuantForward(p->kernel.data(), p->kernel.data(), p->kernel.size(), p->grids);
    if (bq && !p->bias.empty()) {
      const auto bg = bq->grids();
      if (!bg.empty()) quant::fakeQuantForward(p->bias.data(), p->bias.data(), p->bias.size(), bg);
    }
  }
  // Input: a pending ZeroPadding2D folds into the convolution when it is exactly the
  // padding 'same' would add (Arm NN pads int8 with raw 0, so an int8 PAD is avoided).
  int in = -1;
  if (input.isPending() && input.pending->op.kind == OpKind::Pad && ci.kind != OpKind::FullyConnected &&
      ci.padding == Padding::Valid) {
    const Pending& pad = *input.pending;
    const std::vector<int>& xs = tensor(pad.op.inputs[0]).shape;
    const int kh = p->kernelShape[0], kw = p->kernelShape[1];
    const AxisPadding ah = axisPadding(Padding::Same, xs[1], kh, ci.strideH, ci.dilationH);
    const AxisPadding aw = axisPadding(Padding::Same, xs[2], kw, ci.strideW, ci.dilationW);
    if (pad.pad2d.size() == 4 && pad.pad2d[0] == ah.before && pad.pad2d[1] == ah.after &&
        pad.pad2d[2] == aw.before && pad.pad2d[3] == aw.after) {
      in = pad.op.inputs[0];
      p->op.padding = PaddingKind::Same;
      note("Layer '" + pad.name + "': ZeroPadding2D folded into '" + layer.name() + "' as padding 'same'");
    }
  }
  // A split SeparableConv2D whose depthwise half has no output quantizer (it was followed
  // by a BatchNorm, so the scheme left the layer's output unquantized) has no scale for
  // the tensor between the halves: run both as one CONV_2D.
  if (in < 0 && quantMode() && input.isPending() && input.pending->weighted &&
      input.pending->op.kind == OpKind::DepthwiseConv2D && input.pending->op.activation == FusedActivation::None &&
      ci.kind == OpKind::Conv2D && p->kernelShape[0] == 1 && p->kernelShape[1] == 1 && ci.strideH == 1 &&
      ci.strideW == 1 && ci.padding == Padding::Valid) {
    QAT_TRY(mergeSeparable(*p, *input.pending));
    in = p->op.inputs[0];
  }
  if (in < 0) {
    auto t = tensorInput(input, node);
    if (!t.ok()) return t.error();
    in = t.value();
  }
  if (ci.kind == OpKind::FullyConnected && tensor(in).shape.size() != 2)
    return refuse(node, "Dense on an input of rank " + std::to_string(tensor(in).shape.size() - 1) +
                            " per sample is not supported in the export; add a Flatten before it");
  if (p->op.inputs.empty()) p->op.inputs = {in};
  p->shape = m_.node(node).shape.dims();
  p->shape.insert(p->shape.begin(), 1);
  const auto act = fusedOf(ci.activation);
  if (act) {
    p->op.activation = *act;
    return Value{-1, p, p->shape};
  }
  const ActivationFn f = ci.activation;
  const bool fixedOut = f == ActivationFn::Softmax || f == ActivationFn::Sigmoid || f == ActivationFn::Tanh;
  if (!fixedOut)
    return refuse(node, "its in-layer activation '" + std::string(activationName(f)) +
                            "' has no TFLite integer kernel in this exporter (linear, relu, relu6, softmax, sigmoid "
                            "and tanh do)");
  const QuantParams* pre = preActivation(node);
  if (quantMode() && !pre)
    return refuse(node, "its in-layer activation '" + std::string(activationName(f)) +
                            "' gets fixed int8 output parameters, so the values before it need a scale, and the QAT "
                            "model has no quantizer there. Export with validation samples to measure that range "
                            "(FreezeOptions::rangeSamples), or move the activation into its own Activation/Softmax "
                            "layer and quantize the layer's output.");
  // The conv with the measured (or, in a float graph, no) output parameters, then the
  // activation as its own op with TFLite's fixed output parameters.
  p->name = p->name + "/preactivation";
  auto t = emitPending(*p, pre ? std::optional<QuantParams>(*pre) : std::nullopt, node);
  if (!t.ok()) return t.error();
  GraphOp op;
  op.kind = f == ActivationFn::Softmax ? OpKind::Softmax : f == ActivationFn::Sigmoid ? OpKind::Logistic : OpKind::Tanh;
  op.inputs = {t.value()};
  op.sourceLayer = layer.name();
  QuantParams q;
  if (quantMode()) {
    q.scale = {op.kind == OpKind::Tanh ? 1.0f / 128 : 1.0f / 256};
    q.zeroPoint = {op.kind == OpKind::Tanh ? 0 : -128};
  }
  return Value{addOp(op, m_.node(node).layer->name(), p->shape, actType(), q), nullptr, p->shape};
}

namespace {
// s[c] = γ·(1/sqrt(var + ε)) (FoldedBatchNorm's arithmetic) and t[c] = β − mean·s.
void bnScaleShift(const BatchNormalization& bnc, std::vector<float>& s, std::vector<float>& mean,
                  std::vector<float>& beta) {
  auto& bn = const_cast<BatchNormalization&>(bnc);
  const size_t C = bn.movingMean().value.size();
  const float eps = bn.effectiveEpsilon();
  s.resize(C);
  mean = values(bn.movingMean().value);
  beta.assign(C, 0.0f);
  for (size_t c = 0; c < C; ++c) {
    const float g = bn.options().scale ? bn.gamma().value[c] : 1.0f;
    s[c] = g * (1.0f / std::sqrt(bn.movingVariance().value[c] + eps));
    if (bn.options().center) beta[c] = bn.beta().value[c];
  }
}
}  // namespace

Status Freezer::foldBatchNorm(int node, Pending& p) {
  const auto& bn = static_cast<const BatchNormalization&>(*m_.node(node).layer);
  std::vector<float> s, mean, beta;
  bnScaleShift(bn, s, mean, beta);
  if (static_cast<int>(s.size()) != p.channels)
    return refuse(node, "has " + std::to_string(s.size()) + " channels, the layer before it " +
                            std::to_string(p.channels));
  const size_t C = s.size();
  for (size_t i = 0; i < p.kernel.size(); ++i) p.kernel[i] *= s[i % C];
  if (p.bias.empty()) p.bias.assign(C, 0.0f);
  for (size_t c = 0; c < C; ++c) p.bias[c] = (p.bias[c] - mean[c]) * s[c] + beta[c];
  p.name = bn.name();
  if (quantMode()) {
    p.regrid = true;
    p.grids.clear();
    if (p.op.kind == OpKind::FullyConnected) p.perChannel = opt_.perChannelFoldedDense;
    note("BatchNormalization '" + bn.name() + "' folded into '" + p.weightLayer +
         "'; the folded kernel's int8 grid is computed again from the folded values (" +
         std::string(p.perChannel ? "per channel" : "per tensor") + "), as TFLite's converter does");
    if (p.op.kind == OpKind::FullyConnected && !p.perChannel)
      note("Dense '" + p.weightLayer + "': with its BatchNorm folded in, one int8 scale serves output channels the "
           "BatchNorm scaled differently, so the integer model can differ more from the fake-quant one; quantize with "
           "BN mode 'fold' (the QAT model then trains on the folded weights) or export per-channel FULLY_CONNECTED");
  }
  return {};
}

Expected<Value> Freezer::standaloneBatchNorm(int node, const Value& input) {
  const auto& bn = static_cast<const BatchNormalization&>(*m_.node(node).layer);
  auto t = tensorInput(input, node);
  if (!t.ok()) return t.error();
  const std::vector<int>& xs = tensor(t.value()).shape;
  if (xs.size() != 4)
    return refuse(node, "a BatchNormalization that cannot fold into a convolution is exported as a 1×1 "
                        "DEPTHWISE_CONV_2D, which needs a (H, W, C) input; this one has rank " +
                            std::to_string(xs.size() - 1) + " per sample");
  std::vector<float> s, mean, beta;
  bnScaleShift(bn, s, mean, beta);
  auto p = std::make_shared<Pending>();
  p->weighted = true;
  p->op.kind = OpKind::DepthwiseConv2D;
  p->op.sourceLayer = bn.name();
  p->name = bn.name();
  p->weightLayer = bn.name();
  p->op.inputs = {t.value()};
  p->shape = xs;
  p->channels = xs[3];
  p->kernelShape = {1, 1, xs[3], 1};
  p->kernel = s;
  p->bias.resize(s.size());
  for (size_t c = 0; c < s.size(); ++c) p->bias[c] = beta[c] - mean[c] * s[c];
  p->perChannel = true;
  p->regrid = quantMode();
  if (quantMode())
    note("BatchNormalization '" + bn.name() + "' (not after a convolution) runs as a 1×1 DEPTHWISE_CONV_2D with "
         "per-channel weights γ/σ and bias β − mean·γ/σ");
  return Value{-1, p, p->shape};
}

Status Freezer::mergeSeparable(Pending& pw, const Pending& dw) {
  // dw kernel (kh, kw, C, M) and pw kernel (1, 1, C·M, O), both the fake-quantized values:
  // W[kh, kw, c, o] = Σ_m dw[kh, kw, c, m] · pw[c·M + m, o], bias[o] += Σ_j dwBias[j] · pw[j, o].
  const int KH = dw.kernelShape[0], KW = dw.kernelShape[1], C = dw.kernelShape[2], M = dw.kernelShape[3];
  const int O = pw.channels;
  std::vector<float> w(size_t(KH) * KW * C * O, 0.0f);
  for (int t = 0; t < KH * KW; ++t)
    for (int c = 0; c < C; ++c)
      for (int m = 0; m < M; ++m) {
        const float a = dw.kernel[(size_t(t) * C + c) * M + m];
        const float* b = pw.kernel.data() + size_t(c * M + m) * O;
        float* dst = w.data() + (size_t(t) * C + c) * O;
        for (int o = 0; o < O; ++o) dst[o] += a * b[o];
      }
  if (pw.bias.empty()) pw.bias.assign(size_t(O), 0.0f);
  for (size_t j = 0; j < dw.bias.size(); ++j)
    for (int o = 0; o < O; ++o) pw.bias[size_t(o)] += dw.bias[j] * pw.kernel[j * size_t(O) + size_t(o)];
  pw.kernel = std::move(w);
  pw.kernelShape = {KH, KW, C, O};
  pw.op.padding = dw.op.padding;
  pw.op.strideH = dw.op.strideH;
  pw.op.strideW = dw.op.strideW;
  pw.op.dilationH = dw.op.dilationH;
  pw.op.dilationW = dw.op.dilationW;
  pw.op.inputs = dw.op.inputs;
  pw.regrid = true;
  pw.perChannel = true;
  pw.grids.clear();
  note("SeparableConv2D '" + pw.weightLayer + "': its depthwise output has no quantizer, so both halves run as one "
       "CONV_2D with the combined kernel (int8 grid computed per channel on it)");
  return {};
}

Expected<int> Freezer::emitWeighted(Pending& p, const QuantParams& out) {
  const std::string base = p.weightLayer;
  GraphOp op = p.op;
  GraphTensor w, b;
  w.name = base + "/" + (p.op.kind == OpKind::DepthwiseConv2D ? "depthwise_kernel" : "kernel");
  b.name = base + "/bias";
  std::vector<float> bias = p.bias.empty() ? std::vector<float>(size_t(p.channels), 0.0f) : p.bias;
  b.shape = {p.channels};
  if (!quantMode()) {
    w.type = b.type = ElementType::Float32;
    w.data = bytesOf(toTfliteLayout(p.op.kind, p.kernelShape, p.kernel, w.shape));
    b.data = bytesOf(bias);
  } else {
    const size_t C = size_t(p.channels);
    if (p.regrid) {
      // Grids of the folded kernel: symmetric, with the weight quantizer's bits.
      const size_t G = p.perChannel ? C : 1;
      std::vector<float> m(G, 0.0f);
      for (size_t i = 0; i < p.kernel.size(); ++i) m[i % G] = std::fmax(m[i % G], std::fabs(p.kernel[i]));
      p.grids.clear();
      for (size_t gI = 0; gI < G; ++gI) p.grids.push_back(symmetricGrid(m[gI], p.weightBits, p.narrowRange));
    }
    const size_t G = p.grids.size();
    std::vector<int8_t> q(p.kernel.size());
    for (size_t i = 0; i < q.size(); ++i) q[i] = static_cast<int8_t>(gridValue(p.kernel[i], p.grids[i % G]));
    w.type = ElementType::Int8;
    w.data = bytesOf(toTfliteLayout(p.op.kind, p.kernelShape, q, w.shape));
    w.valueBits = p.weightBits;
    // An all-zero channel has a degenerate grid; any positive scale represents its zeros.
    for (const quant::Grid& gr : p.grids) {
      w.quant.scale.push_back(degenerate(gr) ? 1.0f : gr.scale);
      w.quant.zeroPoint.push_back(0);
    }
    w.quant.quantizedDimension = p.op.kind == OpKind::DepthwiseConv2D ? 3 : 0;
    const float sIn = tensor(p.op.inputs[0]).quant.scale[0];
    b.type = ElementType::Int32;
    std::vector<int32_t> bq(C);
    for (size_t c = 0; c < C; ++c) {
      const float bs = sIn * w.quant.scale[G == 1 ? 0 : c];
      if (c < G) {  // as many bias scales as weight scales (TFLite and Arm NN require it)
        b.quant.scale.push_back(bs);
        b.quant.zeroPoint.push_back(0);
      }
      const double v = std::round(double(bias[c]) / double(bs));
      bq[c] = static_cast<int32_t>(std::fmax(-2147483648.0, std::fmin(2147483647.0, v)));
    }
    b.data = bytesOf(bq);
    if (p.op.kind == OpKind::FullyConnected && G > 1)
      note("Dense '" + base + "': per-channel FULLY_CONNECTED weights (its kernel quantizer is per-axis); TFLite "
           "runs them, Arm NN 20.08 does not");
    if (p.weightBits < 8)
      note("Layer '" + base + "': weights trained on a " + std::to_string(p.weightBits) +
           "-bit grid are stored as int8 values in [" + std::to_string(-(1 << (p.weightBits - 1)) + 1) + ", " +
           std::to_string((1 << (p.weightBits - 1)) - 1) + "]; TFLite runs them as int8");
  }
  const int wt = g_.addTensor(std::move(w));
  const int bt = g_.addTensor(std::move(b));
  op.inputs = {p.op.inputs[0], wt, bt};
  return addOp(op, p.name, p.shape, actType(), out);
}

}  // namespace qat::deploy::detail
