// ONNX QDQ export, part 2: whole models. Built-in models trained briefly on Fashion-MNIST
// (Debian's dataset-fashion-mnist; uniform noise when it is missing) and every model of
// ../shared/models/keras that loads and freezes, exported to .onnx, checked by python3-onnx
// and run in onnxruntime (common/onnx_judge.h) against the studio's integer interpreter run
// the way onnxruntime computes: RoundingMode::FloatMultiplierHalfEven (kOnnxMode, its fused
// QLinear* kernels, optimization level "all") and FloatDequantizedHalfEven
// (kOnnxUnoptimizedMode, float ops between DequantizeLinear / QuantizeLinear, level
// "disabled"). The agreement with the TFLite-reference interpretation (the studio's
// numbers) is printed next to it.
//  * op by op, each op fed the interpreter's own int8 inputs: ≥ 99.5 % of values equal and
//    never more than one step apart;
//  * whole model at level "all": issue 5's criterion, ≥ 99.5 % of the outputs equal, none
//    more than one step apart;
//    at level "disabled" never more than one step apart for the built-in models, printed
//    for the others (onnxruntime's float kernels sum in an order no mode reproduces); top-1
//    agreement ≥ 99 % with the TFLite reference and, for fashion-cnn, ONNX accuracy within
//    0.2 points of fake quant;
//  * float models frozen with freezeFloat: outputs within 1e-4 relative of the engine's.
#include <QtTest>

#include <filesystem>

#include "common/freeze_test_util.h"
#include "common/onnx_judge.h"
#include "engine/data/data_source.h"
#include "engine/deploy/freeze.h"
#include "engine/io/keras_model.h"
#include "engine/models/builtin.h"
#include "engine/quant/quantize_model.h"
#include "engine/quant/scheme.h"
#include "engine/train/defaults.h"
#include "engine/train/trainer.h"

using namespace qat;
using namespace qat::deploy;
using test::OnnxJudge;

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
      r.train = subset(src->train, 4000);
      r.test = subset(*src->test, 2000);
      r.real = true;
      return r;
    }
    for (Dataset* ds : {&r.train, &r.test}) {
      Rng rng(ds == &r.train ? 1 : 2);
      const int n = ds == &r.train ? 512 : 500;
      ds->x = Tensor(Shape{n, 28, 28, 1});
      for (size_t i = 0; i < ds->x.size(); ++i) ds->x[i] = rng.uniform(0.0f, 1.0f);
      for (int i = 0; i < n; ++i) ds->labels.push_back(int(rng.uniform(0.0f, 9.999f)));
      ds->numClasses = 10;
    }
    return r;
  }();
  return d;
}

// A float model trained one epoch (real data only), quantized with the default 8-bit
// scheme, calibrated, then briefly trained with QAT (real data only).
struct Trained {
  Model floatModel;
  quant::QuantizedModel quantized;
};
Trained trained(const std::string& name) {
  auto m = makeBuiltinModel(name, 7);
  QAT_ASSERT(m.ok());
  Model model = std::move(m.value());
  TrainConfig tc;
  tc.loss = defaultLossFor(model);
  if (data().real) QAT_ASSERT(Trainer(model, tc).fit(data().train).ok());
  auto scheme = quant::schemeFromName("default8");
  QAT_ASSERT(scheme.ok());
  auto config = quant::makeSchemeConfig(model, *scheme);
  QAT_ASSERT(config.ok());
  auto q = quant::quantizeModel(model, config->config);
  QAT_ASSERT(q.ok());
  tc.optimizer.learningRate = 1e-4f;
  Trainer t(q->model, tc);
  QAT_ASSERT(t.calibrate(data().train, 8).ok());
  if (data().real) QAT_ASSERT(t.fit(subset(data().train, 1000)).ok());
  return {std::move(model), std::move(q.value())};
}

double accuracy(const Tensor& y, const std::vector<int>& labels) {
  const size_t n = labels.size(), k = y.size() / n;
  size_t right = 0;
  for (size_t r = 0; r < n; ++r)
    right += size_t(std::max_element(y.data() + r * k, y.data() + (r + 1) * k) - (y.data() + r * k)) == size_t(labels[r]);
  return double(right) / double(n);
}

}  // namespace

class TestOnnxModels : public QObject {
  Q_OBJECT
  OnnxJudge judge_;

