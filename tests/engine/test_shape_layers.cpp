// Reshape, Dropout and Rescaling: forward values, gradient checks, the dropout mask's
// statistics and reproducibility, and build errors naming the layer.
#include <QtTest>

#include <cmath>

#include "common/gradcheck.h"
#include "engine/layers/dropout.h"
#include "engine/layers/reshape.h"
#include "engine/layers/rescaling.h"

using namespace qat;

namespace {

Tensor run(Layer& layer, const Tensor& x, bool training, Rng* rng = nullptr) {
  Tensor y;
  const Tensor* xp = &x;
  layer.forward(TensorList(&xp, 1), y, RunContext{training, rng});
  return y;
}

Tensor grad(Layer& layer, const Tensor& x, const Tensor& y, const Tensor& dy, bool training) {
  Tensor dx(x.shape());
  const Tensor* xp = &x;
  Tensor* dxp = &dx;
  layer.backward(TensorList(&xp, 1), y, dy, GradList(&dxp, 1), RunContext{training, nullptr});
  return dx;
}

Tensor iota(const Shape& s, float start = 1.0f) {
  Tensor t(s);
  for (size_t i = 0; i < t.size(); ++i) t[i] = start + float(i);
  return t;
}

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

}  // namespace

class TestShapeLayers : public QObject {
  Q_OBJECT
 private slots:
  void reshapeInfersMinusOne() {
    Reshape r("reshape", {{3, -1}});
    auto s = r.build({Shape{2, 6}});
    QVERIFY(s.ok());
    QCOMPARE(s.value(), (Shape{3, 4}));
    Tensor x = iota(Shape{2, 2, 6});
    Tensor y = run(r, x, false);
    QCOMPARE(y.shape(), (Shape{2, 3, 4}));
    for (size_t i = 0; i < x.size(); ++i) QCOMPARE(y[i], x[i]);  // row-major order kept
    Reshape flat("reshape_1", {{-1}});
    QCOMPARE(flat.build({Shape{4, 4, 2}}).value(), (Shape{32}));
  }

  void reshapeGradCheck() {
    Reshape r("reshape", {{5, 2, -1}});
    Rng rng(1);
    Tensor x(Shape{3, 10, 3});
    test::fillUniform(x, rng);
    auto res = test::buildAndCheck(r, {x});
    QVERIFY2(res.ok, res.worst.c_str());
    QCOMPARE(res.checked, 90);
  }

  void reshapeErrors_data() {
    QTest::addColumn<QList<int>>("target");
    QTest::addColumn<QString>("what");
    QTest::addRow("count") << QList<int>{5, 5} << QStringLiteral("(5, 5)");
    QTest::addRow("two-unknown") << QList<int>{-1, -1} << QStringLiteral("only one -1");
    QTest::addRow("not-divisible") << QList<int>{7, -1} << QStringLiteral("(7, -1)");
    QTest::addRow("zero") << QList<int>{0, 12} << QStringLiteral("non-positive");
  }
  void reshapeErrors() {
    QFETCH(QList<int>, target);
    QFETCH(QString, what);
    Reshape r("reshape_5", {std::vector<int>(target.begin(), target.end())});
    auto s = r.build({Shape{3, 4}});
    QVERIFY(!s.ok());
    QVERIFY2(contains(s.error().message, "reshape_5"), s.error().message.c_str());
    QVERIFY2(contains(s.error().message, what.toStdString()), s.error().message.c_str());
  }

  void dropoutInferenceIsIdentity() {
    Dropout d("dropout", {0.5f});
    QVERIFY(d.build({Shape{8}}).ok());
    Tensor x = iota(Shape{4, 8});
    Tensor y = run(d, x, false);  // no Rng needed outside training
    for (size_t i = 0; i < x.size(); ++i) QCOMPARE(y[i], x[i]);
    Tensor dy = iota(Shape{4, 8}, -3.0f);
    Tensor dx = grad(d, x, y, dy, false);
    for (size_t i = 0; i < x.size(); ++i) QCOMPARE(dx[i], dy[i]);
  }

