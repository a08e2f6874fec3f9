#pragma once
// Cropping2D: (N, H, W, C) -> (N, H − top − bottom, W − left − right, C), the inverse of
// ZeroPadding2D; backward puts dout back in the kept window and zeros around it.
#include "engine/layers/layer.h"

namespace qat {

struct Cropping2DOptions {
  int top = 0, bottom = 0, left = 0, right = 0;  // Keras default cropping=((0, 0), (0, 0))
};

class Cropping2D : public Layer {
 public:
  Cropping2D(std::string name, Cropping2DOptions opt = {}) : Layer(std::move(name)), opt_(opt) {}
  OpType op() const override { return OpType::Cropping2D; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const Cropping2DOptions& options() const { return opt_; }

  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  Cropping2DOptions opt_;
};

}  // namespace qat
