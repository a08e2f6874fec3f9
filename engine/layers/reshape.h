#pragma once
// Reshape: (N, ...) -> (N, target_shape...), row-major order kept (a pure relabelling).
// target_shape is per sample, like Keras; one entry may be -1 and is inferred.
#include <vector>

#include "engine/layers/layer.h"

namespace qat {

struct ReshapeOptions {
  std::vector<int> targetShape;
};

class Reshape : public Layer {
 public:
  Reshape(std::string name, ReshapeOptions opt) : Layer(std::move(name)), opt_(std::move(opt)) {}
  OpType op() const override { return OpType::Reshape; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const ReshapeOptions& options() const { return opt_; }

  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  ReshapeOptions opt_;
};

}  // namespace qat
