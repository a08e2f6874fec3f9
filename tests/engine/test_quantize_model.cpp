// The quantize transform and schemes: tfmot's default 8-bit rules on the built-in models,
// layer selection, fold mode, the float twin of a quantized model, checkpoints that
// reload bit-identically, PTQ vs QAT on a Fashion-MNIST subset, and whole-model QAT on
// every loadable Keras file in ../shared/models/keras.
#include <QtTest>

#include <cstring>
#include <filesystem>

#include "engine/data/data_source.h"
#include "engine/graph/executor.h"
#include "engine/io/keras_model.h"
#include "engine/layers/dense.h"
#include "engine/layers/prelu.h"
#include "engine/models/builtin.h"
#include "engine/quant/checkpoint.h"
#include "engine/quant/fake_quant_layer.h"
#include "engine/quant/folded_batch_norm.h"
#include "engine/quant/quantize_wrapper.h"
#include "engine/quant/scheme.h"
#include "engine/train/defaults.h"
#include "engine/train/trainer.h"

using namespace qat;
using namespace qat::quant;

namespace {

Model builtin(const char* name) {
  auto m = makeBuiltinModel(name, 7);
  QAT_ASSERT(m.ok());
  return std::move(m.value());
}

QuantizeConfig schemeConfig(const Model& m, const char* scheme = "default8", BnMode mode = BnMode::Tfmot,
                            const std::string& layers = "") {
  auto s = schemeFromName(scheme);
  QAT_ASSERT(s.ok());
  s->bnMode = mode;
  auto r = makeSchemeConfig(m, *s, parseLayerSelection(layers));
  if (!r.ok()) qFatal("%s", r.error().message.c_str());
  return r->config;
}

QuantizedModel quantized(const Model& m, const QuantizeConfig& c) {
  auto q = quantizeModel(m, c);
  if (!q.ok()) qFatal("%s", q.error().message.c_str());
  return std::move(q.value());
}

Tensor randomBatch(const Model& m, int n, uint64_t seed) {
  Rng rng(seed);
  Tensor x(m.node(m.inputs()[0]).shape.withBatch(n));
  for (size_t i = 0; i < x.size(); ++i) x[i] = rng.uniform(0.0f, 1.0f);
  return x;
}

Tensor run(Model& m, const Tensor& x, bool fakeQuant) { return predict(m, x, 64, fakeQuant); }

double maxAbsDiff(const Tensor& a, const Tensor& b) {
  QAT_ASSERT(a.size() == b.size());
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(double(a[i]) - double(b[i])));
  return d;
}

int countOps(const Model& m, OpType op) {
  int n = 0;
  for (int i = 0; i < m.size(); ++i) n += m.node(i).layer->op() == op;
  return n;
}

// A random labelled data set shaped for `m` (class labels from its output width).
Dataset randomData(const Model& m, int n, uint64_t seed) {
  Dataset d;
  d.x = randomBatch(m, n, seed);
  const int classes = m.node(m.outputs()[0]).shape.back();
  Rng rng(seed + 1);
  if (classes > 1) {
    for (int i = 0; i < n; ++i) d.labels.push_back(static_cast<int>(rng.uniform(0.0f, 0.999f) * classes));
    d.numClasses = classes;
  } else {
    d.targets = Tensor(Shape{n, 1});
    for (int i = 0; i < n; ++i) d.targets[size_t(i)] = rng.uniform(0.0f, 1.0f);
  }
  d.source = "random";
  return d;
}

}  // namespace

class TestQuantizeModel : public QObject {
  Q_OBJECT

