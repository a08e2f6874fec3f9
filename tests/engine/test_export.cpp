// deploy::exportModel, the pipeline behind qat-cli export and File ▸ Export: for each format
// the file exists, reads back with the engine's reader, and the verification it reports is
// the one a fresh verifyGraph run on the file gives (≥ 99% top-1 agreement, at most one
// output step apart). Float models export as float only; a layer the int8 graph cannot
// run is named in the error.
#include <QtTest>

#include <QTemporaryDir>

#include <fstream>
#include <sstream>

#include "common/freeze_test_util.h"
#include "engine/data/data_source.h"
#include "engine/deploy/export.h"
#include "engine/deploy/onnx_file.h"
#include "engine/deploy/tflite_file.h"
#include "engine/io/keras_model.h"
#include "engine/train/defaults.h"
#include "engine/train/trainer.h"

using namespace qat;
using namespace qat::deploy;
using namespace qat::test;

namespace {

struct Data {
  Dataset train, test;
};

// Fashion-MNIST when installed (a model trained for one short epoch has clear winners, so
// top-1 agreement is meaningful); random inputs otherwise.
const Data& data() {
  static const Data d = [] {
    Data r;
    auto src = loadDataSource("fashion-mnist", DataSourceOptions{});
    if (src.ok() && src->test) {
      r.train = subset(src->train, 2000);
      r.test = subset(*src->test, 500);
    } else {
      const Model m = builtin("fashion-mlp");
      r.train = randomData(m, 512, 1);
      r.test = randomData(m, 300, 2);
    }
    return r;
  }();
  return d;
}

struct Calibrated {
  Model floatModel;
  QuantizedModel quantized;
};

// fashion-mlp, one float epoch, quantized with `scheme` and calibrated (post-training).
Calibrated calibrated(const char* scheme, const std::string& floatLayers = "") {
  Calibrated c{builtin("fashion-mlp"), {}};
  TrainConfig tc;
  tc.loss = defaultLossFor(c.floatModel);
  tc.epochs = 1;
  Trainer ft(c.floatModel, tc);
  QAT_ASSERT(ft.fit(data().train).ok());
  c.quantized = quantizeWith(c.floatModel, BnMode::Tfmot, floatLayers, scheme);
  Trainer t(c.quantized.model, tc);
  QAT_ASSERT(t.calibrate(data().train, 8).ok());
  return c;
}

std::string slurp(const QString& path) {
  std::ifstream f(path.toStdString(), std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

class TestExport : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::optional<Calibrated> c8_;

  std::string path(const char* name) const { return dir_.filePath(QString::fromLatin1(name)).toStdString(); }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    c8_.emplace(calibrated("default8"));
  }

  void names() {
    for (ExportFormat f : kAllExportFormats) QCOMPARE(exportFormatFromName(exportFormatName(f)), f);
    QCOMPARE(exportFormatFromName("onnx"), ExportFormat::OnnxQdq);
    QVERIFY(!exportFormatFromName("tflite-int4"));
    QCOMPARE(exportFormatExtension(ExportFormat::CHeader), std::string_view(".h"));
    QVERIFY(isIntegerFormat(ExportFormat::CHeader) && !isIntegerFormat(ExportFormat::Keras));
  }

  // Every integer format: written, read back, verified; the report equals a verifyGraph run
  // on the file read back independently.
  void integerFormats_data() {
    QTest::addColumn<int>("format");
    QTest::addColumn<QString>("file");
    QTest::addColumn<bool>("int8Io");
    QTest::addRow("tflite") << int(ExportFormat::TfliteInt8) << "m.tflite" << false;
    QTest::addRow("tflite int8 I/O") << int(ExportFormat::TfliteInt8) << "m_io.tflite" << true;
    QTest::addRow("onnx") << int(ExportFormat::OnnxQdq) << "m.onnx" << false;
    QTest::addRow("c-header") << int(ExportFormat::CHeader) << "model-data.h" << false;
  }
  void integerFormats() {
    QFETCH(int, format);
    QFETCH(QString, file);
    QFETCH(bool, int8Io);
    const auto fmt = ExportFormat(format);
    const std::string out = dir_.filePath(file).toStdString();
    ExportOptions o;
    o.int8Io = int8Io;
    o.verifySamples = 300;
    const Tensor range = subset(data().train, 256).x;
    auto r = exportModel(c8_->floatModel, &c8_->quantized, fmt, out, o, &data().test, &range);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    QCOMPARE(r->path, out);
    QCOMPARE(qint64(r->bytes), QFileInfo(file.prepend(dir_.path() + u'/')).size());
    QVERIFY(r->bytes > 50000);  // fashion-mlp holds ~100k int8 weights
    QVERIFY(r->verificationError.empty());
    QVERIFY(r->verification);
    const VerificationReport& v = *r->verification;
    qInfo("%s", v.summary().c_str());
    QCOMPARE(v.samples, size_t(300));
    QVERIFY(v.quantized);
    QVERIFY(v.top1Agreement >= 0.99);
    QVERIFY(v.maxStepDifference <= 1.0);
    QVERIFY(v.referenceAccuracy > 0 && std::abs(v.referenceAccuracy - v.exportAccuracy) <= 0.01);

    Expected<IntegerGraph> g = makeError("unread");
    if (fmt == ExportFormat::OnnxQdq) {
      g = readOnnxQdq(out);
    } else if (fmt == ExportFormat::TfliteInt8) {
      g = readTflite(out);
    } else {  // the header holds the bytes of the int8 .tflite, under a name from the file
      const std::string h = slurp(QString::fromStdString(out));
      QVERIFY(h.find("model_data_tflite[]") != std::string::npos);
      auto bytes = exportModel(c8_->floatModel, &c8_->quantized, ExportFormat::TfliteInt8, path("h.tflite"), o,
                               nullptr, &range);
      QVERIFY(bytes.ok());
      QVERIFY(!bytes->verification);  // no data: written and read back only
      g = readTflite(path("h.tflite"));
    }
    QVERIFY2(g.ok(), g.ok() ? "" : g.error().message.c_str());
    QCOMPARE(g->tensors[size_t(g->inputs[0])].type, int8Io ? ElementType::Int8 : ElementType::Float32);
    auto again = verifyGraph(c8_->quantized.model, *g, data().test, 300);
    QVERIFY(again.ok());
    QCOMPARE(again->top1Agreement, v.top1Agreement);
    QCOMPARE(again->maxStepDifference, v.maxStepDifference);
    QCOMPARE(again->withinOneStep, v.withinOneStep);
    QCOMPARE(again->exportAccuracy, v.exportAccuracy);
  }

  // 4-bit weights: freeze says TFLite runs them as int8; as INT4 tensors when asked.
  void subEightBit() {
    Calibrated c4 = calibrated("w4a8");
    const Tensor range = subset(data().train, 256).x;
    ExportOptions o;
    o.verifySamples = 200;
    auto r = exportModel(c4.floatModel, &c4.quantized, ExportFormat::TfliteInt8, path("w4.tflite"), o, &data().test,
                         &range);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    bool said = false;
    for (const std::string& n : r->notes) said |= n.find("4-bit grid") != std::string::npos &&
                                                  n.find("TFLite runs them as int8") != std::string::npos;
    QVERIFY(said);
    QCOMPARE(r->int4Tensors, size_t(0));
    o.int4Weights = true;
    auto r4 = exportModel(c4.floatModel, &c4.quantized, ExportFormat::TfliteInt8, path("w4_int4.tflite"), o,
                          &data().test, &range);
    QVERIFY2(r4.ok(), r4.ok() ? "" : r4.error().message.c_str());
    QVERIFY(r4->int4Tensors >= 2);  // both Dense kernels
    QVERIFY(r4->bytes < r->bytes * 3 / 5);  // two weights per byte
    // Same grid values either way: verification identical.
    QVERIFY(r->verification && r4->verification);
    QCOMPARE(r4->verification->top1Agreement, r->verification->top1Agreement);
    QCOMPARE(r4->verification->maxStepDifference, r->verification->maxStepDifference);
    QVERIFY(r4->verification->top1Agreement >= 0.99);
  }

  // Float exports: a float .tflite equals the float model; Keras holds the float weights
  // (a quantized model's trained twin). A float model cannot go to an integer format.
  void floatAndKeras() {
    ExportOptions o;
    o.verifySamples = 200;
    auto f = exportModel(c8_->floatModel, nullptr, ExportFormat::TfliteFloat, path("f.tflite"), o, &data().test,
                         nullptr);
    QVERIFY2(f.ok(), f.ok() ? "" : f.error().message.c_str());
    QVERIFY(f->verification && !f->verification->quantized);
    QCOMPARE(f->verification->top1Agreement, 1.0);
    QVERIFY(f->verification->maxStepDifference < 1e-4);
    QVERIFY(readTflite(path("f.tflite")).ok());

    auto k = exportModel(c8_->floatModel, &c8_->quantized, ExportFormat::Keras, path("k.h5"), o, &data().test,
                         nullptr);
    QVERIFY2(k.ok(), k.ok() ? "" : k.error().message.c_str());
    QVERIFY(!k->verification && k->bytes > 100000);
    auto loaded = loadKerasModel(path("k.h5"));
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().message.c_str());
    Model twin = c8_->floatModel.clone();
    QVERIFY(quant::copyFloatWeights(c8_->quantized, twin).ok());
    const Tensor x = subset(data().test, 16).x;
    const Tensor a = predict(*loaded, x, 16, false), b = predict(twin, x, 16, false);
    QCOMPARE(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) QCOMPARE(a[i], b[i]);

    auto refused = exportModel(c8_->floatModel, nullptr, ExportFormat::OnnxQdq, path("no.onnx"), o, &data().test,
                               nullptr);
    QVERIFY(!refused.ok());
    QVERIFY2(refused.error().message.find("float model") != std::string::npos, refused.error().message.c_str());
    QVERIFY(!QFileInfo::exists(QString::fromStdString(path("no.onnx"))));
  }

