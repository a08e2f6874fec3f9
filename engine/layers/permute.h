#pragma once
// Permute: reorders the per-sample axes, out.shape[i] = in.shape[dims[i] − 1] with dims
// 1-based as in Keras (the batch axis never moves): Permute((2, 1)) turns (N, L, C) into
// (N, C, L). Backward applies the inverse permutation to dout.
#include <cstdint>
#include <vector>

#include "engine/layers/layer.h"

namespace qat {

struct PermuteOptions {
  std::vector<int> dims;  // a permutation of 1..rank
};

class Permute : public Layer {
 public:
  Permute(std::string name, PermuteOptions opt) : Layer(std::move(name)), opt_(std::move(opt)) {}
  OpType op() const override { return OpType::Permute; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const PermuteOptions& options() const { return opt_; }

  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  PermuteOptions opt_;
  // Per sample: source_[o] = offset in the input of output element o (row-major).
  std::vector<uint32_t> source_;
};

}  // namespace qat
