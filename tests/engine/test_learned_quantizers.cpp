// Learned quantizers: LearnedRange (TensorFlow's range gradients) and LSQ (Esser et al.
// 2020): state, initialisation, hand-computed gradients and finite-difference checks on
// the parts where the quantizer is smooth.
//  * LearnedRange at 16 bits is x inside its range and the bound outside it, up to a
//    rounding error of scale/2 ≈ 2e-5; a step of 0.1 (data kept 0.3 away from the bounds)
//    sees that smooth function, whose derivatives are TF's gradients.
//  * LSQ on clipped elements is exactly −Qn·s or Qp·s, linear in s: the finite difference
//    equals ∂v̂/∂s there; the gradient scale g = 1/sqrt(N·Qp) is divided out.
#include <QtTest>

#include <cmath>

#include "common/gradcheck.h"
#include "engine/quant/fake_quant_layer.h"
#include "engine/quant/quantizer.h"

using namespace qat;
using namespace qat::quant;

namespace {

std::unique_ptr<Quantizer> make(QuantizerSpec s, int channels = 1, const std::string& prefix = "output") {
  auto q = makeQuantizer(s);
  if (!q.ok()) qFatal("%s", q.error().message.c_str());
  if (!q.value()->build(channels, prefix).ok()) qFatal("build failed");
  return std::move(q.value());
}

QuantizerSpec spec(const std::string& type, int bits, bool perAxis, bool symmetric, bool narrow) {
  QuantizerSpec s;
  s.type = type;
  s.bits = bits;
  s.perAxis = perAxis;
  s.symmetric = symmetric;
  s.narrowRange = narrow;
  return s;
}

Tensor tensor(Shape shape, std::vector<float> v) {
  Tensor t(std::move(shape));
  std::copy(v.begin(), v.end(), t.data());
  return t;
}

Param* state(Quantizer& q, const std::string& name) {
  for (Param* p : q.state())
    if (p->name == name) return p;
  qFatal("no state %s", name.c_str());
}

const RunContext kTrain{true}, kEval{false};

}  // namespace

class TestLearnedQuantizers : public QObject {
  Q_OBJECT
 private slots:
  // ------------------------------------------------------------ LearnedRange
  void learnedRangeStateAndFirstBatch() {
    auto q = make(spec("LearnedRange", 8, true, false, false), 2, "kernel");
    const auto st = q->state();
    QCOMPARE(st.size(), size_t(3));
    QCOMPARE(st[0]->name, std::string("kernel_min"));
    QCOMPARE(st[1]->name, std::string("kernel_max"));
    QCOMPARE(st[2]->name, std::string("kernel_initialized"));
    QVERIFY(st[0]->trainable && st[1]->trainable && !st[2]->trainable);
    QCOMPARE(st[0]->grad.shape(), (Shape{2}));
    QVERIFY(st[2]->grad.empty());
    QCOMPARE(st[0]->value[0], -6.f);  // uninitialised: ±6
    Tensor x = tensor(Shape{2, 2}, {-1.f, 0.5f, 2.f, 3.f}), y;
    q->forward(x, y, kTrain);  // the first batch sets the range per channel
    QCOMPARE(st[0]->value[0], -1.f);
    QCOMPARE(st[1]->value[0], 2.f);
    QCOMPARE(st[0]->value[1], 0.5f);
    QCOMPARE(st[1]->value[1], 3.f);
    Tensor x2 = tensor(Shape{2, 2}, {-9.f, -9.f, 9.f, 9.f});
    q->forward(x2, y, kTrain);  // later batches do not: the optimizer moves the range
    QCOMPARE(st[0]->value[0], -1.f);
    QCOMPARE(st[1]->value[1], 3.f);
  }

  void learnedRangeGradientsHandComputed() {
    auto s = spec("LearnedRange", 8, false, false, false);
    s.initMin = -1.f;
    s.initMax = 2.f;
    auto q = make(s);
    Tensor x = tensor(Shape{4}, {-2.f, 0.f, 3.f, 1.f}), y, dx;
    Tensor dy = tensor(Shape{4}, {1.f, 2.f, 4.f, 8.f});
    q->forward(x, y, kTrain);
    state(*q, "output_min")->grad[0] = 0.5f;  // accumulates
    q->backward(x, dy, dx, kTrain);
    QCOMPARE(state(*q, "output_min")->grad[0], 1.5f);
    QCOMPARE(state(*q, "output_max")->grad[0], 4.f);
    const float want[4] = {0.f, 2.f, 0.f, 8.f};
    for (size_t i = 0; i < 4; ++i) QCOMPARE(dx[i], want[i]);
    // Symmetric narrow: [−a, a], a = |max| = 2: dmax = Σ above − Σ below, dmin = 0.
    s.symmetric = s.narrowRange = true;
    auto sq = make(s);
    Tensor x3 = tensor(Shape{4}, {-2.5f, 0.f, 3.f, 1.f});
    sq->forward(x3, y, kTrain);
    sq->backward(x3, dy, dx, kTrain);
    QCOMPARE(state(*sq, "output_min")->grad[0], 0.f);
    QCOMPARE(state(*sq, "output_max")->grad[0], 4.f - 1.f);
  }

