#pragma once
// Conv1D: y = act(conv(x, kernel) + bias) over the steps of a (N, L, C) sequence, kernel
// (k, in, filters) and bias (filters) as in Keras. Runs on the 2-D kernels of
// engine/kernels/conv2d.h through a (N, 1, L, C) view of the input and a (1, k, in,
// filters) view of the kernel: the memory is the same, only the geometry says H = 1.
// Padding: TensorFlow 'valid' / 'same', or 'causal' ((k − 1)·dilation zeros on the left
// only, so output step t sees inputs up to t).
#include "engine/kernels/conv2d.h"
#include "engine/layers/activation_fn.h"
#include "engine/layers/layer.h"
#include "engine/layers/weighted_layer.h"

namespace qat {

enum class Conv1DPadding { Valid, Same, Causal };

struct Conv1DOptions {
  int filters = 1;
  int kernelSize = 3;
  int stride = 1;
  int dilation = 1;  // Keras rejects dilation > 1 together with stride > 1
  Conv1DPadding padding = Conv1DPadding::Valid;
  bool useBias = true;
  ActivationFn activation = ActivationFn::Linear;
};

class Conv1D : public Layer {
 public:
  Conv1D(std::string name, Conv1DOptions opt = {}) : Layer(std::move(name)), opt_(opt), act_(opt.activation) {}
  OpType op() const override { return OpType::Conv1D; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const Conv1DOptions& options() const { return opt_; }

  void initialize(Rng& rng) override;
  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;
  std::vector<Param*> params() override;

  Param& kernel() { return kernel_; }
  Param& bias() { return bias_; }
  // Per-sample 2-D geometry (N = 0, H = 1, W = L) with the padding resolved; after build().
  const ConvGeometry& geometry() const { return geo_; }

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  Conv1DOptions opt_;
  Param kernel_, bias_;
  ConvGeometry geo_;
  FusedActivation act_;  // opt_.activation on z (N, OL, filters)
  ConvWorkspace ws_;  // im2col tiles and per-thread partial gradients, reused
};

}  // namespace qat
