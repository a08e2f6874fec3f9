#pragma once
// AveragePooling1D: per channel, the mean over each window of steps; with 'same' padding
// the padded cells are not counted (TF). A (N, L, C) sequence is a (N, 1, L, C) image for
// the 2-D kernels of engine/kernels/pool2d.h.
#include "engine/layers/layer.h"
#include "engine/layers/pooling1d_options.h"

namespace qat {

class AveragePooling1D : public Layer {
 public:
  AveragePooling1D(std::string name, Pooling1DOptions opt = {}) : Layer(std::move(name)), opt_(opt) {}
  OpType op() const override { return OpType::AveragePooling1D; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const Pooling1DOptions& options() const { return opt_; }

  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  Pooling1DOptions opt_;
  PoolGeometry geo_;  // per sample, H = 1
};

}  // namespace qat
