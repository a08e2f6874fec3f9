#include "engine/layers/concatenate.h"

#include <algorithm>

#include "engine/layers/merge_shapes.h"

namespace qat {

Expected<Shape> Concatenate::doBuild(const std::vector<Shape>& inputs) {
  if (inputs.size() < 2) return layerError("needs at least two inputs");
  const int rank = inputs[0].rank();
  for (const Shape& s : inputs)
    if (s.rank() != rank)
      return layerError("inputs must have the same rank, got " + joinShapes(inputs));
  const int batchedRank = rank + 1;
  const int a = opt_.axis < 0 ? batchedRank + opt_.axis : opt_.axis;
  if (a == 0) return layerError("cannot concatenate along the batch axis");
  if (a < 0 || a >= batchedRank)
    return layerError("axis " + std::to_string(opt_.axis) + " is out of range for inputs " +
                      joinShapes(inputs));
  const int pa = a - 1;  // per-sample axis
  for (const Shape& s : inputs)
    for (int d = 0; d < rank; ++d)
      if (d != pa && s[d] != inputs[0][d])
        return layerError("inputs must match in every dimension but axis " +
                          std::to_string(opt_.axis) + ", got " + joinShapes(inputs));
  outer_ = 1;
  for (int d = 0; d < pa; ++d) outer_ *= static_cast<size_t>(inputs[0][d]);
  size_t inner = 1;
  for (int d = pa + 1; d < rank; ++d) inner *= static_cast<size_t>(inputs[0][d]);
  chunk_.clear();
  outChunk_ = 0;
  Shape out = inputs[0];
  out[pa] = 0;
  for (const Shape& s : inputs) {
    chunk_.push_back(static_cast<size_t>(s[pa]) * inner);
    outChunk_ += chunk_.back();
    out[pa] += s[pa];
  }
  return out;
}

void Concatenate::forward(TensorList in, Tensor& out, const RunContext&) {
  const size_t blocks = static_cast<size_t>(in[0]->dim(0)) * outer_;
  out.resize(outputShape().withBatch(in[0]->dim(0)));  // (N, ...)
  float* y = out.data();
#pragma omp parallel for if (out.size() > 65536)
  for (size_t b = 0; b < blocks; ++b) {
    float* yb = y + b * outChunk_;
    for (size_t k = 0; k < in.size(); ++k) {
      std::copy_n(in[k]->data() + b * chunk_[k], chunk_[k], yb);
      yb += chunk_[k];
    }
  }
}

void Concatenate::backward(TensorList, const Tensor&, const Tensor& dout, GradList din,
                           const RunContext&) {
  // Each input's gradient is its own slice of dy.
  const size_t blocks = static_cast<size_t>(dout.dim(0)) * outer_;
  const float* g = dout.data();
#pragma omp parallel for if (dout.size() > 65536)
  for (size_t b = 0; b < blocks; ++b) {
    const float* gb = g + b * outChunk_;
    for (size_t k = 0; k < din.size(); ++k) {
      if (din[k]) std::copy_n(gb, chunk_[k], din[k]->data() + b * chunk_[k]);
      gb += chunk_[k];
    }
  }
}

}  // namespace qat
