// freeze: QAT model → integer graph. The built-in models (both BN modes) after calibration
// (and a short QAT on Fashion-MNIST when the Debian data set is installed): the integer
// interpreter's dequantized outputs agree with the fake-quant model; graph structure
// (fused activations, per-channel conv weights, int32 bias scales, weights on the QAT
// grid); freezeFloat equals the float model; refusals name layer and class.
#include <QtTest>

#include <cmath>

#include "common/freeze_test_util.h"
#include "engine/data/data_source.h"
#include "engine/deploy/freeze.h"
#include "engine/deploy/interpreter.h"
#include "engine/layers/conv2d.h"
#include "engine/layers/dense.h"
#include "engine/layers/global_max_pooling2d.h"
#include "engine/layers/relu.h"
#include "engine/models/builtin.h"
#include "engine/quant/quantize_wrapper.h"
#include "engine/quant/scheme.h"
#include "engine/train/defaults.h"
#include "engine/train/trainer.h"

using namespace qat;
using namespace qat::deploy;
using namespace qat::quant;
using namespace qat::test;

namespace {

struct Data {
  Dataset train, test;
  bool real = false;
};

const Data& data() {
  static const Data d = [] {
    Data r;
    auto src = loadDataSource("fashion-mnist", DataSourceOptions{});
    if (src.ok() && src->test) {
      r.train = subset(src->train, 3000);
      r.test = subset(*src->test, 2000);
      r.real = true;
    } else {
      const Model m = builtin("fashion-mlp");
      r.train = randomData(m, 512, 1);
      r.test = randomData(m, 512, 2);
    }
    return r;
  }();
  return d;
}

// Float training (real data only), calibration, then a short QAT.
QuantizedModel trainedQuantized(const std::string& name, BnMode mode) {
  Model m = builtin(name);
  TrainConfig tc;
  tc.loss = defaultLossFor(m);
  tc.epochs = 1;
  if (data().real) {
    Trainer ft(m, tc);
    QAT_ASSERT(ft.fit(data().train).ok());
  }
  QuantizedModel q = quantizeWith(m, mode);
  tc.optimizer.learningRate = 1e-4f;
  Trainer t(q.model, tc);
  QAT_ASSERT(t.calibrate(data().train, 8).ok());
  if (data().real) QAT_ASSERT(t.fit(subset(data().train, 600)).ok());
  return q;
}

int argmaxRow(const Tensor& t, int r, int k) {
  int best = 0;
  for (int j = 1; j < k; ++j)
    if (t[size_t(r) * k + j] > t[size_t(r) * k + best]) best = j;
  return best;
}

}  // namespace

