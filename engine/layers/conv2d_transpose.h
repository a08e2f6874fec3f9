#pragma once
// Conv2DTranspose ("deconvolution"): y = act(convᵀ(x, kernel) + bias), NHWC, with Keras'
// kernel layout (kh, kw, filters, in) and bias (filters).
//
// A transposed convolution is the input-gradient of an ordinary convolution: take the
// Conv2D that maps a (OH, OW, filters) image to the (H, W, in) input of this layer (same
// kernel, strides, dilation, TF padding); this layer computes that conv's backward-input
// pass. So with g = that conv's ConvGeometry (g.H, g.W = OH, OW; g.Cin = filters;
// g.Cout = in; its HWIO kernel is exactly Keras' (kh, kw, filters, in)):
//   forward:   y  = conv2d_backward_input_g(x)
//   backward:  dx = conv2d_forward_g(dz),  dkernel += conv2d_filter_grad_g(input = dz, dy = x),
//              dbias += Σ dz   (dz = dout ⊙ act'(z))
// The output size follows Keras' deconv_output_length: with effK = (k − 1)·d + 1,
//   output_padding None: valid: H·s + max(effK − s, 0);   same: H·s
//   output_padding p:    (H − 1)·s + effK − 2·pad + p with pad = 0 (valid), effK / 2 (same)
// and TensorFlow then pads that conv as its 'valid' / 'same' rule says for that size.
#include <array>
#include <optional>

#include "engine/kernels/conv2d.h"
#include "engine/layers/activation_fn.h"
#include "engine/layers/layer.h"
#include "engine/layers/weighted_layer.h"
#include "engine/layers/padding.h"

namespace qat {

struct Conv2DTransposeOptions {
  int filters = 1;
  int kernelH = 3, kernelW = 3;
  int strideH = 1, strideW = 1;
  int dilationH = 1, dilationW = 1;  // not together with strides > 1
  Padding padding = Padding::Valid;
  std::optional<std::array<int, 2>> outputPadding;  // None: inferred; each in [0, stride)
  bool useBias = true;
  ActivationFn activation = ActivationFn::Linear;
};

class Conv2DTranspose : public Layer {
 public:
  Conv2DTranspose(std::string name, Conv2DTransposeOptions opt = {})
      : Layer(std::move(name)), opt_(opt), act_(opt.activation) {}
  OpType op() const override { return OpType::Conv2DTranspose; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const Conv2DTransposeOptions& options() const { return opt_; }

  void initialize(Rng& rng) override;
  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;
  std::vector<Param*> params() override;

  Param& kernel() { return kernel_; }
  Param& bias() { return bias_; }
  // The per-sample (N = 0) geometry of the underlying conv (output -> input); after build().
  const ConvGeometry& geometry() const { return geo_; }

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  Conv2DTransposeOptions opt_;
  Param kernel_, bias_;
  ConvGeometry geo_;
  FusedActivation act_;  // opt_.activation on z (N, OH, OW, filters)
  ConvWorkspace ws_;  // im2col tiles and per-thread partial gradients, reused
};

}  // namespace qat
