#pragma once
// ZeroPadding2D: (N, H, W, C) -> (N, top + H + bottom, left + W + right, C), the new
// rows/columns zero; backward crops dout back to the original window.
#include "engine/layers/layer.h"

namespace qat {

struct ZeroPadding2DOptions {
  int top = 1, bottom = 1, left = 1, right = 1;  // Keras default padding=(1, 1)
};

class ZeroPadding2D : public Layer {
 public:
  ZeroPadding2D(std::string name, ZeroPadding2DOptions opt = {})
      : Layer(std::move(name)), opt_(opt) {}
  OpType op() const override { return OpType::ZeroPadding2D; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const ZeroPadding2DOptions& options() const { return opt_; }

  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  ZeroPadding2DOptions opt_;
};

}  // namespace qat
