// freeze: QAT model → integer graph. The built-in models (both BN modes) after calibration
// (and a short QAT on Fashion-MNIST when the Debian data set is installed): the integer
// interpreter's dequantized outputs agree with the fake-quant model; graph structure
// (fused activations, per-channel conv weights, int32 bias scales, weights on the QAT
// grid); freezeFloat equals the float model; refusals name layer and class.
#include <QtTest>

#include <cmath>
#include <filesystem>

#include "engine/data/data_source.h"
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
#include "engine/layers/global_max_pooling2d.h"
#include "engine/layers/leaky_relu.h"
#include "engine/layers/max_pooling2d.h"
#include "engine/layers/multiply.h"
#include "engine/layers/relu.h"
#include "engine/layers/separable_conv2d.h"
#include "engine/layers/subtract.h"
#include "engine/layers/zero_padding2d.h"
#include "engine/models/builtin.h"
#include "engine/quant/fake_quant_layer.h"
#include "engine/quant/quantize_wrapper.h"
#include "engine/quant/scheme.h"
#include "engine/train/defaults.h"
#include "engine/train/trainer.h"

using namespace qat;
using namespace qat::deploy;
using namespace qat::quant;

namespace {

Model builtin(const std::string& name) {
  auto m = makeBuiltinModel(name, 7);
  QAT_ASSERT(m.ok());
  return std::move(m.value());
}

QuantizedModel quantizeWith(const Model& m, BnMode mode, const std::string& layers = "", const char* scheme = "default8") {
  auto s = schemeFromName(scheme);
  QAT_ASSERT(s.ok());
  s->bnMode = mode;
  auto c = makeSchemeConfig(m, *s, parseLayerSelection(layers));
  if (!c.ok()) qFatal("%s", c.error().message.c_str());
  auto q = quantizeModel(m, c->config);
  if (!q.ok()) qFatal("%s", q.error().message.c_str());
  return std::move(q.value());
}

Dataset randomData(const Model& m, int n, uint64_t seed) {
  Dataset d;
  Rng rng(seed);
  d.x = Tensor(m.node(m.inputs()[0]).shape.withBatch(n));
  for (size_t i = 0; i < d.x.size(); ++i) d.x[i] = rng.uniform(0.0f, 1.0f);
  for (int i = 0; i < n; ++i) d.labels.push_back(static_cast<int>(rng.uniform(0.0f, 9.999f)));
  d.numClasses = 10;
  return d;
}

struct Data {
  Dataset train, test;
  bool real = false;
};

const Data& data() {
  static const Data d = [] {
    Data r;
    auto src = loadDataSource("fashion-mnist", DataSourceOptions{});
    if (src.ok() && src->test) {
      r.train = subset(src->train, 4000);
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
  if (data().real) QAT_ASSERT(t.fit(subset(data().train, 1000)).ok());
  return q;
}

int argmaxRow(const Tensor& t, int r, int k) {
  int best = 0;
  for (int j = 1; j < k; ++j)
    if (t[size_t(r) * k + j] > t[size_t(r) * k + best]) best = j;
  return best;
}

const GraphOp* findOp(const IntegerGraph& g, OpKind k, int nth = 0) {
  for (const GraphOp& op : g.ops)
    if (op.kind == k && nth-- == 0) return &op;
  return nullptr;
}
int countOps(const IntegerGraph& g, OpKind k) {
  int n = 0;
  for (const GraphOp& op : g.ops) n += op.kind == k;
  return n;
}

// Every supported layer kind in one small model (12×12×3 input):
//   conv(relu) ─┬─ depthwise → BN → relu6 ──┐
//               ├─ separable ───────────────┴─ add → relu ─┐
//               └──────────────────────────────────────────┴─ concat → zeropad(1) → conv 'valid'
//   → leaky relu → BN (standalone) → avg pool → zeropad(1) → max pool → relu
//   → x ⊙ sigmoid(x) − x → global average pool → dense → tanh
Model zooModel() {
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

  // Every supported layer kind, both BN modes: the integer graph tracks the fake-quant
  // model within a few output steps, and the float freeze equals the float model.
  void zooModel_data() {
    QTest::addColumn<int>("mode");
    QTest::addRow("tfmot") << int(BnMode::Tfmot);
    QTest::addRow("fold") << int(BnMode::Fold);
  }
  void zooModel() {
    QFETCH(int, mode);
    Model m = ::zooModel();
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
      const Shape inShape = m->node(m->inputs()[0]).shape;
      const int n = 8;
      Dataset d;
      Rng rng(3);
      d.x = Tensor(inShape.withBatch(n));
      for (size_t i = 0; i < d.x.size(); ++i) d.x[i] = rng.uniform(0.0f, 1.0f);
      d.targets = Tensor(m->node(m->outputs()[0]).shape.withBatch(n));
      TrainConfig tc;
      tc.loss = {LossKind::MeanSquaredError, false};
      Trainer t(q->model, tc);
      QVERIFY(t.calibrate(d, 1).ok());
      FreezeOptions fo;
      fo.rangeSamples = &d.x;
      auto g = freezeQuantized(*q, fo);
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
