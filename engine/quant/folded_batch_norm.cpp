#include "engine/quant/folded_batch_norm.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "engine/layers/conv2d.h"
#include "engine/layers/dense.h"
#include "engine/layers/depthwise_conv2d.h"

namespace qat::quant {
namespace {
constexpr size_t kParallelMin = 1 << 15;  // elements; smaller tensors stay on one thread

// Smallest |s| the live path divides by. s = γ/σ is 0 exactly when γ = 0 (zero-initialised
// residual BNs); then BN's output is β whatever z is, and dL/dz = 0, so any finite z does.
// Folding with ±kMinFoldScale instead keeps z = conv(x, q(W·s))/s + b finite and, for
// per-axis grids (which scale with s), close to conv(x, W) + b, so dL/dγ = Σ dy·ẑ stays
// informative and γ can leave 0. Real channels have |s| many orders above this.
constexpr float kMinFoldScale = 1e-12f;

// The kernel and bias Params and the in-layer activation of a foldable layer; null kernel
// for any other kind.
struct ConvParts {
  Param* kernel = nullptr;
  Param* bias = nullptr;
  ActivationFn activation = ActivationFn::Linear;
};

ConvParts convParts(Layer& l) {
  if (auto* c = dynamic_cast<Conv2D*>(&l))
    return {&c->kernel(), c->options().useBias ? &c->bias() : nullptr, c->options().activation};
  if (auto* d = dynamic_cast<DepthwiseConv2D*>(&l))
    return {&d->depthwiseKernel(), d->options().useBias ? &d->bias() : nullptr,
            d->options().activation};
  if (auto* f = dynamic_cast<Dense*>(&l))
    return {&f->kernel(), f->options().useBias ? &f->bias() : nullptr, f->options().activation};
  return {};
}

// y[r, c] += b[c] over `rows` rows of C channels.  // (rows, C)
void addChannelBias(float* y, const float* b, size_t rows, size_t C) {
#pragma omp parallel for schedule(static) if (rows * C > kParallelMin)
  for (size_t r = 0; r < rows; ++r) {
    float* yr = y + r * C;
#pragma omp simd
    for (size_t c = 0; c < C; ++c) yr[c] += b[c];
  }
}

// out[c] = Σ_r a[r, c]. Each thread sums its contiguous rows in double (vectorised over
// channels); `partial` (threads · C) is the reused per-thread scratch.
void channelSum(const float* a, size_t rows, size_t C, std::vector<double>& partial, float* out) {
  const int threads = rows * C > kParallelMin ? omp_get_max_threads() : 1;
  partial.assign(static_cast<size_t>(threads) * C, 0.0);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const size_t t = static_cast<size_t>(omp_get_thread_num());
    const size_t nt = static_cast<size_t>(omp_get_num_threads());
    const size_t r0 = rows * t / nt, r1 = rows * (t + 1) / nt;
    double* p = partial.data() + t * C;
    for (size_t r = r0; r < r1; ++r) {
      const float* ar = a + r * C;
#pragma omp simd
      for (size_t c = 0; c < C; ++c) p[c] += ar[c];
    }
  }
  for (size_t c = 0; c < C; ++c) {
    double s = 0;
    for (int t = 0; t < threads; ++t) s += partial[static_cast<size_t>(t) * C + c];
    out[c] = static_cast<float>(s);
  }
}

// Swaps a Param's value (and, when `grad` is given, its gradient) with scratch tensors for
// the duration of one conv call. The Param is made trainable meanwhile so the conv always
// fills the gradient scratch: the fold needs dL/dW_q for γ's gradient even when the kernel
// itself is frozen.
class ParamSwap {
 public:
  ParamSwap(Param& p, Tensor& value, Tensor* grad) : p_(p), value_(value), grad_(grad), trainable_(p.trainable) {
    std::swap(p_.value, value_);
    if (grad_) {
      grad_->resize(p_.value.shape());
      grad_->zero();
      std::swap(p_.grad, *grad_);
      p_.trainable = true;
    }
  }
  ~ParamSwap() {
    std::swap(p_.value, value_);
    if (grad_) {
      std::swap(p_.grad, *grad_);
      p_.trainable = trainable_;
    }
  }
  ParamSwap(const ParamSwap&) = delete;
  ParamSwap& operator=(const ParamSwap&) = delete;

