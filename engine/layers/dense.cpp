#include "engine/layers/dense.h"

#include "engine/kernels/gemm.h"
#include "engine/layers/init.h"

namespace qat {

Expected<Shape> Dense::doBuild(const std::vector<Shape>& inputs) {
  if (inputs.size() != 1) return layerError("takes exactly one input");
  if (inputs[0].rank() < 1) return layerError("needs an input of rank >= 1 (per sample)");
  if (opt_.units <= 0) return layerError("units must be positive");
  const int in = inputs[0].back();
  ensureParam(kernel_, "kernel", Shape{in, opt_.units});
  if (opt_.useBias) ensureParam(bias_, "bias", Shape{opt_.units});
  std::vector<int> out = inputs[0].dims();
  out.back() = opt_.units;
  return Shape(out);
}

void Dense::initialize(Rng& rng) {
  glorotUniform(kernel_.value, kernel_.value.dim(0), kernel_.value.dim(1), rng);
  if (opt_.useBias) bias_.value.zero();
}

std::vector<Param*> Dense::params() {
  return kernelsThenBias({&kernel_}, bias_, opt_.useBias);
}

void Dense::forward(TensorList in, Tensor& out, const RunContext& ctx) {
  const Tensor& x = *in[0];
  const int in_dim = kernel_.value.dim(0), units = opt_.units;
  const int rows = static_cast<int>(x.size() / static_cast<size_t>(in_dim));
  out.resize(outputShape().withBatch(x.dim(0)));
  Tensor& z = act_.preactTarget(out, ctx);
  float* zp = z.data();
  if (opt_.useBias) {
    for (int r = 0; r < rows; ++r) std::copy_n(bias_.value.data(), units, zp + size_t(r) * units);
  }
  sgemm(false, false, rows, units, in_dim, 1.0f, x.data(), in_dim, kernel_.value.data(), units,
        opt_.useBias ? 1.0f : 0.0f, zp, units);
  act_.finishForward(out);
}

void Dense::backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                     const RunContext&) {
  const Tensor& x = *in[0];
  const int in_dim = kernel_.value.dim(0), units = opt_.units;
  const int rows = static_cast<int>(x.size() / static_cast<size_t>(in_dim));
  const float* dz = act_.gradientBeforeActivation(out, dout);
  // dW (in, units) += xᵀ · dz
  sgemm(true, false, in_dim, units, rows, 1.0f, x.data(), in_dim, dz, units, 1.0f,
        kernel_.grad.data(), units);
  if (opt_.useBias) {
    float* db = bias_.grad.data();
    for (int r = 0; r < rows; ++r)
      for (int u = 0; u < units; ++u) db[u] += dz[size_t(r) * units + u];
  }
  // dx (rows, in) = dz · Wᵀ
  if (din[0])
    sgemm(false, true, rows, in_dim, units, 1.0f, dz, units, kernel_.value.data(), units, 0.0f,
          din[0]->data(), in_dim);
}

}  // namespace qat
