#pragma once
// QuantizeWrapper: runs a layer with fake-quantized weights, like tfmot's QuantizeWrapper
// with a weights-only QuantizeConfig (activations are quantized by FakeQuantLayer nodes
// after it).
//
//   forward:  w_q = q(w) for every quantized parameter w; the inner layer runs with w_q
//             in place of w (the float w stays the trained "shadow" weight).
//   backward: the inner layer's gradient w.r.t. w_q reaches w through the quantizer's
//             straight-through estimator (zero where w lies outside the grid's range);
//             the inner layer's input gradient uses w_q, as the forward did.
// Parameters: the inner layer's (Keras order, Keras names), then each quantizer's state.
// The wrapper takes the inner layer's name so configs, checkpoints and the graph view
// address it by the Keras layer name.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/layers/layer.h"
#include "engine/quant/quantizer.h"

namespace qat::quant {

class QuantizeWrapper : public Layer {
 public:
  // weightQuantizers: parameter name ("kernel", "depthwise_kernel", "bias", ...) → quantizer.
  // build() fails naming the parameter when the inner layer has no such parameter.
  QuantizeWrapper(std::unique_ptr<Layer> inner, std::map<std::string, std::unique_ptr<Quantizer>> weightQuantizers);
  QuantizeWrapper(const QuantizeWrapper& o);
  OpType op() const override { return OpType::QuantizeWrapper; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  int arity() const override { return inner_->arity(); }

  void initialize(Rng& rng) override { inner_->initialize(rng); }
  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;
  std::vector<Param*> params() override;

  Layer& inner() { return *inner_; }
  const Layer& inner() const { return *inner_; }
  // nullptr when that parameter is left float.
  Quantizer* weightQuantizer(const std::string& param);
  const Quantizer* weightQuantizer(const std::string& param) const;

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  std::unique_ptr<Layer> inner_;
  std::map<std::string, std::unique_ptr<Quantizer>> quant_;
  // Scratch reused between steps: the quantized values and a zeroed gradient slot per
  // quantized parameter, swapped into the inner layer's Param around its calls.
  std::map<std::string, Tensor> quantized_, gradScratch_;
  // One entry per quantized parameter in the inner layer's parameter order, pointing into
  // inner_ and the maps above (std::map nodes do not move), so forward/backward neither
  // search nor allocate. Bound by doBuild() and the copy constructor.
  struct Slot {
    Param* param;
    Quantizer* quantizer;
    Tensor* quantized;
    Tensor* gradScratch;
  };
  std::vector<Slot> slots_;
  Tensor steGrad_;  // the quantizer's straight-through gradient, before it is added to grad
  void bindSlots();
};

}  // namespace qat::quant