 private:
  Param& p_;
  Tensor& value_;
  Tensor* grad_;
  bool trainable_;
};
}  // namespace

FoldedBatchNorm::FoldedBatchNorm(std::unique_ptr<Layer> conv, std::unique_ptr<BatchNormalization> bn,
                                 std::unique_ptr<Quantizer> weightQuantizer, FoldOptions opt)
    : Layer(bn->name()), conv_(std::move(conv)), bn_(std::move(bn)), quant_(std::move(weightQuantizer)), opt_(opt) {
  bindConv();
}

FoldedBatchNorm::FoldedBatchNorm(const FoldedBatchNorm& o)
    : Layer(o),
      conv_(o.conv_->clone()),
      bn_(std::make_unique<BatchNormalization>(*o.bn_)),
      quant_(o.quant_ ? o.quant_->clone() : nullptr),
      opt_(o.opt_),
      step_(o.step_),
      channels_(o.channels_),
      s_(o.s_),
      invS_(o.invS_),
      invSigma_(o.invSigma_),
      foldBias_(o.foldBias_),
      acc1_(o.acc1_),
      acc2_(o.acc2_),
      wf_(o.wf_),
      wq_(o.wq_),
      dk_(o.dk_),
      dwf_(o.dwf_),
      bslot_(o.bslot_),
      dbslot_(o.dbslot_) {
  bindConv();
}

void FoldedBatchNorm::bindConv() {
  const ConvParts p = convParts(*conv_);
  kernelP_ = p.kernel;
  biasP_ = p.bias;
}

Expected<Shape> FoldedBatchNorm::doBuild(const std::vector<Shape>& inputs) {
  if (inputs.size() != 1) return layerError("takes exactly one input");
  const ConvParts parts = convParts(*conv_);
  if (!parts.kernel)
    return layerError("can only fold a Conv2D, DepthwiseConv2D or Dense into a BatchNormalization, got " +
                      std::string(opTypeName(conv_->op())) + " '" + conv_->name() + "'");
  if (parts.activation != ActivationFn::Linear)
    return layerError("'" + conv_->name() +
                      "' has an in-layer activation; folding needs a linear conv (the activation "
                      "belongs after the BatchNormalization)");
  auto cs = conv_->build(inputs);
  if (!cs.ok()) return layerError(cs.error().message);
  const int C = cs.value().back();
  const size_t bnC = bn_->movingMean().value.size();
  if (bnC != 0 && bnC != static_cast<size_t>(C))
    return layerError("BatchNormalization '" + bn_->name() + "' has " + std::to_string(bnC) +
                      " channels but '" + conv_->name() + "' gives " + std::to_string(C));
  auto bs = bn_->build({cs.value()});
  if (!bs.ok()) return layerError(bs.error().message);
  if (quant_) {
    if (auto st = quant_->build(quant_->spec().perAxis ? C : 1, kernelP_->name); !st.ok())
      return layerError("kernel quantizer: " + st.error().message);
  }
  ensureParam(step_, "step", Shape{1}, false);
  channels_ = C;
  const size_t uc = static_cast<size_t>(C);
  for (auto* v : {&s_, &invS_, &invSigma_, &foldBias_, &acc1_, &acc2_}) v->assign(uc, 0.0f);
  for (auto* t : {&wf_, &wq_, &dk_, &dwf_}) t->resize(kernelP_->value.shape());
  for (auto* t : {&bslot_, &dbslot_}) t->resize(Shape{C});
  return cs.value();
}

void FoldedBatchNorm::initialize(Rng& rng) {
  conv_->initialize(rng);
  bn_->initialize(rng);
  step_.value.zero();
}

std::vector<Param*> FoldedBatchNorm::params() {
  std::vector<Param*> ps = conv_->params();
  for (Param* p : bn_->params()) ps.push_back(p);
  if (quant_)
    for (Param* p : quant_->state()) ps.push_back(p);
  ps.push_back(&step_);
  return ps;
}

bool FoldedBatchNorm::bnFrozen() const {
  return opt_.freezeBnStep >= 0 && !step_.value.empty() &&
         step_.value[0] >= static_cast<float>(opt_.freezeBnStep);
}

