#pragma once
// MaxPooling2D: per channel, the maximum over each pool window (TF padding: padded
// cells never win). The training forward keeps the winner of every output element so
// backward routes dout straight to it. Math and kernels in engine/kernels/pool2d.h.
#include <cstdint>
#include <vector>

#include "engine/layers/layer.h"
#include "engine/layers/pooling_options.h"

namespace qat {

class MaxPooling2D : public Layer {
 public:
  MaxPooling2D(std::string name, Pooling2DOptions opt = {}) : Layer(std::move(name)), opt_(opt) {}
  OpType op() const override { return OpType::MaxPooling2D; }
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
  std::vector<int32_t> argmax_;  // (N, OH, OW, C) offset of each max inside its image; training
};

}  // namespace qat
