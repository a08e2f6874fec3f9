// qat-cli end to end: usage errors, training with JSON events, saving and reloading a
// model, and clear failures for bad data. Runs the real executable (no display needed).
#include <QtTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include "engine/data/npy.h"
#include "engine/models/builtin.h"
#include "engine/train/trainer.h"

namespace {

struct Run {
  int exitCode = -1;
  QByteArray out, err;
};

Run cli(const QStringList& args, int timeoutMs = 120000) {
  QProcess p;
  p.start(QStringLiteral(QAT_CLI_PATH), args);
  Run r;
  if (!p.waitForFinished(timeoutMs)) {
    p.kill();
    p.waitForFinished();
    r.err = "timed out";
    return r;
  }
  r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = p.readAllStandardOutput();
  r.err = p.readAllStandardError();
  return r;
}

QList<QJsonObject> jsonLines(const QByteArray& out) {
  QList<QJsonObject> objs;
  for (const QByteArray& line : out.split('\n')) {
    if (line.trimmed().isEmpty()) continue;
    const auto doc = QJsonDocument::fromJson(line);
    if (doc.isObject()) objs << doc.object();
  }
  return objs;
}

bool haveFashionMnist() { return QFileInfo::exists(QStringLiteral(QAT_FASHION_MNIST_DIR "/train-labels-idx1-ubyte.gz")); }

}  // namespace

