// Merge layers (Add, Subtract, Multiply, Concatenate): forward values, gradient checks,
// shape errors naming the layer and the shapes, and whole-model gradient checks through
// the Executor where one node feeds several consumers (fan-out) or the same producer feeds
// both inputs of one merge (Add(x, x)).
#include <QtTest>

#include <cmath>

#include "common/gradcheck.h"
#include "engine/graph/executor.h"
#include "engine/graph/model.h"
#include "engine/layers/add.h"
#include "engine/layers/concatenate.h"
#include "engine/layers/dense.h"
#include "engine/layers/multiply.h"
#include "engine/layers/relu.h"
#include "engine/layers/subtract.h"

using namespace qat;

namespace {

Tensor filled(const Shape& s, std::initializer_list<float> v) {
  Tensor t(s);
  QAT_ASSERT(v.size() == t.size());
  std::copy(v.begin(), v.end(), t.data());
  return t;
}

Tensor run(Layer& layer, const std::vector<const Tensor*>& in) {
  Tensor y;
  layer.forward(in, y, RunContext{});
  return y;
}

std::vector<Tensor> randomInputs(const std::vector<Shape>& shapes, uint64_t seed) {
  Rng rng(seed);
  std::vector<Tensor> ts;
  for (const Shape& s : shapes) {
    ts.emplace_back(s);
    test::fillUniform(ts.back(), rng);
  }
  return ts;
}

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

}  // namespace

class TestMergeLayers : public QObject {
  Q_OBJECT
 private slots:
  void elementwiseForward() {
    Tensor a = filled(Shape{1, 3}, {1, 2, 3});
    Tensor b = filled(Shape{1, 3}, {-1, 0.5f, 4});
    Tensor c = filled(Shape{1, 3}, {2, 2, -2});
    Add add("add");
    QVERIFY(add.build({Shape{3}, Shape{3}, Shape{3}}).ok());
    Tensor s = run(add, {&a, &b, &c});
    QCOMPARE(s[0], 2.0f);
    QCOMPARE(s[1], 4.5f);
    QCOMPARE(s[2], 5.0f);
    Subtract sub("subtract");
    QVERIFY(sub.build({Shape{3}, Shape{3}}).ok());
    Tensor d = run(sub, {&a, &b});
    QCOMPARE(d[0], 2.0f);
    QCOMPARE(d[1], 1.5f);
    QCOMPARE(d[2], -1.0f);
    Multiply mul("multiply");
    QVERIFY(mul.build({Shape{3}, Shape{3}, Shape{3}}).ok());
    Tensor p = run(mul, {&a, &b, &c});
    QCOMPARE(p[0], -2.0f);
    QCOMPARE(p[1], 2.0f);
    QCOMPARE(p[2], -24.0f);
  }

  // Multiply's gradient where an input is exactly zero (no division by the output).
  void multiplyGradientAtZero() {
    Multiply mul("multiply");
    QVERIFY(mul.build({Shape{2}, Shape{2}, Shape{2}}).ok());
    Tensor a = filled(Shape{1, 2}, {0, 2});
    Tensor b = filled(Shape{1, 2}, {3, 0});
    Tensor c = filled(Shape{1, 2}, {5, 7});
    Tensor y = run(mul, {&a, &b, &c});
    Tensor dy = filled(Shape{1, 2}, {1, 1});
    Tensor da(a.shape()), db(a.shape()), dc(a.shape());
    std::vector<const Tensor*> in{&a, &b, &c};
    std::vector<Tensor*> din{&da, &db, &dc};
    mul.backward(in, y, dy, din, RunContext{true, nullptr});
    QCOMPARE(da[0], 15.0f);  // b · c
    QCOMPARE(db[1], 14.0f);  // a · c
    QCOMPARE(dc[0], 0.0f);
    QCOMPARE(db[0], 0.0f);
  }

  void elementwiseGradCheck_data() {
    QTest::addColumn<int>("op");
    QTest::addColumn<int>("inputs");
    QTest::addRow("add2") << int(OpType::Add) << 2;
    QTest::addRow("add3") << int(OpType::Add) << 3;
    QTest::addRow("subtract") << int(OpType::Subtract) << 2;
    QTest::addRow("multiply2") << int(OpType::Multiply) << 2;
    QTest::addRow("multiply4") << int(OpType::Multiply) << 4;
  }
  void elementwiseGradCheck() {
    QFETCH(int, op);
    QFETCH(int, inputs);
    std::unique_ptr<Layer> layer;
    if (OpType(op) == OpType::Add) layer = std::make_unique<Add>("add");
    if (OpType(op) == OpType::Subtract) layer = std::make_unique<Subtract>("subtract");
    if (OpType(op) == OpType::Multiply) layer = std::make_unique<Multiply>("multiply");
    auto xs = randomInputs(std::vector<Shape>(size_t(inputs), Shape{3, 2, 4}), 17);
    auto r = test::buildAndCheck(*layer, xs);
    QVERIFY2(r.ok, r.worst.c_str());
    QCOMPARE(r.checked, 24 * inputs);
  }

