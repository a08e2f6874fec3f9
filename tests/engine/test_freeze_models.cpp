// freeze on larger models: every supported layer kind in one model (both BN modes), and a
// whole-model default-8-bit freeze of every loadable Keras model in ../shared/models/keras.
#include <QtTest>

#include <cmath>
#include <filesystem>

#include "common/freeze_test_util.h"
#include "engine/deploy/freeze.h"
#include "engine/deploy/interpreter.h"
#include "engine/io/keras_model.h"
#include "engine/layers/activation.h"
#include "engine/layers/add.h"
#include "engine/layers/average_pooling2d.h"
#include "engine/layers/batch_normalization.h"
#include "engine/layers/concatenate.h"
#include "engine/layers/conv2d.h"
#include "engine/layers/dense.h"
#include "engine/layers/depthwise_conv2d.h"
#include "engine/layers/global_average_pooling2d.h"
#include "engine/layers/leaky_relu.h"
#include "engine/layers/max_pooling2d.h"
#include "engine/layers/multiply.h"
#include "engine/layers/relu.h"
#include "engine/layers/separable_conv2d.h"
#include "engine/layers/subtract.h"
#include "engine/layers/zero_padding2d.h"
#include "engine/quant/scheme.h"
#include "engine/train/defaults.h"
#include "engine/train/trainer.h"

using namespace qat;
using namespace qat::deploy;
using namespace qat::quant;
using namespace qat::test;

namespace {

// Every supported layer kind in one small model (12×12×3 input):
//   conv(relu) ─┬─ depthwise → BN → relu6 ──┐
//               ├─ separable ───────────────┴─ add → relu ─┐
//               └──────────────────────────────────────────┴─ concat → zeropad(1) → conv 'valid'
//   → leaky relu → BN (standalone) → avg pool → zeropad(1) → max pool → relu
//   → x ⊙ sigmoid(x) − x → global average pool → dense → tanh
Model makeZooModel() {
  Model m;
  m.name = "zoo";
  const int in = m.addInput("input", Shape{12, 12, 3});
  Conv2DOptions c;
  c.filters = 8;
  c.padding = Padding::Same;
  c.activation = ActivationFn::Relu;
  const int a = m.add<Conv2D>({in}, "conv_a", c);
  DepthwiseConv2DOptions dw;
  dw.padding = Padding::Same;
  int b = m.add<DepthwiseConv2D>({a}, "dw_b", dw);
  b = m.add<BatchNormalization>({b}, "bn_b", BatchNormalizationOptions{});
  b = m.add<Activation>({b}, "relu6_b", ActivationOptions{ActivationFn::Relu6});
  SeparableConv2DOptions sp;
  sp.filters = 8;
  sp.padding = Padding::Same;
  const int cc = m.add<SeparableConv2D>({a}, "sep_c", sp);
  int d = m.add<Add>({b, cc}, "add_d");
  d = m.add<ReLU>({d}, "relu_d", ReLUOptions{});
  int e = m.add<Concatenate>({a, d}, "concat_e", ConcatenateOptions{});
  e = m.add<ZeroPadding2D>({e}, "pad_f", ZeroPadding2DOptions{});
  Conv2DOptions v;
  v.filters = 6;
  e = m.add<Conv2D>({e}, "conv_f", v);
  e = m.add<LeakyReLU>({e}, "leaky_g", LeakyReLUOptions{0.2f});
  e = m.add<BatchNormalization>({e}, "bn_g", BatchNormalizationOptions{});
  e = m.add<AveragePooling2D>({e}, "avg_h", Pooling2DOptions{});
  e = m.add<ZeroPadding2D>({e}, "pad_i", ZeroPadding2DOptions{});
  e = m.add<MaxPooling2D>({e}, "max_i", Pooling2DOptions{});
  e = m.add<ReLU>({e}, "relu_i", ReLUOptions{});
  const int sig = m.add<Activation>({e}, "sigmoid_j", ActivationOptions{ActivationFn::Sigmoid});
  int j = m.add<Multiply>({e, sig}, "mul_j");
  j = m.add<Subtract>({j, e}, "sub_k");
  j = m.add<GlobalAveragePooling2D>({j}, "gap_l", GlobalPooling2DOptions{});
  j = m.add<Dense>({j}, "dense_l", DenseOptions{5, true, ActivationFn::Linear});
  j = m.add<Activation>({j}, "tanh_l", ActivationOptions{ActivationFn::Tanh});
  m.setOutputs({j});
  QAT_ASSERT(m.build().ok());
  Rng rng(21);
  m.initialize(rng);
  // Non-trivial BN statistics.
  for (Param* p : m.params())
    if (p->name == "moving_mean" || p->name == "moving_variance" || p->name == "gamma" || p->name == "beta")
      for (size_t i = 0; i < p->value.size(); ++i)
        p->value[i] = p->name == "moving_variance" || p->name == "gamma" ? rng.uniform(0.5f, 1.5f) : rng.uniform(-0.3f, 0.3f);
  return m;
}

}  // namespace

