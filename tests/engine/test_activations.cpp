// Activation functions (activation_fn.h) and the activation layers: Activation, ReLU,
// LeakyReLU, Softmax. Forward against values worked out from the definitions, gradient
// checks with inputs kept away from kinks, numeric edge cases, build errors.
#include <QtTest>

#include <cmath>
#include <limits>

#include "common/gradcheck.h"
#include "engine/layers/activation.h"
#include "engine/layers/leaky_relu.h"
#include "engine/layers/relu.h"
#include "engine/layers/softmax.h"

using namespace qat;

namespace {

// Uniform values in [lo, hi] at least `margin` away from every kink, so the central
// differences (step 1e-2) never straddle a point where the derivative jumps.
Tensor awayFromKinks(const Shape& shape, float lo, float hi, std::vector<float> kinks,
                     uint64_t seed, float margin = 0.05f) {
  Tensor t(shape);
  Rng rng(seed);
  for (size_t i = 0; i < t.size(); ++i) {
    float v;
    bool near;
    do {
      v = rng.uniform(lo, hi);
      near = false;
      for (float k : kinks) near = near || std::abs(v - k) < margin;
    } while (near);
    t[i] = v;
  }
  return t;
}

Tensor run(Layer& layer, const Tensor& x, bool training = false) {
  Tensor y;
  const Tensor* xp = &x;
  layer.forward(TensorList(&xp, 1), y, RunContext{training, nullptr});
  return y;
}

Tensor row(std::initializer_list<float> v) {
  Tensor t(Shape{1, static_cast<int>(v.size())});
  std::copy(v.begin(), v.end(), t.data());
  return t;
}

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

}  // namespace

class TestActivations : public QObject {
  Q_OBJECT
 private slots:
  void namesRoundTrip() {
    for (int f = 0; f <= int(ActivationFn::Softplus); ++f) {
      auto back = activationFromName(activationName(ActivationFn(f)));
      QVERIFY(back.has_value());
      QCOMPARE(int(*back), f);
    }
    QCOMPARE(int(*activationFromName("silu")), int(ActivationFn::Swish));
    QVERIFY(!activationFromName("mish").has_value());
  }

  // f(x) at x = -3, -1.5, -0.5, 0.25, 1, 2.7, 7, worked out in double precision from the
  // tf.keras 2.x definitions.
  void forwardValues_data() {
    QTest::addColumn<int>("fn");
    QTest::addColumn<QList<float>>("expected");
    auto add = [](const char* name, ActivationFn f, QList<float> e) {
      QTest::addRow("%s", name) << int(f) << e;
    };
    add("linear", ActivationFn::Linear, {-3, -1.5f, -0.5f, 0.25f, 1, 2.7f, 7});
    add("relu", ActivationFn::Relu, {0, 0, 0, 0.25f, 1, 2.7f, 7});
    add("relu6", ActivationFn::Relu6, {0, 0, 0, 0.25f, 1, 2.7f, 6});
    add("sigmoid", ActivationFn::Sigmoid,
        {0.04742587f, 0.1824255f, 0.3775407f, 0.5621765f, 0.7310586f, 0.9370266f, 0.9990889f});
    add("tanh", ActivationFn::Tanh,
        {-0.9950548f, -0.9051483f, -0.4621172f, 0.2449187f, 0.7615942f, 0.9910075f, 0.9999983f});
    add("swish", ActivationFn::Swish,
        {-0.1422776f, -0.2736383f, -0.1887703f, 0.1405441f, 0.7310586f, 2.529972f, 6.993623f});
    add("hard_sigmoid", ActivationFn::HardSigmoid, {0, 0.2f, 0.4f, 0.55f, 0.7f, 1, 1});
    add("elu", ActivationFn::Elu, {-0.9502129f, -0.7768698f, -0.3934693f, 0.25f, 1, 2.7f, 7});
    add("selu", ActivationFn::Selu,
        {-1.670569f, -1.365814f, -0.6917582f, 0.2626752f, 1.050701f, 2.836893f, 7.354907f});
    add("gelu", ActivationFn::Gelu,
        {-0.004049694f, -0.1002108f, -0.1542688f, 0.1496766f, 0.8413447f, 2.690639f, 7});
    add("softplus", ActivationFn::Softplus,
        {0.04858735f, 0.2014133f, 0.474077f, 0.8259394f, 1.313262f, 2.765044f, 7.000911f});
  }
  void forwardValues() {
    QFETCH(int, fn);
    QFETCH(QList<float>, expected);
    Activation layer("act", {ActivationFn(fn)});
    QVERIFY(layer.build({Shape{7}}).ok());
    Tensor y = run(layer, row({-3, -1.5f, -0.5f, 0.25f, 1, 2.7f, 7}));
    QCOMPARE(y.shape(), (Shape{1, 7}));
    for (int i = 0; i < 7; ++i)
      QVERIFY2(std::abs(y[size_t(i)] - expected[i]) <= 1e-6f + 2e-6f * std::abs(expected[i]),
               qPrintable(QStringLiteral("x[%1]: got %2, expected %3")
                              .arg(i).arg(y[size_t(i)]).arg(expected[i])));
  }

