// Optimizers and learning-rate schedules against hand-computed updates.
#include <QtTest>

#include <cmath>

#include "engine/train/optimizer.h"

using namespace qat;

namespace {
Param scalarParam(float value, float grad) {
  Param p;
  p.name.assign(1, 'w');  // (not = "w": GCC 12 -Wrestrict false positive)
  p.value = Tensor(Shape{1}, value);
  p.grad = Tensor(Shape{1}, grad);
  return p;
}
}  // namespace

class TestOptimizers : public QObject {
  Q_OBJECT
 private slots:
  void plainSgd() {
    Param p = scalarParam(1.0f, 0.5f);
    Optimizer o({OptimizerKind::SGD, 0.1f}, {&p});
    o.step(0.1f);
    QCOMPARE(p.value[0], 1.0f - 0.05f);
  }
  void sgdMomentumAndNesterov() {
    // Keras: v = μv − lr·g; p += v. Two steps with g = 1, μ = 0.9, lr = 0.1:
    // v1 = −0.1, p = 0.9; v2 = −0.19, p = 0.71.
    Param p = scalarParam(1.0f, 1.0f);
    OptimizerSpec s{OptimizerKind::SGD, 0.1f, 0.9f};
    Optimizer o(s, {&p});
    o.step(0.1f);
    o.step(0.1f);
    QVERIFY(std::abs(p.value[0] - 0.71f) < 1e-6f);
    // Nesterov: p += μ·v − lr·g: step 1: 1 + 0.9·(−0.1) − 0.1 = 0.81
    Param q = scalarParam(1.0f, 1.0f);
    s.nesterov = true;
    Optimizer on(s, {&q});
    on.step(0.1f);
    QVERIFY(std::abs(q.value[0] - 0.81f) < 1e-6f);
  }
  void adamFirstStepIsLrTimesSign() {
    // Step 1: m = 0.1g, v = 0.001g², lr_t = lr·√0.001/0.1 → update ≈ lr·g/|g|.
    Param p = scalarParam(0.0f, -3.0f);
    Optimizer o({OptimizerKind::Adam, 0.01f}, {&p});
    o.step(0.01f);
    QVERIFY(std::abs(p.value[0] - 0.01f) < 1e-6f);
    QCOMPARE(o.iterations(), 1L);
  }
  void adamWDecaysDecoupled() {
    // Zero gradient: Adam does nothing; AdamW shrinks p by lr·λ·p.
    Param p = scalarParam(2.0f, 0.0f);
    OptimizerSpec s{OptimizerKind::AdamW, 0.1f};
    s.weightDecay = 0.5f;
    Optimizer o(s, {&p});
    o.step(0.1f);
    QVERIFY(std::abs(p.value[0] - (2.0f - 0.1f * 0.5f * 2.0f)) < 1e-6f);
  }
  void schedules() {
    ScheduleSpec c;
    QCOMPARE(scheduledRate(c, 0.1f, 500, 1000), 0.1f);
    ScheduleSpec st{ScheduleKind::Step, 100, 0.5f};
    QCOMPARE(scheduledRate(st, 1.0f, 99, 1000), 1.0f);
    QCOMPARE(scheduledRate(st, 1.0f, 250, 1000), 0.25f);
    ScheduleSpec cos{ScheduleKind::Cosine};
    cos.warmupSteps = 10;
    QVERIFY(std::abs(scheduledRate(cos, 1.0f, 0, 110) - 0.1f) < 1e-6f);     // warm-up
    QVERIFY(std::abs(scheduledRate(cos, 1.0f, 10, 110) - 1.0f) < 1e-6f);    // peak
    QVERIFY(std::abs(scheduledRate(cos, 1.0f, 60, 110) - 0.5f) < 1e-6f);    // half way
    QVERIFY(std::abs(scheduledRate(cos, 1.0f, 110, 110) - 0.0f) < 1e-6f);   // end
  }
};

QTEST_APPLESS_MAIN(TestOptimizers)
#include "test_optimizers.moc"
