#pragma once
// Dense: y = act(x · kernel + bias) over the last axis.
// kernel (in, units), bias (units). Inputs of rank > 1 apply to the last axis like Keras.
#include "engine/layers/activation_fn.h"
#include "engine/layers/layer.h"
#include "engine/layers/weighted_layer.h"

namespace qat {

struct DenseOptions {
  int units = 1;
  bool useBias = true;
  ActivationFn activation = ActivationFn::Linear;
};

class Dense : public Layer {
 public:
  Dense(std::string name, DenseOptions opt) : Layer(std::move(name)), opt_(opt), act_(opt.activation) {}
  OpType op() const override { return OpType::Dense; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const DenseOptions& options() const { return opt_; }

  void initialize(Rng& rng) override;
  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;
  std::vector<Param*> params() override;

  Param& kernel() { return kernel_; }
  Param& bias() { return bias_; }

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  DenseOptions opt_;
  Param kernel_, bias_;
  FusedActivation act_;  // opt_.activation on z = x·W + b (rows, units)
};

}  // namespace qat
