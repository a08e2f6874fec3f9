#include "engine/quant/quantize_wrapper.h"

#include <utility>

namespace qat::quant {

// The wrapper is addressed by the inner layer's Keras name (configs, checkpoints, graph).
QuantizeWrapper::QuantizeWrapper(std::unique_ptr<Layer> inner,
                                 std::map<std::string, std::unique_ptr<Quantizer>> weightQuantizers)
    : Layer(inner->name()), inner_(std::move(inner)), quant_(std::move(weightQuantizers)) {}

// Deep copy: the clone owns its own inner layer, quantizers (ranges) and scratch, and its
// slots point into those, never into `o`.
QuantizeWrapper::QuantizeWrapper(const QuantizeWrapper& o)
    : Layer(o), inner_(o.inner_->clone()), quantized_(o.quantized_), gradScratch_(o.gradScratch_) {
  for (const auto& [name, q] : o.quant_) quant_.emplace(name, q ? q->clone() : nullptr);
  bindSlots();
}

void QuantizeWrapper::bindSlots() {
  slots_.clear();
  for (Param* p : inner_->params()) {
    auto it = quant_.find(p->name);
    if (it == quant_.end() || !it->second) continue;
    slots_.push_back({p, it->second.get(), &quantized_[p->name], &gradScratch_[p->name]});
  }
}

Expected<Shape> QuantizeWrapper::doBuild(const std::vector<Shape>& inputs) {
  auto shape = inner_->build(inputs);
  if (!shape.ok()) return layerError(shape.error().message);
  const std::vector<Param*> ps = inner_->params();
  for (const auto& [name, q] : quant_) {
    if (!q) return layerError("the quantizer for parameter '" + name + "' is missing (null)");
    Param* found = nullptr;
    for (Param* p : ps)
      if (p->name == name) found = p;
    if (!found) {
      std::string have;
      for (const Param* p : ps) have.append(have.empty() ? "" : ", ").append(p->name);
      return layerError("inner layer '" + inner_->name() + "' has no parameter '" + name +
                        "' to quantize (its parameters: " + (have.empty() ? "none" : have) + ")");
    }
    // Per-axis grids run along the output channels, the innermost axis of the flat array
    // (Conv2D HWIO: O; Dense (in, units): units), except that a depthwise kernel
    // (kh, kw, C, M) has C·M output channels, its last two axes flattened (quantizer.h's
    // and TFLite's channel order: element i belongs to channel i % channels()).
    const Shape& s = found->value.shape();
    int channels = 1;
    if (q->spec().perAxis && s.rank() > 0)
      channels = name == "depthwise_kernel" && s.rank() == 4 ? s[2] * s[3] : s.back();
    if (auto st = q->build(channels, name); !st.ok())
      return layerError("quantizer of '" + name + "': " + st.error().message);
    quantized_[name].resize(s);
    gradScratch_[name].resize(s);
  }
  bindSlots();
  return shape;
}

std::vector<Param*> QuantizeWrapper::params() {
  std::vector<Param*> ps = inner_->params();
  for (const Slot& sl : slots_)
    for (Param* p : sl.quantizer->state()) ps.push_back(p);
  return ps;
}

Quantizer* QuantizeWrapper::weightQuantizer(const std::string& param) {
  auto it = quant_.find(param);
  return it == quant_.end() ? nullptr : it->second.get();
}

const Quantizer* QuantizeWrapper::weightQuantizer(const std::string& param) const {
  auto it = quant_.find(param);
  return it == quant_.end() ? nullptr : it->second.get();
}

// w_q = q(w) into the scratch tensor, then the scratch and the Param's value trade places
// (O(1) swaps of buffers) around the inner forward, so the inner layer computes with w_q
// while the Param keeps the float shadow weight afterwards. The scratch keeps w_q for
// backward(), which must use the forward's weights (the ranges may have moved since).
void QuantizeWrapper::forward(TensorList in, Tensor& out, const RunContext& ctx) {
  for (const Slot& sl : slots_) {
    sl.quantizer->forward(sl.param->value, *sl.quantized, ctx);
    std::swap(sl.param->value, *sl.quantized);
  }
  inner_->forward(in, out, ctx);
  for (const Slot& sl : slots_) std::swap(sl.param->value, *sl.quantized);
}

// The inner backward runs with w_q in place (so dx uses w_q) and with a zeroed gradient
// slot in place of each quantized Param's grad: its += then leaves exactly this call's
// dL/dw_q there. The straight-through estimator maps that to dL/dw (zero where w lies
// outside the grid's range), which is ACCUMULATED into the Param's own grad.
void QuantizeWrapper::backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                               const RunContext& ctx) {
  for (const Slot& sl : slots_) {
    std::swap(sl.param->value, *sl.quantized);
    if (!sl.param->trainable) continue;
    sl.gradScratch->resize(sl.param->grad.shape());
    sl.gradScratch->zero();
    std::swap(sl.param->grad, *sl.gradScratch);
  }
  inner_->backward(in, out, dout, din, ctx);
  for (const Slot& sl : slots_) {
    std::swap(sl.param->value, *sl.quantized);
    if (!sl.param->trainable) continue;
    std::swap(sl.param->grad, *sl.gradScratch);
    // dL/dw += STE(dL/dw_q); also accumulates gradients of trainable quantizer state.
    sl.quantizer->backward(sl.param->value, *sl.gradScratch, steGrad_, ctx);
    float* g = sl.param->grad.data();
    const float* d = steGrad_.data();
    const size_t n = sl.param->grad.size();
#pragma omp simd
    for (size_t i = 0; i < n; ++i) g[i] += d[i];
  }
}

}  // namespace qat::quant
