// Evaluation of runs (engine/project/evaluation.h) on a Fashion-MNIST subset: accuracies
// equal Trainer::evaluate's in every mode, the confusion matrix agrees with them, the
// integer mode runs the frozen int8 graph (or says why it cannot), and per-layer SQNR
// behaves as quantization error should (8-bit in a sane range, 4-bit weights worse,
// layers the quantized model computes in float from float inputs identical).
#include <QtTest>

#include <cmath>

#include "engine/data/idx_reader.h"
#include "engine/models/builtin.h"
#include "engine/project/evaluation.h"
#include "engine/quant/scheme.h"
#include "engine/train/defaults.h"
#include "engine/train/trainer.h"

using namespace qat;
using namespace qat::project;

namespace {

Model builtin(const char* name) {
  auto m = makeBuiltinModel(name, 11);
  QAT_ASSERT(m.ok());
  return std::move(m.value());
}

quant::QuantizeConfig schemeConfig(const Model& m, const char* scheme) {
  auto s = quant::schemeFromName(scheme);
  QAT_ASSERT(s.ok());
  auto r = quant::makeSchemeConfig(m, *s);
  QAT_ASSERT(r.ok());
  return r->config;
}

// Quantized and calibrated on `train` (8 batches of 64, as the CLI's default is larger).
quant::QuantizedModel calibrated(const Model& m, const quant::QuantizeConfig& c, const Dataset& train) {
  auto q = quant::quantizeModel(m, c);
  QAT_ASSERT(q.ok());
  TrainConfig tc;
  tc.loss = defaultLossFor(m);
  Trainer t(q->model, tc);
  QAT_ASSERT(t.calibrate(train, 8).ok());
  return std::move(q.value());
}

long trace(const ConfusionMatrix& c) {
  long t = 0;
  for (int i = 0; i < c.classes; ++i) t += c.at(i, i);
  return t;
}

long total(const ConfusionMatrix& c) {
  long t = 0;
  for (long v : c.counts) t += v;
  return t;
}

double sqnrOf(const std::vector<LayerError>& errors, const std::string& layer) {
  for (const LayerError& e : errors)
    if (e.layer == layer) return e.sqnrDb;
  return std::nan("");
}

}  // namespace

class TestEvaluation : public QObject {
  Q_OBJECT
  Dataset train_, test_;
  Model mlp_;  // trained briefly on train_

 private slots:
  void initTestCase() {
    auto tr = loadFashionMnist(QAT_FASHION_MNIST_DIR, true, Normalization::scale01());
    auto te = loadFashionMnist(QAT_FASHION_MNIST_DIR, false, Normalization::scale01());
    if (!tr.ok() || !te.ok()) QSKIP("dataset-fashion-mnist is not installed");
    train_ = subset(tr.value(), 3000);
    test_ = subset(te.value(), 1000);
    mlp_ = builtin("fashion-mlp");
    TrainConfig tc;
    tc.loss = defaultLossFor(mlp_);
    tc.epochs = 2;
    Trainer t(mlp_, tc);
    QVERIFY(t.fit(train_).ok());
  }

  void confusionMatrixCounts() {
    // Row 2 ties: the lower class wins, like argmax.
    const float pv[] = {0.1f, 0.7f, 0.2f, 0.5f, 0.5f, 0.0f, 0.0f, 0.1f, 0.9f, 0.3f, 0.2f, 0.1f};
    Tensor p(Shape{4, 3});
    std::copy(std::begin(pv), std::end(pv), p.data());
    const ConfusionMatrix c = confusionMatrix(p, {1, 1, 2, 2});
    QCOMPARE(c.classes, 3);
    QCOMPARE(c.counts, (std::vector<long>{0, 0, 0, 1, 1, 0, 1, 0, 1}));
    QCOMPARE(c.at(2, 0), 1L);
    // One sigmoid column: two classes, class 1 when > 0.5.
    Tensor b(Shape{3, 1});
    b[0] = 0.9f;
    b[1] = 0.2f;
    b[2] = 0.5f;
    const ConfusionMatrix cb = confusionMatrix(b, {1, 1, 0});
    QCOMPARE(cb.classes, 2);
    QCOMPARE(cb.counts, (std::vector<long>{1, 0, 1, 1}));
  }