  // A layer left in float inside the quantized model blocks the int8 export: the error
  // names the model, the layer and its class; no file is written.
  void unsupportedLayerIsNamed() {
    Calibrated c = calibrated("default8", "dense");  // 'logits' stays float
    ExportOptions o;
    o.modelName = "fashion-mlp";
    const Tensor range = subset(data().train, 256).x;
    for (ExportFormat f : {ExportFormat::TfliteInt8, ExportFormat::OnnxQdq}) {
      auto r = exportModel(c.floatModel, &c.quantized, f, path("blocked.bin"), o, &data().test, &range);
      QVERIFY(!r.ok());
      const std::string& m = r.error().message;
      QVERIFY2(m.rfind("Cannot export fashion-mlp: ", 0) == 0, m.c_str());
      QVERIFY2(m.find("Layer 'logits' (Dense)") != std::string::npos, m.c_str());
    }
    QVERIFY(!QFileInfo::exists(QString::fromStdString(path("blocked.bin"))));
    // A file that cannot be written is named.
    auto w = exportModel(c8_->floatModel, &c8_->quantized, ExportFormat::TfliteInt8,
                         path("missing-dir/m.tflite"), o, nullptr, &range);
    QVERIFY(!w.ok());
    QVERIFY2(w.error().message.find("missing-dir") != std::string::npos, w.error().message.c_str());
  }
};

QTEST_APPLESS_MAIN(TestExport)
#include "test_export.moc"
