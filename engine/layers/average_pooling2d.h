#pragma once
// AveragePooling2D: per channel, the mean over each pool window; with 'same' padding the
// mean is over the real (non-padded) cells only, as in TensorFlow. Math and kernels in
// engine/kernels/pool2d.h.
#include "engine/layers/layer.h"
#include "engine/layers/pooling_options.h"

namespace qat {

class AveragePooling2D : public Layer {
 public:
  AveragePooling2D(std::string name, Pooling2DOptions opt = {})
      : Layer(std::move(name)), opt_(opt) {}
  OpType op() const override { return OpType::AveragePooling2D; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const Pooling2DOptions& options() const { return opt_; }
  const PoolGeometry& geometry() const { return geo_; }  // per sample; after build()

  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  Pooling2DOptions opt_;
  PoolGeometry geo_;
};

}  // namespace qat
