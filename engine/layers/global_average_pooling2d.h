#pragma once
// GlobalAveragePooling2D: (N, H, W, C) -> (N, C), or (N, 1, 1, C) with keepDims;
// y[n, c] = mean over H·W of x[n, ·, ·, c], dx = dy / (H·W) everywhere.
#include "engine/layers/layer.h"
#include "engine/layers/pooling_options.h"

namespace qat {

class GlobalAveragePooling2D : public Layer {
 public:
  GlobalAveragePooling2D(std::string name, GlobalPooling2DOptions opt = {})
      : Layer(std::move(name)), opt_(opt) {}
  OpType op() const override { return OpType::GlobalAveragePooling2D; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const GlobalPooling2DOptions& options() const { return opt_; }

  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  GlobalPooling2DOptions opt_;
};

}  // namespace qat
