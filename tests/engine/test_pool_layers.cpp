// Pooling and padding layers: MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D,
// GlobalMaxPooling2D, ZeroPadding2D. Hand-computed forwards, gradient checks, errors.
#include <QtTest>

#include <algorithm>
#include <numeric>

#include "common/gradcheck.h"
#include "engine/layers/average_pooling2d.h"
#include "engine/layers/global_average_pooling2d.h"
#include "engine/layers/global_max_pooling2d.h"
#include "engine/layers/max_pooling2d.h"
#include "engine/layers/zero_padding2d.h"

using namespace qat;

namespace {

Tensor run(Layer& l, const Tensor& x, bool training = false) {
  const Tensor* p = &x;
  Tensor y;
  l.forward(TensorList(&p, 1), y, RunContext{training, nullptr});
  return y;
}

Tensor iota(Shape s) {
  Tensor t(std::move(s));
  for (size_t i = 0; i < t.size(); ++i) t[i] = float(i + 1);
  return t;
}

// Distinct values 0.05 apart in random order: the finite-difference step (0.01) never
// changes which cell is the maximum.
Tensor distinct(Shape s, uint64_t seed) {
  Tensor t(std::move(s));
  std::vector<float> v(t.size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = -1.0f + 0.05f * float(i);
  Rng rng(seed);
  std::shuffle(v.begin(), v.end(), rng.engine());
  std::copy(v.begin(), v.end(), t.data());
  return t;
}

Tensor random(Shape s, uint64_t seed) {
  Tensor t(std::move(s));
  Rng rng(seed);
  test::fillUniform(t, rng);
  return t;
}

bool mentions(const Error& e, const char* what) { return e.message.find(what) != std::string::npos; }

}  // namespace

Q_DECLARE_METATYPE(Pooling2DOptions)
Q_DECLARE_METATYPE(Shape)

class TestPoolLayers : public QObject {
  Q_OBJECT
 private slots:
  void maxPoolHandComputed() {
    MaxPooling2D p("pool");  // 2x2, stride 2, valid
    QCOMPARE(p.build({Shape{4, 4, 1}}).value(), (Shape{2, 2, 1}));
    // 1  2  3  4 / 5  6  7  8 / 9 10 11 12 / 13 14 15 16 with a twist: 20 in the corner.
    Tensor x = iota(Shape{1, 4, 4, 1});
    x[0] = 20;
    const Tensor y = run(p, x, true);
    QCOMPARE(y[0], 20.0f);
    QCOMPARE(y[1], 8.0f);
    QCOMPARE(y[2], 14.0f);
    QCOMPARE(y[3], 16.0f);
    // backward routes each dout to its window's maximum
    Tensor dout(Shape{1, 2, 2, 1});
    dout[0] = 1; dout[1] = 2; dout[2] = 3; dout[3] = 4;
    Tensor dx(x.shape(), 9.0f);
    Tensor* dp = &dx;
    const Tensor* xp = &x;
    p.backward(TensorList(&xp, 1), y, dout, GradList(&dp, 1), RunContext{true, nullptr});
    for (size_t i = 0; i < 16; ++i) {
      const float want = i == 0 ? 1 : i == 7 ? 2 : i == 13 ? 3 : i == 15 ? 4 : 0;
      QCOMPARE(dx[i], want);
    }
  }

  void avgPoolSameHandComputed() {
    // 3x3 input, pool 2 stride 2 'same': padding only at the bottom/right, and the
    // partial windows divide by their real cell count.
    AveragePooling2D p("avg", {2, 2, 0, 0, Padding::Same});
    QCOMPARE(p.build({Shape{3, 3, 1}}).value(), (Shape{2, 2, 1}));
    const Tensor y = run(p, iota(Shape{1, 3, 3, 1}));
    QCOMPARE(y[0], 3.0f);  // (1 + 2 + 4 + 5) / 4
    QCOMPARE(y[1], 4.5f);  // (3 + 6) / 2
    QCOMPARE(y[2], 7.5f);  // (7 + 8) / 2
    QCOMPARE(y[3], 9.0f);
  }

  void poolGradCheck_data() {
    QTest::addColumn<bool>("isMax");
    QTest::addColumn<Pooling2DOptions>("opt");
    QTest::addColumn<Shape>("in");
    // poolH, poolW, strideH (0 = pool), strideW, padding
    for (bool isMax : {true, false}) {
      const char* k = isMax ? "max" : "avg";
      QTest::addRow("%s-2x2-valid-odd", k) << isMax << Pooling2DOptions{2, 2, 0, 0, Padding::Valid} << Shape{2, 5, 5, 3};
      QTest::addRow("%s-2x2-same-odd", k) << isMax << Pooling2DOptions{2, 2, 0, 0, Padding::Same} << Shape{2, 5, 3, 2};
      QTest::addRow("%s-3x3-stride1-same", k) << isMax << Pooling2DOptions{3, 3, 1, 1, Padding::Same} << Shape{1, 4, 5, 2};
      QTest::addRow("%s-3x2-stride2x1", k) << isMax << Pooling2DOptions{3, 2, 2, 1, Padding::Valid} << Shape{2, 7, 4, 2};
    }
  }
  void poolGradCheck() {
    QFETCH(bool, isMax);
    QFETCH(Pooling2DOptions, opt);
    QFETCH(Shape, in);
    std::unique_ptr<Layer> l;
    if (isMax) l = std::make_unique<MaxPooling2D>("pool", opt);
    else l = std::make_unique<AveragePooling2D>("pool", opt);
    auto r = test::buildAndCheck(*l, {distinct(in, 5)});
    QVERIFY2(r.ok, r.worst.c_str());
    QVERIFY(r.checked > 20);
  }