  void learnedRangeFiniteDifferences_data() {
    QTest::addColumn<bool>("perAxis");
    QTest::addColumn<bool>("symmetric");
    QTest::addColumn<bool>("narrow");
    QTest::addColumn<float>("initMin");
    QTest::addRow("asymmetric") << false << false << false << -1.f;
    QTest::addRow("symmetric narrow, max larger") << false << true << true << -1.f;
    QTest::addRow("symmetric narrow, min larger") << false << true << true << -3.f;
    QTest::addRow("symmetric ratio, max larger") << false << true << false << -1.f;
    QTest::addRow("symmetric ratio, min larger") << false << true << false << -3.f;
    QTest::addRow("per-axis asymmetric") << true << false << false << -1.f;
  }
  void learnedRangeFiniteDifferences() {
    QFETCH(bool, perAxis);
    QFETCH(bool, symmetric);
    QFETCH(bool, narrow);
    QFETCH(float, initMin);
    auto s = spec("LearnedRange", 16, perAxis, symmetric, narrow);
    s.initMin = initMin;
    s.initMax = 2.f;
    const int C = 3;
    FakeQuantLayer layer("fq", make(s), "output");
    QVERIFY(layer.build({Shape{C}}).ok());
    if (perAxis) {  // different ranges per channel
      layer.params()[0]->value[1] = -0.5f;
      layer.params()[1]->value[1] = 0.5f;
      layer.params()[0]->value[2] = -2.f;
      layer.params()[1]->value[2] = 1.f;
    }
    // A third of the values below the grid's range, a third inside, a third above, all
    // at least 0.3 from the bounds (the step 0.1 never moves a bound across a value).
    const auto g = layer.quantizer().grids();
    Rng rng(11);
    const int rows = 12;
    Tensor x(Shape{rows, C});
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < C; ++c) {
        const Grid& gc = g[perAxis ? size_t(c) : 0];
        float v;
        switch ((r + c) % 3) {
          case 0: v = gc.nudgedMin - rng.uniform(0.3f, 1.f); break;
          case 1: v = rng.uniform(gc.nudgedMin + 0.3f, gc.nudgedMax - 0.3f); break;
          default: v = gc.nudgedMax + rng.uniform(0.3f, 1.f); break;
        }
        x[size_t(r * C + c)] = v;
      }
    test::GradCheckOptions opt;
    opt.eps = 0.1f;
    auto res = test::gradCheckLayer(layer, {x}, opt);
    QVERIFY2(res.ok, res.worst.c_str());
    QVERIFY(res.checked >= rows * C + 2);
    // The range gradient is not trivially zero.
    double sum = 0;
    for (Param* p : layer.params())
      if (p->trainable)
        for (size_t i = 0; i < p->grad.size(); ++i) sum += std::abs(p->grad[i]);
    QVERIFY(sum > 0.1);
  }

  // ------------------------------------------------------------ LSQ
  void lsqStateAndInitialisation_data() {
    QTest::addColumn<bool>("symmetric");
    QTest::addColumn<bool>("narrow");
    QTest::addRow("symmetric") << true << false;
    QTest::addRow("symmetric narrow") << true << true;
    QTest::addRow("asymmetric") << false << false;
  }
  void lsqStateAndInitialisation() {
    QFETCH(bool, symmetric);
    QFETCH(bool, narrow);
    auto q = make(spec("LSQ", 8, true, symmetric, narrow), 2, "kernel");
    const auto st = q->state();
    QCOMPARE(st.size(), size_t(3));
    QCOMPARE(st[0]->name, std::string("kernel_step_size"));
    QCOMPARE(st[1]->name, std::string("kernel_zero_point"));
    QCOMPARE(st[2]->name, std::string("kernel_initialized"));
    QVERIFY(st[0]->trainable && !st[1]->trainable && !st[2]->trainable);
    QCOMPARE(st[0]->grad.shape(), (Shape{2}));
    QCOMPARE(st[2]->value[0], 0.f);
    // (2, 2): channel 0 = {0, 3}, channel 1 = {1, −2}
    Tensor x = tensor(Shape{2, 2}, {0.f, 1.f, 3.f, -2.f}), y;
    q->forward(x, y, kEval);  // evaluation does not initialise
    QCOMPARE(st[2]->value[0], 0.f);
    q->forward(x, y, kTrain);
    QCOMPARE(st[2]->value[0], 1.f);
    // s = 2·mean|x| / sqrt(Qp). Symmetric: zp 128, Qp 127. Asymmetric: channel 0 is
    // non-negative → zp 0, Qp 255; channel 1 [−2, 1] → zp = round(2/(3/255)) = 170, Qp 85.
    const float zp0 = symmetric ? 128.f : 0.f, zp1 = symmetric ? 128.f : 170.f;
    const float qp0 = symmetric ? 127.f : 255.f, qp1 = symmetric ? 127.f : 85.f;
    QCOMPARE(st[1]->value[0], zp0);
    QCOMPARE(st[1]->value[1], zp1);
    QVERIFY(std::abs(st[0]->value[0] - 2 * 1.5f / std::sqrt(qp0)) < 1e-6f);
    QVERIFY(std::abs(st[0]->value[1] - 2 * 1.5f / std::sqrt(qp1)) < 1e-6f);
    const auto g = q->grids();
    QCOMPARE(g[0].zeroPoint, int(zp0));
    QCOMPARE(g[0].scale, st[0]->value[0]);
    QCOMPARE(g[0].qmin, narrow ? 1 : 0);
    QCOMPARE(g[1].nudgedMax, (255 - zp1) * st[0]->value[1]);
    // The output is on that grid.
    for (size_t i = 0; i < 4; ++i) {
      const Grid& gc = g[i % 2];
      const float k = (y[i] - gc.nudgedMin) / gc.scale;
      QVERIFY(std::abs(k - std::round(k)) < 1e-3f);
    }
  }

  void lsqTfmotInitAndGivenRange() {
    auto s = spec("LSQ", 8, false, true, false);
    s.tfmotInit = true;  // no first-batch initialisation: ±6 → [−6·128/127, 6], s = 6/127
    auto q = make(s);
    Tensor x = tensor(Shape{2}, {0.1f, 0.2f}), y;
    q->forward(x, y, kTrain);
    QVERIFY(std::abs(state(*q, "output_step_size")->value[0] - 6.f / 127) < 1e-7f);
    QCOMPARE(state(*q, "output_zero_point")->value[0], 128.f);
    s.tfmotInit = false;
    s.initMin = -1.f;
    s.initMax = 1.f;
    s.narrowRange = true;
    auto g = make(s);
    QVERIFY(std::abs(state(*g, "output_step_size")->value[0] - 1.f / 127) < 1e-8f);
    QCOMPARE(state(*g, "output_zero_point")->value[0], 128.f);
  }

  void lsqGradientHandComputed() {
    // Symmetric narrow 8-bit, per-axis: Qn = Qp = 127, zp 128. Channel 0 s = 0.25,
    // channel 1 s = 0.01.
    auto q = make(spec("LSQ", 8, true, true, true), 2);
    Param* step = state(*q, "output_step_size");
    step->value[0] = 0.25f;
    step->value[1] = 0.01f;
    state(*q, "output_initialized")->value[0] = 1.f;
    // channel 0: 0.3 (v/s 1.2 → 1 − 1.2 = −0.2), −0.1 (−0.4 → 0 + 0.4 = 0.4)
    // channel 1: 100 (clipped above → Qp = 127), 0.013 (1.3 → 1 − 1.3 = −0.3)
    Tensor x = tensor(Shape{2, 2}, {0.3f, 100.f, -0.1f, 0.013f}), y, dx;
    Tensor dy = tensor(Shape{2, 2}, {1.f, 1.f, 1.f, 2.f});
    q->forward(x, y, kTrain);
    QCOMPARE(y[0], 0.25f);
    QCOMPARE(y[2], 0.f);
    q->backward(x, dy, dx, kTrain);
    const float g = 1.f / std::sqrt(2.f * 127.f);  // N = 2 elements per step size
    QVERIFY2(std::abs(step->grad[0] - g * 0.2f) < 1e-5f, qPrintable(QString::number(step->grad[0])));
    QVERIFY2(std::abs(step->grad[1] - g * (127.f - 0.6f)) < 1e-4f, qPrintable(QString::number(step->grad[1])));
    const float wantDx[4] = {1.f, 0.f, 1.f, 2.f};
    for (size_t i = 0; i < 4; ++i) QCOMPARE(dx[i], wantDx[i]);
    // !fakeQuant: dx = dy and no step gradient.
    step->grad.zero();
    RunContext fl{true};
    fl.fakeQuant = false;
    q->forward(x, y, fl);
    QCOMPARE(y[1], 100.f);
    q->backward(x, dy, dx, fl);
    QCOMPARE(dx[1], 1.f);
    QCOMPARE(step->grad[0], 0.f);
  }

  void lsqStepFiniteDifferencesOnClippedValues_data() {
    QTest::addColumn<bool>("symmetric");
    QTest::addColumn<int>("bits");
    QTest::addRow("signed 8") << true << 8;
    QTest::addRow("asymmetric 8") << false << 8;
    QTest::addRow("signed 4") << true << 4;
  }
  void lsqStepFiniteDifferencesOnClippedValues() {
    QFETCH(bool, symmetric);
    QFETCH(int, bits);
    auto s = spec("LSQ", bits, false, symmetric, false);
    auto q = make(s);
    // Initialise from a batch with a negative tail (asymmetric: zp between the ends).
    Tensor init = tensor(Shape{4}, {-0.5f, 1.f, 2.f, 0.3f}), y;
    q->forward(init, y, kTrain);
    const Grid g0 = q->grids()[0];
    const float qn = float(g0.zeroPoint - g0.qmin), qp = float(g0.qmax - g0.zeroPoint);
    QVERIFY(qp > 0);
    // Values well outside the grid's range: v̂ = −Qn·s or Qp·s.
    Rng rng(5);
    const size_t n = 20;
    Tensor x(Shape{int(n)}), w(Shape{int(n)});
    for (size_t i = 0; i < n; ++i) {
      x[i] = i % 2 ? g0.nudgedMax * 1.5f + rng.uniform(0.1f, 1.f) : g0.nudgedMin * 1.5f - rng.uniform(0.1f, 1.f);
      w[i] = rng.uniform(-1.f, 1.f);
    }
    Param* step = state(*q, "output_step_size");
    auto loss = [&] {
      q->forward(x, y, kEval);
      double l = 0;
      for (size_t i = 0; i < n; ++i) l += double(y[i]) * w[i];
      return l;
    };
    const float s0 = step->value[0], eps = s0 * 0.01f;
    step->value[0] = s0 + eps;
    const double lp = loss();
    step->value[0] = s0 - eps;
    const double lm = loss();
    step->value[0] = s0;
    const double numeric = (lp - lm) / (2.0 * double(eps));
    step->grad.zero();
    loss();
    Tensor dx;
    q->backward(x, w, dx, kTrain);
    const double gscale = 1.0 / std::sqrt(double(n) * qp);
    const double analytic = step->grad[0] / gscale;
    QVERIFY2(std::abs(analytic - numeric) < 1e-3 * (1 + std::abs(numeric)),
             qPrintable(QStringLiteral("analytic %1 numeric %2").arg(analytic).arg(numeric)));
    double want = 0;  // Σ w·(−Qn or Qp)
    for (size_t i = 0; i < n; ++i) want += w[i] * (i % 2 ? qp : -qn);
    QVERIFY(std::abs(analytic - want) < 1e-3 * (1 + std::abs(want)));
    for (size_t i = 0; i < n; ++i) QCOMPARE(dx[i], 0.f);
  }

  void lsqPow2AndNoNaN() {
    auto s = spec("LSQ", 8, false, true, true);
    s.pow2Scale = true;
    auto q = make(s);
    Param* step = state(*q, "output_step_size");
    step->value[0] = 0.3f;  // grid scale rounds up to 0.5
    QCOMPARE(q->grids()[0].scale, 0.5f);
    step->value[0] = -1.f;  // an optimizer overshoot: tiny positive step, no NaN
    Tensor x = tensor(Shape{3}, {-1.f, 0.f, 1.f}), y, dx;
    q->forward(x, y, kTrain);
    q->backward(x, x, dx, kTrain);
    for (size_t i = 0; i < 3; ++i) QVERIFY(std::isfinite(y[i]) && std::isfinite(dx[i]));
    QVERIFY(std::isfinite(step->grad[0]));
  }

  void layerAccumulatesStateGradWithoutInputGradAndClonesIndependently() {
    auto s = spec("LSQ", 8, false, true, true);
    FakeQuantLayer l("fq", make(s), "output");
    QVERIFY(l.build({Shape{2}}).ok());
    l.params()[0]->value[0] = 0.01f;
    l.params()[2]->value[0] = 1.f;
    Tensor x = tensor(Shape{1, 2}, {100.f, -100.f}), out;
    Tensor dout = tensor(Shape{1, 2}, {1.f, 2.f});
    const Tensor* in[1] = {&x};
    l.forward(in, out, kTrain);
    Tensor* none[1] = {nullptr};
    l.backward(in, out, dout, none, kTrain);  // input gradient not needed
    const float g = 1.f / std::sqrt(2.f * 127.f);
    QVERIFY(std::abs(l.params()[0]->grad[0] - g * (127.f - 254.f)) < 1e-4f);
    auto c = l.clone();
    c->params()[0]->value[0] = 0.5f;
    QCOMPARE(l.params()[0]->value[0], 0.01f);
    QVERIFY(c->params()[0] != l.params()[0]);
  }
};

QTEST_APPLESS_MAIN(TestLearnedQuantizers)
#include "test_learned_quantizers.moc"
