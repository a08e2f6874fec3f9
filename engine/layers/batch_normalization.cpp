#include "engine/layers/batch_normalization.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

namespace qat {
namespace {
constexpr size_t kParallelMin = 1 << 15;  // elements; smaller tensors stay on one thread
constexpr float kFusedMinEpsilon = 1.001e-5f;

// Rows [begin, end) of `rows` for thread t of nt: contiguous blocks, so each thread walks
// its part of memory front to back.
inline void rowRange(size_t rows, int t, int nt, size_t& begin, size_t& end) {
  const size_t per = rows / static_cast<size_t>(nt), extra = rows % static_cast<size_t>(nt);
  const size_t ut = static_cast<size_t>(t);
  begin = ut * per + std::min(ut, extra);
  end = begin + per + (ut < extra ? 1 : 0);
}
}  // namespace

Expected<Shape> BatchNormalization::doBuild(const std::vector<Shape>& inputs) {
  if (inputs.size() != 1) return layerError("takes exactly one input");
  const Shape& s = inputs[0];
  if (s.rank() < 1) return layerError("needs an input of rank >= 1 (per sample)");
  const int batchedRank = s.rank() + 1;
  if (opt_.axis != -1 && opt_.axis != batchedRank - 1)
    return layerError("only the last (channel) axis is supported, got axis " +
                      std::to_string(opt_.axis) + " for input " + s.str());
  if (!(opt_.epsilon > 0)) return layerError("epsilon must be positive");
  if (!(opt_.momentum >= 0 && opt_.momentum <= 1)) return layerError("momentum must be in [0, 1]");
  fused_ = opt_.fused.value_or(batchedRank == 4 || batchedRank == 5);
  if (fused_ && batchedRank != 4 && batchedRank != 5)
    return layerError("fused=true needs a 4-D or 5-D input (with batch), got " +
                      s.withBatch(-1).str());
  channels_ = s.back();
  const Shape c{channels_};
  if (opt_.scale) ensureParam(gamma_, "gamma", c);
  if (opt_.center) ensureParam(beta_, "beta", c);
  ensureParam(movingMean_, "moving_mean", c, false);
  ensureParam(movingVar_, "moving_variance", c, false);
  const size_t C = static_cast<size_t>(channels_);
  for (auto* v : {&mean_, &invStd_, &scale_, &shift_, &k1_, &k0_, &pivot_, &zeros_})
    v->assign(C, 0.0f);
  sum1_.assign(C, 0.0);
  sum2_.assign(C, 0.0);
  return s;
}

float BatchNormalization::effectiveEpsilon() const {
  return fused_ ? std::max(opt_.epsilon, kFusedMinEpsilon) : opt_.epsilon;
}

void BatchNormalization::initialize(Rng&) {
  // Keras defaults: gamma ones, beta zeros, moving_mean zeros, moving_variance ones.
  if (opt_.scale) gamma_.value.fill(1.0f);
  if (opt_.center) beta_.value.zero();
  movingMean_.value.zero();
  movingVar_.value.fill(1.0f);
}

std::vector<Param*> BatchNormalization::params() {
  std::vector<Param*> ps;
  if (opt_.scale) ps.push_back(&gamma_);
  if (opt_.center) ps.push_back(&beta_);
  ps.push_back(&movingMean_);
  ps.push_back(&movingVar_);
  return ps;
}

void BatchNormalization::channelSums(const float* a, const float* sa, const float* b,
                                     const float* sb, size_t rows) {
  constexpr size_t kBlockRows = 64;
  const size_t C = static_cast<size_t>(channels_);
  const size_t stride = (2 * C + 15) & ~size_t(15);  // whole cache lines per thread slot
  const int maxThreads = rows * C > kParallelMin ? omp_get_max_threads() : 1;
  partial_.assign(static_cast<size_t>(maxThreads) * stride, 0.0);
  block_.resize(static_cast<size_t>(maxThreads) * stride);
#pragma omp parallel num_threads(maxThreads) if (maxThreads > 1)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    size_t r0, r1;
    rowRange(rows, t, nt, r0, r1);
    double* p1 = partial_.data() + static_cast<size_t>(t) * stride;
    double* p2 = p1 + C;
    float* f1 = block_.data() + static_cast<size_t>(t) * stride;
    float* f2 = f1 + C;
    for (size_t rb = r0; rb < r1; rb += kBlockRows) {
      const size_t re = std::min(r1, rb + kBlockRows);
      std::fill_n(f1, 2 * C, 0.0f);
      for (size_t r = rb; r < re; ++r) {
        const float* ar = a + r * C;
        const float* br = b + r * C;
#pragma omp simd
        for (size_t c = 0; c < C; ++c) {
          const float u = ar[c] - sa[c];
          f1[c] += u;
          f2[c] += u * (br[c] - sb[c]);
        }
      }
      for (size_t c = 0; c < C; ++c) {
        p1[c] += f1[c];
        p2[c] += f2[c];
      }
    }
  }
  std::fill(sum1_.begin(), sum1_.end(), 0.0);
  std::fill(sum2_.begin(), sum2_.end(), 0.0);
  for (int t = 0; t < maxThreads; ++t) {
    const double* p1 = partial_.data() + static_cast<size_t>(t) * stride;
    for (size_t c = 0; c < C; ++c) {
      sum1_[c] += p1[c];
      sum2_[c] += p1[C + c];
    }
  }
}

