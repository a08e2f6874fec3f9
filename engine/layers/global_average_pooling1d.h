#pragma once
// GlobalAveragePooling1D: (N, L, C) -> (N, C), or (N, 1, C) with keepDims;
// y[n, c] = mean over the L steps of x[n, ·, c]. (Keras' optional mask is not supported:
// the engine has no masking.)
#include "engine/layers/layer.h"
#include "engine/layers/pooling1d_options.h"

namespace qat {

class GlobalAveragePooling1D : public Layer {
 public:
  GlobalAveragePooling1D(std::string name, GlobalPooling1DOptions opt = {})
      : Layer(std::move(name)), opt_(opt) {}
  OpType op() const override { return OpType::GlobalAveragePooling1D; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const GlobalPooling1DOptions& options() const { return opt_; }

  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  GlobalPooling1DOptions opt_;
};

}  // namespace qat
