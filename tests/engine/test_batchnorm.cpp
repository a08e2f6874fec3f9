// BatchNormalization: forward with known batch statistics, the moving-average update on
// both Keras paths (biased variance for 2-D inputs, Bessel-corrected for the fused 4-D
// path), inference with moving statistics, gradient checks in training and inference
// mode for every center/scale combination, and the fast OpenMP kernels against a scalar
// double-precision reference on the CNN's real sizes.
#include <QtTest>

#include <cmath>
#include <vector>

#include "common/gradcheck.h"
#include "engine/layers/batch_normalization.h"

using namespace qat;

namespace {

Tensor run(Layer& layer, const Tensor& x, bool training) {
  Tensor y;
  const Tensor* xp = &x;
  layer.forward(TensorList(&xp, 1), y, RunContext{training, nullptr});
  return y;
}

// (4, 2): channel 0 = 1, 2, 3, 4 (mean 2.5, biased var 1.25, unbiased 5/3);
//         channel 1 = 2, 2, 4, 4 (mean 3, biased var 1, unbiased 4/3).
Tensor fourByTwo() {
  Tensor x(Shape{4, 2});
  const float v[] = {1, 2, 2, 2, 3, 4, 4, 4};
  std::copy(v, v + 8, x.data());
  return x;
}

// Scalar reference in double: training-mode forward and backward over (rows, C).
struct Reference {
  std::vector<double> y, dx, dgamma, dbeta;
};
Reference referenceBN(const Tensor& x, const Tensor& dy, const std::vector<float>& gamma,
                      const std::vector<float>& beta, double eps) {
  const size_t C = gamma.size(), rows = x.size() / C;
  Reference r;
  r.y.resize(x.size());
  r.dx.resize(x.size());
  r.dgamma.assign(C, 0);
  r.dbeta.assign(C, 0);
  for (size_t c = 0; c < C; ++c) {
    double mean = 0, var = 0;
    for (size_t i = 0; i < rows; ++i) mean += x[i * C + c];
    mean /= double(rows);
    for (size_t i = 0; i < rows; ++i) var += (x[i * C + c] - mean) * (x[i * C + c] - mean);
    var /= double(rows);
    const double s = 1.0 / std::sqrt(var + eps);
    double sdy = 0, sdyxh = 0;
    for (size_t i = 0; i < rows; ++i) {
      const double xh = (x[i * C + c] - mean) * s;
      r.y[i * C + c] = gamma[c] * xh + beta[c];
      sdy += dy[i * C + c];
      sdyxh += dy[i * C + c] * xh;
    }
    r.dgamma[c] = sdyxh;
    r.dbeta[c] = sdy;
    for (size_t i = 0; i < rows; ++i) {
      const double xh = (x[i * C + c] - mean) * s;
      r.dx[i * C + c] =
          gamma[c] * s * (dy[i * C + c] - sdy / double(rows) - xh * sdyxh / double(rows));
    }
  }
  return r;
}

}  // namespace

class TestBatchNorm : public QObject {
  Q_OBJECT
 private slots:
  void defaultsAndParams() {
    BatchNormalization bn("batch_normalization");
    QCOMPARE(bn.options().epsilon, 1e-3f);
    QCOMPARE(bn.options().momentum, 0.99f);
    QVERIFY(bn.build({Shape{5, 5, 3}}).ok());
    Rng rng(1);
    bn.initialize(rng);
    auto ps = bn.params();
    QCOMPARE(ps.size(), size_t(4));
    const char* names[] = {"gamma", "beta", "moving_mean", "moving_variance"};
    const float init[] = {1, 0, 0, 1};
    for (size_t i = 0; i < 4; ++i) {
      QCOMPARE(ps[i]->name, std::string(names[i]));
      QCOMPARE(ps[i]->value.shape(), (Shape{3}));
      QCOMPARE(ps[i]->trainable, i < 2);
      QVERIFY(ps[i]->trainable ? ps[i]->grad.shape() == Shape{3} : ps[i]->grad.empty());
      for (size_t c = 0; c < 3; ++c) QCOMPARE(ps[i]->value[c], init[i]);
    }
    QVERIFY(bn.usesFusedPath());  // 4-D batched input: Keras' fused kernel

    BatchNormalization noScale("bn", {-1, 0.99f, 1e-3f, true, false, {}});
    QVERIFY(noScale.build({Shape{3}}).ok());
    QVERIFY(!noScale.usesFusedPath());
    auto ps2 = noScale.params();
    QCOMPARE(ps2.size(), size_t(3));
    QCOMPARE(ps2[0]->name, std::string("beta"));
    BatchNormalization noCenter("bn", {-1, 0.99f, 1e-3f, false, true, {}});
    QVERIFY(noCenter.build({Shape{3}}).ok());
    auto ps3 = noCenter.params();
    QCOMPARE(ps3.size(), size_t(3));
    QCOMPARE(ps3[0]->name, std::string("gamma"));
    QCOMPARE(ps3[1]->name, std::string("moving_mean"));
  }