  // Whole-model agreement at optimization level k: with the interpreter in kOnnxMode (the
  // criterion) and in TfliteReference (the studio's numbers), printed.
  static void reportWhole(const std::string& what, const IntegerGraph& g, const OnnxJudge::Run& run, int k,
                          const Tensor& reference) {
    test::Agreement before;
    before.add(run.outputs[k][0], reference, test::outputStep(g, 0));
    const test::Agreement& a = run.agree[k];
    qInfo("%s, whole model, optimizations %s: vs tflite-reference %.3f %% equal (max %ld step(s)), vs %s %.3f %% "
          "equal (max %ld step(s)) of %zu values",
          what.c_str(), OnnxJudge::kOpt[k], 100 * before.equalFraction(), before.maxSteps,
          deploy::roundingModeName(k == 0 ? test::kOnnxUnoptimizedMode : test::kOnnxMode), 100 * a.equalFraction(),
          a.maxSteps, a.values);
  }

  // Op-by-op agreement, printed and held to ≥ minEqual of the values equal, ≤ 1 step.
  // Returns the worst equal fraction.
  double checkPerOp(const IntegerGraph& g, const Tensor& x, int n, const char* what, double minEqual) {
    double worst = 1.0;
    for (const auto& r : judge_.perOp(g, x, n)) {
      for (int k = 0; k < 2; ++k) {
        const test::Agreement& a = r.agree[k];
        qInfo("  %s op %zu %s, optimizations %s: %.3f %% of %zu values equal, max %ld step(s)", what, r.op,
              r.label.c_str(), OnnxJudge::kOpt[k], 100 * a.equalFraction(), a.values, a.maxSteps);
        if (a.maxSteps > 1 || a.equalFraction() < minEqual)
          qFatal("%s op %zu %s: %.3f %% equal, max %ld steps", what, r.op, r.label.c_str(), 100 * a.equalFraction(),
                 a.maxSteps);
        worst = std::min(worst, a.equalFraction());
      }
    }
    return worst;
  }

 private slots:
  void initTestCase() {
    if (!judge_.checkerMissing().isEmpty()) QSKIP(qPrintable(judge_.checkerMissing()));
    if (!judge_.canRun()) QSKIP(qPrintable(OnnxJudge::runtimeMissing()));
  }

  void builtinModels_data() {
    QTest::addColumn<QString>("model");
    for (const char* m : {"fashion-mlp", "fashion-cnn", "bn-after-relu"}) QTest::newRow(m) << QString::fromLatin1(m);
  }
  void builtinModels() {
    QFETCH(QString, model);
    Trained tr = trained(model.toStdString());
    const Tensor& x = data().test.x;
    const auto& labels = data().test.labels;

    auto fg = freezeFloat(tr.floatModel);
    QVERIFY2(fg.ok(), fg.ok() ? "" : fg.error().message.c_str());
    const auto floatRun = judge_.exportAndCompare(*fg, {x}, {predict(tr.floatModel, x, 256, true)});
    QVERIFY(floatRun.ran);
    QVERIFY(!floatRun.summary[QStringLiteral("ops")].toVariant().toStringList().contains(QStringLiteral("QuantizeLinear")));

    auto g = freezeQuantized(tr.quantized);
    QVERIFY2(g.ok(), g.ok() ? "" : g.error().message.c_str());
    auto interp = Interpreter::create(*g);
    QVERIFY2(interp.ok(), interp.ok() ? "" : interp.error().message.c_str());
    interp->setKeepTensors(false);
    auto ref = interp->run({x});
    QVERIFY(ref.ok());
    const auto run = judge_.exportAndCompare(*g, {x}, test::interpret(*g, {x}, test::kOnnxUnoptimizedMode),
                                             test::interpret(*g, {x}, test::kOnnxMode));
    const QStringList ops = run.summary[QStringLiteral("ops")].toVariant().toStringList();
    QVERIFY(ops.contains(QStringLiteral("QuantizeLinear")));
    QVERIFY(ops.count(QStringLiteral("Transpose")) <= 2);  // input NHWC→NCHW, back before the flatten
    // onnxruntime recognises every QDQ group: no float Conv / Gemm is left after fusion.
    qInfo("%s after onnxruntime's fusion: %s", qPrintable(model), qPrintable(run.fusedOps.join(QStringLiteral(", "))));
    QVERIFY(!run.fusedOps.isEmpty());
    QVERIFY(!run.fusedOps.contains(QStringLiteral("Conv")) && !run.fusedOps.contains(QStringLiteral("Gemm")));

    const double accFloat = accuracy(predict(tr.floatModel, x, 256, true), labels);
    const double accFq = accuracy(predict(tr.quantized.model, x, 256, true), labels);
    const double accInt = accuracy((*ref)[0], labels);
    qInfo("%s (%s, %d samples): accuracy float %.2f %%, fake-quant %.2f %%, integer interpreter %.2f %%",
          qPrintable(model), data().real ? "Fashion-MNIST" : "random data", x.dim(0), 100 * accFloat, 100 * accFq,
          100 * accInt);
    for (int k = 0; k < 2; ++k) {
      const test::Agreement& a = run.agree[k];
      const double accOrt = accuracy(run.outputs[k][0], labels);
      const size_t top1 = test::top1Agreeing(run.outputs[k][0], (*ref)[0]);
      qInfo("  onnxruntime (optimizations %s): accuracy %.2f %%, top-1 agreement with the interpreter %.2f %%",
            OnnxJudge::kOpt[k], 100 * accOrt, 100.0 * double(top1) / x.dim(0));
      reportWhole(model.toStdString(), *g, run, k, (*ref)[0]);
      QVERIFY(a.maxSteps <= 1);
      if (k == 1) QVERIFY(a.equalFraction() >= 0.995);  // issue 5 at level "all" (deployed)
      QVERIFY(double(top1) >= 0.99 * x.dim(0));
      if (data().real && model == QLatin1String("fashion-cnn"))
        QVERIFY2(std::fabs(accOrt - accFq) <= 0.002 + 1e-9, "ONNX accuracy not within 0.2 points of fake quant");
    }
    checkPerOp(*g, x, 100, qPrintable(model), 0.995);
  }

