#pragma once
// Dropout (inverted): in training each value is zeroed with probability `rate` and the
// survivors are scaled by 1 / (1 − rate), so inference is the identity.
// The mask is drawn serially from ctx.rng: the same seed gives the same mask whatever the
// thread count.
#include <vector>

#include "engine/layers/layer.h"

namespace qat {

struct DropoutOptions {
  float rate = 0.5f;  // in [0, 1)
};

class Dropout : public Layer {
 public:
  Dropout(std::string name, DropoutOptions opt) : Layer(std::move(name)), opt_(opt) {}
  OpType op() const override { return OpType::Dropout; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const DropoutOptions& options() const { return opt_; }

  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  DropoutOptions opt_;
  // (N, ...) per value 0 or 1 / (1 − rate), from the last training forward.
  FloatBuffer mask_;
};

}  // namespace qat
