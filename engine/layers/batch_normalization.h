#pragma once
// BatchNormalization over the last (channel) axis, NHWC like Keras' default axis=-1.
//   training:  y = gamma · (x − μ_B) / sqrt(σ²_B + ε) + beta, with μ_B, σ²_B (biased) the
//              batch statistics over every axis but the last; the moving statistics follow
//              moving = momentum · moving + (1 − momentum) · batch.
//   inference: the same with moving_mean / moving_variance in place of μ_B, σ²_B.
//   frozen (Layer::trainable() false): inference, even when the model trains, and the
//              moving statistics stay as they are (Keras 2 with TF2: a frozen BN runs in
//              inference mode; Keras 1 still used batch statistics there).
// Params in Keras order: gamma (scale=true), beta (center=true), moving_mean,
// moving_variance; the moving statistics are non-trainable.
//
// Which batch variance feeds the moving average: tf.keras 2.x takes the *fused* kernel
// (tf.nn.fused_batch_norm) whenever it can, which with the default fused=None means 4-D
// (and, in later 2.x, 5-D) inputs. That kernel Bessel-corrects the variance it returns
// for the moving average (σ²_B · n/(n−1), n = values per channel), while the non-fused
// path used for 2-D/3-D inputs averages the biased σ²_B (tensorflow/tensorflow#55545).
// We follow Keras: `fused` unset picks the same path Keras would, so a model trained here
// ends up with the moving_variance Keras would have. The fused kernel also raises ε to at
// least 1.001e-5 (a cuDNN requirement kept on CPU); we do the same on that path.
// Normalisation itself always uses the biased σ²_B, on both paths.
#include <optional>
#include <vector>

#include "engine/layers/layer.h"

namespace qat {

struct BatchNormalizationOptions {
  int axis = -1;  // Keras axis counting the batch as 0; only the last axis is supported
  float momentum = 0.99f;
  float epsilon = 1e-3f;
  bool center = true;         // has beta
  bool scale = true;          // has gamma
  std::optional<bool> fused;  // Keras `fused`; unset: fused for 4-D/5-D batched inputs
};

class BatchNormalization : public Layer {
 public:
  BatchNormalization(std::string name, BatchNormalizationOptions opt = {})
      : Layer(std::move(name)), opt_(opt) {}
  OpType op() const override { return OpType::BatchNormalization; }
  std::unique_ptr<Layer> clone() const override { return cloneAs(*this); }
  const BatchNormalizationOptions& options() const { return opt_; }

  void initialize(Rng& rng) override;
  void forward(TensorList in, Tensor& out, const RunContext& ctx) override;
  void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                const RunContext& ctx) override;
  std::vector<Param*> params() override;

  Param& gamma() { return gamma_; }
  Param& beta() { return beta_; }
  Param& movingMean() { return movingMean_; }
  Param& movingVariance() { return movingVar_; }
  // Whether the fused (Bessel-corrected moving variance) path applies; valid after build().
  bool usesFusedPath() const { return fused_; }
  float effectiveEpsilon() const;
  // Batch statistics (and moving-average updates): training, and the layer not frozen.
  bool usesBatchStatistics(const RunContext& ctx) const { return ctx.training && trainable(); }

 protected:
  Expected<Shape> doBuild(const std::vector<Shape>& inputs) override;

 private:
  // Per-channel sums over all rows of two (rows, C) arrays a and b, with per-channel
  // shifts sa, sb:
  //   sum1_[c] = Σ_r (a[r,c] − sa[c]),   sum2_[c] = Σ_r (a[r,c] − sa[c]) · (b[r,c] − sb[c])
  // One pass. OpenMP over rows; each thread sums blocks of kBlockRows rows in float
  // (8 lanes per AVX2 op, no conversions) and folds each block into double partials, so
  // the float error stays that of a 64-term sum however many rows there are. The
  // per-thread partials are reduced afterwards.
  void channelSums(const float* a, const float* sa, const float* b, const float* sb, size_t rows);

  BatchNormalizationOptions opt_;
  Param gamma_, beta_, movingMean_, movingVar_;
  bool fused_ = false;
  int channels_ = 0;
  // Cached by forward() for backward(), sized once per channel count and reused:
  std::vector<float> mean_;    // (C) statistics used by the last forward (batch or moving)
  std::vector<float> invStd_;  // (C) 1 / sqrt(var + ε)
  std::vector<float> scale_;   // (C) gamma · invStd
  std::vector<float> shift_;   // (C) beta (0 without center): y = (x − mean) · scale + shift
  std::vector<double> sum1_, sum2_;  // (C) reduced channel sums
  std::vector<double> partial_;      // (threads, 2 · paddedC) per-thread partial sums
  std::vector<float> block_;         // (threads, 2 · paddedC) per-thread block sums
  std::vector<float> pivot_;         // (C) forward shift: the first row of x
  std::vector<float> zeros_;         // (C) "no shift"
  std::vector<float> k1_, k0_;       // (C) backward coefficients
};

}  // namespace qat