  // freeze with int8 I/O: the ONNX model takes and returns int8 tensors (no QuantizeLinear
  // at the input, the output is the last QuantizeLinear's value). Op by op it is held to
  // the bar above; whole, at level "all" by issue 5's criterion, at "disabled" (float
  // kernels) within two steps: this untrained (only calibrated) network's logits span few
  // steps and pass one-step near-tie differences on.
  void int8IoFreeze() {
    auto m = makeBuiltinModel("fashion-cnn", 7);
    QVERIFY(m.ok());
    auto scheme = quant::schemeFromName("default8");
    auto config = quant::makeSchemeConfig(*m, *scheme);
    auto q = quant::quantizeModel(*m, config->config);
    QVERIFY(q.ok());
    Trainer t(q->model, TrainConfig{});
    QVERIFY(t.calibrate(subset(data().train, 256), 4).ok());
    FreezeOptions fo;
    fo.int8Io = true;
    auto g = freezeQuantized(*q, fo);
    QVERIFY2(g.ok(), g.ok() ? "" : g.error().message.c_str());
    const auto& in = g->tensors[size_t(g->inputs[0])];
    QCOMPARE(int(in.type), int(ElementType::Int8));
    // The test images quantized with the input's parameters (ties away from zero).
    const Tensor& x = data().test.x;
    Tensor xq(x.shape());
    for (size_t i = 0; i < x.size(); ++i)
      xq[i] = std::clamp(std::round(x[i] / in.quant.scale[0]) + float(in.quant.zeroPoint[0]), -128.0f, 127.0f);
    const auto run = judge_.exportAndCompare(*g, {xq}, test::interpret(*g, {xq}, test::kOnnxUnoptimizedMode),
                                             test::interpret(*g, {xq}, test::kOnnxMode));
    QVERIFY(run.ran);
    const auto inputs = run.summary[QStringLiteral("inputs")].toArray();
    const auto outputs = run.summary[QStringLiteral("outputs")].toArray();
    QCOMPARE(inputs.at(0).toObject()[QStringLiteral("type")].toInt(), 3);  // INT8
    QCOMPARE(outputs.at(0).toObject()[QStringLiteral("type")].toInt(), 3);
    for (int k = 0; k < 2; ++k) {
      const test::Agreement& a = run.agree[k];
      qInfo("fashion-cnn int8 I/O, optimizations %s: %.3f %% of %zu int8 outputs equal, max %ld step(s)",
            OnnxJudge::kOpt[k], 100 * a.equalFraction(), a.values, a.maxSteps);
      QVERIFY(a.maxSteps <= 2);
      if (k == 1) QVERIFY(a.maxSteps <= 1 && a.equalFraction() >= 0.995);
    }
    checkPerOp(*g, xq, 100, "fashion-cnn int8 I/O", 0.995);
  }

