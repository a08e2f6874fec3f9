#pragma once
// Dense: y = act(x · kernel + bias) over the last axis.
// kernel (in, units), bias (units). Inputs of rank > 1 apply to the last axis like Keras.
#include "engine/layers/activation_fn.h"
#include "engine/layers/layer.h"

namespace qat {

struct DenseOptions {
  int units = 1;
  bool useBias = true;
  ActivationFn activation = ActivationFn::Linear;
};

class Dense : public Layer {
 public:
  Dense(std::string name, DenseOptions opt) : Layer(std::move(name)), opt_(opt) {}
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
  Tensor preact_;  // (rows, units) x·W + b before the activation; training only
  Tensor dz_;      // (rows, units) scratch for the activation's gradient
};

}  // namespace qat