class TestCli : public QObject {
  Q_OBJECT
 private slots:
  void helpAndUsageErrors() {
    Run r = cli({QStringLiteral("--help")});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("train"));
    r = cli({QStringLiteral("train"), QStringLiteral("--help")});
    QCOMPARE(r.exitCode, 0);
    for (const char* opt : {"--model", "--data", "--epochs", "--batch-size", "--lr", "--optimizer", "--seed",
                            "--max-samples", "--threads", "--out", "--json"})
      QVERIFY2(r.out.contains(opt), opt);
    QCOMPARE(cli({QStringLiteral("train"), QStringLiteral("--no-such-option")}).exitCode, 2);
    QCOMPARE(cli({QStringLiteral("train"), QStringLiteral("--epochs"), QStringLiteral("two")}).exitCode, 2);
    QCOMPARE(cli({QStringLiteral("frobnicate")}).exitCode, 2);
    QCOMPARE(cli({}).exitCode, 2);
  }
  void trainJsonSaveAndReload() {
    if (!haveFashionMnist()) QSKIP("dataset-fashion-mnist is not installed");
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("mlp.h5"));
    Run r = cli({QStringLiteral("train"), QStringLiteral("--model"), QStringLiteral("builtin:fashion-mlp"),
                 QStringLiteral("--max-samples"), QStringLiteral("2000"), QStringLiteral("--epochs"),
                 QStringLiteral("2"), QStringLiteral("--json"), QStringLiteral("--out"), out});
    QVERIFY2(r.exitCode == 0, r.out.constData());
    const auto events = jsonLines(r.out);
    QVERIFY(events.size() >= 4);
    int epochs = 0;
    QJsonObject summary;
    for (const auto& e : events) {
      if (e[QStringLiteral("event")] == QStringLiteral("epoch")) ++epochs;
      if (e[QStringLiteral("event")] == QStringLiteral("summary")) summary = e;
    }
    QCOMPARE(epochs, 2);
    QVERIFY(!summary.isEmpty());
    const double acc = summary[QStringLiteral("test")].toObject()[QStringLiteral("accuracy")].toDouble();
    QVERIFY2(acc > 0.6 && acc <= 1.0, qPrintable(QString::number(acc)));
    QCOMPARE(summary[QStringLiteral("outputs")].toObject()[QStringLiteral("model")].toString(), out);
    QVERIFY(QFileInfo(out).size() > 800000);  // 203,530 float32 weights

    // The saved model loads again: training 0 epochs reports the same test accuracy.
    r = cli({QStringLiteral("train"), QStringLiteral("--model"), out, QStringLiteral("--epochs"),
             QStringLiteral("0"), QStringLiteral("--json")});
    QVERIFY2(r.exitCode == 0, r.out.constData());
    QJsonObject again;
    for (const auto& e : jsonLines(r.out))
      if (e[QStringLiteral("event")] == QStringLiteral("summary")) again = e;
    QCOMPARE(again[QStringLiteral("test")].toObject()[QStringLiteral("accuracy")].toDouble(), acc);
  }
  void badDataFailsClearly() {
    QTemporaryDir dir;
    const QString bad = dir.filePath(QStringLiteral("x.npy"));
    QFile f(bad);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("\x93NUMPY garbage");
    f.close();
    Run r = cli({QStringLiteral("train"), QStringLiteral("--model"), QStringLiteral("builtin:fashion-mlp"),
                 QStringLiteral("--data"), QStringLiteral("npy:") + bad + QStringLiteral(",") + bad});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("x.npy"), r.err.constData());
    r = cli({QStringLiteral("train"), QStringLiteral("--model"), QStringLiteral("builtin:nope")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.err.contains("fashion-cnn"));  // lists what exists
    r = cli({QStringLiteral("train"), QStringLiteral("--model"), dir.filePath(QStringLiteral("missing.h5"))});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("missing.h5"), r.err.constData());
  }
  void infoPrintsTheLayerTable() {
    Run r = cli({QStringLiteral("info"), QStringLiteral("builtin:fashion-cnn"), QStringLiteral("--json")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const auto summary = jsonLines(r.out).last();
    const auto layers = summary[QStringLiteral("layers")].toArray();
    QCOMPARE(layers.size(), 12);  // input + 11 layers
    QCOMPARE(layers[1].toObject()[QStringLiteral("class")].toString(), QStringLiteral("Conv2D"));
    QCOMPARE(layers[1].toObject()[QStringLiteral("params")].toInt(), 288);  // 3·3·1·32, no bias
    // 421,738 trainable (the PyTorch anchor's count) + 192 BatchNorm moving statistics
    QCOMPARE(summary[QStringLiteral("params")].toInt(), 421930);
    // Conv1 28·28·9·32 + conv2 14·14·288·64 + 3136·128 + 128·10 MACs
    QCOMPARE(summary[QStringLiteral("macs_per_sample")].toInteger(), 225792LL + 3612672 + 401408 + 1280);

    const QString shared = QStringLiteral(QAT_SHARED_DIR "/models/keras/");
    if (!QFileInfo::exists(shared)) QSKIP("../shared is absent");
    r = cli({QStringLiteral("info"), shared + QStringLiteral("tinymaix__mnist_fc.h5")});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("Dense"));
    r = cli({QStringLiteral("info"), shared + QStringLiteral("keras2c__example_model.h5")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("lstm_1") && r.err.contains("LSTM"), r.err.constData());
    r = cli({QStringLiteral("info"), shared + QStringLiteral("fml_example_models__KERAS_3layer_weights.h5")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("--architecture"), r.err.constData());
    r = cli({QStringLiteral("info"), shared + QStringLiteral("fml_example_models__KERAS_3layer_weights.h5"),
             QStringLiteral("--architecture"), shared + QStringLiteral("fml_example_models__KERAS_3layer.json")});
    QCOMPARE(r.exitCode, 0);
  }
  void predictMatchesTheEngine() {
    QTemporaryDir dir;
    qat::Rng rng(5);
    qat::Tensor x(qat::Shape{7, 28, 28, 1});
    for (size_t i = 0; i < x.size(); ++i) x[i] = rng.uniform();
    const QString in = dir.filePath(QStringLiteral("x.npy")), out = dir.filePath(QStringLiteral("y.npy"));
    QVERIFY(qat::writeNpy(in.toStdString(), x).ok());
    Run r = cli({QStringLiteral("predict"), QStringLiteral("--model"), QStringLiteral("builtin:fashion-cnn"),
                 QStringLiteral("--input"), in, QStringLiteral("--output"), out, QStringLiteral("--batch-size"),
                 QStringLiteral("3")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    auto y = qat::readNpy(out.toStdString());
    QVERIFY(y.ok());
    QCOMPARE(y->shape(), (qat::Shape{7, 10}));
    auto model = qat::makeBuiltinModel("fashion-cnn", 42);  // the CLI's default seed
    const qat::Tensor expect = qat::predict(*model, x, 7);
    for (size_t i = 0; i < expect.size(); ++i) QVERIFY(std::abs((*y)[i] - expect[i]) <= 1e-5f * (1 + std::abs(expect[i])));
    // Wrong shape: a clear message naming the file and both shapes.
    qat::Tensor bad(qat::Shape{2, 5});
    QVERIFY(qat::writeNpy(in.toStdString(), bad).ok());
    r = cli({QStringLiteral("predict"), QStringLiteral("--model"), QStringLiteral("builtin:fashion-cnn"),
             QStringLiteral("--input"), in, QStringLiteral("--output"), out});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("x.npy") && r.err.contains("(2, 5)") && r.err.contains("(28, 28, 1)"), r.err.constData());
    QCOMPARE(cli({QStringLiteral("predict"), QStringLiteral("--model"), QStringLiteral("builtin:fashion-cnn")}).exitCode, 2);
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