  void softmaxActivationValues() {
    Activation layer("act", {ActivationFn::Softmax});
    QVERIFY(layer.build({Shape{3}}).ok());
    Tensor x(Shape{2, 3});
    const float v[] = {1, 2, 3, 1001, 1002, 1003};  // the second row must not overflow
    std::copy(v, v + 6, x.data());
    Tensor y = run(layer, x);
    const float e[] = {0.09003057f, 0.24472847f, 0.66524096f};
    for (int r = 0; r < 2; ++r)
      for (int i = 0; i < 3; ++i) QVERIFY(std::abs(y[size_t(r * 3 + i)] - e[i]) < 1e-6f);
  }

  // Every function on a rank-3 input (softmax: rows of 4), values in [-4, 8] kept away
  // from 0 (relu family), 6 (relu6) and ±2.5 (hard_sigmoid).
  void gradCheck_data() {
    QTest::addColumn<int>("fn");
    for (int f = 0; f <= int(ActivationFn::Softplus); ++f)
      QTest::addRow("%s", std::string(activationName(ActivationFn(f))).c_str()) << f;
  }
  void gradCheck() {
    QFETCH(int, fn);
    Activation layer("act", {ActivationFn(fn)});
    Tensor x = awayFromKinks(Shape{3, 2, 5, 4}, -4, 8, {0, 6, -2.5f, 2.5f}, 11);
    auto r = test::buildAndCheck(layer, {x});
    QVERIFY2(r.ok, r.worst.c_str());
    QCOMPARE(r.checked, 120);
  }

  // Saturated regions: no NaN/inf, and the right limits and slopes.
  void extremeInputs() {
    const float big = 100.0f;
    float x[] = {-big, big};
    float y[2], dx[2];
    const float dy[] = {1, 1};
    auto fwd = [&](ActivationFn f) { activationForward(f, x, y, 2, 2); };
    auto bwd = [&](ActivationFn f) { activationBackward(f, x, y, dy, dx, 2, 2); };
    fwd(ActivationFn::Sigmoid);
    QCOMPARE(y[0], 0.0f);
    QCOMPARE(y[1], 1.0f);
    fwd(ActivationFn::Softplus);
    QVERIFY(y[0] >= 0 && y[0] < 1e-30f);
    QCOMPARE(y[1], big);
    bwd(ActivationFn::Softplus);
    QCOMPARE(dx[1], 1.0f);
    fwd(ActivationFn::Swish);
    QVERIFY(std::isfinite(y[0]) && std::abs(y[0]) < 1e-30f);
    bwd(ActivationFn::Swish);
    QVERIFY(std::isfinite(dx[0]) && std::abs(dx[0]) < 1e-30f);
    QCOMPARE(dx[1], 1.0f);
    for (ActivationFn f : {ActivationFn::Elu, ActivationFn::Selu, ActivationFn::Gelu,
                           ActivationFn::Tanh, ActivationFn::Softmax}) {
      fwd(f);
      bwd(f);
      for (int i = 0; i < 2; ++i) QVERIFY(std::isfinite(y[i]) && std::isfinite(dx[i]));
    }
    fwd(ActivationFn::Softmax);  // one row (-100, 100)
    QCOMPARE(y[1], 1.0f);
    fwd(ActivationFn::Selu);
    QVERIFY(std::abs(y[0] + 1.6732632f * 1.0507010f) < 1e-5f);  // −scale·alpha
  }

