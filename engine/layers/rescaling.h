#pragma once
// Rescaling: y = x · scale + offset (Keras preprocessing layer, e.g. scale = 1/255).
#include "engine/layers/layer.h"

namespace qat {

struct RescalingOptions {
  float scale = 1.0f;
  float offset = 0.0f;
};

class Rescaling : public Layer {
 public:
  Rescaling(std::string name, RescalingOptions opt) : Layer(std::move(name)), opt_(opt) {}
  OpType op() const override { return OpType::Rescaling; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const RescalingOptions& options() const { return opt_; }

  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  RescalingOptions opt_;
};

}  // namespace qat
