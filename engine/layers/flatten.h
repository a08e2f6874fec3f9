#pragma once
// Flatten: (N, d1, d2, ...) -> (N, d1·d2·...). Row-major order, as Keras channels_last.
#include "engine/layers/layer.h"

namespace qat {

class Flatten : public Layer {
 public:
  using Layer::Layer;
  OpType op() const override { return OpType::Flatten; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }

  void forward(TensorList in, Tensor& out, const RunContext&) override {
    out.resize(outputShape().withBatch(in[0]->dim(0)));
    std::copy_n(in[0]->data(), in[0]->size(), out.data());
  }
  void backward(TensorList, const Tensor&, const Tensor& dout, GradList din,
                const RunContext&) override {
    if (din[0]) std::copy_n(dout.data(), dout.size(), din[0]->data());
  }

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override {
    if (inputs.size() != 1) return layerError("takes exactly one input");
    return Shape{static_cast<int>(inputs[0].numel())};
  }
};

}  // namespace qat
