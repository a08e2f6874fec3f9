// FoldedBatchNorm: float equivalence with the unfolded conv → BN (inference and training
// with batch statistics, moving statistics included), the frozen formula against
// foldedWeights(), finite-difference gradients (float, and quantized through an affine STE
// surrogate), the freeze step, γ = 0, build errors, clones. Data-driven over Conv2D
// (stride 1 and 2, with and without bias), DepthwiseConv2D (depth multiplier 2) and Dense.
#include <QtTest>

#include "common/gradcheck.h"
#include "common/quant_test_util.h"
#include "common/fold_cases.h"
#include "engine/layers/flatten.h"

using namespace qat;
using quant::FoldedBatchNorm;
using quant::FoldOptions;

namespace {
using namespace test::fold;
using test::bwd;
using test::fwd;

#define QVERIFY_CLOSE(a, b, rtol)                                                           \
  do {                                                                                      \
    const double r_ = test::worstRatio((a), (b), (rtol));                                   \
    QVERIFY2(r_ <= 1.0, (std::string(#a " vs " #b ": error / tolerance = ") + std::to_string(r_)).c_str()); \
  } while (0)
}  // namespace

class TestFoldedBatchNorm : public QObject {
  Q_OBJECT

  static void addCases() {
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("stride");
    QTest::addColumn<bool>("bias");
    QTest::addRow("conv-s1-bias") << int(kConv) << 1 << true;
    QTest::addRow("conv-s1-nobias") << int(kConv) << 1 << false;
    QTest::addRow("conv-s2-bias") << int(kConv) << 2 << true;
    QTest::addRow("conv-s2-nobias") << int(kConv) << 2 << false;
    QTest::addRow("depthwise-m2-bias") << int(kDepthwise) << 1 << true;
    QTest::addRow("depthwise-m2-s2-nobias") << int(kDepthwise) << 2 << false;
    QTest::addRow("dense-bias") << int(kDense) << 1 << true;
    QTest::addRow("dense-nobias") << int(kDense) << 1 << false;
  }
  // Per-tensor grid of step 0.05 on [−0.4, 0.4]: |W·s| reaches ~1 here, so some folded
  // weights clip (zero STE gradient) and the rest round.
  static std::unique_ptr<quant::Quantizer> stepQuantizer() {
    return std::make_unique<test::StepQuantizer>(-0.4f, 0.4f, 0.05f);
  }

 private slots:
  // fakeQuant=false (with a quantizer) and no quantizer: the fold is conv → BN exactly.
  void floatMatchesUnfolded_data() { addCases(); }
  void floatMatchesUnfolded() {
    QFETCH(int, kind);
    QFETCH(int, stride);
    QFETCH(bool, bias);
    for (bool withQuantizer : {false, true}) {
      auto f = makeFold(kind, stride, bias, withQuantizer ? stepQuantizer() : nullptr);
      QVERIFY(f);
      auto conv = f->conv().clone();
      auto bn = f->bn().clone();
      RunContext eval;
      eval.fakeQuant = false;
      RunContext train = eval;
      train.training = true;
      Tensor y, u, yr;
      for (int step = 0; step < 3; ++step) {
        const Tensor x = randomInput(kind, 40 + step);
        fwd(*f, x, y, train);  // batch statistics
        fwd(*conv, x, u, train);
        fwd(*bn, u, yr, train);
        QVERIFY_CLOSE(y, yr, 1e-5);
        fwd(*f, x, y, eval);  // moving statistics, through the folded formula
        fwd(*conv, x, u, eval);
        fwd(*bn, u, yr, eval);
        QVERIFY_CLOSE(y, yr, 1e-5);
      }
      auto& rbn = static_cast<BatchNormalization&>(*bn);
      QVERIFY_CLOSE(f->bn().movingMean().value, rbn.movingMean().value, 1e-6);
      QVERIFY_CLOSE(f->bn().movingVariance().value, rbn.movingVariance().value, 1e-6);
      QCOMPARE(f->params().back()->name, std::string("step"));
      QCOMPARE(f->params().back()->value[0], 3.0f);  // training forwards only
    }
  }

  // Live BN with the quantizer on, against the header's formula computed another way:
  // z = (conv(x, q(W·s)) + b·s) / s (dividing the output), y = BN_batch(z).
  void liveQuantizedMatchesComposition_data() { addCases(); }
  void liveQuantizedMatchesComposition() {
    QFETCH(int, kind);
    QFETCH(int, stride);
    QFETCH(bool, bias);
    auto f = makeFold(kind, stride, bias, stepQuantizer());
    QVERIFY(f);
    auto conv = f->conv().clone();
    auto bn = f->bn().clone();
    const std::vector<float> s = foldScale(f->bn());
    Tensor K, B;
    f->foldedWeights(K, B);
    test::StepQuantizer q(-0.4f, 0.4f, 0.05f);
    int clipped = 0;
    for (size_t i = 0; i < K.size(); ++i) clipped += !q.inside(K[i]);
    QVERIFY(clipped > 0 && clipped < int(K.size()));
    Param* k = conv->params()[0];
    for (size_t i = 0; i < K.size(); ++i) k->value[i] = q.apply(K[i]);
    if (bias)
      for (size_t c = 0; c < s.size(); ++c) conv->params()[1]->value[c] *= s[c];
    RunContext train;
    train.training = true;
    const Tensor x = randomInput(kind, 7);
    Tensor y, u, yr;
    fwd(*f, x, y, train);
    fwd(*conv, x, u, train);
    for (size_t i = 0; i < u.size(); ++i) u[i] /= s[i % s.size()];
    fwd(*bn, u, yr, train);
    QVERIFY_CLOSE(y, yr, 1e-5);
    auto& rbn = static_cast<BatchNormalization&>(*bn);
    QVERIFY_CLOSE(f->bn().movingMean().value, rbn.movingMean().value, 1e-5);
    QVERIFY_CLOSE(f->bn().movingVariance().value, rbn.movingVariance().value, 1e-5);
  }

  // Frozen BN (training after the freeze step) and evaluation: exactly the export's
  // conv(x, q(foldedWeights kernel)) + folded bias, moving statistics untouched.
  void frozenMatchesFoldedWeights_data() { addCases(); }
  void frozenMatchesFoldedWeights() {
    QFETCH(int, kind);
    QFETCH(int, stride);
    QFETCH(bool, bias);
    for (bool training : {false, true}) {
      auto f = makeFold(kind, stride, bias, stepQuantizer());
      QVERIFY(f);
      f->setFreezeBnStep(0);
      QVERIFY(f->bnFrozen());
      const Tensor mm = f->bn().movingMean().value, mv = f->bn().movingVariance().value;
      Tensor K, B;
      f->foldedWeights(K, B);
      auto conv = f->conv().clone();
      test::StepQuantizer q(-0.4f, 0.4f, 0.05f);
      for (size_t i = 0; i < K.size(); ++i) conv->params()[0]->value[i] = q.apply(K[i]);
      if (bias) conv->params()[1]->value.zero();
      RunContext ctx;
      ctx.training = training;
      const Tensor x = randomInput(kind, 8);
      Tensor y, yr;
      fwd(*f, x, y, ctx);
      fwd(*conv, x, yr, ctx);
      addPerChannel(yr, std::vector<float>(B.data(), B.data() + B.size()));
      QVERIFY_CLOSE(y, yr, 1e-5);
      QCOMPARE(f->bn().movingMean().value.size(), mm.size());
      for (size_t c = 0; c < mm.size(); ++c) {
        QCOMPARE(f->bn().movingMean().value[c], mm[c]);
        QCOMPARE(f->bn().movingVariance().value[c], mv[c]);
      }
    }
  }

  // The registry's quantizers (per-axis LastValue over the C·M / units / filters axis,
  // per-tensor 4-bit LastValue, a Fixed range that clips): live and frozen outputs against
  // compositions that quantize foldedWeights() with the quantizer's own grids; and the
  // layer's gradients with the real quantizer equal those through the STE surrogate,
  // whose finite differences they match.
  void realQuantizers_data() { addCases(); }
  void realQuantizers() {
    QFETCH(int, kind);
    QFETCH(int, stride);
    QFETCH(bool, bias);
    const std::vector<quant::QuantizerSpec> specs = {test::quantSpec("LastValue", 8, true, true, true),
                                                     test::quantSpec("LastValue", 4, false, true, true),
                                                     test::quantSpec("Fixed", 4, false, false, false, -0.4f, 0.4f)};
    for (const quant::QuantizerSpec& spec : specs) {
      const std::string what = quant::describe(spec) + " " + spec.type + ": ";
      RunContext train, eval;
      train.training = true;
      const Tensor x = randomInput(kind, 13);
      Tensor K, B, y, yr, u;
      // Live: BN_batch((conv(x, q(W·s)) + b·s) / s).
      auto f = makeFold(kind, stride, bias, test::realQuantizer(spec));
      QVERIFY(f);
      QCOMPARE(f->weightQuantizer()->channels(), spec.perAxis ? int(f->bn().gamma().value.size()) : 1);
      auto conv = f->conv().clone();
      auto bn = f->bn().clone();
      f->foldedWeights(K, B);  // s before the forward moves the moving variance
      const std::vector<float> s = foldScale(f->bn());
      fwd(*f, x, y, train);
      const Tensor qK = test::fakeQuantWith(*f->weightQuantizer(), K);  // the range seen
      QVERIFY(test::worstRatio(qK, K, 1e-4) > 1.0);  // the grid is coarse enough to matter
      conv->params()[0]->value = qK;
      if (bias)
        for (size_t c = 0; c < s.size(); ++c) conv->params()[1]->value[c] *= s[c];
      fwd(*conv, x, u, train);
      for (size_t i = 0; i < u.size(); ++i) u[i] /= s[i % s.size()];
      fwd(*bn, u, yr, train);
      const double live = test::worstRatio(y, yr, 1e-5);
      QVERIFY2(live <= 1.0, (what + "live " + std::to_string(live)).c_str());

      // Frozen (training after the freeze step, then evaluation): conv(x, q(K)) + B.
      auto g = makeFold(kind, stride, bias, test::realQuantizer(spec));
      g->setFreezeBnStep(0);
      auto gconv = g->conv().clone();
      for (const RunContext& ctx : {train, eval}) {
        fwd(*g, x, y, ctx);
        g->foldedWeights(K, B);
        gconv->params()[0]->value = test::fakeQuantWith(*g->weightQuantizer(), K);
        if (bias) gconv->params()[1]->value.zero();
        fwd(*gconv, x, yr, ctx);
        addPerChannel(yr, std::vector<float>(B.data(), B.data() + B.size()));
        const double frozen = test::worstRatio(y, yr, 1e-5);
        QVERIFY2(frozen <= 1.0, (what + "frozen " + std::to_string(frozen)).c_str());
      }

      // Gradients: real quantizer = surrogate at the same point; surrogate = finite
      // differences (live and frozen).
      for (bool frozenPath : {false, true}) {
        auto a = makeFold(kind, stride, bias, test::realQuantizer(spec), 1.0f, 0.5f);
        auto b = makeFold(kind, stride, bias, std::make_unique<test::SurrogateQuantizer>(test::realQuantizer(spec)),
                          1.0f, 0.5f);
        if (frozenPath) {
          a->setFreezeBnStep(0);
          b->setFreezeBnStep(0);
        }
        Tensor ya, yb, dxa, dxb, dy;
        fwd(*a, x, ya, train);
        fwd(*b, x, yb, train);
        QVERIFY_CLOSE(ya, yb, 1e-6);
        dy.resize(ya.shape());
        Rng rng(6);
        test::fillUniform(dy, rng);
        bwd(*a, x, ya, dy, dxa, train);
        bwd(*b, x, yb, dy, dxb, train);
        QVERIFY_CLOSE(dxa, dxb, 1e-6);
        auto pa = a->params(), pb = b->params();
        for (size_t i = 0; i < pa.size(); ++i)
          if (pa[i]->trainable) QVERIFY_CLOSE(pa[i]->grad, pb[i]->grad, 1e-6);
        auto r = test::gradCheckLayer(*b, {x});
        QVERIFY2(r.ok, (what + (frozenPath ? "frozen: " : "live: ") + r.worst).c_str());
        auto* sur = static_cast<test::SurrogateQuantizer*>(b->weightQuantizer());
        QVERIFY(sur->rounded() > 0);
        if (spec.type == "Fixed") QVERIFY(sur->blocked() > 0 && sur->passed() > 0);
      }
    }
  }

  // Finite differences w.r.t. x, W, b, γ, β with q the identity, live and frozen BN.
  void gradCheckFloat_data() { addCases(); }
  void gradCheckFloat() {
    QFETCH(int, kind);
    QFETCH(int, stride);
    QFETCH(bool, bias);
    for (bool frozen : {false, true}) {
      auto f = makeFold(kind, stride, bias, nullptr);
      QVERIFY(f);
      if (frozen) f->setFreezeBnStep(0);
      auto r = test::gradCheckLayer(*f, {randomInput(kind, 9)});
      QVERIFY2(r.ok, ((frozen ? "frozen: " : "live: ") + r.worst).c_str());
      QVERIFY(r.checked > 40);
    }
  }

  // With rounding on, finite differences only see the staircase. The affine surrogate
  // q̃(v) = q(v0) + m ⊙ (v − v0) (tests/common/quant_test_util.h) equals q at the point and
  // has the STE as its exact derivative; the layer's gradients must match finite
  // differences through it (now the two uses of s in dγ no longer cancel), and the layer
  // with the real quantizer must give the same gradients at that point. BN momentum 1
  // keeps the moving statistics, and so s, fixed across the check's many forwards.
  // ε = 0.5: with batch statistics BN(z) is nearly invariant to scaling z per channel (up
  // to ε), which would hide the z = conv/s + b use of s in dγ; a large ε exposes it.
  void gradCheckQuantized_data() { addCases(); }
  void gradCheckQuantized() {
    QFETCH(int, kind);
    QFETCH(int, stride);
    QFETCH(bool, bias);
    for (bool frozen : {false, true}) {
      const char* path = frozen ? "frozen: " : "live: ";
      auto f = makeFold(kind, stride, bias, std::make_unique<test::SurrogateQuantizer>(stepQuantizer()), 1.0f, 0.5f);
      QVERIFY(f);
      if (frozen) f->setFreezeBnStep(0);
      const Tensor x = randomInput(kind, 10);
      auto r = test::gradCheckLayer(*f, {x});
      QVERIFY2(r.ok, (path + r.worst).c_str());
      auto* sur = static_cast<test::SurrogateQuantizer*>(f->weightQuantizer());
      QVERIFY(sur->blocked() > 0 && sur->passed() > 0 && sur->rounded() > 0);

      // Same point, real quantizer vs surrogate: same output, same gradients.
      auto g = makeFold(kind, stride, bias, stepQuantizer(), 1.0f, 0.5f);
      auto h = makeFold(kind, stride, bias, std::make_unique<test::SurrogateQuantizer>(stepQuantizer()), 1.0f, 0.5f);
      if (frozen) {
        g->setFreezeBnStep(0);
        h->setFreezeBnStep(0);
      }
      RunContext train;
      train.training = true;
      Tensor yg, yh, dxg, dxh;
      fwd(*g, x, yg, train);
      fwd(*h, x, yh, train);
      QVERIFY_CLOSE(yg, yh, 1e-6);
      Tensor dy(yg.shape());
      Rng rng(4);
      test::fillUniform(dy, rng);
      bwd(*g, x, yg, dy, dxg, train);
      bwd(*h, x, yh, dy, dxh, train);
      QVERIFY_CLOSE(dxg, dxh, 1e-6);
      auto pg = g->params(), ph = h->params();
      QCOMPARE(pg.size(), ph.size());
      for (size_t i = 0; i < pg.size(); ++i)
        if (pg[i]->trainable) QVERIFY_CLOSE(pg[i]->grad, ph[i]->grad, 1e-6);
    }
  }

  // After freezeBnStep training forwards the moving statistics stop moving and the
  // training output is the frozen (evaluation) formula.
  void freezeBnStep_data() { addCases(); }
  void freezeBnStep() {
    QFETCH(int, kind);
    QFETCH(int, stride);
    QFETCH(bool, bias);
    auto f = makeFold(kind, stride, bias, stepQuantizer());
    QVERIFY(f);
    f->setFreezeBnStep(3);
    RunContext train, eval;
    train.training = true;
    Tensor y, ye;
    for (int step = 0; step < 5; ++step) {
      const Tensor x = randomInput(kind, 20 + step);
      const Tensor mm = f->bn().movingMean().value;
      QCOMPARE(f->bnFrozen(), step >= 3);
      fwd(*f, x, y, train);
      const bool moved = test::worstRatio(f->bn().movingMean().value, mm, 0.0, 1e-7) > 1.0;
      QCOMPARE(moved, step < 3);
      fwd(*f, x, ye, eval);
      // Batch statistics differ from the moving ones until the freeze; then equal.
      const double d = test::worstRatio(y, ye, 1e-5);
      if (step < 3)
        QVERIFY2(d > 10.0, std::to_string(d).c_str());
      else
        QVERIFY2(d <= 1.0, std::to_string(d).c_str());
    }
    QCOMPARE(f->params().back()->value[0], 5.0f);  // evaluation forwards do not count
  }

  // A frozen layer (Keras trainable=false on the fold or on its BN) normalises with the
  // moving statistics while the model trains, and leaves them alone.
  void frozenLayerUsesMovingStatistics() {
    for (bool freezeBn : {false, true}) {
      auto f = makeFold(kConv, 1, true, stepQuantizer());
      QVERIFY(f);
      if (freezeBn)
        f->bn().setTrainable(false);
      else
        f->setTrainable(false);
      const Tensor mm = f->bn().movingMean().value;
      RunContext train;
      train.training = true;
      const Tensor x = randomInput(kConv, 30);
      Tensor y, ye;
      fwd(*f, x, y, train);
      fwd(*f, x, ye, RunContext{});
      QVERIFY_CLOSE(y, ye, 1e-6);
      QVERIFY_CLOSE(f->bn().movingMean().value, mm, 0.0);
    }
  }

  // γ = 0 gives s = 0: outputs stay finite (channel 0 is β), gradients finite, and
  // without rounding dγ is BN's Σ dy·ẑ, so γ can leave 0.
  void zeroGamma_data() { addCases(); }
  void zeroGamma() {
    QFETCH(int, kind);
    QFETCH(int, stride);
    QFETCH(bool, bias);
    for (bool quantized : {false, true}) {
      for (bool frozen : {false, true}) {
        auto f = makeFold(kind, stride, bias, quantized ? stepQuantizer() : nullptr);
        QVERIFY(f);
        if (frozen) f->setFreezeBnStep(0);
        f->bn().gamma().value[0] = 0.0f;
        auto conv = f->conv().clone();
        auto bn = f->bn().clone();
        RunContext train;
        train.training = true;
        const Tensor x = randomInput(kind, 11);
        Tensor y, dx, dy;
        fwd(*f, x, y, train);
        const size_t C = f->bn().gamma().value.size();
        for (size_t i = 0; i < y.size(); ++i) {
          QVERIFY(std::isfinite(y[i]));
          if (i % C == 0) QVERIFY(std::abs(y[i] - f->bn().beta().value[0]) < 1e-6f);
        }
        dy.resize(y.shape());
        Rng rng(3);
        test::fillUniform(dy, rng);
        for (Param* p : f->params())
          if (p->trainable) p->grad.zero();
        bwd(*f, x, y, dy, dx, train);
        for (Param* p : f->params())
          for (size_t i = 0; i < p->grad.size(); ++i) QVERIFY(std::isfinite(p->grad[i]));
        for (size_t i = 0; i < dx.size(); ++i) QVERIFY(std::isfinite(dx[i]));
        if (!quantized) {
          // The unfolded conv → BN's dγ[0].
          Tensor u, yr, du;
          auto& rbn = static_cast<BatchNormalization&>(*bn);
          rbn.gamma().grad.zero();
          fwd(*conv, x, u, frozen ? RunContext{} : train);
          fwd(rbn, u, yr, frozen ? RunContext{} : train);
          bwd(rbn, u, yr, dy, du, frozen ? RunContext{} : train);
          QVERIFY(std::abs(rbn.gamma().grad[0]) > 1e-3f);
          QVERIFY2(std::abs(f->bn().gamma().grad[0] - rbn.gamma().grad[0]) <= 1e-4f * std::abs(rbn.gamma().grad[0]),
                   (std::to_string(f->bn().gamma().grad[0]) + " vs " + std::to_string(rbn.gamma().grad[0])).c_str());
        }
      }
    }
  }

  void buildErrors() {
    {
      FoldedBatchNorm f(makeConv(kConv, 1, true, ActivationFn::Relu), std::make_unique<BatchNormalization>("bn_3"), nullptr);
      auto s = f.build({inputShape(kConv)});
      QVERIFY(!s.ok());
      QVERIFY(s.error().message.find("bn_3") != std::string::npos);
      QVERIFY(s.error().message.find("activation") != std::string::npos);
    }
    {
      FoldedBatchNorm f(std::make_unique<Flatten>("flat"), std::make_unique<BatchNormalization>("bn"), nullptr);
      auto s = f.build({inputShape(kConv)});
      QVERIFY(!s.ok());
      QVERIFY(s.error().message.find("Flatten 'flat'") != std::string::npos);
    }
    {
      auto bn = std::make_unique<BatchNormalization>("bn");
      QVERIFY(bn->build({Shape{6, 6, 7}}).ok());
      FoldedBatchNorm f(makeConv(kConv, 1, true), std::move(bn), nullptr);
      auto s = f.build({inputShape(kConv)});
      QVERIFY(!s.ok());
      QVERIFY(s.error().message.find("7 channels") != std::string::npos);
    }
  }

  void paramsAndClone() {
    auto f = makeFold(kDepthwise, 1, true, stepQuantizer());
    QVERIFY(f);
    QCOMPARE(f->name(), std::string("bn"));
    std::vector<std::string> names;
    for (Param* p : f->params()) names.push_back(p->name);
    QCOMPARE(names, (std::vector<std::string>{"depthwise_kernel", "bias", "gamma", "beta", "moving_mean",
                                              "moving_variance", "step"}));
    QVERIFY(!f->params().back()->trainable);
    const Tensor x = randomInput(kDepthwise, 12);
    RunContext train;
    train.training = true;
    Tensor y0, y1, y2;
    fwd(*f, x, y0, RunContext{});
    auto c = f->clone();
    // The original trains (moving statistics, step) and changes γ: the clone is unaffected.
    fwd(*f, x, y1, train);
    f->bn().gamma().value[0] += 1.0f;
    fwd(*c, x, y2, RunContext{});
    QVERIFY_CLOSE(y2, y0, 0.0);
    QCOMPARE(c->params().back()->value[0], 0.0f);
    QCOMPARE(f->params().back()->value[0], 1.0f);
    // The clone's conv is its own: its kernel Params are distinct objects.
    QVERIFY(c->params()[0] != f->params()[0]);
  }
};

QTEST_APPLESS_MAIN(TestFoldedBatchNorm)
#include "test_folded_batchnorm.moc"
