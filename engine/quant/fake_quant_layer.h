#pragma once
// FakeQuantLayer: a quantizer as a graph node. The quantize transform inserts one after
// every tensor whose values must sit on an integer grid: model inputs (tfmot's
// QuantizeLayer), layer activations and outputs (QUANT_SPEC.md §3). One input, same
// shape out.
#include <memory>

#include "engine/layers/layer.h"
#include "engine/quant/quantizer.h"

namespace qat::quant {

class FakeQuantLayer : public Layer {
 public:
  // `quantizer` must not be null. Its state is named "<role>_min" / "<role>_max".
  FakeQuantLayer(std::string name, std::unique_ptr<Quantizer> quantizer, std::string role = "output");
  FakeQuantLayer(const FakeQuantLayer& o);
  OpType op() const override { return OpType::FakeQuant; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }

  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;
  std::vector<Param*> params() override { return quantizer_->state(); }

  Quantizer& quantizer() { return *quantizer_; }
  const Quantizer& quantizer() const { return *quantizer_; }
  const std::string& role() const { return role_; }

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  std::unique_ptr<Quantizer> quantizer_;
  std::string role_;
  Tensor scratch_;  // input gradient nobody asked for (trainable quantizer state only)
};

}  // namespace qat::quant
