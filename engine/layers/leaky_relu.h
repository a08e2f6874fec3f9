#pragma once
// LeakyReLU: f(x) = x for x > 0, alpha · x otherwise (tf.nn.leaky_relu). tf.keras 2.x
// defaults alpha to 0.3 (Keras 3 renamed it negative_slope and changed it to 0.2).
#include "engine/layers/layer.h"

namespace qat {

struct LeakyReLUOptions {
  float alpha = 0.3f;
};

class LeakyReLU : public Layer {
 public:
  LeakyReLU(std::string name, LeakyReLUOptions opt = {}) : Layer(std::move(name)), opt_(opt) {}
  OpType op() const override { return OpType::LeakyReLU; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const LeakyReLUOptions& options() const { return opt_; }

  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  LeakyReLUOptions opt_;
};

}  // namespace qat
