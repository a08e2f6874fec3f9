#pragma once
// MaxPooling1D: per channel, the maximum over each window of steps (TF padding: padded
// cells never win). A (N, L, C) sequence is a (N, 1, L, C) image for the 2-D kernels;
// the training forward keeps each output's winner so backward routes dout straight to it.
#include <cstdint>
#include <vector>

#include "engine/layers/layer.h"
#include "engine/layers/pooling1d_options.h"

namespace qat {

class MaxPooling1D : public Layer {
 public:
  MaxPooling1D(std::string name, Pooling1DOptions opt = {}) : Layer(std::move(name)), opt_(opt) {}
  OpType op() const override { return OpType::MaxPooling1D; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const Pooling1DOptions& options() const { return opt_; }

  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  Pooling1DOptions opt_;
  PoolGeometry geo_;             // per sample, H = 1
  std::vector<int32_t> argmax_;  // (N, OL, C) offset of each max inside its sequence; training
};

}  // namespace qat