  void trainingForwardUsesBatchStats() {
    BatchNormalization bn("bn", {-1, 0.9f, 1e-3f, true, true, {}});
    QVERIFY(bn.build({Shape{2}}).ok());
    Rng rng(1);
    bn.initialize(rng);
    bn.gamma().value[0] = 2.0f;
    bn.beta().value[0] = 0.5f;
    bn.beta().value[1] = -1.0f;
    Tensor y = run(bn, fourByTwo(), true);
    // channel 0: 2 · (x − 2.5) / sqrt(1.25 + 0.001) + 0.5
    const float s0 = 1.0f / std::sqrt(1.251f), s1 = 1.0f / std::sqrt(1.001f);
    const float e0[] = {-1.5f, -0.5f, 0.5f, 1.5f};
    const float e1[] = {-1, -1, 1, 1};
    for (int i = 0; i < 4; ++i) {
      QVERIFY(std::abs(y[size_t(2 * i)] - (2 * e0[i] * s0 + 0.5f)) < 1e-5f);
      QVERIFY(std::abs(y[size_t(2 * i + 1)] - (e1[i] * s1 - 1.0f)) < 1e-5f);
    }
    // Moving statistics after one step (2-D input: Keras' non-fused path, biased var):
    //   mean: 0.9 · 0 + 0.1 · 2.5 = 0.25,  0.1 · 3 = 0.3
    //   var:  0.9 · 1 + 0.1 · 1.25 = 1.025, 0.9 + 0.1 · 1 = 1.0
    QVERIFY(std::abs(bn.movingMean().value[0] - 0.25f) < 1e-6f);
    QVERIFY(std::abs(bn.movingMean().value[1] - 0.3f) < 1e-6f);
    QVERIFY(std::abs(bn.movingVariance().value[0] - 1.025f) < 1e-6f);
    QVERIFY(std::abs(bn.movingVariance().value[1] - 1.0f) < 1e-6f);
    // A second step moves them again: 0.9 · 0.25 + 0.1 · 2.5 = 0.475.
    run(bn, fourByTwo(), true);
    QVERIFY(std::abs(bn.movingMean().value[0] - 0.475f) < 1e-6f);
  }

  // The same 4 values per channel as a (1, 2, 2, 2) image: the fused path feeds the
  // unbiased variance n/(n−1) · σ²_B to the moving average, as tf.keras does.
  void fusedPathBesselCorrectsMovingVariance() {
    BatchNormalization bn("bn", {-1, 0.9f, 1e-3f, true, true, {}});
    QVERIFY(bn.build({Shape{2, 2, 2}}).ok());
    QVERIFY(bn.usesFusedPath());
    Rng rng(1);
    bn.initialize(rng);
    Tensor x = fourByTwo();
    x.reshapeInPlace(Shape{1, 2, 2, 2});
    Tensor y = run(bn, x, true);
    // Normalisation still uses the biased variance.
    QVERIFY(std::abs(y[0] - (-1.5f / std::sqrt(1.251f))) < 1e-5f);
    QVERIFY(std::abs(bn.movingVariance().value[0] - (0.9f + 0.1f * 5.0f / 3.0f)) < 1e-6f);
    QVERIFY(std::abs(bn.movingVariance().value[1] - (0.9f + 0.1f * 4.0f / 3.0f)) < 1e-6f);
    QVERIFY(std::abs(bn.movingMean().value[0] - 0.25f) < 1e-6f);
    // fused=false forces the biased update on the same input.
    BatchNormalization nf("bn", {-1, 0.9f, 1e-3f, true, true, false});
    QVERIFY(nf.build({Shape{2, 2, 2}}).ok());
    nf.initialize(rng);
    run(nf, x, true);
    QVERIFY(std::abs(nf.movingVariance().value[0] - 1.025f) < 1e-6f);
    // fused=true on a 2-D input is a configuration error, as in Keras.
    BatchNormalization bad("bn_bad", {-1, 0.9f, 1e-3f, true, true, true});
    auto s = bad.build({Shape{3}});
    QVERIFY(!s.ok());
    QVERIFY(s.error().message.find("bn_bad") != std::string::npos);
  }