  void floatModelMatchesTrainer() {
    EvaluationOptions o;
    auto e = evaluateFloat(mlp_, defaultLossFor(mlp_), test_, o);
    QVERIFY2(e.ok(), e.ok() ? "" : e.error().message.c_str());
    TrainConfig tc;
    tc.loss = defaultLossFor(mlp_);
    Trainer t(mlp_, tc);
    auto ref = t.evaluate(test_);
    QVERIFY(ref.ok());
    qInfo("float accuracy %.4f loss %.4f", e->metrics.floatAccuracy, e->metrics.loss);
    QVERIFY(ref->accuracy > 0.7);
    QCOMPARE(e->metrics.floatAccuracy, ref->accuracy);
    QCOMPARE(e->metrics.loss, ref->loss);
    QCOMPARE(e->metrics.samples, size_t(1000));
    QCOMPARE(e->metrics.fakeQuantAccuracy, -1.0);
    QCOMPARE(e->metrics.integerAccuracy, -1.0);
    QCOMPARE(e->metrics.weightBytes, size_t(203530 * 4));
    QCOMPARE(e->metrics.floatWeightBytes, e->metrics.weightBytes);
    QVERIFY(e->layerErrors.empty());
    QCOMPARE(e->confusion.classes, 10);
    QCOMPARE(total(e->confusion), 1000L);
    QCOMPARE(double(trace(e->confusion)) / 1000.0, ref->accuracy);
    // maxSamples cuts the test data.
    o.maxSamples = 300;
    auto cut = evaluateFloat(mlp_, defaultLossFor(mlp_), test_, o);
    QVERIFY(cut.ok());
    QCOMPARE(cut->metrics.samples, size_t(300));
    QCOMPARE(total(cut->confusion), 300L);
  }

  void quantizedModelMatchesTrainer() {
    auto q = calibrated(mlp_, schemeConfig(mlp_, "default8"), train_);
    auto e = evaluateQuantized(q, mlp_, defaultLossFor(mlp_), test_);
    QVERIFY2(e.ok(), e.ok() ? "" : e.error().message.c_str());
    const RunMetrics& m = e->metrics;
    TrainConfig tc;
    tc.loss = defaultLossFor(mlp_);
    Trainer t(q.model, tc);
    auto fq = t.evaluate(test_, 256, true), twin = t.evaluate(test_, 256, false);
    QVERIFY(fq.ok() && twin.ok());
    qInfo("float twin %.4f  fake quant %.4f  integer %.4f", m.floatAccuracy, m.fakeQuantAccuracy, m.integerAccuracy);
    QCOMPARE(m.fakeQuantAccuracy, fq->accuracy);
    QCOMPARE(m.loss, fq->loss);
    QCOMPARE(m.floatAccuracy, twin->accuracy);
    // The float twin of an unchanged model is the float model.
    Trainer tf(mlp_, tc);
    QCOMPARE(m.floatAccuracy, tf.evaluate(test_)->accuracy);
    QVERIFY2(m.integerError.empty(), m.integerError.c_str());
    QVERIFY(std::abs(m.integerAccuracy - m.fakeQuantAccuracy) < 0.02);
    QCOMPARE(total(e->confusion), 1000L);
    QCOMPARE(double(trace(e->confusion)) / 1000.0, m.fakeQuantAccuracy);
    QCOMPARE(m.floatWeightBytes, size_t(203530 * 4));
    // Kernels at 8 bits (784·256 + 256·10), biases stay 32-bit (int32 in TFLite).
    QCOMPARE(m.weightBytes, size_t(200704 + 2560 + 266 * 4));
    // Layer errors in node order, the input left out. The input quantizer's grid (range
    // [0, 1] in 255 steps) holds the pixels k/255 almost exactly, so the flattened input
    // only differs by float rounding; the 8-bit Dense layers lose tens of dB.
    QCOMPARE(e->layerErrors.size(), size_t(3));
    for (const LayerError& le : e->layerErrors) qInfo("%-8s %.1f dB", le.layer.c_str(), le.sqnrDb);
    QCOMPARE(e->layerErrors[0].layer, std::string("flatten"));
    QVERIFY(e->layerErrors[0].sqnrDb > 80 && e->layerErrors[0].sqnrDb < kSqnrIdentical);
    QCOMPARE(e->layerErrors[1].layer, std::string("dense"));
    QCOMPARE(e->layerErrors[2].layer, std::string("logits"));
    for (int i : {1, 2}) QVERIFY(e->layerErrors[size_t(i)].sqnrDb > 15 && e->layerErrors[size_t(i)].sqnrDb < 60);
  }