// s[c] = γ[c] / sqrt(moving_var[c] + ε) with BN's own ε and float arithmetic (the live path
// clamps |s| to kMinFoldScale, the folded one needs no division). Also 1/σ and 1/s, and the
// folded bias (b − moving_mean)·s + β.
void FoldedBatchNorm::computeScales(bool live) {
  const size_t C = static_cast<size_t>(channels_);
  const float eps = bn_->effectiveEpsilon();
  const float* gamma = bn_->options().scale ? bn_->gamma().value.data() : nullptr;
  const float* beta = bn_->options().center ? bn_->beta().value.data() : nullptr;
  const float* mm = bn_->movingMean().value.data();
  const float* mv = bn_->movingVariance().value.data();
  const float* b = biasP_ ? biasP_->value.data() : nullptr;
  for (size_t c = 0; c < C; ++c) {
    invSigma_[c] = 1.0f / std::sqrt(mv[c] + eps);
    float s = (gamma ? gamma[c] : 1.0f) * invSigma_[c];
    if (live && std::abs(s) < kMinFoldScale) s = std::copysign(kMinFoldScale, s);
    s_[c] = s;
    invS_[c] = 1.0f / s;
    foldBias_[c] = ((b ? b[c] : 0.0f) - mm[c]) * s + (beta ? beta[c] : 0.0f);
  }
}

void FoldedBatchNorm::foldedWeights(Tensor& kernel, Tensor& bias) const {
  const size_t C = static_cast<size_t>(channels_);
  const float eps = bn_->effectiveEpsilon();
  const bool scale = bn_->options().scale, center = bn_->options().center;
  const Tensor& W = kernelP_->value;
  kernel.resize(W.shape());
  bias.resize(Shape{channels_});
  std::vector<float> s(C);
  for (size_t c = 0; c < C; ++c) {
    // The forward's arithmetic exactly (γ · (1/σ)), so q(W·s) here and there agree bitwise.
    s[c] = (scale ? bn_->gamma().value[c] : 1.0f) * (1.0f / std::sqrt(bn_->movingVariance().value[c] + eps));
    bias[c] = ((biasP_ ? biasP_->value[c] : 0.0f) - bn_->movingMean().value[c]) * s[c] +
              (center ? bn_->beta().value[c] : 0.0f);
  }
  for (size_t i = 0; i < W.size(); ++i) kernel[i] = W[i] * s[i % C];
}

void FoldedBatchNorm::forward(TensorList in, Tensor& out, const RunContext& ctx) {
  // Keras semantics: a frozen (non-trainable) BN normalises with its moving statistics.
  lastLive_ = ctx.training && !bnFrozen() && trainable() && bn_->trainable();
  if (lastLive_)
    forwardLive(in, out, ctx);
  else
    forwardFolded(in, out, ctx);
  if (ctx.training) step_.value[0] += 1.0f;  // exact up to 2^24 steps
}

void FoldedBatchNorm::backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                               const RunContext& ctx) {
  if (lastLive_)
    backwardLive(in, dout, din, ctx);
  else
    backwardFolded(in, out, dout, din, ctx);
}

// ---------------------------------------------------------------- live BN (batch statistics)
//
// Forward, per output channel c (the kernel's innermost axis, element i has c = i % C):
//   W_f = W·s,  W_q = q(W_f),  W_d = W_q / s          (kernel-sized, cheap)
//   z   = conv(x, W_d) + b  ( = conv(x, q(W·s))/s + b: conv is linear in its kernel, so
//                             dividing the kernel by s per output channel divides the
//                             output; no pass over the output is needed)
//   y   = BN_batch(z)        (bn_: batch statistics, moving statistics updated)
// With q the identity (no quantizer, or ctx.fakeQuant false) W_d = W exactly and this is
// the unfolded conv → BN; then the conv runs on its own kernel.
void FoldedBatchNorm::forwardLive(TensorList in, Tensor& out, const RunContext& ctx) {
  const Tensor& W = kernelP_->value;
  const size_t C = static_cast<size_t>(channels_), rows = W.size() / C;
  computeScales(true);
  const float* w = W.data();
  const float* s = s_.data();
  if (quant_) {
    float* wf = wf_.data();
    for (size_t r = 0; r < rows; ++r)
#pragma omp simd
      for (size_t c = 0; c < C; ++c) wf[r * C + c] = w[r * C + c] * s[c];
    quant_->forward(wf_, wq_, ctx);  // ranges learn from W·s even when not rounding
  }
  lastIdentity_ = !quant_ || !ctx.fakeQuant;
  if (lastIdentity_) {
    conv_->forward(in, z_, ctx);
  } else {
    float* wd = wq_.data();
    const float* is = invS_.data();
    for (size_t r = 0; r < rows; ++r)
#pragma omp simd
      for (size_t c = 0; c < C; ++c) wd[r * C + c] *= is[c];
    ParamSwap k(*kernelP_, wq_, nullptr);
    conv_->forward(in, z_, ctx);  // (N, ..., C)
  }
  const Tensor* zp = &z_;
  bn_->forward(TensorList(&zp, 1), out, ctx);
}