  // activationBackward documents that dx may alias dy.
  void backwardInPlace() {
    float x[] = {-1.0f, 0.5f, 2.0f};
    float y[3], g[] = {1.0f, 2.0f, 3.0f};
    activationForward(ActivationFn::Tanh, x, y, 3, 3);
    float expected[3];
    activationBackward(ActivationFn::Tanh, x, y, g, expected, 3, 3);
    activationBackward(ActivationFn::Tanh, x, y, g, g, 3, 3);
    for (int i = 0; i < 3; ++i) QCOMPARE(g[i], expected[i]);
    QVERIFY(std::abs(expected[1] - 2.0f * (1 - std::tanh(0.5f) * std::tanh(0.5f))) < 1e-6f);
  }

  void reluForward_data() {
    QTest::addColumn<float>("maxValue");
    QTest::addColumn<float>("slope");
    QTest::addColumn<float>("threshold");
    QTest::addColumn<QList<float>>("expected");
    // x = -1, 0.2, 0.5, 3, 6, 8
    QTest::addRow("plain") << 0.0f << 0.0f << 0.0f << QList<float>{0, 0.2f, 0.5f, 3, 6, 8};
    QTest::addRow("max6") << 6.0f << 0.0f << 0.0f << QList<float>{0, 0.2f, 0.5f, 3, 6, 6};
    QTest::addRow("slope") << 0.0f << 0.1f << 0.0f << QList<float>{-0.1f, 0.2f, 0.5f, 3, 6, 8};
    // below threshold: slope · (x − threshold)
    QTest::addRow("all") << 6.0f << 0.1f << 0.5f
                         << QList<float>{-0.15f, -0.03f, 0.5f, 3, 6, 6};
    QTest::addRow("threshold-only") << 0.0f << 0.0f << 0.5f
                                    << QList<float>{0, 0, 0.5f, 3, 6, 8};
    QTest::addRow("max-negative-is-none") << -1.0f << 0.0f << 0.0f
                                          << QList<float>{0, 0.2f, 0.5f, 3, 6, 8};
  }
  void reluForward() {
    QFETCH(float, maxValue);
    QFETCH(float, slope);
    QFETCH(float, threshold);
    QFETCH(QList<float>, expected);
    ReLUOptions o;
    if (maxValue != 0) o.maxValue = maxValue;
    o.negativeSlope = slope;
    o.threshold = threshold;
    ReLU layer("re_lu", o);
    QVERIFY(layer.build({Shape{6}}).ok());
    Tensor y = run(layer, row({-1, 0.2f, 0.5f, 3, 6, 8}));
    for (int i = 0; i < 6; ++i)
      QVERIFY2(std::abs(y[size_t(i)] - expected[i]) < 1e-6f,
               qPrintable(QStringLiteral("x[%1]: got %2").arg(i).arg(y[size_t(i)])));
  }

  void reluGradCheck_data() {
    QTest::addColumn<float>("maxValue");
    QTest::addColumn<float>("slope");
    QTest::addColumn<float>("threshold");
    QTest::addRow("plain") << 0.0f << 0.0f << 0.0f;
    QTest::addRow("all") << 2.0f << 0.2f << 0.3f;
    QTest::addRow("negative-threshold") << 0.0f << 0.05f << -0.5f;
  }
  void reluGradCheck() {
    QFETCH(float, maxValue);
    QFETCH(float, slope);
    QFETCH(float, threshold);
    ReLUOptions o;
    if (maxValue > 0) o.maxValue = maxValue;
    o.negativeSlope = slope;
    o.threshold = threshold;
    ReLU layer("re_lu", o);
    Tensor x = awayFromKinks(Shape{4, 3, 5}, -3, 3, {threshold, maxValue}, 5);
    auto r = test::buildAndCheck(layer, {x});
    QVERIFY2(r.ok, r.worst.c_str());
    QCOMPARE(r.checked, 60);
  }