class TestFreezeModels : public QObject {
  Q_OBJECT
 private slots:
  // Every supported layer kind, both BN modes: the integer graph tracks the fake-quant
  // model within a few output steps, and the float freeze equals the float model.
  void zooModel_data() {
    QTest::addColumn<int>("mode");
    QTest::addRow("tfmot") << int(BnMode::Tfmot);
    QTest::addRow("fold") << int(BnMode::Fold);
  }
  void zooModel() {
    QFETCH(int, mode);
    Model m = makeZooModel();
    const Dataset d = randomData(m, 256, 17);
    {
      auto f = freezeFloat(m);
      QVERIFY2(f.ok(), f.ok() ? "" : f.error().message.c_str());
      auto fi = Interpreter::create(*f);
      QVERIFY2(fi.ok(), fi.ok() ? "" : fi.error().message.c_str());
      const Tensor ref = predict(m, d.x, 64, true);
      auto y = fi->run({d.x});
      QVERIFY(y.ok());
      double worst = 0;
      for (size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::fabs(double((*y)[0][i]) - ref[i]));
      qInfo("zoo float freeze: max |diff| %.2e", worst);
      QVERIFY(worst < 1e-5);
    }
    QuantizedModel q = quantizeWith(m, BnMode(mode));
    int folded = 0;
    for (int i = 0; i < q.model.size(); ++i) folded += q.model.node(i).layer->op() == OpType::FoldedBatchNorm;
    QCOMPARE(folded, mode == int(BnMode::Fold) ? 1 : 0);  // dw_b + bn_b
    Dataset cd = d;
    for (int& l : cd.labels) l %= 5;
    cd.numClasses = 5;
    Trainer t(q.model, TrainConfig{});
    auto cal = t.calibrate(cd, 4);
    QVERIFY2(cal.ok(), cal.ok() ? "" : cal.error().message.c_str());
    auto g = freezeQuantized(q);
    QVERIFY2(g.ok(), g.ok() ? "" : g.error().message.c_str());
    for (OpKind k : {OpKind::Conv2D, OpKind::DepthwiseConv2D, OpKind::Add, OpKind::Concatenation, OpKind::LeakyRelu,
                     OpKind::AveragePool2D, OpKind::Pad, OpKind::MaxPool2D, OpKind::Relu, OpKind::Logistic,
                     OpKind::Mul, OpKind::Sub, OpKind::Mean, OpKind::FullyConnected, OpKind::Tanh})
      QVERIFY2(countOps(*g, k) > 0, std::string(opKindName(k)).c_str());
    QCOMPARE(countOps(*g, OpKind::Pad), 1);  // pad_f folds into conv_f ('same'); pad_i stays
    QCOMPARE(countOps(*g, OpKind::DepthwiseConv2D), 3);  // dw_b, sep_c's depthwise half, bn_g
    const GraphOp* add = findOp(*g, OpKind::Add);
    QCOMPARE(int(add->activation), int(deploy::FusedActivation::Relu));
    const GraphOp* cat = findOp(*g, OpKind::Concatenation);
    for (int tI : cat->inputs)
      QCOMPARE(g->tensors[size_t(tI)].quant.scale, g->tensors[size_t(cat->outputs[0])].quant.scale);
    auto in = Interpreter::create(*g);
    QVERIFY2(in.ok(), in.ok() ? "" : in.error().message.c_str());
    auto y = in->run({d.x});
    QVERIFY(y.ok());
    const Tensor fq = predict(q.model, d.x, 64, true);
    double maxSteps = 0;
    for (size_t i = 0; i < fq.size(); ++i) maxSteps = std::max(maxSteps, std::fabs(double((*y)[0][i]) - fq[i]) * 128.0);
    qInfo("zoo (%s): %d ops, max |diff| %.2f output steps (1/128)", mode == int(BnMode::Fold) ? "fold" : "tfmot",
          int(g->ops.size()), maxSteps);
    QVERIFY(maxSteps <= 4.0);
  }