// Backward. bn_ gives dz (and accumulates its direct dγ += Σ dy·ẑ, dβ += Σ dy). Then
//   conv backward with W_d:  dx,  dK = ∂L/∂W_d,  db += Σ dz  (bias is b itself)
//   dW_q  = dK / s                         (W_d = W_q / s)
//   dW_f  = STE(dW_q)                      (quantizer backward at W_f)
//   dW   += dW_f · s
//   ds[c] = Σ_{i∈c} dW_f[i]·W[i] − Σ_{i∈c} W_d[i]·dW_q[i], from the two uses of s:
//     through W_f = W·s:       ∂W_f/∂s = W             →  Σ dW_f·W
//     through W_d = W_q / s:   ∂W_d/∂s = −W_q/s²       →  −Σ dK·W_q/s² = −Σ W_d·dW_q
//   (The second term is −Σ_rows dz·conv(x, W_q)/s², the "z = conv_out/s" use of s, moved
//   onto the kernel: Σ_r dz[r,c]·conv(x, V)[r,c] = Σ_i V[i]·∂/∂V[i] for any kernel V.)
//   dγ   += ds / sqrt(moving_var + ε)      (s = γ / σ; the moving statistics are constants)
// With q the identity both terms cancel (ds = 0) and the conv backward is the plain one.
void FoldedBatchNorm::backwardLive(TensorList in, const Tensor& dout, GradList din, const RunContext& ctx) {
  const Tensor* zp = &z_;
  dz_.resize(z_.shape());
  Tensor* dzp = &dz_;
  bn_->backward(TensorList(&zp, 1), dout, dout, GradList(&dzp, 1), ctx);  // BN's out is unused
  if (lastIdentity_) {
    conv_->backward(in, z_, dz_, din, ctx);  // linear conv: its `out` is unused
    return;
  }
  {
    ParamSwap k(*kernelP_, wq_, &dk_);
    conv_->backward(in, z_, dz_, din, ctx);
  }
  const size_t C = static_cast<size_t>(channels_), rows = dk_.size() / C;
  float* dk = dk_.data();
  const float* wd = wq_.data();
  const float* is = invS_.data();
  float* acc2 = acc2_.data();
  std::fill(acc2_.begin(), acc2_.end(), 0.0f);
  for (size_t r = 0; r < rows; ++r)
#pragma omp simd
    for (size_t c = 0; c < C; ++c) {
      const float dwq = dk[r * C + c] * is[c];  // dK → dW_q in place
      acc2[c] += wd[r * C + c] * dwq;
      dk[r * C + c] = dwq;
    }
  kernelGradients(ctx);
  if (bn_->options().scale && bn_->gamma().trainable) {
    float* dg = bn_->gamma().grad.data();
    for (size_t c = 0; c < C; ++c) dg[c] += (acc1_[c] - acc2_[c]) * invSigma_[c];
  }
}

