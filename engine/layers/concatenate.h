#pragma once
// Concatenate: joins two or more inputs along `axis`. The axis counts like Keras, with the
// batch as axis 0: -1 (default) is the last (channel) axis, 1 the first per-sample axis.
// All other dimensions must match. Any axis but the batch axis is supported.
#include <vector>

#include "engine/layers/layer.h"

namespace qat {

struct ConcatenateOptions {
  int axis = -1;
};

class Concatenate : public Layer {
 public:
  Concatenate(std::string name, ConcatenateOptions opt = {}) : Layer(std::move(name)), opt_(opt) {}
  OpType op() const override { return OpType::Concatenate; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  int arity() const override { return -1; }
  const ConcatenateOptions& options() const { return opt_; }

  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  ConcatenateOptions opt_;
  // Each sample of input k is `outer_` blocks of chunk_[k] contiguous values (its extent
  // along the axis times everything after it); the output interleaves them block by block.
  size_t outer_ = 1;
  std::vector<size_t> chunk_;  // per input
  size_t outChunk_ = 0;        // Σ chunk_
};

}  // namespace qat
