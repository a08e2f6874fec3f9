#include "engine/layers/up_sampling2d.h"

#include <algorithm>
#include <cmath>

#include "engine/layers/spatial_checks.h"

namespace qat {

namespace {

// tf.image.resize's bilinear weights along one axis (half-pixel centers). The scale is
// computed in float as TF does, so the weights match it bit for bit.
std::vector<UpSampling2D::Lerp> lerpTable(int in, int out) {
  std::vector<UpSampling2D::Lerp> t(static_cast<size_t>(out));
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int o = 0; o < out; ++o) {
    const float s = (static_cast<float>(o) + 0.5f) * scale - 0.5f;
    const float f = std::floor(s);
    auto& e = t[size_t(o)];
    e.lo = std::max(static_cast<int>(f), 0);
    e.hi = std::min(static_cast<int>(std::ceil(s)), in - 1);
    e.t = s - f;
  }
  return t;
}

}  // namespace

Expected<Shape> UpSampling2D::doBuild(const std::vector<Shape>& inputs) {
  if (auto p = imageInputProblem(inputs); !p.empty()) return layerError(p);
  if (opt_.sizeH <= 0 || opt_.sizeW <= 0)
    return layerError(cat("size must be positive, got ", pairStr(opt_.sizeH, opt_.sizeW)));
  const Shape& in = inputs[0];
  const long long oh = 1LL * in[0] * opt_.sizeH, ow = 1LL * in[1] * opt_.sizeW;
  if (oh * ow * in[2] > (1LL << 31)) return layerError("the upsampled output is too large");
  rows_ = lerpTable(in[0], int(oh));
  cols_ = lerpTable(in[1], int(ow));
  return Shape{int(oh), int(ow), in[2]};
}

void UpSampling2D::forward(TensorList in, Tensor& out, const RunContext&) {
  const Shape& s = inputShapes()[0];
  const int N = in[0]->dim(0), H = s[0], W = s[1], C = s[2];
  const int OH = outputShape()[0], OW = outputShape()[1];
  out.resize(outputShape().withBatch(N));
  const float* x = in[0]->data();
  float* y = out.data();
  const bool nearest = opt_.interpolation == Interpolation::Nearest;
#pragma omp parallel for schedule(static) if (N > 1)
  for (int n = 0; n < N; ++n) {
    const float* xn = x + size_t(n) * H * W * C;
    for (int oh = 0; oh < OH; ++oh)
      for (int ow = 0; ow < OW; ++ow) {
        float* yp = y + ((size_t(n) * OH + oh) * OW + ow) * C;
        if (nearest) {  // y[oh, ow] = x[oh / sh, ow / sw]
          std::copy_n(xn + (size_t(oh / opt_.sizeH) * W + ow / opt_.sizeW) * C, C, yp);
          continue;
        }
        const Lerp& r = rows_[size_t(oh)];
        const Lerp& q = cols_[size_t(ow)];
        const float* tl = xn + (size_t(r.lo) * W + q.lo) * C;
        const float* tr = xn + (size_t(r.lo) * W + q.hi) * C;
        const float* bl = xn + (size_t(r.hi) * W + q.lo) * C;
        const float* br = xn + (size_t(r.hi) * W + q.hi) * C;
        for (int c = 0; c < C; ++c) {  // TF's evaluation order: across, then down
          const float top = tl[c] + (tr[c] - tl[c]) * q.t;
          const float bottom = bl[c] + (br[c] - bl[c]) * q.t;
          yp[c] = top + (bottom - top) * r.t;
        }
      }
  }
}

void UpSampling2D::backward(TensorList in, const Tensor&, const Tensor& dout, GradList din,
                            const RunContext&) {
  if (!din[0]) return;
  const Shape& s = inputShapes()[0];
  const int N = in[0]->dim(0), H = s[0], W = s[1], C = s[2];
  const int OH = outputShape()[0], OW = outputShape()[1];
  const float* dy = dout.data();
  float* dx = din[0]->data();
  std::fill_n(dx, din[0]->size(), 0.0f);
  const bool nearest = opt_.interpolation == Interpolation::Nearest;
  // A thread owns whole images, so the scatter never races.
#pragma omp parallel for schedule(static) if (N > 1)
  for (int n = 0; n < N; ++n) {
    float* dxn = dx + size_t(n) * H * W * C;
    for (int oh = 0; oh < OH; ++oh)
      for (int ow = 0; ow < OW; ++ow) {
        const float* g = dy + ((size_t(n) * OH + oh) * OW + ow) * C;
        if (nearest) {  // dx[h, w] = Σ of its sh x sw block of dout
          float* d = dxn + (size_t(oh / opt_.sizeH) * W + ow / opt_.sizeW) * C;
          for (int c = 0; c < C; ++c) d[c] += g[c];
          continue;
        }
        const Lerp& r = rows_[size_t(oh)];
        const Lerp& q = cols_[size_t(ow)];
        const float wtl = (1.0f - r.t) * (1.0f - q.t), wtr = (1.0f - r.t) * q.t;
        const float wbl = r.t * (1.0f - q.t), wbr = r.t * q.t;
        float* tl = dxn + (size_t(r.lo) * W + q.lo) * C;
        float* tr = dxn + (size_t(r.lo) * W + q.hi) * C;
        float* bl = dxn + (size_t(r.hi) * W + q.lo) * C;
        float* br = dxn + (size_t(r.hi) * W + q.hi) * C;
        for (int c = 0; c < C; ++c) {  // (pointers may coincide at the borders: += each)
          tl[c] += wtl * g[c];
          tr[c] += wtr * g[c];
          bl[c] += wbl * g[c];
          br[c] += wbr * g[c];
        }
      }
  }
}

}  // namespace qat
