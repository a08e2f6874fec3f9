// Ranges the QAT model does not record but the int8 graph needs: the pre-activation values
// of a Conv/Dense whose in-layer activation is softmax, sigmoid or tanh (TFLite gives
// those activations fixed output parameters, so the op before them needs its own scale;
// tfmot quantizes there, the studio's schemes do not). Measured by running the quantized
// model (fake quantization on, inference mode) over FreezeOptions::rangeSamples and
// applying the layer's linear part, with its fake-quantized weights, to the node's input.
// The grid is an 8-bit asymmetric one over [min, max] (tfmot's activation quantizer on a
// single pass of data).
#include <algorithm>
#include <limits>

#include "engine/deploy/freeze_internal.h"
#include "engine/graph/executor.h"
#include "engine/layers/conv2d.h"
#include "engine/layers/dense.h"
#include "engine/layers/depthwise_conv2d.h"
#include "engine/quant/quantize_wrapper.h"

namespace qat::deploy::detail {
namespace {

bool fixedOutput(ActivationFn f) {
  return f == ActivationFn::Softmax || f == ActivationFn::Sigmoid || f == ActivationFn::Tanh;
}

// A copy of the wrapped layer with a linear activation and its fake-quantized weights.
std::unique_ptr<Layer> linearTwin(const quant::QuantizeWrapper& w, const Shape& inShape) {
  const Layer& inner = w.inner();
  std::unique_ptr<Layer> twin;
  std::string kernelName = "kernel";
  if (auto* d = dynamic_cast<const Dense*>(&inner)) {
    if (!fixedOutput(d->options().activation)) return nullptr;
    DenseOptions o = d->options();
    o.activation = ActivationFn::Linear;
    twin = std::make_unique<Dense>(inner.name(), o);
  } else if (auto* c = dynamic_cast<const Conv2D*>(&inner)) {
    if (!fixedOutput(c->options().activation)) return nullptr;
    Conv2DOptions o = c->options();
    o.activation = ActivationFn::Linear;
    twin = std::make_unique<Conv2D>(inner.name(), o);
  } else if (auto* dw = dynamic_cast<const DepthwiseConv2D*>(&inner)) {
    if (!fixedOutput(dw->options().activation)) return nullptr;
    DepthwiseConv2DOptions o = dw->options();
    o.activation = ActivationFn::Linear;
    twin = std::make_unique<DepthwiseConv2D>(inner.name(), o);
    kernelName = "depthwise_kernel";
  } else {
    return nullptr;
  }
  if (!twin->build({inShape}).ok()) return nullptr;
  const auto src = inner.params();
  auto dst = twin->params();
  for (size_t k = 0; k < dst.size() && k < src.size(); ++k) {
    dst[k]->value = src[k]->value;
    if (const quant::Quantizer* q = w.weightQuantizer(dst[k]->name)) {
      const auto grids = q->grids();
      if (!grids.empty()) quant::fakeQuantForward(dst[k]->value.data(), dst[k]->value.data(), dst[k]->value.size(), grids);
    }
  }
  return twin;
}

}  // namespace

Status Freezer::measurePreActivationRanges() {
  std::map<int, std::unique_ptr<Layer>> twins;
  for (int i = 0; i < m_.size(); ++i) {
    const auto* w = dynamic_cast<const quant::QuantizeWrapper*>(m_.node(i).layer.get());
    if (!w || m_.node(i).inputs.size() != 1) continue;
    if (auto twin = linearTwin(*w, m_.node(m_.node(i).inputs[0]).shape)) twins.emplace(i, std::move(twin));
  }
  if (twins.empty()) return {};
  if (m_.inputs().size() != 1) return makeError("Range samples are supported for models with one input");
  const Tensor& x = *opt_.rangeSamples;
  const Shape want = m_.node(m_.inputs()[0]).shape;
  if (x.rank() < 1 || x.shape().withoutBatch() != want)
    return makeError("The range samples have shape " + x.shape().str() + "; the model takes " + want.str() +
                     " per sample");
  Model& model = const_cast<Model&>(m_);  // the executor runs layers; inference does not change them
  Executor ex(model);
  RunContext ctx;  // inference, fake quantization on
  std::map<int, std::pair<float, float>> range;
  const int N = x.dim(0), batch = 64;
  Tensor xb, z;
  for (int start = 0; start < N; start += batch) {
    const int n = std::min(batch, N - start);
    xb.resize(want.withBatch(n));
    std::copy_n(x.data() + size_t(start) * want.numel(), xb.size(), xb.data());
    ex.forward({&xb}, ctx);
    for (auto& [node, twin] : twins) {
      const Tensor* in = &ex.activation(m_.node(node).inputs[0]);
      twin->forward(TensorList(&in, 1), z, ctx);
      auto [it, fresh] = range.try_emplace(node, std::numeric_limits<float>::max(), std::numeric_limits<float>::lowest());
      (void)fresh;
      for (size_t k = 0; k < z.size(); ++k) {
        it->second.first = std::min(it->second.first, z[k]);
        it->second.second = std::max(it->second.second, z[k]);
      }
    }
  }
  for (const auto& [node, r] : range) {
    const quant::Grid g = quant::nudgedGrid(r.first, r.second, 8, false);
    QuantParams p;
    p.scale = {g.scale};
    p.zeroPoint = {g.zeroPoint - 128};
    preActivation_[node] = p;
    note("Layer '" + m_.node(node).layer->name() + "': the values before its in-layer activation have no quantizer in "
         "the QAT model; their int8 range [" + std::to_string(g.nudgedMin) + ", " + std::to_string(g.nudgedMax) +
         "] was measured on " + std::to_string(N) + " samples");
  }
  return {};
}

}  // namespace qat::deploy::detail