  // Whole-model default-8-bit freeze of every loadable model in ../shared/models/keras,
  // calibrated on 8 random samples: the integer graph runs and its distance from the
  // fake-quant model is reported (random data and ranges make it a smoke test; a 1-step
  // logit difference already moves a softmax output by several 1/256 steps).
  void sharedKerasModels() {
    const std::filesystem::path dir = QAT_SHARED_DIR "/models/keras";
    if (!std::filesystem::exists(dir)) QSKIP("../shared/models is not present");
    int frozen = 0, loadable = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      const std::string ext = e.path().extension().string();
      if (ext != ".h5" && ext != ".hdf5") continue;
      auto m = loadKerasModel(e.path().string());
      if (!m.ok()) continue;
      ++loadable;
      const std::string file = e.path().filename().string();
      auto s = schemeFromName("default8");
      auto c = makeSchemeConfig(*m, *s, {}, false);
      if (!c.ok()) {
        qInfo("%s: scheme refused: %s", file.c_str(), c.error().message.c_str());
        continue;
      }
      auto q = quantizeModel(*m, c->config);
      QVERIFY(q.ok());
      const int n = 8;
      const Dataset d = unlabelledData(*m, uniformInputs(*m, n, 3));
      auto g = calibrateAndFreeze(*q, d, 1);
      if (!g.ok()) {
        qInfo("%s: refused: %s", file.c_str(), g.error().message.c_str());
        QVERIFY2(g.error().message.find("Layer '") != std::string::npos, g.error().message.c_str());
        continue;
      }
      auto in = Interpreter::create(*g);
      QVERIFY2(in.ok(), (file + ": " + (in.ok() ? "" : in.error().message)).c_str());
      auto y = in->run({d.x});
      QVERIFY(y.ok());
      const Tensor fq = predict(q->model, d.x, n, true);
      const GraphOp* deq = findOp(*g, OpKind::Dequantize);
      const float scale = g->tensors[size_t(deq->inputs[0])].quant.scale[0];
      double maxSteps = 0;
      for (size_t i = 0; i < fq.size(); ++i)
        maxSteps = std::max(maxSteps, std::fabs(double((*y)[0][i]) - fq[i]) / scale);
      qInfo("%s: %d ops, max |diff| %.2f output steps", file.c_str(), int(g->ops.size()), maxSteps);
      ++frozen;
    }
    // Every model that loads freezes (in-layer softmax/sigmoid ranges measured on the
    // samples, separable convolutions without a middle quantizer merged).
    QCOMPARE(frozen, loadable);
  }

};

QTEST_APPLESS_MAIN(TestFreezeModels)
#include "test_freeze_models.moc"
