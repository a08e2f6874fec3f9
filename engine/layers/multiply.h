#pragma once
// Multiply: y = x0 ⊙ x1 ⊙ ... (two or more inputs of the same shape; no broadcasting).
#include "engine/layers/layer.h"

namespace qat {

class Multiply : public Layer {
 public:
  using Layer::Layer;
  OpType op() const override { return OpType::Multiply; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  int arity() const override { return -1; }

  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;
};

}  // namespace qat
