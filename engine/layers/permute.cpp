#include "engine/layers/permute.h"

#include <limits>

#include "engine/layers/spatial_checks.h"

namespace qat {

namespace {

std::string dimsStr(const std::vector<int>& d) {
  std::string s = "(";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + ")";
}

}  // namespace

Expected<Shape> Permute::doBuild(const std::vector<Shape>& inputs) {
  if (inputs.size() != 1) return layerError("takes exactly one input");
  const Shape& in = inputs[0];
  const int rank = in.rank();
  if (static_cast<int>(opt_.dims.size()) != rank)
    return layerError(cat("dims ", dimsStr(opt_.dims), " must list each of the ", std::to_string(rank),
                          " per-sample axes of the input ", in.str(), " once"));
  std::vector<bool> used(size_t(rank), false);
  for (int d : opt_.dims) {
    if (d < 1 || d > rank || used[size_t(d - 1)])
      return layerError(cat("dims ", dimsStr(opt_.dims), " is not a permutation of 1..", std::to_string(rank),
                            " (the axes are numbered from 1; the batch axis cannot move)"));
    used[size_t(d - 1)] = true;
  }
  if (in.numel() > std::numeric_limits<uint32_t>::max()) return layerError("input is too large");
  std::vector<int> out(static_cast<size_t>(rank));
  for (int i = 0; i < rank; ++i) out[size_t(i)] = in[opt_.dims[size_t(i)] - 1];
  // Row-major input strides, then the stride of each output axis in the input.
  std::vector<size_t> inStride(static_cast<size_t>(rank), 1), step(static_cast<size_t>(rank));
  for (int a = rank - 2; a >= 0; --a) inStride[size_t(a)] = inStride[size_t(a + 1)] * size_t(in[a + 1]);
  for (int i = 0; i < rank; ++i) step[size_t(i)] = inStride[size_t(opt_.dims[size_t(i)] - 1)];
  // Walk the output in row-major order with an odometer over its indices.
  source_.assign(in.numel(), 0);
  std::vector<int> idx(size_t(rank), 0);
  size_t src = 0;
  for (size_t o = 0; o < source_.size(); ++o) {
    source_[o] = static_cast<uint32_t>(src);
    for (int a = rank - 1; a >= 0; --a) {
      src += step[size_t(a)];
      if (++idx[size_t(a)] < out[size_t(a)]) break;
      src -= step[size_t(a)] * size_t(out[size_t(a)]);
      idx[size_t(a)] = 0;
    }
  }
  return Shape(out);
}

// out[n, o] = x[n, source[o]]
void Permute::forward(TensorList in, Tensor& out, const RunContext&) {
  const int N = in[0]->dim(0);
  const size_t S = source_.size();
  out.resize(outputShape().withBatch(N));
  const float* x = in[0]->data();
  float* y = out.data();
  for (int n = 0; n < N; ++n)
    for (size_t o = 0; o < S; ++o) y[size_t(n) * S + o] = x[size_t(n) * S + source_[o]];
}

// dx[n, source[o]] = dout[n, o]: a permutation, so every dx element is written once.
void Permute::backward(TensorList in, const Tensor&, const Tensor& dout, GradList din,
                       const RunContext&) {
  if (!din[0]) return;
  const int N = in[0]->dim(0);
  const size_t S = source_.size();
  const float* dy = dout.data();
  float* dx = din[0]->data();
  for (int n = 0; n < N; ++n)
    for (size_t o = 0; o < S; ++o) dx[size_t(n) * S + source_[o]] = dy[size_t(n) * S + o];
}

}  // namespace qat