  void poolShapesAndErrors() {
    MaxPooling2D s("pool_s", {3, 3, 2, 2, Padding::Same});
    QCOMPARE(s.build({Shape{7, 8, 4}}).value(), (Shape{4, 4, 4}));
    QCOMPARE(s.geometry().padTop, 1);
    QCOMPARE(s.geometry().padLeft, 0);   // pad_total (3·2 + 3 − 8) = 1 -> all on the right
    QCOMPARE(s.geometry().padRight, 1);
    MaxPooling2D big("pool_big", {5, 5});
    auto r = big.build({Shape{4, 8, 2}});
    QVERIFY(!r.ok());
    QVERIFY(mentions(r.error(), "pool_big"));
    QVERIFY(mentions(r.error(), "valid"));
    AveragePooling2D zero("avg_zero", {0, 2});
    r = zero.build({Shape{4, 4, 2}});
    QVERIFY(!r.ok());
    QVERIFY(mentions(r.error(), "avg_zero"));
    AveragePooling2D rank("avg_rank");
    r = rank.build({Shape{16}});
    QVERIFY(!r.ok());
    QVERIFY(mentions(r.error(), "avg_rank"));
  }

  void globalPoolHandComputed() {
    // 2x2x2: channel 0 = 1 2 3 4, channel 1 = 5 6 7 8 (interleaved)
    const Tensor x = iota(Shape{1, 2, 2, 2});
    GlobalAveragePooling2D gap("gap");
    QCOMPARE(gap.build({Shape{2, 2, 2}}).value(), (Shape{2}));
    Tensor y = run(gap, x);
    QCOMPARE(y[0], 4.0f);  // (1 + 3 + 5 + 7) / 4
    QCOMPARE(y[1], 5.0f);
    GlobalMaxPooling2D gmp("gmp", {true});
    QCOMPARE(gmp.build({Shape{2, 2, 2}}).value(), (Shape{1, 1, 2}));
    y = run(gmp, x);
    QCOMPARE(y.shape(), (Shape{1, 1, 1, 2}));
    QCOMPARE(y[0], 7.0f);
    QCOMPARE(y[1], 8.0f);
    GlobalAveragePooling2D keep("gap_keep", {true});
    QCOMPARE(keep.build({Shape{3, 5, 6}}).value(), (Shape{1, 1, 6}));
    GlobalMaxPooling2D bad("gmp_bad");
    auto r = bad.build({Shape{3, 5}});
    QVERIFY(!r.ok());
    QVERIFY(mentions(r.error(), "gmp_bad"));
  }

  void globalPoolGradCheck_data() {
    QTest::addColumn<bool>("isMax");
    QTest::addColumn<bool>("keepDims");
    QTest::addRow("gap") << false << false;
    QTest::addRow("gap-keepdims") << false << true;
    QTest::addRow("gmp") << true << false;
    QTest::addRow("gmp-keepdims") << true << true;
  }
  void globalPoolGradCheck() {
    QFETCH(bool, isMax);
    QFETCH(bool, keepDims);
    std::unique_ptr<Layer> l;
    if (isMax) l = std::make_unique<GlobalMaxPooling2D>("g", GlobalPooling2DOptions{keepDims});
    else l = std::make_unique<GlobalAveragePooling2D>("g", GlobalPooling2DOptions{keepDims});
    auto r = test::buildAndCheck(*l, {distinct(Shape{2, 3, 4, 3}, 8)});
    QVERIFY2(r.ok, r.worst.c_str());
    QCOMPARE(r.checked, 72);
  }

  void zeroPaddingHandComputed() {
    ZeroPadding2D z("pad", {1, 0, 2, 1});
    QCOMPARE(z.build({Shape{2, 2, 1}}).value(), (Shape{3, 5, 1}));
    const Tensor y = run(z, iota(Shape{1, 2, 2, 1}));
    const float want[] = {0, 0, 0, 0, 0,
                          0, 0, 1, 2, 0,
                          0, 0, 3, 4, 0};
    for (int i = 0; i < 15; ++i) QCOMPARE(y[size_t(i)], want[i]);
    ZeroPadding2D neg("pad_neg", {1, -1, 0, 0});
    auto r = neg.build({Shape{2, 2, 1}});
    QVERIFY(!r.ok());
    QVERIFY(mentions(r.error(), "pad_neg"));
  }
  void zeroPaddingGradCheck() {
    ZeroPadding2D z("pad", {2, 1, 0, 3});
    auto r = test::buildAndCheck(z, {random(Shape{2, 3, 2, 2}, 3)});
    QVERIFY2(r.ok, r.worst.c_str());
    QCOMPARE(r.checked, 24);
  }
};

QTEST_APPLESS_MAIN(TestPoolLayers)
#include "test_pool_layers.moc"