  void concatenateForward() {
    // Last axis: (1, 2, 2) ++ (1, 2, 1) -> (1, 2, 3)
    Concatenate last("concatenate");
    auto s = last.build({Shape{2, 2}, Shape{2, 1}});
    QVERIFY(s.ok());
    QCOMPARE(s.value(), (Shape{2, 3}));
    Tensor a = filled(Shape{1, 2, 2}, {1, 2, 3, 4});
    Tensor b = filled(Shape{1, 2, 1}, {9, 8});
    Tensor y = run(last, {&a, &b});
    const float e[] = {1, 2, 9, 3, 4, 8};
    for (int i = 0; i < 6; ++i) QCOMPARE(y[size_t(i)], e[i]);

    // Axis 1 (first per-sample axis), two samples: (2, 2, 2) ++ (2, 1, 2) -> (2, 3, 2)
    Concatenate first("concatenate_1", {1});
    QCOMPARE(first.build({Shape{2, 2}, Shape{1, 2}}).value(), (Shape{3, 2}));
    Tensor c = filled(Shape{2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
    Tensor d = filled(Shape{2, 1, 2}, {-1, -2, -3, -4});
    Tensor z = run(first, {&c, &d});
    QCOMPARE(z.shape(), (Shape{2, 3, 2}));
    const float f[] = {1, 2, 3, 4, -1, -2, 5, 6, 7, 8, -3, -4};
    for (int i = 0; i < 12; ++i) QCOMPARE(z[size_t(i)], f[i]);

    // Axis -2 is the same axis as 1 for a rank-2 sample.
    Concatenate neg("concatenate_2", {-2});
    QVERIFY(neg.build({Shape{2, 2}, Shape{1, 2}}).ok());
    Tensor z2 = run(neg, {&c, &d});
    for (size_t i = 0; i < z.size(); ++i) QCOMPARE(z2[i], z[i]);
  }

  void concatenateGradCheck_data() {
    QTest::addColumn<int>("axis");
    QTest::addRow("axis-1") << -1;
    QTest::addRow("axis1") << 1;
    QTest::addRow("axis2") << 2;
    QTest::addRow("axis3") << 3;
    QTest::addRow("axis-3") << -3;
  }
  void concatenateGradCheck() {
    QFETCH(int, axis);
    // Three inputs of (4, 3, 2) per sample with the concatenation axis resized.
    const int pa = (axis < 0 ? 4 + axis : axis) - 1;
    std::vector<Shape> shapes;
    for (int k : {1, 2, 3}) {
      Shape s{2, 4, 3, 2};
      s[pa + 1] = k;
      shapes.push_back(s);
    }
    Concatenate layer("concatenate", {axis});
    auto xs = randomInputs(shapes, 23);
    auto r = test::buildAndCheck(layer, xs);
    QVERIFY2(r.ok, r.worst.c_str());
    int total = 0;
    for (auto& x : xs) total += int(x.size());
    QCOMPARE(r.checked, total);
  }

  void shapeErrorsNameLayerAndShapes() {
    Add add("add_7");
    auto s = add.build({Shape{3}, Shape{4}});
    QVERIFY(!s.ok());
    QVERIFY2(contains(s.error().message, "add_7"), s.error().message.c_str());
    QVERIFY2(contains(s.error().message, "(3,)") && contains(s.error().message, "(4,)"),
             s.error().message.c_str());
    Multiply mul("multiply_2");
    auto m = mul.build({Shape{2, 3}, Shape{2, 3}, Shape{3, 2}});
    QVERIFY(!m.ok());
    QVERIFY(contains(m.error().message, "multiply_2"));
    QVERIFY(contains(m.error().message, "(3, 2)"));
    Subtract sub("subtract_1");
    QCOMPARE(sub.arity(), 2);
    auto t = sub.build({Shape{3}, Shape{3}, Shape{3}});
    QVERIFY(!t.ok());
    QVERIFY(contains(t.error().message, "subtract_1"));
    QVERIFY(!sub.build({Shape{3}, Shape{2}}).ok());

    Concatenate cat("concatenate_4");
    auto c = cat.build({Shape{4, 4, 3}, Shape{4, 5, 3}});  // differ off the axis
    QVERIFY(!c.ok());
    QVERIFY(contains(c.error().message, "concatenate_4"));
    QVERIFY(contains(c.error().message, "(4, 5, 3)"));
    QVERIFY(!cat.build({Shape{4, 3}, Shape{3}}).ok());  // rank differs
    Concatenate batch("concatenate_5", {0});
    auto b = batch.build({Shape{3}, Shape{3}});
    QVERIFY(!b.ok());
    QVERIFY(contains(b.error().message, "batch"));
    Concatenate far("concatenate_6", {3});
    QVERIFY(!far.build({Shape{3}, Shape{3}}).ok());
  }

  void modelRejectsSingleInputMerge() {
    Model m;
    const int in = m.addInput("in", Shape{3});
    const int a = m.add<Add>({in}, "add_single");
    m.setOutputs({a});
    auto s = m.build();
    QVERIFY(!s.ok());
    QVERIFY(contains(s.error().message, "add_single"));
  }

  // input -> Dense -> (ReLU, Dense) -> Add -> Concatenate(with input) -> Dense.
  // The first Dense's output fans out to two consumers and the input to two: the executor
  // must sum both gradient contributions into each.
  void modelFanOutGradCheck() {
    Model m;
    const int in = m.addInput("in", Shape{4});
    const int d1 = m.add<Dense>({in}, "dense", DenseOptions{5, true, ActivationFn::Linear});
    const int r = m.add<ReLU>({d1}, "re_lu");
    const int d2 = m.add<Dense>({d1}, "dense_1", DenseOptions{5, true, ActivationFn::Tanh});
    const int sum = m.add<Add>({r, d2}, "add");
    const int cat = m.add<Concatenate>({sum, in}, "concatenate");
    const int out = m.add<Dense>({cat}, "dense_2", DenseOptions{3, true, ActivationFn::Linear});
    m.setOutputs({out});
    QVERIFY(m.build().ok());
    QCOMPARE(m.node(cat).shape, (Shape{9}));
    // The ReLU's inputs must sit away from its kink for central differences to be valid:
    // take the first initialisation seed whose pre-activations all clear it by 0.05.
    auto xs = randomInputs({Shape{6, 4}}, 31);
    float nearest = 0;
    for (uint64_t seed = 1; seed < 100 && nearest <= 0.05f; ++seed) {
      Rng rng(seed);
      m.initialize(rng);
      Executor ex(m);
      ex.forward({&xs[0]}, RunContext{true, nullptr});
      const Tensor& z = ex.activation(d1);
      nearest = 1e9f;
      for (size_t i = 0; i < z.size(); ++i) nearest = std::min(nearest, std::abs(z[i]));
    }
    QVERIFY2(nearest > 0.05f, qPrintable(QString::number(nearest)));

    auto res = test::gradCheckModel(m, xs);
    QVERIFY2(res.ok, res.worst.c_str());
    QCOMPARE(res.checked, (4 * 5 + 5) + (5 * 5 + 5) + (9 * 3 + 3));
  }

  // The same producer on both inputs of one merge: Add(x, x), Multiply(x, x) (= x²) and
  // Concatenate(x, x).
  void modelSameProducerTwice_data() {
    QTest::addColumn<int>("op");
    QTest::addRow("add") << int(OpType::Add);
    QTest::addRow("multiply") << int(OpType::Multiply);
    QTest::addRow("concatenate") << int(OpType::Concatenate);
  }
  void modelSameProducerTwice() {
    QFETCH(int, op);
    Model m;
    const int in = m.addInput("in", Shape{3});
    const int d = m.add<Dense>({in}, "dense", DenseOptions{4, true, ActivationFn::Linear});
    int merge = -1;
    if (OpType(op) == OpType::Add) merge = m.add<Add>({d, d}, "add");
    if (OpType(op) == OpType::Multiply) merge = m.add<Multiply>({d, d}, "multiply");
    if (OpType(op) == OpType::Concatenate) merge = m.add<Concatenate>({d, d}, "concatenate");
    const int out = m.add<Dense>({merge}, "dense_1", DenseOptions{2, true, ActivationFn::Linear});
    m.setOutputs({out});
    QVERIFY(m.build().ok());
    Rng rng(9);
    m.initialize(rng);
    auto xs = randomInputs({Shape{5, 3}}, 41);
    auto res = test::gradCheckModel(m, xs);
    QVERIFY2(res.ok, res.worst.c_str());
    const int mergedWidth = OpType(op) == OpType::Concatenate ? 8 : 4;
    QCOMPARE(res.checked, (3 * 4 + 4) + (mergedWidth * 2 + 2));

    // Add(x, x) doubles the gradient reaching x: check the first Dense's bias gradient
    // against the closed form for an all-ones output gradient.
    if (OpType(op) == OpType::Add) {
      Executor ex(m);
      Rng frng(1);
      m.zeroGrad();
      ex.forward({&xs[0]}, RunContext{true, &frng});
      Tensor dOut(Shape{5, 2}, 1.0f);
      ex.backward({&dOut}, RunContext{true, &frng});
      // dL/d(bias_j) = Σ_n Σ_k 2 · W1[j, k] for the all-ones output gradient.
      Param& w1 = *m.node(out).layer->params()[0];
      Param& b0 = *m.node(d).layer->params()[1];
      for (int j = 0; j < 4; ++j) {
        const float expected = 5 * 2 * (w1.value[size_t(j * 2)] + w1.value[size_t(j * 2 + 1)]);
        QVERIFY(std::abs(b0.grad[size_t(j)] - expected) < 1e-4f);
      }
    }
  }
};

QTEST_APPLESS_MAIN(TestMergeLayers)
#include "test_merge_layers.moc"