 private slots:
  // tfmot's default 8-bit registry and layout rules on fashion-cnn.
  void defaultSchemeOnCnn() {
    const Model m = builtin("fashion-cnn");
    const QuantizeConfig c = schemeConfig(m);
    QVERIFY(c.input.has_value());
    QCOMPARE(c.input->type, std::string("AllValues"));
    const LayerQuantConfig& conv = c.layers.at("conv1");
    QCOMPARE(conv.weights.at("kernel").type, std::string("LastValue"));
    QVERIFY(conv.weights.at("kernel").perAxis);
    QVERIFY(conv.weights.at("kernel").symmetric);
    QVERIFY(conv.weights.at("kernel").narrowRange);
    QVERIFY(!conv.output);                 // Conv → BN: no quantizer between them
    QVERIFY(!c.layers.at("bn1").output);   // BN → ReLU: after the ReLU
    QCOMPARE(c.layers.at("relu1").output->type, std::string("MovingAverage"));
    QVERIFY(!c.layers.at("pool1").output);  // pass-through
    QVERIFY(!c.layers.at("flatten").output);
    QVERIFY(!c.layers.at("dense").weights.at("kernel").perAxis);  // Dense: per-tensor
    QVERIFY(c.layers.at("dense").output.has_value());             // in-layer relu: after it
    QVERIFY(c.layers.at("logits").output.has_value());

    const QuantizedModel q = quantized(m, c);
    QCOMPARE(countOps(q.model, OpType::QuantizeWrapper), 4);
    QCOMPARE(countOps(q.model, OpType::FakeQuant), 5);  // input, relu1, relu2, dense, logits
    QCOMPARE(countOps(q.model, OpType::BatchNormalization), 2);
  }

  void nbitSchemes() {
    const Model m = builtin("fashion-cnn");
    const QuantizeConfig c = schemeConfig(m, "w4a8");
    QCOMPARE(c.layers.at("conv1").weights.at("kernel").bits, 4);
    QCOMPARE(c.layers.at("relu1").output->bits, 8);
    QVERIFY(!schemeFromName("w1a8").ok());
    QVERIFY(!schemeFromName("int8").ok());
    QCOMPARE(schemeFromName("w8a16")->activationBits, 16);
    const QuantSummary s = summarize(quantized(m, c), m);
    QCOMPARE(s.quantizedLayers, 11);  // every layer but the input
    QVERIFY(s.weightBits < s.floatBits / 4);
  }

  void layerSelection() {
    const Model m = builtin("fashion-cnn");
    auto byClass = selectNodes(m, parseLayerSelection("Conv2D"));
    QVERIFY(byClass.ok());
    QCOMPARE(byClass->size(), size_t(2));
    auto byGlob = selectNodes(m, parseLayerSelection("conv*, logits"));
    QCOMPARE(byGlob->size(), size_t(3));
    auto byRegex = selectNodes(m, parseLayerSelection("re:(bn|relu)[12]"));
    QCOMPARE(byRegex->size(), size_t(4));
    auto none = selectNodes(m, parseLayerSelection("conv9"));
    QVERIFY(!none.ok());
    QVERIFY(none.error().message.find("'conv9' matches no layer") != std::string::npos);
    QVERIFY(!selectNodes(m, parseLayerSelection("re:([")).ok());

    // Only the Dense layers quantized: the convolutions stay float, unwrapped.
    const QuantizeConfig c = schemeConfig(m, "default8", BnMode::Tfmot, "Dense");
    QVERIFY(!c.layers.at("conv1").quantize);
    const QuantizedModel q = quantized(m, c);
    QCOMPARE(countOps(q.model, OpType::QuantizeWrapper), 2);
    QCOMPARE(countOps(q.model, OpType::Conv2D), 2);
  }