  void reluRejectsBadOptions() {
    ReLU layer("re_lu_3", ReLUOptions{std::optional<float>(1.0f), 0.0f, 2.0f});
    auto s = layer.build({Shape{4}});
    QVERIFY(!s.ok());
    QVERIFY(contains(s.error().message, "re_lu_3"));
    ReLU neg("re_lu_4", ReLUOptions{std::nullopt, -0.5f, 0.0f});
    QVERIFY(!neg.build({Shape{4}}).ok());
  }

  void leakyReluForward() {
    LeakyReLU def("leaky_re_lu");
    QCOMPARE(def.options().alpha, 0.3f);  // tf.keras 2.x default
    QVERIFY(def.build({Shape{4}}).ok());
    Tensor y = run(def, row({-2, -0.5f, 0, 1.5f}));
    QCOMPARE(y[0], -0.6f);
    QCOMPARE(y[1], -0.15f);
    QCOMPARE(y[2], 0.0f);
    QCOMPARE(y[3], 1.5f);
    LeakyReLU custom("leaky_re_lu_1", {0.01f});
    QVERIFY(custom.build({Shape{4}}).ok());
    Tensor y2 = run(custom, row({-2, -0.5f, 0, 1.5f}));
    QCOMPARE(y2[0], -0.02f);
  }

  void leakyReluGradCheck() {
    LeakyReLU layer("leaky_re_lu", {0.2f});
    Tensor x = awayFromKinks(Shape{3, 4, 4}, -2, 2, {0}, 8);
    auto r = test::buildAndCheck(layer, {x});
    QVERIFY2(r.ok, r.worst.c_str());
    QCOMPARE(r.checked, 48);
  }

  // Softmax layer along the last axis and along a strided inner axis.
  void softmaxLayerForward() {
    Softmax last("softmax");
    QVERIFY(last.build({Shape{3}}).ok());
    Tensor y = run(last, row({1, 2, 3}));
    QVERIFY(std::abs(y[0] - 0.09003057f) < 1e-6f);
    QVERIFY(std::abs(y[2] - 0.66524096f) < 1e-6f);

    // (1, 3, 2): column 0 holds 1, 2, 3 and column 1 holds 5, 5, 5; softmax over axis 1.
    Softmax mid("softmax_1", {1});
    QVERIFY(mid.build({Shape{3, 2}}).ok());
    Tensor x(Shape{1, 3, 2});
    const float v[] = {1, 5, 2, 5, 3, 5};
    std::copy(v, v + 6, x.data());
    Tensor z = run(mid, x);
    const float e[] = {0.09003057f, 1 / 3.0f, 0.24472847f, 1 / 3.0f, 0.66524096f, 1 / 3.0f};
    for (int i = 0; i < 6; ++i) QVERIFY(std::abs(z[size_t(i)] - e[i]) < 1e-6f);
    // axis -2 is the same axis for a rank-2 sample.
    Softmax neg("softmax_2", {-2});
    QVERIFY(neg.build({Shape{3, 2}}).ok());
    Tensor z2 = run(neg, x);
    for (int i = 0; i < 6; ++i) QCOMPARE(z2[size_t(i)], z[size_t(i)]);
  }

  void softmaxLayerGradCheck_data() {
    QTest::addColumn<int>("axis");
    QTest::addRow("last") << -1;
    QTest::addRow("axis1") << 1;
    QTest::addRow("axis2") << 2;
    QTest::addRow("axis-3") << -3;
  }
  void softmaxLayerGradCheck() {
    QFETCH(int, axis);
    Softmax layer("softmax", {axis});
    Rng rng(4);
    Tensor x(Shape{2, 3, 4, 5});
    test::fillUniform(x, rng, -2, 2);
    auto r = test::buildAndCheck(layer, {x});
    QVERIFY2(r.ok, r.worst.c_str());
    QCOMPARE(r.checked, 120);
  }

  void softmaxRejectsBadAxis() {
    Softmax batch("softmax_7", {0});
    auto s = batch.build({Shape{3}});
    QVERIFY(!s.ok());
    QVERIFY(contains(s.error().message, "softmax_7"));
    QVERIFY(contains(s.error().message, "batch"));
    Softmax far("softmax_8", {3});
    auto s2 = far.build({Shape{3}});
    QVERIFY(!s2.ok());
    QVERIFY(contains(s2.error().message, "softmax_8"));
  }
};

QTEST_APPLESS_MAIN(TestActivations)
#include "test_activations.moc"
