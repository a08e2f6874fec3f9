#pragma once
// ReLU (the Keras layer, not the activation string):
//   f(x) = max_value                       if x >= max_value
//        = x                               if threshold <= x < max_value
//        = negative_slope · (x − threshold) otherwise
// With the defaults (no max_value, slope 0, threshold 0) it is max(x, 0).
#include <optional>

#include "engine/layers/layer.h"

namespace qat {

struct ReLUOptions {
  std::optional<float> maxValue;  // Keras max_value; absent or <= 0 means no upper bound
  float negativeSlope = 0.0f;
  float threshold = 0.0f;
};

class ReLU : public Layer {
 public:
  ReLU(std::string name, ReLUOptions opt = {}) : Layer(std::move(name)), opt_(opt) {}
  OpType op() const override { return OpType::ReLU; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const ReLUOptions& options() const { return opt_; }

  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  ReLUOptions opt_;
};

}  // namespace qat
