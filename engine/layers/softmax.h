#pragma once
// Softmax layer: y = exp(x − max) / Σ exp(x − max) along one axis.
// `axis` counts like Keras, with the batch as axis 0: -1 (default) is the last axis,
// 1 the first per-sample axis. The batch axis itself is rejected.
#include "engine/layers/layer.h"

namespace qat {

struct SoftmaxOptions {
  int axis = -1;
};

class Softmax : public Layer {
 public:
  Softmax(std::string name, SoftmaxOptions opt = {}) : Layer(std::move(name)), opt_(opt) {}
  OpType op() const override { return OpType::Softmax; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const SoftmaxOptions& options() const { return opt_; }

  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  SoftmaxOptions opt_;
  // The input viewed as (outer, len, inner) with `len` the softmax axis; set by doBuild.
  // outer excludes the batch, which multiplies it at run time.
  size_t outer_ = 1, len_ = 1, inner_ = 1;
};

}  // namespace qat