class TestFreeze : public QObject {
  Q_OBJECT
 private slots:
  // The integer interpreter tracks the fake-quant model: ≥ 99% top-1 agreement and a few
  // output steps at most.
  void integerMatchesFakeQuant_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<int>("mode");
    QTest::addRow("fashion-cnn tfmot") << "fashion-cnn" << int(BnMode::Tfmot);
    QTest::addRow("fashion-cnn fold") << "fashion-cnn" << int(BnMode::Fold);
    QTest::addRow("fashion-mlp") << "fashion-mlp" << int(BnMode::Tfmot);
    QTest::addRow("bn-after-relu") << "bn-after-relu" << int(BnMode::Tfmot);
  }
  void integerMatchesFakeQuant() {
    QFETCH(QString, model);
    QFETCH(int, mode);
    QuantizedModel q = trainedQuantized(model.toStdString(), BnMode(mode));
    auto g = freezeQuantized(q);
    QVERIFY2(g.ok(), g.ok() ? "" : g.error().message.c_str());
    auto in = Interpreter::create(*g);
    QVERIFY2(in.ok(), in.ok() ? "" : in.error().message.c_str());
    in->setKeepTensors(false);
    const Tensor& x = data().test.x;
    auto out = in->run({x});
    QVERIFY(out.ok());
    const Tensor fq = predict(q.model, x, 256, true);
    const Tensor& y = (*out)[0];
    QCOMPARE(y.size(), fq.size());
    // The output's int8 scale: the tensor the final DEQUANTIZE reads.
    const GraphOp* deq = findOp(*g, OpKind::Dequantize);
    QVERIFY(deq);
    const float scale = g->tensors[size_t(deq->inputs[0])].quant.scale[0];
    double maxSteps = 0;
    size_t exact = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      const double steps = std::fabs(double(y[i]) - double(fq[i])) / scale;
      maxSteps = std::max(maxSteps, steps);
      exact += steps < 0.01;
    }
    // Top-1 agreement; an integer output whose maximum is shared by several classes (int8
    // probabilities of 1/256 steps tie easily) agrees when the fake-quant class is one of them.
    const int n = x.dim(0), k = y.dim(1);
    int agree = 0, strict = 0;
    for (int r = 0; r < n; ++r) {
      const int a = argmaxRow(y, r, k), b = argmaxRow(fq, r, k);
      strict += a == b;
      agree += a == b || y[size_t(r) * k + b] == y[size_t(r) * k + a];
    }
    const double agreement = double(agree) / n;
    qInfo("%s (%s data): top-1 agreement %.2f%% (%.2f%% without ties), max |diff| %.2f output steps, "
          "%.2f%% of outputs equal, %d ops",
          qPrintable(model), data().real ? "Fashion-MNIST" : "random", 100 * agreement, 100.0 * strict / n, maxSteps,
          100.0 * double(exact) / double(y.size()), int(g->ops.size()));
    for (const std::string& s : g->notes) qInfo("  note: %s", s.c_str());
    QVERIFY2(agreement >= 0.99, qPrintable(QStringLiteral("top-1 agreement %1").arg(agreement)));
    QVERIFY2(maxSteps <= 4.0, qPrintable(QStringLiteral("max diff %1 steps").arg(maxSteps)));
  }

  // fashion-cnn (tfmot mode): QUANTIZE, CONV_2D+RELU, MAX_POOL, CONV_2D+RELU, MAX_POOL,
  // RESHAPE, FC+RELU, FC, DEQUANTIZE; conv weights per channel, FC per tensor, bias scale
  // input_scale · weight_scale.
  void fashionCnnStructure() {
    Model m = builtin("fashion-cnn");
    QuantizedModel q = quantizeWith(m, BnMode::Tfmot);
    Trainer t(q.model, TrainConfig{});
    QVERIFY(t.calibrate(randomData(m, 128, 3), 2).ok());
    auto g = freezeQuantized(q);
    QVERIFY2(g.ok(), g.ok() ? "" : g.error().message.c_str());
    const std::vector<OpKind> want = {OpKind::Quantize, OpKind::Conv2D,  OpKind::MaxPool2D,
                                      OpKind::Conv2D,   OpKind::MaxPool2D, OpKind::Reshape,
                                      OpKind::FullyConnected, OpKind::FullyConnected, OpKind::Dequantize};
    QCOMPARE(int(g->ops.size()), int(want.size()));
    for (size_t i = 0; i < want.size(); ++i) QCOMPARE(int(g->ops[i].kind), int(want[i]));
    QCOMPARE(int(g->ops[1].activation), int(deploy::FusedActivation::Relu));
    QCOMPARE(int(g->ops[6].activation), int(deploy::FusedActivation::Relu));
    QCOMPARE(int(g->ops[7].activation), int(deploy::FusedActivation::None));
    const GraphTensor& w1 = g->tensors[size_t(g->ops[1].inputs[1])];
    QCOMPARE(w1.shape, (std::vector<int>{32, 3, 3, 1}));
    QCOMPARE(int(w1.quant.scale.size()), 32);
    QCOMPARE(w1.quant.quantizedDimension, 0);
    const GraphTensor& fw = g->tensors[size_t(g->ops[6].inputs[1])];
    QCOMPARE(fw.shape, (std::vector<int>{128, 3136}));
    QCOMPARE(int(fw.quant.scale.size()), 1);
    const GraphTensor& in = g->tensors[size_t(g->ops[6].inputs[0])];
    const GraphTensor& b = g->tensors[size_t(g->ops[6].inputs[2])];
    QCOMPARE(b.type, ElementType::Int32);
    QCOMPARE(b.quant.scale[0], in.quant.scale[0] * fw.quant.scale[0]);
    // Max pooling and reshape keep their input's parameters.
    for (int k : {2, 4, 5}) {
      const GraphOp& op = g->ops[size_t(k)];
      QCOMPARE(g->tensors[size_t(op.outputs[0])].quant.scale, g->tensors[size_t(op.inputs[0])].quant.scale);
      QCOMPARE(g->tensors[size_t(op.outputs[0])].quant.zeroPoint, g->tensors[size_t(op.inputs[0])].quant.zeroPoint);
    }
    // Symmetric int8 weights in [−127, 127] (narrow range), zero point 0.
    for (uint8_t byte : w1.data) QVERIFY(int8_t(byte) >= -127);
    for (int64_t z : w1.quant.zeroPoint) QCOMPARE(z, int64_t(0));
    QVERIFY(!g->notes.empty());  // the BN folds are reported
  }

  // Without BN folding the int8 weights are exactly the QAT model's fake-quant grid values.
  void weightsAreTheFakeQuantGrid() {
    Model m = builtin("fashion-mlp");
    QuantizedModel q = quantizeWith(m, BnMode::Tfmot);
    Trainer t(q.model, TrainConfig{});
    QVERIFY(t.calibrate(randomData(m, 64, 4), 1).ok());
    auto g = freezeQuantized(q);
    QVERIFY(g.ok());
    const int node = q.model.find("dense");
    auto& w = static_cast<QuantizeWrapper&>(*q.model.node(node).layer);
    const Tensor& kernel = static_cast<Dense&>(w.inner()).kernel().value;  // (784, 256)
    const auto grids = w.weightQuantizer("kernel")->grids();
    std::vector<float> fq(kernel.size());
    fakeQuantForward(kernel.data(), fq.data(), fq.size(), grids);
    const GraphOp* fc = findOp(*g, OpKind::FullyConnected);
    const GraphTensor& gw = g->tensors[size_t(fc->inputs[1])];  // (256, 784)
    QCOMPARE(gw.shape, (std::vector<int>{256, 784}));
    int mismatches = 0;
    for (int d = 0; d < 784; ++d)
      for (int u = 0; u < 256; ++u) {
        const float v = float(int8_t(gw.data[size_t(u) * 784 + d])) * gw.quant.scale[0];
        // k·scale − 127·scale (fake quant) vs (k − 127)·scale (int8): equal up to float rounding;
        // a different integer would be a whole step off.
        mismatches += std::fabs(v - fq[size_t(d) * 256 + u]) > 1e-3f * gw.quant.scale[0];
      }
    QCOMPARE(mismatches, 0);
  }

  // 4-bit weights stay on their grid inside int8 and the report says so.
  void subEightBitWeights() {
    Model m = builtin("fashion-mlp");
    QuantizedModel q = quantizeWith(m, BnMode::Tfmot, "", "w4a8");
    Trainer t(q.model, TrainConfig{});
    QVERIFY(t.calibrate(randomData(m, 64, 5), 1).ok());
    auto g = freezeQuantized(q);
    QVERIFY(g.ok());
    const GraphTensor& w = g->tensors[size_t(findOp(*g, OpKind::FullyConnected)->inputs[1])];
    QCOMPARE(w.valueBits, 4);
    int lo = 0, hi = 0;
    for (uint8_t b : w.data) {
      lo = std::min(lo, int(int8_t(b)));
      hi = std::max(hi, int(int8_t(b)));
    }
    QVERIFY(lo >= -7 && hi <= 7);
    QVERIFY(lo <= -6 && hi >= 6);
    bool noted = false;
    for (const auto& s : g->notes) noted |= s.find("4-bit") != std::string::npos;
    QVERIFY(noted);
  }

  // int8 I/O: the graph input is the quantized tensor itself and the output stays int8.
  void int8Io() {
    Model m = builtin("fashion-mlp");
    QuantizedModel q = quantizeWith(m, BnMode::Tfmot);
    Trainer t(q.model, TrainConfig{});
    QVERIFY(t.calibrate(randomData(m, 64, 6), 1).ok());
    FreezeOptions o;
    o.int8Io = true;
    auto g = freezeQuantized(q, o);
    QVERIFY2(g.ok(), g.ok() ? "" : g.error().message.c_str());
    QCOMPARE(g->tensors[size_t(g->inputs[0])].type, ElementType::Int8);
    QCOMPARE(g->tensors[size_t(g->outputs[0])].type, ElementType::Int8);
    QCOMPARE(countOps(*g, OpKind::Quantize) + countOps(*g, OpKind::Dequantize), 0);
  }

  // freezeFloat: BN folded, activations fused, outputs equal to the float model.
  void freezeFloatMatchesModel_data() {
    QTest::addColumn<QString>("model");
    for (const char* n : {"fashion-cnn", "fashion-mlp", "bn-after-relu"}) QTest::addRow("%s", n) << n;
  }
  void freezeFloatMatchesModel() {
    QFETCH(QString, model);
    Model m = builtin(model.toStdString());
    // Non-trivial BN statistics.
    for (Param* p : m.params())
      if (p->name == "moving_mean" || p->name == "moving_variance" || p->name == "gamma" || p->name == "beta") {
        Rng rng(9);
        for (size_t i = 0; i < p->value.size(); ++i)
          p->value[i] = p->name == "moving_variance" || p->name == "gamma" ? rng.uniform(0.5f, 2.0f) : rng.uniform(-0.5f, 0.5f);
      }
    auto g = freezeFloat(m);
    QVERIFY2(g.ok(), g.ok() ? "" : g.error().message.c_str());
    QCOMPARE(countOps(*g, OpKind::Quantize), 0);
    auto in = Interpreter::create(*g);
    QVERIFY(in.ok());
    const Dataset d = randomData(m, 16, 8);
    auto out = in->run({d.x});
    QVERIFY(out.ok());
    const Tensor ref = predict(m, d.x, 16, true);
    double scale = 0, worst = 0;
    for (size_t i = 0; i < ref.size(); ++i) scale = std::max(scale, std::fabs(double(ref[i])));
    for (size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::fabs(double((*out)[0][i]) - ref[i]) / scale);
    qInfo("%s: max relative difference %.2e over %d ops", qPrintable(model), worst, int(g->ops.size()));
    QVERIFY(worst <= 1e-5);
  }

  // Refusals name the layer and the class, and say what to do.
  void refusals() {
    {  // a layer without an integer kernel
      Model m;
      int x = m.addInput("input", Shape{8, 8, 1});
      Conv2DOptions c;
      c.filters = 4;
      x = m.add<Conv2D>({x}, "conv", c);
      x = m.add<GlobalMaxPooling2D>({x}, "gmp", GlobalPooling2DOptions{});
      x = m.add<Dense>({x}, "dense", DenseOptions{3, true, ActivationFn::Linear});
      m.setOutputs({x});
      QVERIFY(m.build().ok());
      Rng rng(1);
      m.initialize(rng);
      QuantizedModel q = quantizeWith(m, BnMode::Tfmot);
      auto g = freezeQuantized(q);
      QVERIFY(!g.ok());
      QVERIFY2(g.error().message.find("Layer 'gmp' (GlobalMaxPooling2D)") != std::string::npos, g.error().message.c_str());
    }
    {  // a float layer inside the quantized model
      Model m = builtin("fashion-mlp");
      QuantizedModel q = quantizeWith(m, BnMode::Tfmot, "dense");
      auto g = freezeQuantized(q);
      QVERIFY(!g.ok());
      QVERIFY2(g.error().message.find("Layer 'logits' (Dense)") != std::string::npos &&
                   g.error().message.find("quantize: false") != std::string::npos,
               g.error().message.c_str());
    }
    {  // an in-layer softmax has no pre-activation quantizer
      Model m;
      int x = m.addInput("input", Shape{6});
      x = m.add<Dense>({x}, "probs", DenseOptions{3, true, ActivationFn::Softmax});
      m.setOutputs({x});
      QVERIFY(m.build().ok());
      Rng rng(1);
      m.initialize(rng);
      QuantizedModel q = quantizeWith(m, BnMode::Tfmot);
      auto g = freezeQuantized(q);
      QVERIFY(!g.ok());
      QVERIFY2(g.error().message.find("Layer 'probs' (QuantizeWrapper)") != std::string::npos &&
                   g.error().message.find("softmax") != std::string::npos,
               g.error().message.c_str());
      QVERIFY2(g.error().message.find("rangeSamples") != std::string::npos, g.error().message.c_str());
      // The float freeze runs it as FULLY_CONNECTED then SOFTMAX.
      auto f = freezeFloat(m);
      QVERIFY(f.ok());
      QCOMPARE(countOps(*f, OpKind::Softmax), 1);
      // With samples the pre-activation range is measured: FULLY_CONNECTED on that scale,
      // then SOFTMAX with its fixed parameters, within a few 1/256 steps of the fake-quant model.
      const Dataset d = randomData(m, 64, 12);
      Dataset cd = d;
      for (int& l : cd.labels) l %= 3;
      cd.numClasses = 3;
      Trainer t(q.model, TrainConfig{});
      QVERIFY(t.calibrate(cd, 1).ok());
      FreezeOptions o;
      o.rangeSamples = &d.x;
      auto g2 = freezeQuantized(q, o);
      QVERIFY2(g2.ok(), g2.ok() ? "" : g2.error().message.c_str());
      QCOMPARE(countOps(*g2, OpKind::Softmax), 1);
      auto in = Interpreter::create(*g2);
      QVERIFY(in.ok());
      auto y = in->run({d.x});
      QVERIFY(y.ok());
      const Tensor fq = predict(q.model, d.x, 64, true);
      double worst = 0;
      for (size_t i = 0; i < fq.size(); ++i) worst = std::max(worst, std::fabs(double((*y)[0][i]) - fq[i]) * 256);
      QVERIFY2(worst <= 3.0, qPrintable(QString::number(worst)));
    }
    {  // ReLU with a threshold
      Model m;
      int x = m.addInput("input", Shape{6});
      ReLUOptions r;
      r.threshold = 0.5f;
      x = m.add<ReLU>({x}, "thresholded", r);
      m.setOutputs({x});
      QVERIFY(m.build().ok());
      auto g = freezeFloat(m);
      QVERIFY(!g.ok());
      QVERIFY2(g.error().message.find("Layer 'thresholded' (ReLU)") != std::string::npos, g.error().message.c_str());
    }
  }
};

QTEST_APPLESS_MAIN(TestFreeze)
#include "test_freeze.moc"
