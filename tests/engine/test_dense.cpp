// Dense layer: forward against hand-computed values, gradient check, in-layer activation.
#include <QtTest>

#include "common/gradcheck.h"
#include "engine/layers/dense.h"

using namespace qat;

class TestDense : public QObject {
  Q_OBJECT
 private slots:
  void forwardMatchesHandComputed() {
    Dense d("dense", {2, true, ActivationFn::Linear});
    QVERIFY(d.build({Shape{3}}).ok());
    // kernel (3, 2), bias (2)
    const float k[] = {1, 2, 3, 4, 5, 6};
    std::copy(k, k + 6, d.kernel().value.data());
    d.bias().value[0] = 0.5f;
    d.bias().value[1] = -1.0f;
    Tensor x(Shape{1, 3});
    x[0] = 1; x[1] = -1; x[2] = 2;
    Tensor y;
    Tensor* xp = &x;
    d.forward(std::span<const Tensor* const>(&xp, 1), y, RunContext{});
    QCOMPARE(y.shape(), (Shape{1, 2}));
    QCOMPARE(y[0], 1.0f - 3.0f + 10.0f + 0.5f);
    QCOMPARE(y[1], 2.0f - 4.0f + 12.0f - 1.0f);
  }
  void gradCheck_data() {
    QTest::addColumn<int>("act");
    QTest::addColumn<int>("rank");
    QTest::addRow("linear") << int(ActivationFn::Linear) << 1;
    QTest::addRow("relu") << int(ActivationFn::Relu) << 1;
    QTest::addRow("tanh-rank3") << int(ActivationFn::Tanh) << 3;
    QTest::addRow("softmax") << int(ActivationFn::Softmax) << 1;
  }
  void gradCheck() {
    QFETCH(int, act);
    QFETCH(int, rank);
    Dense d("dense", {4, true, ActivationFn(act)});
    Rng rng(3);
    Tensor x(rank == 1 ? Shape{3, 5} : Shape{2, 3, 2, 5});
    test::fillUniform(x, rng);
    auto r = test::buildAndCheck(d, {x});
    QVERIFY2(r.ok, r.worst.c_str());
    QVERIFY(r.checked > 20);
  }
  void rejectsBadConfig() {
    Dense d("dense_9", {0, true, ActivationFn::Linear});
    auto s = d.build({Shape{3}});
    QVERIFY(!s.ok());
    QVERIFY(s.error().message.find("dense_9") != std::string::npos);
  }
};

QTEST_APPLESS_MAIN(TestDense)
#include "test_dense.moc"
