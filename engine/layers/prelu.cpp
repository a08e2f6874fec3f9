#include "engine/layers/prelu.h"

#include <limits>

#include "engine/layers/spatial_checks.h"

namespace qat {

Expected<Shape> PReLU::doBuild(const std::vector<Shape>& inputs) {
  if (inputs.size() != 1) return layerError("takes exactly one input");
  const Shape& in = inputs[0];
  const int rank = in.rank();
  if (rank < 1) return layerError("needs an input of rank >= 1 (per sample)");
  if (in.numel() > std::numeric_limits<uint32_t>::max()) return layerError("input is too large");
  std::vector<int> ashape = in.dims();
  for (int a : opt_.sharedAxes) {
    if (a < 1 || a > rank)
      return layerError(cat("shared_axes entry ", std::to_string(a), " is not an axis of the input ", in.str(),
                            " (axes are numbered from 1 to ", std::to_string(rank), ")"));
    ashape[size_t(a - 1)] = 1;
  }
  ensureParam(alpha_, "alpha", Shape(ashape));
  // alpha strides, 0 along shared axes, walked with an odometer over the input indices.
  std::vector<size_t> astride(size_t(rank), 0);
  size_t s = 1;
  for (int a = rank - 1; a >= 0; --a) {
    astride[size_t(a)] = ashape[size_t(a)] == 1 ? 0 : s;
    s *= size_t(ashape[size_t(a)]);
  }
  alphaIndex_.assign(in.numel(), 0);
  std::vector<int> idx(size_t(rank), 0);
  size_t k = 0;
  for (size_t i = 0; i < alphaIndex_.size(); ++i) {
    alphaIndex_[i] = static_cast<uint32_t>(k);
    for (int a = rank - 1; a >= 0; --a) {
      k += astride[size_t(a)];
      if (++idx[size_t(a)] < in[a]) break;
      k -= astride[size_t(a)] * size_t(in[a]);
      idx[size_t(a)] = 0;
    }
  }
  return in;
}

void PReLU::initialize(Rng&) { alpha_.value.zero(); }  // Keras alpha_initializer='zeros'

// y = max(x, 0) + alpha · min(x, 0)
void PReLU::forward(TensorList in, Tensor& out, const RunContext&) {
  const Tensor& x = *in[0];  // (N, ...)
  out.resize(x.shape());
  const size_t S = alphaIndex_.size(), N = x.size() / S;
  const float* a = alpha_.value.data();
  for (size_t n = 0; n < N; ++n) {
    const float* xn = x.data() + n * S;
    float* yn = out.data() + n * S;
    for (size_t i = 0; i < S; ++i) yn[i] = xn[i] > 0.0f ? xn[i] : a[alphaIndex_[i]] * xn[i];
  }
}

// dx = dout for x > 0, alpha · dout for x < 0 (and 0 at x = 0, as TF's relu(x) −
// alpha·relu(−x) differentiates); dalpha[k] += Σ over the elements sharing k of dout · min(x, 0).
void PReLU::backward(TensorList in, const Tensor&, const Tensor& dout, GradList din,
                     const RunContext&) {
  const Tensor& x = *in[0];
  const size_t S = alphaIndex_.size(), N = x.size() / S;
  const float* a = alpha_.value.data();
  float* da = alpha_.trainable ? alpha_.grad.data() : nullptr;
  for (size_t n = 0; n < N; ++n) {
    const float* xn = x.data() + n * S;
    const float* gn = dout.data() + n * S;
    if (din[0]) {
      float* dxn = din[0]->data() + n * S;
      for (size_t i = 0; i < S; ++i)
        dxn[i] = xn[i] > 0.0f ? gn[i] : (xn[i] < 0.0f ? a[alphaIndex_[i]] * gn[i] : 0.0f);
    }
    if (da)
      for (size_t i = 0; i < S; ++i)
        if (xn[i] < 0.0f) da[alphaIndex_[i]] += gn[i] * xn[i];
  }
}

}  // namespace qat