  void inferenceUsesMovingStats() {
    BatchNormalization bn("bn", {-1, 0.9f, 1e-3f, true, true, {}});
    QVERIFY(bn.build({Shape{2}}).ok());
    Rng rng(1);
    bn.initialize(rng);
    bn.gamma().value[1] = 3.0f;
    bn.beta().value[0] = 1.0f;
    bn.movingMean().value[0] = 1.0f;
    bn.movingMean().value[1] = -2.0f;
    bn.movingVariance().value[0] = 4.0f;
    bn.movingVariance().value[1] = 0.25f;
    Tensor x = fourByTwo();
    Tensor y = run(bn, x, false);
    for (int i = 0; i < 4; ++i) {
      const float e0 = (x[size_t(2 * i)] - 1.0f) / std::sqrt(4.001f) + 1.0f;
      const float e1 = 3.0f * (x[size_t(2 * i + 1)] + 2.0f) / std::sqrt(0.251f);
      QVERIFY(std::abs(y[size_t(2 * i)] - e0) < 1e-5f);
      QVERIFY(std::abs(y[size_t(2 * i + 1)] - e1) < 1e-5f);
    }
    // Inference leaves the moving statistics alone.
    QCOMPARE(bn.movingMean().value[0], 1.0f);
    QCOMPARE(bn.movingVariance().value[1], 0.25f);
  }

  void gradCheck_data() {
    QTest::addColumn<bool>("center");
    QTest::addColumn<bool>("scale");
    QTest::addColumn<bool>("training");
    QTest::addColumn<bool>("image");
    for (bool training : {true, false})
      for (bool image : {true, false})
        for (int cs = 0; cs < 4; ++cs)
          QTest::addRow("%s-%s-center%d-scale%d", training ? "train" : "infer",
                        image ? "nhwc" : "dense", cs & 1, cs >> 1)
              << bool(cs & 1) << bool(cs >> 1) << training << image;
  }
  void gradCheck() {
    QFETCH(bool, center);
    QFETCH(bool, scale);
    QFETCH(bool, training);
    QFETCH(bool, image);
    BatchNormalization bn("bn", {-1, 0.99f, 1e-3f, center, scale, {}});
    Rng rng(9);
    Tensor x(image ? Shape{3, 3, 2, 4} : Shape{6, 5});
    test::fillUniform(x, rng, -2, 2);
    for (size_t i = 0; i < x.size(); i += 3) x[i] += 1.5f;  // non-zero channel means
    test::GradCheckOptions opt;
    opt.training = training;
    if (!training) {
      // Give the moving statistics non-trivial values first.
      QVERIFY(bn.build({x.shape().withoutBatch()}).ok());
      Rng init(2);
      bn.initialize(init);
      for (size_t c = 0; c < bn.movingMean().value.size(); ++c) {
        bn.movingMean().value[c] = 0.1f * float(c);
        bn.movingVariance().value[c] = 0.5f + 0.3f * float(c);
      }
      for (Param* p : bn.params())
        if (p->trainable)
          for (size_t i = 0; i < p->value.size(); ++i) p->value[i] += init.uniform(-0.3f, 0.3f);
      auto r = test::gradCheckLayer(bn, {x}, opt);
      QVERIFY2(r.ok, r.worst.c_str());
      QCOMPARE(r.checked, int(x.size()) + (int(center) + int(scale)) * x.dim(x.rank() - 1));
      return;
    }
    auto r = test::buildAndCheck(bn, {x}, opt);
    QVERIFY2(r.ok, r.worst.c_str());
    QCOMPARE(r.checked, int(x.size()) + (int(center) + int(scale)) * x.dim(x.rank() - 1));
  }