  // Every model of ../shared/models/keras that loads and freezes with the default 8-bit
  // scheme (calibrated on 16 random samples): exported, checked, run whole (16 samples,
  // issue 5's criterion at level "all") and op by op (2 to 16 samples: ≤ 1 step, ≥ 99.5 %
  // equal); its float twin too. (In TfliteReference a degenerate channel, e.g. a
  // standalone BatchNormalization after a ReLU whose input sits at the zero point, has
  // acc = bias everywhere, and when bias·M lands within a hair of .5 the two roundings
  // disagree on every pixel of it; in kOnnxMode the interpreter rounds as onnxruntime does.)
  void sharedKerasModels_data() {
    QTest::addColumn<QString>("path");
    const std::filesystem::path dir = QAT_SHARED_DIR "/models/keras";
    if (!std::filesystem::exists(dir)) {  // a user's clone has no ../shared: one row that skips
      QTest::newRow("absent") << QString();
      return;
    }
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(dir))
      if (e.path().extension() == ".h5" || e.path().extension() == ".hdf5") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (const auto& f : files)
      QTest::newRow(std::filesystem::path(f).filename().string().c_str()) << QString::fromStdString(f);
  }
  void sharedKerasModels() {
    QFETCH(QString, path);
    if (path.isEmpty()) QSKIP("../shared/models is not present (QAT_SHARED_DIR)");
    auto m = loadKerasModel(path.toStdString());
    if (!m.ok()) QSKIP("does not load (see test_keras_io)");
    auto s = quant::schemeFromName("default8");
    auto c = quant::makeSchemeConfig(*m, *s, {}, false);
    if (!c.ok()) QSKIP(qPrintable(QString::fromStdString("scheme refused: " + c.error().message)));
    auto q = quant::quantizeModel(*m, c->config);
    QVERIFY(q.ok());
    const int n = 16;
    const Dataset d = test::unlabelledData(*m, test::uniformInputs(*m, n, 3));
    auto g = test::calibrateAndFreeze(*q, d, 1);
    if (!g.ok()) QSKIP(qPrintable(QString::fromStdString("not frozen: " + g.error().message)));
    const std::string file = QFileInfo(path).fileName().toStdString();
    g->name = file;
    const auto run = judge_.exportAndCompare(*g, {d.x}, test::interpret(*g, {d.x}, test::kOnnxUnoptimizedMode),
                                             test::interpret(*g, {d.x}, test::kOnnxMode));
    QVERIFY(run.ran);
    const QStringList ops = run.summary[QStringLiteral("ops")].toVariant().toStringList();
    qInfo("%s: %d ops → %lld ONNX nodes (%lld Transpose); after onnxruntime's fusion: %s", file.c_str(),
          int(g->ops.size()), qsizetype(ops.size()), qsizetype(ops.count(QStringLiteral("Transpose"))),
          qPrintable(run.fusedOps.join(QStringLiteral(", "))));
    const std::vector<Tensor> ref = test::interpret(*g, {d.x});
    for (int k = 0; k < 2; ++k) reportWhole(file, *g, run, k, ref[0]);
    // Issue 5's criterion at optimization level "all" (onnxruntime's default, as deployed).
    // (With int8 activations instead of the export's uint8, onnxruntime left the ops on
    // tensors with two readers unfused, in float: squeezenet, mini_XCEPTION and the ResNet
    // missed it.)
    QVERIFY(run.agree[1].maxSteps <= 1 && run.agree[1].equalFraction() >= 0.995);
    // Up to 16 samples, fewer for large inputs (squeezenet's 224×224×3: 2).
    const int perOpSamples = int(std::clamp<size_t>(300000 / d.x.shape().withoutBatch().numel(), 2, size_t(n)));
    checkPerOp(*g, d.x, perOpSamples, file.c_str(), 0.995);
    auto fg = freezeFloat(*m);
    if (!fg.ok()) QSKIP(qPrintable(QString::fromStdString("no float freeze: " + fg.error().message)));
    fg->name = file + " (float)";
    QVERIFY(judge_.exportAndCompare(*fg, {d.x}, {predict(*m, d.x, n, true)}).ran);  // 1e-4 relative inside
  }
};

QTEST_APPLESS_MAIN(TestOnnxModels)
#include "test_onnx_models.moc"