  void layersComputedInFloatAreIdentical() {
    // No input quantizer and the first two layers left float: their outputs are the float
    // model's bit for bit; the quantized logits are not. The int8 export refuses float
    // layers inside a quantized model: integerError says so and the rest is measured.
    quant::QuantizeConfig c = schemeConfig(mlp_, "default8");
    c.input.reset();
    c.layers["flatten"].quantize = false;
    c.layers["dense"].quantize = false;
    c.layers["dense"].weights.clear();
    c.layers["dense"].output.reset();
    auto q = calibrated(mlp_, c, train_);
    auto e = evaluateQuantized(q, mlp_, defaultLossFor(mlp_), test_);
    QVERIFY2(e.ok(), e.ok() ? "" : e.error().message.c_str());
    QCOMPARE(sqnrOf(e->layerErrors, "flatten"), kSqnrIdentical);
    QCOMPARE(sqnrOf(e->layerErrors, "dense"), kSqnrIdentical);
    const double logits = sqnrOf(e->layerErrors, "logits");
    QVERIFY(logits > 15 && logits < 80);
    qInfo("integer: %s", e->metrics.integerError.c_str());
    QCOMPARE(e->metrics.integerAccuracy, -1.0);
    QVERIFY(!e->metrics.integerError.empty());
    QVERIFY(e->metrics.fakeQuantAccuracy > 0.7);
    // Without integer and layer errors: neither is measured.
    EvaluationOptions o;
    o.integer = false;
    o.layerErrors = false;
    auto quick = evaluateQuantized(q, mlp_, defaultLossFor(mlp_), test_, o);
    QVERIFY(quick.ok());
    QCOMPARE(quick->metrics.integerAccuracy, -1.0);
    QVERIFY(quick->metrics.integerError.empty());
    QVERIFY(quick->layerErrors.empty());
    QCOMPARE(quick->metrics.fakeQuantAccuracy, e->metrics.fakeQuantAccuracy);
  }

  void fourBitWeightsLoseSqnr() {
    Model cnn = builtin("fashion-cnn");
    EvaluationOptions o;
    o.maxSamples = 300;
    o.layerErrorSamples = 128;
    std::vector<LayerError> errors[2];
    const char* schemes[2] = {"default8", "w4a8"};
    for (int s = 0; s < 2; ++s) {
      auto q = calibrated(cnn, schemeConfig(cnn, schemes[s]), train_);
      auto e = evaluateQuantized(q, cnn, defaultLossFor(cnn), test_, o);
      QVERIFY2(e.ok(), e.ok() ? "" : e.error().message.c_str());
      QVERIFY2(e->metrics.integerError.empty(), e->metrics.integerError.c_str());
      QVERIFY(e->metrics.integerAccuracy >= 0);
      errors[s] = e->layerErrors;
      QCOMPARE(total(e->confusion), 300L);
      for (const LayerError& le : errors[s]) qInfo("%s %-8s %.1f dB", schemes[s], le.layer.c_str(), le.sqnrDb);
    }
    QCOMPARE(errors[0].size(), errors[1].size());
    for (const char* conv : {"conv1", "conv2"}) {
      const double s8 = sqnrOf(errors[0], conv), s4 = sqnrOf(errors[1], conv);
      QVERIFY2(s8 > 15 && s8 < 60, conv);
      QVERIFY2(s4 < s8 - 6, conv);  // 4 fewer weight bits: far more than one bit's 6 dB lost
    }
  }

  void badInputsAreErrors() {
    auto q = calibrated(mlp_, schemeConfig(mlp_, "default8"), train_);
    Model cnn = builtin("fashion-cnn");
    // The float model is not the one the quantized model was made from.
    auto e = evaluateQuantized(q, cnn, defaultLossFor(mlp_), test_);
    QVERIFY(!e.ok());
    qInfo("%s", e.error().message.c_str());
    // Samples of the wrong shape.
    Tensor x(Shape{4, 10});
    auto l = layerSqnr(mlp_, q, x);
    QVERIFY(!l.ok());
    QVERIFY(l.error().message.find("expects") != std::string::npos);
    Dataset empty;
    QVERIFY(!evaluateFloat(mlp_, defaultLossFor(mlp_), empty).ok());
  }
};

QTEST_APPLESS_MAIN(TestEvaluation)
#include "test_evaluation.moc"
