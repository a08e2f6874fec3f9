// qat-cli end to end: usage errors, training with JSON events, saving and reloading a
// model, and clear failures for bad data. Runs the real executable (no display needed).
#include <QtTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include "engine/data/npy.h"
#include "engine/io/hdf5_util.h"
#include "engine/models/builtin.h"
#include "engine/train/trainer.h"
#include "common/cli_run.h"

using namespace qat::test;


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
    QVERIFY(layers[1].toObject()[QStringLiteral("supported")].toBool());
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
  // A model that does not load: its table with the blocking layer marked, then the error.
  void infoOutlinesModelsThatDoNotLoad() {
    QTemporaryDir dir;
    const QString arch = dir.filePath(QStringLiteral("a.json")), weights = dir.filePath(QStringLiteral("w.h5"));
    {
      QFile f(arch);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
          {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "name": "in"}},
          {"class_name": "Lambda", "config": {"name": "lam", "function": ["4wEAAAAA", null, null]}},
          {"class_name": "Dense", "config": {"name": "d", "units": 2}}]}})");
    }
    {
      auto f = qat::h5::File::create(weights.toStdString());
      QVERIFY(f.ok());
      {
        auto root = f->root();
        QVERIFY(root->writeStringListAttr("layer_names", {"lam", "d"}).ok());
        QVERIFY(root->createGroup("lam")->writeStringListAttr("weight_names", {}).ok());
        auto d = root->createGroup("d");
        const float k[8] = {0, 1, 2, 3, 4, 5, 6, 7}, b[2] = {0, 0};
        QVERIFY(d->writeFloats("d/kernel:0", {4, 2}, k).ok());
        QVERIFY(d->writeFloats("d/bias:0", {2}, b).ok());
        QVERIFY(d->writeStringListAttr("weight_names", {"d/kernel:0", "d/bias:0"}).ok());
      }
      QVERIFY(f->close().ok());
    }
    Run r = cli({QStringLiteral("info"), weights, QStringLiteral("--architecture"), arch});
    QCOMPARE(r.exitCode, 1);
    const QList<QByteArray> lines = r.out.split('\n');
    QVERIFY2(lines.size() > 4, r.out.constData());
    QVERIFY2(lines[0].contains("supported"), lines[0].constData());
    QVERIFY2(lines[1].startsWith("in ") && lines[1].contains("(4)") && lines[1].trimmed().endsWith("yes"), lines[1].constData());
    QVERIFY2(lines[2].startsWith("lam ") && lines[2].contains("Lambda") && lines[2].contains("NO: contains Python code"),
             lines[2].constData());
    QVERIFY2(lines[3].startsWith("d ") && lines[3].contains(" ? ") && lines[3].contains(" 10 ") &&
             lines[3].trimmed().endsWith("yes"), lines[3].constData());
    QVERIFY2(r.out.contains("1 layer is not supported"), r.out.constData());
    QVERIFY2(r.err.contains("Layer 'lam' (Lambda) contains Python code"), r.err.constData());

    r = cli({QStringLiteral("info"), weights, QStringLiteral("--architecture"), arch, QStringLiteral("--json")});
    QCOMPARE(r.exitCode, 1);
    const auto summary = jsonLines(r.out).last();
    QCOMPARE(summary[QStringLiteral("event")].toString(), QStringLiteral("summary"));
    QVERIFY(summary[QStringLiteral("error")].toString().contains(QStringLiteral("'lam' (Lambda)")));
    const auto layers = summary[QStringLiteral("layers")].toArray();
    QCOMPARE(layers.size(), 3);
    QVERIFY(layers[0].toObject()[QStringLiteral("supported")].toBool());
    QVERIFY(!layers[1].toObject()[QStringLiteral("supported")].toBool());
    QVERIFY(layers[1].toObject()[QStringLiteral("reason")].toString().contains(QStringLiteral("Python code")));
    QVERIFY(layers[2].toObject()[QStringLiteral("supported")].toBool());
    QVERIFY(layers[2].toObject()[QStringLiteral("output_shape")].isNull());
    QCOMPARE(layers[2].toObject()[QStringLiteral("params")].toInt(), 10);
    QCOMPARE(summary[QStringLiteral("params")].toInt(), 10);

    // Real files (../shared): the LSTM and custom-layer models list every layer.
    const QString shared = QStringLiteral(QAT_SHARED_DIR "/models/keras/");
    if (!QFileInfo::exists(shared)) QSKIP("../shared is absent");
    r = cli({QStringLiteral("info"), shared + QStringLiteral("keras2c__example_model.h5")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.out.contains("lstm_1") && r.out.contains("NO: is not supported yet") && r.out.contains("dense_3"),
             r.out.constData());
    r = cli({QStringLiteral("info"), shared + QStringLiteral("fml_example_models__hgq_jet_classifier.h5"),
             QStringLiteral("--json")});
    QCOMPARE(r.exitCode, 1);
    int unsupported = 0;
    const auto hgq = jsonLines(r.out).last()[QStringLiteral("layers")].toArray();
    for (const auto& l : hgq) unsupported += l.toObject()[QStringLiteral("supported")].toBool() ? 0 : 1;
    QCOMPARE(hgq.size(), 16);
    QCOMPARE(unsupported, 8);  // the FixedPointQuantizer layers
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
