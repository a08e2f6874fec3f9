#pragma once
// DepthwiseConv2D: each input channel c is convolved with its own depth_multiplier
// filters; output channel c·M + m (Keras order). y = act(depthwise(x) + bias).
// Params: depthwise_kernel (kh, kw, in, M), bias (in·M). Math and kernels in
// engine/kernels/depthwise_conv2d.h.
#include "engine/kernels/conv2d.h"
#include "engine/layers/activation_fn.h"
#include "engine/layers/layer.h"
#include "engine/layers/weighted_layer.h"
#include "engine/layers/padding.h"

namespace qat {

struct DepthwiseConv2DOptions {
  int kernelH = 3, kernelW = 3;
  int strideH = 1, strideW = 1;
  int dilationH = 1, dilationW = 1;  // dilation > 1 requires stride 1 (as in Keras)
  Padding padding = Padding::Valid;
  int depthMultiplier = 1;
  bool useBias = true;
  ActivationFn activation = ActivationFn::Linear;
};

class DepthwiseConv2D : public Layer {
 public:
  DepthwiseConv2D(std::string name, DepthwiseConv2DOptions opt = {})
      : Layer(std::move(name)), opt_(opt), act_(opt.activation) {}
  OpType op() const override { return OpType::DepthwiseConv2D; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const DepthwiseConv2DOptions& options() const { return opt_; }

  void initialize(Rng& rng) override;
  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;
  std::vector<Param*> params() override;

  Param& depthwiseKernel() { return kernel_; }
  Param& bias() { return bias_; }
  // Per-sample geometry (N = 0, Cout = in·M); valid after build().
  const ConvGeometry& geometry() const { return geo_; }

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  DepthwiseConv2DOptions opt_;
  Param kernel_, bias_;
  ConvGeometry geo_;
  FusedActivation act_;  // opt_.activation on z (N, OH, OW, in·M)
  ConvWorkspace ws_;  // per-thread partial kernel gradients
};

}  // namespace qat
