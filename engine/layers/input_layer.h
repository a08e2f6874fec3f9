#pragma once
// InputLayer: a graph entry point with a fixed per-sample shape. The executor feeds the
// user's tensor straight through; forward() only copies for standalone use.
#include "engine/layers/layer.h"

namespace qat {

class InputLayer : public Layer {
 public:
  InputLayer(std::string name, Shape shape) : Layer(std::move(name)), shape_(std::move(shape)) {}
  OpType op() const override { return OpType::Input; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  int arity() const override { return 0; }
  const Shape& shape() const { return shape_; }

  void forward(TensorList in, Tensor& out, const RunContext&) override {
    out.resize(in[0]->shape());
    std::copy_n(in[0]->data(), in[0]->size(), out.data());
  }
  void backward(TensorList, const Tensor&, const Tensor&, GradList, const RunContext&) override {}

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override {
    if (!inputs.empty()) return layerError("an input layer takes no inputs");
    for (int d : shape_.dims())
      if (d <= 0) return layerError("input shape " + shape_.str() + " must be fully known");
    return shape_;
  }

 private:
  Shape shape_;
};

}  // namespace qat
