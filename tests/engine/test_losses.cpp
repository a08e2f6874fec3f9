// Losses and metrics: hand-computed values and finite-difference gradients.
#include <QtTest>

#include <cmath>

#include "engine/train/loss.h"
#include "engine/train/metrics.h"

using namespace qat;

namespace {

Tensor make(Shape s, std::vector<float> v) {
  Tensor t(std::move(s));
  std::copy(v.begin(), v.end(), t.data());
  return t;
}

// Central differences of computeLoss w.r.t. every prediction element.
double maxGradError(const LossSpec& spec, Tensor pred, const std::vector<int>& labels,
                    const Tensor& targets) {
  Tensor grad, scratch;
  computeLoss(spec, pred, labels, targets, grad);
  double worst = 0;
  const float eps = 1e-3f;
  for (size_t i = 0; i < pred.size(); ++i) {
    const float s = pred[i];
    pred[i] = s + eps;
    const double lp = computeLoss(spec, pred, labels, targets, scratch);
    pred[i] = s - eps;
    const double lm = computeLoss(spec, pred, labels, targets, scratch);
    pred[i] = s;
    worst = std::max(worst, std::abs((lp - lm) / (2 * eps) - grad[i]));
  }
  return worst;
}

}  // namespace

class TestLosses : public QObject {
  Q_OBJECT
 private slots:
  void sparseFromLogitsHandValue() {
    // logits (1, 3) = [1, 2, 3], label 2: loss = −log(e³ / (e + e² + e³))
    Tensor p = make(Shape{1, 3}, {1, 2, 3});
    Tensor g;
    const double loss = computeLoss({LossKind::SparseCategoricalCrossentropy, true}, p, {2}, Tensor(), g);
    const double expect = -std::log(std::exp(3.0) / (std::exp(1.0) + std::exp(2.0) + std::exp(3.0)));
    QVERIFY(std::abs(loss - expect) < 1e-6);
    // gradient = softmax − onehot
    const double s0 = std::exp(1.0) / (std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
    QVERIFY(std::abs(g[0] - s0) < 1e-6);
    QVERIFY(g[2] < 0);
  }
  void sparseFromLogitsIsStableForHugeLogits() {
    Tensor p = make(Shape{2, 2}, {1000.0f, -1000.0f, -1000.0f, 1000.0f});
    Tensor g;
    const double loss = computeLoss({LossKind::SparseCategoricalCrossentropy, true}, p, {1, 1}, Tensor(), g);
    QVERIFY(std::isfinite(loss));
    QVERIFY(std::abs(loss - 1000.0) < 1e-3);  // first row: −log softmax = 2000, mean 1000
    for (size_t i = 0; i < g.size(); ++i) QVERIFY(std::isfinite(g[i]));
  }
  void probabilitiesAreClampedLikeKeras() {
    Tensor p = make(Shape{1, 2}, {1.0f, 0.0f});
    Tensor g;
    const double loss = computeLoss({LossKind::SparseCategoricalCrossentropy, false}, p, {1}, Tensor(), g);
    QVERIFY(std::abs(loss - (-std::log(1e-7))) < 1e-6);
  }
  void binaryAndMseHandValues() {
    Tensor p = make(Shape{2, 1}, {0.8f, 0.1f});
    Tensor t = make(Shape{2, 1}, {1.0f, 0.0f});
    Tensor g;
    double l = computeLoss({LossKind::BinaryCrossentropy, false}, p, {}, t, g);
    QVERIFY(std::abs(l - 0.5 * (-std::log(0.8) - std::log(0.9))) < 1e-6);
    l = computeLoss({LossKind::MeanSquaredError, false}, p, {}, t, g);
    QVERIFY(std::abs(l - 0.5 * (0.04 + 0.01)) < 1e-6);
    QVERIFY(std::abs(g[0] - (-0.2f)) < 1e-6);  // 2·(0.8−1)/2
  }
  void gradients_data() {
    QTest::addColumn<int>("kind");
    QTest::addColumn<bool>("logits");
    QTest::addRow("sparse-logits") << int(LossKind::SparseCategoricalCrossentropy) << true;
    QTest::addRow("sparse-probs") << int(LossKind::SparseCategoricalCrossentropy) << false;
    QTest::addRow("onehot-logits") << int(LossKind::CategoricalCrossentropy) << true;
    QTest::addRow("onehot-probs") << int(LossKind::CategoricalCrossentropy) << false;
    QTest::addRow("binary-logits") << int(LossKind::BinaryCrossentropy) << true;
    QTest::addRow("binary-probs") << int(LossKind::BinaryCrossentropy) << false;
    QTest::addRow("mse") << int(LossKind::MeanSquaredError) << false;
  }
  void gradients() {
    QFETCH(int, kind);
    QFETCH(bool, logits);
    const LossSpec spec{LossKind(kind), logits};
    // Probabilities strictly inside (0, 1) so the clamp is inactive.
    Tensor pred = make(Shape{2, 3}, {0.2f, 0.5f, 0.3f, 0.6f, 0.1f, 0.3f});
    if (logits) pred = make(Shape{2, 3}, {1.5f, -0.5f, 0.25f, -2.0f, 0.7f, 0.1f});
    Tensor targets = make(Shape{2, 3}, {0, 1, 0, 1, 0, 0});
    if (LossKind(kind) == LossKind::BinaryCrossentropy || LossKind(kind) == LossKind::MeanSquaredError)
      targets = make(Shape{2, 3}, {0.0f, 1.0f, 0.3f, 1.0f, 0.0f, 0.8f});
    const double err = maxGradError(spec, pred, {1, 0}, targets);
    QVERIFY2(err < 2e-3, qPrintable(QString::number(err)));
  }
  void topK() {
    Tensor p = make(Shape{3, 3}, {0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f, 0.2f, 0.2f, 0.6f});
    QCOMPARE(countTopK(p, {1, 1, 0}, 1), 1);
    QCOMPARE(countTopK(p, {1, 1, 0}, 2), 3);  // row 3: classes 0 and 1 tie; 0 wins the tie
    QCOMPARE(argmaxRow(p.data() + 6, 3), 2);
  }
  void namesRoundTrip() {
    for (auto k : {LossKind::SparseCategoricalCrossentropy, LossKind::CategoricalCrossentropy,
                   LossKind::BinaryCrossentropy, LossKind::MeanSquaredError})
      QCOMPARE(lossFromName(lossName(k)).value(), k);
    QVERIFY(!lossFromName("hinge").has_value());
  }
};

QTEST_APPLESS_MAIN(TestLosses)
#include "test_losses.moc"
