#include "engine/quant/fake_quant_layer.h"

namespace qat::quant {

FakeQuantLayer::FakeQuantLayer(std::string name, std::unique_ptr<Quantizer> quantizer, std::string role)
    : Layer(std::move(name)), quantizer_(std::move(quantizer)), role_(std::move(role)) {
  QAT_ASSERT(quantizer_);
}

// A deep copy: the clone's quantizer (and so its range state) is its own.
FakeQuantLayer::FakeQuantLayer(const FakeQuantLayer& o)
    : Layer(o), quantizer_(o.quantizer_->clone()), role_(o.role_) {}

Expected<Shape> FakeQuantLayer::doBuild(const std::vector<Shape>& inputs) {
  if (inputs.size() != 1) return layerError("takes exactly one input");
  const Shape& s = inputs[0];
  for (int d : s.dims())
    if (d <= 0) return layerError("needs a fully known input shape, got " + s.str());
  // Channels are the innermost axis (per-axis quantizers keep one grid per entry).
  const int channels = s.rank() > 0 ? s.back() : 1;
  auto st = quantizer_->build(channels, role_);
  if (!st.ok()) return layerError(st.error().message);
  return s;
}

// out (N, ...) = q(in) elementwise; ranges learn from `in` first when ctx.updatesRanges().
void FakeQuantLayer::forward(TensorList in, Tensor& out, const RunContext& ctx) {
  quantizer_->forward(*in[0], out, ctx);
}

// din = straight-through gradient; trainable quantizer state (LearnedRange, LSQ)
// accumulates its gradient even when the input gradient is not needed.
void FakeQuantLayer::backward(TensorList in, const Tensor&, const Tensor& dout, GradList din,
                              const RunContext& ctx) {
  if (din[0]) {
    quantizer_->backward(*in[0], dout, *din[0], ctx);
    return;
  }
  bool trainableState = false;
  for (const Param* p : quantizer_->state()) trainableState = trainableState || p->trainable;
  if (trainableState) quantizer_->backward(*in[0], dout, scratch_, ctx);
}

}  // namespace qat::quant