// dW_f = STE(dW_q) (dW_q in dk_, the quantizer's input W_f in wf_), then
// dW += dW_f · s and acc1_[c] = Σ_{i∈c} dW_f[i]·W[i].
void FoldedBatchNorm::kernelGradients(const RunContext& ctx) {
  const float* dwf = dk_.data();
  if (quant_) {
    quant_->backward(wf_, dk_, dwf_, ctx);
    dwf = dwf_.data();
  }
  const size_t C = static_cast<size_t>(channels_), rows = dk_.size() / C;
  const float* w = kernelP_->value.data();
  const float* s = s_.data();
  float* acc1 = acc1_.data();
  std::fill(acc1_.begin(), acc1_.end(), 0.0f);
  for (size_t r = 0; r < rows; ++r)
#pragma omp simd
    for (size_t c = 0; c < C; ++c) acc1[c] += dwf[r * C + c] * w[r * C + c];
  if (!kernelP_->trainable) return;
  float* g = kernelP_->grad.data();
  for (size_t r = 0; r < rows; ++r)
#pragma omp simd
    for (size_t c = 0; c < C; ++c) g[r * C + c] += dwf[r * C + c] * s[c];
}

// ---------------------------------------------------------------- folded (moving statistics)
//
// Forward: y = conv(x, q(W·s)) + (b − moving_mean)·s + β, the integer export's arithmetic,
// computed directly (no division by s). The folded bias goes into the conv's bias slot, or
// is added in one pass when the conv has no bias. BN's statistics are not touched.
void FoldedBatchNorm::forwardFolded(TensorList in, Tensor& out, const RunContext& ctx) {
  lastIdentity_ = false;
  const Tensor& W = kernelP_->value;
  const size_t C = static_cast<size_t>(channels_), rows = W.size() / C;
  computeScales(false);
  const float* w = W.data();
  const float* s = s_.data();
  float* wf = (quant_ ? wf_ : wq_).data();  // without a quantizer W·s is the kernel itself
  for (size_t r = 0; r < rows; ++r)
#pragma omp simd
    for (size_t c = 0; c < C; ++c) wf[r * C + c] = w[r * C + c] * s[c];
  if (quant_) quant_->forward(wf_, wq_, ctx);
  {
    ParamSwap k(*kernelP_, wq_, nullptr);
    if (biasP_) {
      std::copy(foldBias_.begin(), foldBias_.end(), bslot_.data());
      ParamSwap b(*biasP_, bslot_, nullptr);
      conv_->forward(in, out, ctx);
    } else {
      conv_->forward(in, out, ctx);
    }
  }
  if (!biasP_) addChannelBias(out.data(), foldBias_.data(), out.size() / C, C);
}

// Backward, with g = Σ_rows dy per channel (the folded bias' gradient):
//   conv backward with q(W·s):  dx,  dW_q,  g (from the conv's bias slot, or summed here)
//   dW_f = STE(dW_q),  dW += dW_f·s
//   ds[c] = Σ_{i∈c} dW_f[i]·W[i] + g[c]·(b[c] − moving_mean[c])
//   dγ += ds / sqrt(moving_var + ε),  dβ += g,  db += g·s
void FoldedBatchNorm::backwardFolded(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                                     const RunContext& ctx) {
  const size_t C = static_cast<size_t>(channels_);
  {
    ParamSwap k(*kernelP_, wq_, &dk_);
    if (biasP_) {
      ParamSwap b(*biasP_, bslot_, &dbslot_);
      conv_->backward(in, out, dout, din, ctx);
    } else {
      conv_->backward(in, out, dout, din, ctx);
    }
  }
  if (!biasP_) channelSum(dout.data(), dout.size() / C, C, partial_, dbslot_.data());
  kernelGradients(ctx);
  const float* g = dbslot_.data();
  const float* mm = bn_->movingMean().value.data();
  // A frozen BN (Keras trainable=false) gets no γ/β gradients, as in BatchNormalization.
  const bool bnGrads = bn_->trainable();
  if (bnGrads && bn_->options().scale && bn_->gamma().trainable) {
    float* dg = bn_->gamma().grad.data();
    for (size_t c = 0; c < C; ++c) {
      const float b = biasP_ ? biasP_->value[c] : 0.0f;
      dg[c] += (acc1_[c] + g[c] * (b - mm[c])) * invSigma_[c];
    }
  }
  if (bnGrads && bn_->options().center && bn_->beta().trainable) {
    float* db = bn_->beta().grad.data();
    for (size_t c = 0; c < C; ++c) db[c] += g[c];
  }
  if (biasP_ && biasP_->trainable) {
    float* db = biasP_->grad.data();
    for (size_t c = 0; c < C; ++c) db[c] += g[c] * s_[c];
  }
}

}  // namespace qat::quant