void BatchNormalization::forward(TensorList in, Tensor& out, const RunContext& ctx) {
  const Tensor& x = *in[0];  // (N, ..., C)
  out.resize(x.shape());
  const size_t C = static_cast<size_t>(channels_), rows = x.size() / C;
  const float eps = effectiveEpsilon();
  float* mm = movingMean_.value.data();
  float* mv = movingVar_.value.data();
  // A frozen layer (Keras trainable=false) runs in inference mode even while the model
  // trains, and leaves its moving statistics alone: Keras 2 / TF2 semantics, which
  // fine-tuning relies on.
  if (usesBatchStatistics(ctx)) {
    // Pass 1: Σ(x − K), Σ(x − K)² per channel with K the first row's value, a stand-in for
    // the mean that keeps E[(x−K)²] − E[x−K]² free of cancellation when |μ| >> σ.
    // μ_B = K + E[x − K], biased σ²_B = E[(x−K)²] − E[x − K]².
    std::copy_n(x.data(), C, pivot_.data());
    channelSums(x.data(), pivot_.data(), x.data(), pivot_.data(), rows);
    const double n = static_cast<double>(rows);
    const double bessel = (fused_ && rows > 1) ? n / (n - 1) : 1.0;
    const float m = opt_.momentum;
    for (size_t c = 0; c < C; ++c) {
      const double d = sum1_[c] / n;
      const double mean = pivot_[c] + d;
      const double var = std::max(sum2_[c] / n - d * d, 0.0);
      mean_[c] = static_cast<float>(mean);
      invStd_[c] = static_cast<float>(1.0 / std::sqrt(var + static_cast<double>(eps)));
      mm[c] = m * mm[c] + (1 - m) * static_cast<float>(mean);
      mv[c] = m * mv[c] + (1 - m) * static_cast<float>(var * bessel);
    }
  } else {
    for (size_t c = 0; c < C; ++c) {
      mean_[c] = mm[c];
      invStd_[c] = 1.0f / std::sqrt(mv[c] + eps);
    }
  }
  // y = (x − μ) · scale + β with scale = γ / sqrt(σ² + ε). (Folding μ into the offset,
  // x · scale + (β − μ · scale), saves one subtraction but loses digits when |μ| >> σ.)
  for (size_t c = 0; c < C; ++c) {
    scale_[c] = (opt_.scale ? gamma_.value[c] : 1.0f) * invStd_[c];
    shift_[c] = opt_.center ? beta_.value[c] : 0.0f;
  }
  // Pass 2: one read of x, one write of y; rows split across threads, channels vectorised.
  const float* xp = x.data();
  float* yp = out.data();
  const float* mu = mean_.data();
  const float* sc = scale_.data();
  const float* sh = shift_.data();
#pragma omp parallel for schedule(static) if (rows * C > kParallelMin)
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = xp + r * C;
    float* yr = yp + r * C;
#pragma omp simd
    for (size_t c = 0; c < C; ++c) yr[c] = (xr[c] - mu[c]) * sc[c] + sh[c];
  }
}

void BatchNormalization::backward(TensorList in, const Tensor&, const Tensor& dout, GradList din,
                                  const RunContext& ctx) {
  // With x̂ = (x − μ)·s (s = 1/sqrt(σ²+ε)) and y = γ x̂ + β, per channel over n rows:
  //   dβ += Σ dy,   dγ += Σ dy · x̂
  // Inference (μ, σ² constants):  dx = γ s · dy
  // Training (μ, σ² functions of x, the usual batch-norm backward):
  //   dx = γ s · (dy − Σdy / n − x̂ · Σ(dy·x̂) / n)
  //      = γ s · dy + (x − μ) · k1 + k0,  k1 = −γ s³ Σ(dy·(x−μ)) / n,  k0 = −γ s Σdy / n
  const Tensor& x = *in[0];
  const size_t C = static_cast<size_t>(channels_), rows = x.size() / C;
  // A frozen layer normalised with its moving statistics (see forward): the inference
  // formula, and no gamma/beta gradients (the optimizer does not see them anyway).
  const bool gradGamma = opt_.scale && gamma_.trainable && trainable();
  const bool gradBeta = opt_.center && beta_.trainable && trainable();
  const bool training = usesBatchStatistics(ctx);
  if (!gradGamma && !gradBeta && !din[0]) return;
  const bool needSums = gradGamma || gradBeta || (training && din[0]);
  // Pass 1: Σdy and Σ dy·(x − μ) per channel.
  if (needSums) channelSums(dout.data(), zeros_.data(), x.data(), mean_.data(), rows);
  for (size_t c = 0; c < C; ++c) {
    const float s = invStd_[c];
    if (gradGamma) gamma_.grad[c] += static_cast<float>(sum2_[c] * s);
    if (gradBeta) beta_.grad[c] += static_cast<float>(sum1_[c]);
    if (training && needSums) {
      const double n = static_cast<double>(rows), gs = scale_[c];
      k1_[c] = static_cast<float>(-gs * s * s * sum2_[c] / n);
      k0_[c] = static_cast<float>(-gs * sum1_[c] / n);
    } else {
      k1_[c] = k0_[c] = 0.0f;
    }
  }
  if (!din[0]) return;
  // Pass 2: dx from dy and x in one sweep.
  const float* xp = x.data();
  const float* gp = dout.data();
  float* dp = din[0]->data();
  const float* sc = scale_.data();
  const float* mu = mean_.data();
  const float* k1 = k1_.data();
  const float* k0 = k0_.data();
#pragma omp parallel for schedule(static) if (rows * C > kParallelMin)
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = xp + r * C;
    const float* gr = gp + r * C;
    float* dr = dp + r * C;
#pragma omp simd
    for (size_t c = 0; c < C; ++c) dr[c] = sc[c] * gr[c] + (xr[c] - mu[c]) * k1[c] + k0[c];
  }
}

}  // namespace qat