  // The CNN's shapes (N = 64): multi-threaded kernels against the scalar reference.
  void matchesReferenceOnCnnShapes_data() {
    QTest::addColumn<int>("hw");
    QTest::addColumn<int>("channels");
    QTest::addRow("28x28x32") << 28 << 32;
    QTest::addRow("14x14x64") << 14 << 64;
    QTest::addRow("odd-7x7x5") << 7 << 5;
  }
  void matchesReferenceOnCnnShapes() {
    QFETCH(int, hw);
    QFETCH(int, channels);
    BatchNormalization bn("bn");
    QVERIFY(bn.build({Shape{hw, hw, channels}}).ok());
    Rng rng(3);
    bn.initialize(rng);
    std::vector<float> gamma(static_cast<size_t>(channels)), beta(static_cast<size_t>(channels));
    for (int c = 0; c < channels; ++c) {
      gamma[size_t(c)] = bn.gamma().value[size_t(c)] = rng.uniform(0.5f, 1.5f);
      beta[size_t(c)] = bn.beta().value[size_t(c)] = rng.uniform(-0.5f, 0.5f);
    }
    Tensor x(Shape{64, hw, hw, channels}), dy(x.shape());
    for (size_t i = 0; i < x.size(); ++i) {
      const size_t c = i % size_t(channels);
      x[i] = rng.normal(float(c) * 0.3f - 2.0f, 0.5f + 0.05f * float(c));  // per-channel mean/std
      dy[i] = rng.uniform(-1, 1);
    }
    const Reference ref = referenceBN(x, dy, gamma, beta, 1e-3);
    bn.gamma().grad.zero();
    bn.beta().grad.zero();
    Tensor y = run(bn, x, true);
    Tensor dx(x.shape());
    const Tensor* xp = &x;
    Tensor* dxp = &dx;
    bn.backward(TensorList(&xp, 1), y, dy, GradList(&dxp, 1), RunContext{true, nullptr});
    double worstY = 0, worstDx = 0, worstParam = 0, dxScale = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      worstY = std::max(worstY, std::abs(y[i] - ref.y[i]));
      worstDx = std::max(worstDx, std::abs(dx[i] - ref.dx[i]));
      dxScale = std::max(dxScale, std::abs(ref.dx[i]));
    }
    for (size_t c = 0; c < size_t(channels); ++c) {
      worstParam = std::max(worstParam, std::abs(bn.gamma().grad[c] - ref.dgamma[c]) /
                                            (1 + std::abs(ref.dgamma[c])));
      worstParam = std::max(worstParam, std::abs(bn.beta().grad[c] - ref.dbeta[c]) /
                                            (1 + std::abs(ref.dbeta[c])));
    }
    QVERIFY2(worstY < 1e-4, qPrintable(QString::number(worstY)));
    QVERIFY2(worstDx < 1e-4 * dxScale, qPrintable(QString::number(worstDx)));
    QVERIFY2(worstParam < 1e-4, qPrintable(QString::number(worstParam)));
  }

  // A large mean relative to the spread must not wreck the variance.
  void largeOffsetKeepsVariance() {
    BatchNormalization bn("bn");
    QVERIFY(bn.build({Shape{1}}).ok());
    Rng rng(5);
    bn.initialize(rng);
    Tensor x(Shape{1000, 1});
    for (size_t i = 0; i < x.size(); ++i) x[i] = 1000.0f + (i % 2 ? 0.5f : -0.5f);
    Tensor y = run(bn, x, true);
    const float e = 0.5f / std::sqrt(0.25f + 1e-3f);
    QVERIFY2(std::abs(y[1] - e) < 1e-4f, qPrintable(QString::number(y[1])));
    QVERIFY(std::abs(y[0] + e) < 1e-4f);
  }

  void rejectsNonChannelAxis() {
    BatchNormalization bn("batch_normalization_3", {1, 0.99f, 1e-3f, true, true, {}});
    auto s = bn.build({Shape{4, 4, 3}});
    QVERIFY(!s.ok());
    QVERIFY(s.error().message.find("batch_normalization_3") != std::string::npos);
    QVERIFY(s.error().message.find("axis") != std::string::npos);
    // axis 3 on a 4-D batched input is the last axis: accepted.
    BatchNormalization ok3("bn", {3, 0.99f, 1e-3f, true, true, {}});
    QVERIFY(ok3.build({Shape{4, 4, 3}}).ok());
  }
};

QTEST_APPLESS_MAIN(TestBatchNorm)
#include "test_batchnorm.moc"
