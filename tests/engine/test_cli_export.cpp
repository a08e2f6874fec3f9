// qat-cli export end to end: a QAT checkpoint written by qat-cli quantize becomes an int8
// .tflite, an ONNX QDQ file, a C header and (from the float model) a float .tflite; each
// file is read back and verified (the report says so), and the summary's agreement
// figures are real. Also predict --mode integer and the integer accuracy quantize reports.
#include <QtTest>

#include <QJsonArray>
#include <QTemporaryDir>

#include "common/cli_run.h"
#include "engine/data/npy.h"
#include "engine/deploy/onnx_file.h"
#include "engine/deploy/tflite_file.h"
#include "engine/quant/checkpoint.h"

using namespace qat::test;

namespace {

QString tmp(const QTemporaryDir& d, const char* name) { return d.filePath(QString::fromLatin1(name)); }

QJsonObject verification(const Run& r) { return summaryOf(r.out)[QStringLiteral("verification")].toObject(); }

}  // namespace

class TestCliExport : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString float_, ckpt_;

 private slots:
  void initTestCase() {
    if (!haveFashionMnist()) QSKIP("dataset-fashion-mnist is not installed");
    float_ = tmp(dir_, "float.h5");
    ckpt_ = tmp(dir_, "qat.h5");
    Run r = cli({QStringLiteral("train"), QStringLiteral("--model"), QStringLiteral("builtin:fashion-cnn"),
                 QStringLiteral("--max-samples"), QStringLiteral("2000"), QStringLiteral("--out"), float_});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    r = cli({QStringLiteral("quantize"), QStringLiteral("--model"), float_, QStringLiteral("--bn-mode"),
             QStringLiteral("fold"), QStringLiteral("--epochs"), QStringLiteral("1"), QStringLiteral("--max-samples"),
             QStringLiteral("1000"), QStringLiteral("--calib-batches"), QStringLiteral("4"), QStringLiteral("--json"),
             QStringLiteral("--out"), ckpt_});
    QVERIFY2(r.exitCode == 0, r.out.constData());
    const QJsonObject s = summaryOf(r.out);
    const double fq = s[QStringLiteral("fake_quant")].toObject()[QStringLiteral("accuracy")].toDouble();
    const double in = s[QStringLiteral("integer")].toObject()[QStringLiteral("accuracy")].toDouble(-1);
    qInfo("fake-quant %.4f, integer %.4f", fq, in);
    QVERIFY(fq > 0.2);  // well above chance (0.1) after a short run; the point is the next line
    QVERIFY(std::abs(fq - in) < 0.01);  // the int8 graph tracks the fake-quant model
  }

  void tfliteInt8IsVerified() {
    const QString out = tmp(dir_, "m.tflite");
    Run r = cli({QStringLiteral("export"), QStringLiteral("--model"), ckpt_, QStringLiteral("--out"), out,
                 QStringLiteral("--verify-samples"), QStringLiteral("500"), QStringLiteral("--json")});
    QVERIFY2(r.exitCode == 0, r.out.constData());
    const QJsonObject v = verification(r);
    QCOMPARE(v[QStringLiteral("samples")].toInt(), 500);
    QVERIFY(v[QStringLiteral("top1_agreement")].toDouble() >= 0.99);
    QVERIFY(v[QStringLiteral("max_step_difference")].toDouble() <= 1.0);
    auto g = qat::deploy::readTflite(out.toStdString());
    QVERIFY2(g.ok(), g.ok() ? "" : g.error().message.c_str());
    QCOMPARE(g->ops.front().kind, qat::deploy::OpKind::Quantize);  // float I/O by default
    QCOMPARE(g->ops.back().kind, qat::deploy::OpKind::Dequantize);

    // int8 I/O: no QUANTIZE/DEQUANTIZE, still verified.
    const QString i8 = tmp(dir_, "m_i8.tflite");
    r = cli({QStringLiteral("export"), QStringLiteral("--model"), ckpt_, QStringLiteral("--out"), i8,
             QStringLiteral("--int8-io"), QStringLiteral("--verify-samples"), QStringLiteral("200"),
             QStringLiteral("--json")});
    QVERIFY2(r.exitCode == 0, r.out.constData());
    QVERIFY(verification(r)[QStringLiteral("top1_agreement")].toDouble() >= 0.99);
    auto gi = qat::deploy::readTflite(i8.toStdString());
    QVERIFY(gi.ok());
    QCOMPARE(gi->tensors[size_t(gi->inputs[0])].type, qat::deploy::ElementType::Int8);
  }

  void onnxHeaderAndFloat() {
    Run r = cli({QStringLiteral("export"), QStringLiteral("--model"), ckpt_, QStringLiteral("--format"),
                 QStringLiteral("onnx"), QStringLiteral("--out"), tmp(dir_, "m.onnx"), QStringLiteral("--verify-samples"),
                 QStringLiteral("200"), QStringLiteral("--json")});
    QVERIFY2(r.exitCode == 0, r.out.constData());
    QVERIFY(QFileInfo(tmp(dir_, "m.onnx")).size() > 100000);
    QVERIFY(verification(r)[QStringLiteral("top1_agreement")].toDouble() >= 0.99);
    QVERIFY(verification(r)[QStringLiteral("max_step_difference")].toDouble() <= 1.0);
    // The report says what was verified: the graph read back from the written .onnx file,
    // which is the graph that was written (same ops, same outputs bit for bit).
    r = cli({QStringLiteral("export"), QStringLiteral("--model"), ckpt_, QStringLiteral("--format"),
             QStringLiteral("onnx"), QStringLiteral("--out"), tmp(dir_, "m2.onnx"), QStringLiteral("--verify-samples"),
             QStringLiteral("100")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(r.out.contains("verification of the graph read back from " + tmp(dir_, "m2.onnx").toUtf8() + ": 100 samples"),
             r.out.constData());
    auto onnx = qat::deploy::readOnnxQdq(tmp(dir_, "m2.onnx").toStdString());
    QVERIFY2(onnx.ok(), onnx.ok() ? "" : onnx.error().message.c_str());
    QCOMPARE(onnx->ops.front().kind, qat::deploy::OpKind::Quantize);
    QCOMPARE(onnx->ops.back().kind, qat::deploy::OpKind::Dequantize);
    // A damaged .onnx file is not verified: readOnnxQdq refuses it naming the file.
    QFile f(tmp(dir_, "m2.onnx"));
    QVERIFY(f.open(QIODevice::ReadWrite));
    QVERIFY(f.resize(f.size() / 2));
    f.close();
    auto cut = qat::deploy::readOnnxQdq(tmp(dir_, "m2.onnx").toStdString());
    QVERIFY(!cut.ok());
    QVERIFY(cut.error().message.find("m2.onnx") != std::string::npos);
    r = cli({QStringLiteral("export"), QStringLiteral("--model"), ckpt_, QStringLiteral("--format"),
             QStringLiteral("c-header"), QStringLiteral("--out"), tmp(dir_, "model_data.h"),
             QStringLiteral("--verify-samples"), QStringLiteral("0")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QFile h(tmp(dir_, "model_data.h"));
    QVERIFY(h.open(QIODevice::ReadOnly));
    QVERIFY(h.readAll().contains("model_data_tflite"));
    // A float model exports as float .tflite, verified against the float model.
    r = cli({QStringLiteral("export"), QStringLiteral("--model"), float_, QStringLiteral("--format"),
             QStringLiteral("tflite-float"), QStringLiteral("--out"), tmp(dir_, "f.tflite"),
             QStringLiteral("--verify-samples"), QStringLiteral("200"), QStringLiteral("--json")});
    QVERIFY2(r.exitCode == 0, r.out.constData());
    const QJsonObject v = verification(r);
    QCOMPARE(v[QStringLiteral("top1_agreement")].toDouble(), 1.0);
    QVERIFY(v[QStringLiteral("max_step_difference")].toDouble() < 1e-4);
    // ...but not as int8: that needs a checkpoint, and the message says how to get one.
    r = cli({QStringLiteral("export"), QStringLiteral("--model"), float_, QStringLiteral("--out"),
             tmp(dir_, "x.tflite")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.err.contains("qat-cli quantize"));
  }

  void predictInteger() {
    qat::Tensor x(qat::Shape{3, 28, 28, 1});
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 13) % 97) / 96.0f;
    const QString in = tmp(dir_, "x.npy"), yi = tmp(dir_, "yi.npy"), yq = tmp(dir_, "yq.npy");
    QVERIFY(qat::writeNpy(in.toStdString(), x).ok());
    for (const auto& [mode, out] : {std::pair{"integer", yi}, std::pair{"fake-quant", yq}}) {
      Run r = cli({QStringLiteral("predict"), QStringLiteral("--model"), ckpt_, QStringLiteral("--mode"),
                   QString::fromLatin1(mode), QStringLiteral("--input"), in, QStringLiteral("--output"), out});
      QVERIFY2(r.exitCode == 0, r.err.constData());
    }
    auto a = qat::readNpyArray(yi.toStdString()), b = qat::readNpyArray(yq.toStdString());
    QVERIFY(a.ok() && b.ok());
    QCOMPARE(a->values.shape(), b->values.shape());
    // Same output grid: most logits on the same grid point, none far apart.
    int equal = 0;
    double maxDiff = 0;
    for (size_t i = 0; i < a->values.size(); ++i) {
      maxDiff = std::max(maxDiff, double(std::abs(a->values[i] - b->values[i])));
      equal += std::abs(a->values[i] - b->values[i]) < 1e-3f;  // same grid point (float rounding aside)
    }
    QVERIFY(equal >= int(a->values.size()) * 8 / 10);
    QVERIFY(maxDiff < 0.5);

    // The exported .tflite, run by predict, gives exactly the integer mode's outputs.
    const QString file = tmp(dir_, "p.tflite"), yt = tmp(dir_, "yt.npy");
    QCOMPARE(cli({QStringLiteral("export"), QStringLiteral("--model"), ckpt_, QStringLiteral("--out"), file,
                  QStringLiteral("--verify-samples"), QStringLiteral("0")})
                 .exitCode,
             0);
    Run r = cli({QStringLiteral("predict"), QStringLiteral("--model"), file, QStringLiteral("--input"), in,
                 QStringLiteral("--output"), yt});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    auto t = qat::readNpyArray(yt.toStdString());
    QVERIFY(t.ok());
    QCOMPARE(t->values.shape(), a->values.shape());
    for (size_t i = 0; i < t->values.size(); ++i) QCOMPARE(t->values[i], a->values[i]);
  }

  void kerasFormatHoldsTheTrainedFloatWeights() {
    const QString out = tmp(dir_, "trained.h5");
    Run r = cli({QStringLiteral("export"), QStringLiteral("--model"), ckpt_, QStringLiteral("--format"),
                 QStringLiteral("keras"), QStringLiteral("--out"), out});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    r = cli({QStringLiteral("info"), out, QStringLiteral("--json")});
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(summaryOf(r.out)[QStringLiteral("params")].toInt(), 421930);
    QVERIFY(!qat::quant::isCheckpoint(out.toStdString()));  // a plain Keras file
  }
};

QTEST_APPLESS_MAIN(TestCliExport)
#include "test_cli_export.moc"
