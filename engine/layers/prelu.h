#pragma once
// PReLU: y = x for x > 0, alpha · x otherwise, with a learned alpha per element of the
// per-sample shape, shared (broadcast) along `sharedAxes`. As in Keras, alpha has the
// input's per-sample shape with each shared axis set to 1, and the axes are numbered
// from 1 (axis 1 = the first per-sample axis; PReLU(shared_axes=[1, 2]) on (H, W, C)
// learns one alpha per channel). Keras initializes alpha to zeros.
#include <cstdint>
#include <vector>

#include "engine/layers/layer.h"

namespace qat {

struct PReLUOptions {
  std::vector<int> sharedAxes;  // 1-based per-sample axes; empty: one alpha per element
};

class PReLU : public Layer {
 public:
  PReLU(std::string name, PReLUOptions opt = {}) : Layer(std::move(name)), opt_(std::move(opt)) {}
  OpType op() const override { return OpType::PReLU; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const PReLUOptions& options() const { return opt_; }

  void initialize(Rng& rng) override;
  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;
  std::vector<Param*> params() override { return {&alpha_}; }

  Param& alpha() { return alpha_; }

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  PReLUOptions opt_;
  Param alpha_;
  // Per sample: alphaIndex_[i] = the alpha element that input element i uses (row-major).
  std::vector<uint32_t> alphaIndex_;
};

}  // namespace qat
