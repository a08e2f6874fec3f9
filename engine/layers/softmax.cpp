#include "engine/layers/softmax.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/layers/activation_fn.h"

namespace qat {

Expected<Shape> Softmax::doBuild(const std::vector<Shape>& inputs) {
  if (inputs.size() != 1) return layerError("takes exactly one input");
  const Shape& s = inputs[0];
  const int batchedRank = s.rank() + 1;
  const int a = opt_.axis < 0 ? batchedRank + opt_.axis : opt_.axis;
  if (a == 0) return layerError("cannot take the softmax over the batch axis");
  if (a < 0 || a >= batchedRank)
    return layerError("axis " + std::to_string(opt_.axis) + " is out of range for input " +
                      s.str());
  const int pa = a - 1;  // per-sample axis
  outer_ = len_ = inner_ = 1;
  for (int i = 0; i < pa; ++i) outer_ *= static_cast<size_t>(s[i]);
  len_ = static_cast<size_t>(s[pa]);
  for (int i = pa + 1; i < s.rank(); ++i) inner_ *= static_cast<size_t>(s[i]);
  return s;
}

void Softmax::forward(TensorList in, Tensor& out, const RunContext&) {
  const Tensor& x = *in[0];  // (N, ...)
  out.resize(x.shape());
  if (inner_ == 1) {  // last axis: contiguous rows, shared with the softmax activation
    activationForward(ActivationFn::Softmax, x.data(), out.data(), x.size(),
                      static_cast<int>(len_));
    return;
  }
  // Strided axis: each (outer) block is a (len, inner) matrix normalised down its
  // columns; the inner loops run over the contiguous inner index so they vectorise.
  const size_t blocks = static_cast<size_t>(x.dim(0)) * outer_, L = len_, I = inner_;
  const float* xp = x.data();
  float* yp = out.data();
#pragma omp parallel if (x.size() > 65536)
  {
    std::vector<float> m(I), s(I);
#pragma omp for
    for (size_t b = 0; b < blocks; ++b) {
      const float* xb = xp + b * L * I;
      float* yb = yp + b * L * I;
      std::copy_n(xb, I, m.data());
      for (size_t k = 1; k < L; ++k)
        for (size_t j = 0; j < I; ++j) m[j] = std::max(m[j], xb[k * I + j]);
      std::fill(s.begin(), s.end(), 0.0f);
      for (size_t k = 0; k < L; ++k)
        for (size_t j = 0; j < I; ++j) s[j] += (yb[k * I + j] = std::exp(xb[k * I + j] - m[j]));
      for (size_t j = 0; j < I; ++j) s[j] = 1.0f / s[j];
      for (size_t k = 0; k < L; ++k)
        for (size_t j = 0; j < I; ++j) yb[k * I + j] *= s[j];
    }
  }
}

void Softmax::backward(TensorList, const Tensor& out, const Tensor& dout, GradList din,
                       const RunContext&) {
  if (!din[0]) return;
  if (inner_ == 1) {
    activationBackward(ActivationFn::Softmax, nullptr, out.data(), dout.data(), din[0]->data(),
                       dout.size(), static_cast<int>(len_));
    return;
  }
  // dx = y ⊙ (dy − Σ_axis dy ⊙ y), the Jacobian-vector product of softmax.
  const size_t blocks = static_cast<size_t>(out.dim(0)) * outer_, L = len_, I = inner_;
  const float* yp = out.data();
  const float* gp = dout.data();
  float* dp = din[0]->data();
#pragma omp parallel if (out.size() > 65536)
  {
    std::vector<float> dot(I);
#pragma omp for
    for (size_t b = 0; b < blocks; ++b) {
      const float* yb = yp + b * L * I;
      const float* gb = gp + b * L * I;
      float* db = dp + b * L * I;
      std::fill(dot.begin(), dot.end(), 0.0f);
      for (size_t k = 0; k < L; ++k)
        for (size_t j = 0; j < I; ++j) dot[j] += gb[k * I + j] * yb[k * I + j];
      for (size_t k = 0; k < L; ++k)
        for (size_t j = 0; j < I; ++j) db[k * I + j] = yb[k * I + j] * (gb[k * I + j] - dot[j]);
    }
  }
}

}  // namespace qat
