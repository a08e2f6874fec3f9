#pragma once
// UpSampling2D: (N, H, W, C) -> (N, H·sh, W·sw, C), as Keras, which calls
// tf.image.resize (half-pixel centers, no antialiasing):
//   nearest:  y[oh, ow] = x[oh / sh, ow / sw] (each pixel repeated sh x sw times);
//   bilinear: along each axis the source coordinate is  s = (o + 0.5) · in/out − 0.5,
//             lo = max(floor(s), 0), hi = min(ceil(s), in − 1), t = s − floor(s), and
//             y = lerp(lerp(x[lo_h, lo_w], x[lo_h, hi_w], t_w),
//                      lerp(x[hi_h, lo_w], x[hi_h, hi_w], t_w), t_h)
//             (so the border rows/columns clamp to the edge pixel).
// Backward is the adjoint: nearest sums each sh x sw block of dout; bilinear scatters
// dout with the four weights (1 − t_h)(1 − t_w), (1 − t_h)t_w, t_h(1 − t_w), t_h·t_w.
#include <vector>

#include "engine/layers/layer.h"

namespace qat {

enum class Interpolation { Nearest, Bilinear };

struct UpSampling2DOptions {
  int sizeH = 2, sizeW = 2;
  Interpolation interpolation = Interpolation::Nearest;
};

class UpSampling2D : public Layer {
 public:
  UpSampling2D(std::string name, UpSampling2DOptions opt = {}) : Layer(std::move(name)), opt_(opt) {}
  OpType op() const override { return OpType::UpSampling2D; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const UpSampling2DOptions& options() const { return opt_; }

  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;

  // One output row / column of the bilinear resize: its two source indices and weight.
  struct Lerp {
    int lo = 0, hi = 0;
    float t = 0.0f;  // weight of `hi`; `lo` gets 1 − t
  };

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  UpSampling2DOptions opt_;
  std::vector<Lerp> rows_, cols_;  // (OH), (OW): the bilinear tables, built per shape
};

}  // namespace qat