  void dropoutTrainingStatistics_data() {
    QTest::addColumn<float>("rate");
    QTest::addRow("0.1") << 0.1f;
    QTest::addRow("0.3") << 0.3f;
    QTest::addRow("0.5") << 0.5f;
    QTest::addRow("0.9") << 0.9f;
  }
  void dropoutTrainingStatistics() {
    QFETCH(float, rate);
    Dropout d("dropout", {rate});
    QVERIFY(d.build({Shape{1000}}).ok());
    Tensor x(Shape{200, 1000}, 2.0f);
    Rng rng(42);
    Tensor y = run(d, x, true, &rng);
    size_t zeros = 0;
    const float kept = 2.0f / (1.0f - rate);
    for (size_t i = 0; i < y.size(); ++i) {
      if (y[i] == 0.0f) {
        ++zeros;
      } else {
        QCOMPARE(y[i], kept);  // survivors scaled by 1 / (1 − rate)
      }
    }
    // 200k Bernoulli draws: the standard deviation of the fraction is < 0.0012.
    const double frac = double(zeros) / double(y.size());
    QVERIFY2(std::abs(frac - rate) < 0.006, qPrintable(QString::number(frac)));
    // The expected value is preserved (inverted dropout).
    double mean = 0;
    for (size_t i = 0; i < y.size(); ++i) mean += y[i];
    mean /= double(y.size());
    QVERIFY2(std::abs(mean - 2.0) < 0.05 * (1 + rate / (1 - rate)), qPrintable(QString::number(mean)));
    // Backward applies the same mask: zero where dropped, 1 / (1 − rate) elsewhere.
    Tensor dy(x.shape(), 1.0f);
    Tensor dx = grad(d, x, y, dy, true);
    for (size_t i = 0; i < y.size(); ++i) QCOMPARE(dx[i], y[i] == 0.0f ? 0.0f : kept / 2.0f);
  }

  void dropoutSameSeedSameMask() {
    Dropout d("dropout", {0.5f});
    QVERIFY(d.build({Shape{33}}).ok());  // odd count: the last value draws alone
    Tensor x(Shape{3, 33}, 1.0f);
    Rng a(7), b(7), c(8);
    Tensor ya = run(d, x, true, &a);
    Tensor yb = run(d, x, true, &b);
    Tensor yc = run(d, x, true, &c);
    int differ = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      QCOMPARE(ya[i], yb[i]);
      differ += ya[i] != yc[i];
    }
    QVERIFY(differ > 10);  // another seed, another mask
    // Consecutive steps from one Rng draw fresh masks.
    Tensor ya2 = run(d, x, true, &a);
    int differ2 = 0;
    for (size_t i = 0; i < x.size(); ++i) differ2 += ya[i] != ya2[i];
    QVERIFY(differ2 > 10);
  }

  void dropoutRateZeroAndErrors() {
    Dropout zero("dropout", {0.0f});
    QVERIFY(zero.build({Shape{5}}).ok());
    Tensor x = iota(Shape{2, 5});
    Rng rng(1);
    Tensor y = run(zero, x, true, &rng);
    for (size_t i = 0; i < x.size(); ++i) QCOMPARE(y[i], x[i]);
    for (float bad : {1.0f, -0.1f, 1.5f}) {
      Dropout d("dropout_4", {bad});
      auto s = d.build({Shape{5}});
      QVERIFY(!s.ok());
      QVERIFY(contains(s.error().message, "dropout_4"));
      QVERIFY(contains(s.error().message, "rate"));
    }
  }

  void dropoutGradCheck_data() {
    QTest::addColumn<bool>("training");
    QTest::addRow("training") << true;
    QTest::addRow("inference") << false;
  }
  void dropoutGradCheck() {
    QFETCH(bool, training);
    Dropout d("dropout", {0.4f});
    Rng rng(3);
    Tensor x(Shape{4, 3, 5});
    test::fillUniform(x, rng);
    test::GradCheckOptions opt;
    opt.training = training;  // the check reseeds the Rng per forward: the mask repeats
    auto r = test::buildAndCheck(d, {x}, opt);
    QVERIFY2(r.ok, r.worst.c_str());
    QCOMPARE(r.checked, 60);
  }

  void rescalingForward() {
    Rescaling r("rescaling", {1.0f / 127.5f, -1.0f});
    QVERIFY(r.build({Shape{3}}).ok());
    Tensor x(Shape{1, 3});
    x[0] = 0;
    x[1] = 127.5f;
    x[2] = 255;
    Tensor y = run(r, x, false);
    QCOMPARE(y[0], -1.0f);
    QCOMPARE(y[1], 0.0f);
    QCOMPARE(y[2], 1.0f);
    Tensor dy(Shape{1, 3}, 2.0f);
    Tensor dx = grad(r, x, y, dy, true);
    QCOMPARE(dx[1], 2.0f / 127.5f);
  }

  void rescalingGradCheck() {
    Rescaling r("rescaling", {0.5f, 0.25f});
    Rng rng(2);
    Tensor x(Shape{2, 4, 4, 2});
    test::fillUniform(x, rng);
    auto res = test::buildAndCheck(r, {x});
    QVERIFY2(res.ok, res.worst.c_str());
    QCOMPARE(res.checked, 64);
  }

  void rescalingRejectsNonFinite() {
    Rescaling r("rescaling_2", {std::nanf(""), 0.0f});
    auto s = r.build({Shape{3}});
    QVERIFY(!s.ok());
    QVERIFY(contains(s.error().message, "rescaling_2"));
  }
};

QTEST_APPLESS_MAIN(TestShapeLayers)
#include "test_shape_layers.moc"
