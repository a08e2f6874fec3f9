#pragma once
// Activation: y = f(x) elementwise (softmax: over the last axis), f from activation_fn.h.
// Keras `Activation(activation)`; no parameters.
#include "engine/layers/activation_fn.h"
#include "engine/layers/layer.h"

namespace qat {

struct ActivationOptions {
  ActivationFn activation = ActivationFn::Linear;
};

class Activation : public Layer {
 public:
  Activation(std::string name, ActivationOptions opt) : Layer(std::move(name)), opt_(opt) {}
  OpType op() const override { return OpType::Activation; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const ActivationOptions& options() const { return opt_; }

  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  ActivationOptions opt_;
};

}  // namespace qat