  // With rounding off, a quantized model is its float model: bit-identical in tfmot mode
  // (wrappers pass the float weights), within rounding in fold mode.
  void floatTwinMatchesFloatModel_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<int>("mode");
    for (const char* name : {"fashion-cnn", "fashion-mlp", "bn-after-relu"})
      for (int mode : {0, 1}) QTest::addRow("%s/%s", name, mode ? "fold" : "tfmot") << QString::fromLatin1(name) << mode;
  }
  void floatTwinMatchesFloatModel() {
    QFETCH(QString, model);
    QFETCH(int, mode);
    Model m = builtin(model.toStdString().c_str());
    // Non-trivial BN statistics so that folding matters.
    Rng rng(3);
    for (int i = 0; i < m.size(); ++i)
      if (m.node(i).layer->op() == OpType::BatchNormalization)
        for (Param* p : m.node(i).layer->params())
          for (size_t k = 0; k < p->value.size(); ++k)
            p->value[k] = p->name == "moving_variance" ? rng.uniform(0.5f, 2.0f) : rng.uniform(-0.5f, 1.5f);
    QuantizedModel q = quantized(m, schemeConfig(m, "default8", mode ? BnMode::Fold : BnMode::Tfmot));
    if (mode && model == QLatin1String("fashion-cnn")) QCOMPARE(countOps(q.model, OpType::FoldedBatchNorm), 2);
    if (model == QLatin1String("bn-after-relu")) {  // the standalone BN keeps an output-only config
      QCOMPARE(countOps(q.model, OpType::FoldedBatchNorm), 0);
      QVERIFY(q.config.layers.at("batch_normalization").output.has_value());
    }
    const Tensor x = randomBatch(m, 16, 5);
    const Tensor yf = run(m, x, true);
    const Tensor yq = run(q.model, x, false);
    const double tol = mode ? 1e-4 * (1.0 + maxAbsDiff(yf, Tensor(yf.shape()))) : 0.0;
    QVERIFY2(maxAbsDiff(yf, yq) <= tol, qPrintable(QString::number(maxAbsDiff(yf, yq))));
    // Fake quant changes the outputs, but not by much at 8 bits (after calibration).
    Trainer t(q.model, TrainConfig{});
    Dataset d;
    d.x = x;
    d.labels.assign(16, 0);
    d.numClasses = yf.shape().back();
    QVERIFY(t.calibrate(d, 1).ok());
    const Tensor yfq = run(q.model, x, true);
    QVERIFY(maxAbsDiff(yf, yfq) > 0);
  }

  // bn-after-relu: the model tfmot refuses trains with the default scheme in both modes.
  void bnAfterReluTrains_data() {
    QTest::addColumn<int>("mode");
    QTest::newRow("tfmot") << 0;
    QTest::newRow("fold") << 1;
  }
  void bnAfterReluTrains() {
    QFETCH(int, mode);
    Model m = builtin("bn-after-relu");
    QuantizedModel q = quantized(m, schemeConfig(m, "default8", mode ? BnMode::Fold : BnMode::Tfmot));
    TrainConfig tc;
    tc.epochs = 1;
    tc.batchSize = 16;
    tc.loss = defaultLossFor(m);
    Trainer t(q.model, tc);
    const Dataset d = randomData(m, 48, 9);
    QVERIFY(t.calibrate(d, 1).ok());
    auto fit = t.fit(d);
    QVERIFY2(fit.ok(), fit.ok() ? "" : fit.error().message.c_str());
    QCOMPARE(fit->steps, 3L);
    QVERIFY(std::isfinite(fit->epochs[0].loss));
  }

  void unsupportedLayers() {
    Model m;
    int x = m.addInput("input", Shape{4});
    x = m.add<Dense>({x}, "dense", DenseOptions{3, true, ActivationFn::Linear});
    x = m.add<PReLU>({x}, "p_re_lu", PReLUOptions{});
    m.setOutputs({x});
    QVERIFY(m.build().ok());
    auto s = schemeFromName("default8");
    auto r = makeSchemeConfig(m, *s);
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.find("Layer p_re_lu:PReLU is not supported") != std::string::npos);
    QVERIFY(r.error().message.find("Leave it unticked") != std::string::npos);
    auto skipped = makeSchemeConfig(m, *s, {}, true);
    QVERIFY(skipped.ok());
    QVERIFY(!skipped->config.layers.at("p_re_lu").quantize);
    QCOMPARE(skipped->warnings.size(), size_t(1));
    // Named explicitly: always an error.
    QVERIFY(!makeSchemeConfig(m, *s, parseLayerSelection("p_re_lu"), true).ok());
  }

  void configErrors() {
    const Model m = builtin("fashion-mlp");
    QuantizeConfig c = schemeConfig(m);
    c.layers["no_such_layer"] = LayerQuantConfig{};
    auto q = quantizeModel(m, c);
    QVERIFY(!q.ok());
    QVERIFY(q.error().message.find("'no_such_layer'") != std::string::npos);
    c = schemeConfig(m);
    c.layers["dense"].weights["gamma"] = c.layers["dense"].weights["kernel"];
    q = quantizeModel(m, c);
    QVERIFY(!q.ok());
    QVERIFY2(q.error().message.find("gamma") != std::string::npos, q.error().message.c_str());
    c = schemeConfig(m);
    c.layers["dense"].weights["kernel"].type = "NoSuchQuantizer";
    QVERIFY(!quantizeModel(m, c).ok());
  }

  void configJsonRoundTrip() {
    const Model m = builtin("fashion-cnn");
    QuantizeConfig c = schemeConfig(m, "w4a8", BnMode::Fold);
    c.freezeBnStep = 200;
    c.layers["relu1"].output.reset();  // "skip activations"
    auto back = quantizeConfigFromJson(toJson(c));
    QVERIFY(back.ok());
    QVERIFY(back.value() == c);
    auto bad = quantizeConfigFromJson(nlohmann::json{{"schema_version", 99}});
    QVERIFY(!bad.ok());
    QVERIFY(bad.error().message.find("schema_version 99") != std::string::npos);
    auto j = toJson(c);
    j["layers"]["conv1"]["weights"]["kernel"]["bits"] = 1;
    auto badBits = quantizeConfigFromJson(j);
    QVERIFY(!badBits.ok());
    QVERIFY2(badBits.error().message.find("layers.conv1.weights.kernel") != std::string::npos,
             badBits.error().message.c_str());
  }

  // Save after calibration and two QAT steps, reload: the same outputs bit for bit, and
  // the file opens as a plain Keras model holding the trained float weights.
  void checkpointReloadsBitIdentically_data() {
    QTest::addColumn<int>("mode");
    QTest::newRow("tfmot") << 0;
    QTest::newRow("fold") << 1;
  }
  void checkpointReloadsBitIdentically() {
    QFETCH(int, mode);
    Model m = builtin("fashion-cnn");
    QuantizeConfig c = schemeConfig(m, "default8", mode ? BnMode::Fold : BnMode::Tfmot);
    c.freezeBnStep = 1;
    QuantizedModel q = quantized(m, c);
    TrainConfig tc;
    tc.batchSize = 16;
    tc.loss = defaultLossFor(m);
    Trainer t(q.model, tc);
    const Dataset d = randomData(m, 32, 11);
    QVERIFY(t.calibrate(d, 1).ok());
    QVERIFY(t.fit(d).ok());
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("qat.h5")).toStdString();
    QVERIFY(saveCheckpoint(q, m, path).ok());
    QVERIFY(isCheckpoint(path));
    auto ck = loadCheckpoint(path);
    QVERIFY2(ck.ok(), ck.ok() ? "" : ck.error().message.c_str());
    const Tensor x = randomBatch(m, 8, 12);
    const Tensor a = run(q.model, x, true), b = run(ck->quantized.model, x, true);
    QCOMPARE(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
    // As a Keras file: the float model with the trained weights.
    auto plain = loadKerasModel(path);
    QVERIFY(plain.ok());
    Model trained = m.clone();
    QVERIFY(copyFloatWeights(q, trained).ok());
    const Tensor fa = run(trained, x, true), fb = run(plain.value(), x, true);
    QCOMPARE(std::memcmp(fa.data(), fb.data(), fa.size() * sizeof(float)), 0);
    QVERIFY(!isCheckpoint(dir.filePath(QStringLiteral("missing.h5")).toStdString()));
    const std::string plainPath = dir.filePath(QStringLiteral("plain.h5")).toStdString();
    QVERIFY(saveKerasModel(m, plainPath).ok());
    QVERIFY(!isCheckpoint(plainPath));
    auto notCk = loadCheckpoint(plainPath);
    QVERIFY(!notCk.ok());
    QVERIFY(notCk.error().message.find("not a QAT checkpoint") != std::string::npos);
  }

  // The fast check: on a Fashion-MNIST subset, QAT ends no worse than PTQ − 0.1
  // points (test accuracy on 2,000 test images).
  void qatNotWorseThanPtq() {
    auto data = loadDataSource("fashion-mnist", DataSourceOptions{});
    if (!data.ok() || !data->test) QSKIP("Fashion-MNIST (Debian dataset-fashion-mnist) is not installed");
    const Dataset train = subset(data->train, 6000);
    const Dataset test = subset(*data->test, 2000);
    Model m = builtin("fashion-mlp");
    TrainConfig tc;
    tc.epochs = 2;
    tc.loss = defaultLossFor(m);
    {
      Trainer floatTrainer(m, tc);
      QVERIFY(floatTrainer.fit(train).ok());
    }
    QuantizedModel q = quantized(m, schemeConfig(m));
    tc.epochs = 1;
    tc.optimizer.learningRate = 1e-4f;
    Trainer t(q.model, tc);
    QVERIFY(t.calibrate(train, 16).ok());
    const double ptq = t.evaluate(test)->accuracy;
    QVERIFY(t.fit(train).ok());
    const double qat = t.evaluate(test)->accuracy;
    qInfo("PTQ %.4f, QAT %.4f", ptq, qat);
    QVERIFY(ptq > 0.7);
    QVERIFY2(qat >= ptq - 0.001, qPrintable(QStringLiteral("QAT %1 < PTQ %2 - 0.1 points").arg(qat).arg(ptq)));
  }

  // Whole-model QAT (default scheme, both BN modes) on every loadable model in
  // ../shared/models/keras: calibration and a few training steps on random data.
  void wholeModelQatOnSharedModels() {
    const std::filesystem::path dir = QAT_SHARED_DIR "/models/keras";
    if (!std::filesystem::exists(dir)) QSKIP("../shared/models is not present");
    int tried = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      const std::string ext = e.path().extension().string();
      if (ext != ".h5" && ext != ".hdf5") continue;
      auto m = loadKerasModel(e.path().string());
      if (!m.ok()) continue;  // the files meant to be refused (test_keras_io checks them)
      QElapsedTimer timer;
      timer.start();
      for (BnMode mode : {BnMode::Tfmot, BnMode::Fold}) {
        auto s = schemeFromName("default8");
        s->bnMode = mode;
        auto c = makeSchemeConfig(*m, *s, {}, false);
        QVERIFY2(c.ok(), qPrintable(QString::fromStdString(e.path().filename().string() + ": " +
                                                          (c.ok() ? "" : c.error().message))));
        auto q = quantizeModel(*m, c->config);
        QVERIFY2(q.ok(), qPrintable(QString::fromStdString(e.path().filename().string() + ": " +
                                                          (q.ok() ? "" : q.error().message))));
        TrainConfig tc;
        tc.batchSize = 2;  // two steps: some of these models are large (squeezenet: 0.86 GMAC/sample)
        tc.loss = defaultLossFor(*m);
        const Dataset d = randomData(*m, 4, 13);
        if (!d.hasLabels()) tc.loss = {LossKind::MeanSquaredError, false};
        Trainer t(q->model, tc);
        QVERIFY(t.calibrate(d, 1).ok());
        auto fit = t.fit(d);
        QVERIFY2(fit.ok(), qPrintable(QString::fromStdString(e.path().filename().string() + ": " +
                                                            (fit.ok() ? "" : fit.error().message))));
        QVERIFY(std::isfinite(fit->epochs[0].loss));
      }
      qInfo("%s: %lld ms", e.path().filename().string().c_str(), static_cast<long long>(timer.elapsed()));
      ++tried;
    }
    QVERIFY(tried >= 9);
  }
};

QTEST_APPLESS_MAIN(TestQuantizeModel)
#include "test_quantize_model.moc"
