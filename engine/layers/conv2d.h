#pragma once
// Conv2D: y = act(conv(x, kernel) + bias), NHWC, kernel HWIO (kh, kw, in, filters) and
// bias (filters) as in Keras. TensorFlow 'valid' / 'same' padding. Math and kernels in
// engine/kernels/conv2d.h (im2col tiles + sgemm, batch-parallel).
#include "engine/kernels/conv2d.h"
#include "engine/layers/activation_fn.h"
#include "engine/layers/layer.h"
#include "engine/layers/weighted_layer.h"
#include "engine/layers/padding.h"

namespace qat {

struct Conv2DOptions {
  int filters = 1;
  int kernelH = 3, kernelW = 3;
  int strideH = 1, strideW = 1;
  int dilationH = 1, dilationW = 1;  // Keras rejects dilation > 1 together with stride > 1
  Padding padding = Padding::Valid;
  bool useBias = true;
  ActivationFn activation = ActivationFn::Linear;
};

class Conv2D : public Layer {
 public:
  Conv2D(std::string name, Conv2DOptions opt = {}) : Layer(std::move(name)), opt_(opt), act_(opt.activation) {}
  OpType op() const override { return OpType::Conv2D; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const Conv2DOptions& options() const { return opt_; }

  void initialize(Rng& rng) override;
  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;
  std::vector<Param*> params() override;

  Param& kernel() { return kernel_; }
  Param& bias() { return bias_; }
  // Per-sample geometry (N = 0) with the padding resolved; valid after build().
  const ConvGeometry& geometry() const { return geo_; }

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  Conv2DOptions opt_;
  Param kernel_, bias_;
  ConvGeometry geo_;
  FusedActivation act_;  // opt_.activation on z (N, OH, OW, filters)
  ConvWorkspace ws_;   // im2col tiles and per-thread partial gradients, reused
};

}  // namespace qat
