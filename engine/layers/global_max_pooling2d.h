#pragma once
// GlobalMaxPooling2D: (N, H, W, C) -> (N, C), or (N, 1, 1, C) with keepDims;
// y[n, c] = max over H·W of x[n, ·, ·, c]; the gradient goes to the (first) maximum,
// recorded by the training forward.
#include <cstdint>
#include <vector>

#include "engine/layers/layer.h"
#include "engine/layers/pooling_options.h"

namespace qat {

class GlobalMaxPooling2D : public Layer {
 public:
  GlobalMaxPooling2D(std::string name, GlobalPooling2DOptions opt = {})
      : Layer(std::move(name)), opt_(opt) {}
  OpType op() const override { return OpType::GlobalMaxPooling2D; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const GlobalPooling2DOptions& options() const { return opt_; }

  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  GlobalPooling2DOptions opt_;
  std::vector<int32_t> argmax_;  // (N, C) pixel index of each maximum; training only
};

}  // namespace qat
