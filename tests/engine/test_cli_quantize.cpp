// qat-cli quantize / config-template / predict --mode end to end, through the real
// executable: PTQ + QAT with a JSON summary, the checkpoint it writes (continues, predicts
// in both modes, opens as a Keras model), an edited per-layer config, usage errors.
#include <QtTest>

#include <QJsonArray>
#include <QTemporaryDir>

#include "common/cli_run.h"
#include "engine/data/npy.h"
#include "engine/quant/checkpoint.h"
#include "engine/quant/quantize_config.h"

using namespace qat::test;

namespace {

QString tmp(const QTemporaryDir& d, const char* name) { return d.filePath(QString::fromLatin1(name)); }

double accuracy(const QJsonObject& summary, const char* key) {
  return summary[QString::fromLatin1(key)].toObject()[QStringLiteral("accuracy")].toDouble(-1);
}

}  // namespace

class TestCliQuantize : public QObject {
  Q_OBJECT
 private slots:
  void usageErrors() {
    Run r = cli({QStringLiteral("quantize"), QStringLiteral("--help")});
    QCOMPARE(r.exitCode, 0);
    for (const char* opt : {"--scheme", "--bn-mode", "--layers", "--calib-batches", "--config", "--out"})
      QVERIFY2(r.out.contains(opt), opt);
    r = cli({QStringLiteral("quantize"), QStringLiteral("--model"), QStringLiteral("builtin:fashion-mlp"),
             QStringLiteral("--scheme"), QStringLiteral("int3"), QStringLiteral("--data"), QStringLiteral("npz:/nope.npz")});
    QCOMPARE(r.exitCode, 1);
    r = cli({QStringLiteral("config-template")});
    QCOMPARE(r.exitCode, 2);
  }

  void configTemplateIsEditableJson() {
    QTemporaryDir dir;
    Run r = cli({QStringLiteral("config-template"), QStringLiteral("builtin:fashion-cnn"), QStringLiteral("--scheme"),
                 QStringLiteral("w4a8"), QStringLiteral("--bn-mode"), QStringLiteral("fold")});
    QCOMPARE(r.exitCode, 0);
    auto j = nlohmann::json::parse(r.out.toStdString(), nullptr, false);
    QVERIFY(!j.is_discarded());
    auto c = qat::quant::quantizeConfigFromJson(j);
    QVERIFY(c.ok());
    QCOMPARE(c->bnMode, qat::quant::BnMode::Fold);
    QCOMPARE(c->layers.at("conv1").weights.at("kernel").bits, 4);
    QCOMPARE(j["layers"]["conv1"]["weights"]["kernel"]["per_axis"].get<bool>(), true);
    // A model the scheme cannot quantize whole: the message says how to proceed.
    r = cli({QStringLiteral("config-template"), QStringLiteral("builtin:fashion-cnn"), QStringLiteral("--layers"),
             QStringLiteral("nothing_like_this")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.err.contains("matches no layer"));
  }

  void ptqQatCheckpointPredict() {
    if (!haveFashionMnist()) QSKIP("dataset-fashion-mnist is not installed");
    QTemporaryDir dir;
    const QString floatModel = tmp(dir, "float.h5"), ckpt = tmp(dir, "qat.h5"), cfg = tmp(dir, "q.json");
    Run r = cli({QStringLiteral("train"), QStringLiteral("--model"), QStringLiteral("builtin:fashion-mlp"),
                 QStringLiteral("--max-samples"), QStringLiteral("3000"), QStringLiteral("--out"), floatModel});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    r = cli({QStringLiteral("quantize"), QStringLiteral("--model"), floatModel, QStringLiteral("--max-samples"),
             QStringLiteral("3000"), QStringLiteral("--epochs"), QStringLiteral("1"), QStringLiteral("--calib-batches"),
             QStringLiteral("8"), QStringLiteral("--json"), QStringLiteral("--out"), ckpt, QStringLiteral("--config-out"),
             cfg});
    QVERIFY2(r.exitCode == 0, r.out.constData());
    const QJsonObject s = summaryOf(r.out);
    const double f = accuracy(s, "float"), ptq = accuracy(s, "post_training"), qat = accuracy(s, "qat");
    QCOMPARE(accuracy(s, "fake_quant"), qat);
    qInfo("float %.4f  PTQ %.4f  QAT %.4f", f, ptq, qat);
    QVERIFY(f > 0.7 && ptq > 0.7 && qat > 0.7);
    QVERIFY(std::abs(ptq - f) < 0.02);  // 8-bit PTQ of an MLP costs almost nothing
    QCOMPARE(s[QStringLiteral("calibration_samples")].toInt(), 8 * 64);
    QVERIFY(qat::quant::isCheckpoint(ckpt.toStdString()));
    QVERIFY(qat::quant::readQuantizeConfig(cfg.toStdString()).ok());

    // predict: fake-quant on the checkpoint vs float; fake-quant refused on a plain model.
    qat::Tensor x(qat::Shape{4, 28, 28, 1});
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 37) % 101) / 100.0f;
    const QString in = tmp(dir, "x.npy"), yq = tmp(dir, "yq.npy"), yf = tmp(dir, "yf.npy");
    QVERIFY(qat::writeNpy(in.toStdString(), x).ok());
    QCOMPARE(cli({QStringLiteral("predict"), QStringLiteral("--model"), ckpt, QStringLiteral("--mode"),
                  QStringLiteral("fake-quant"), QStringLiteral("--input"), in, QStringLiteral("--output"), yq})
                 .exitCode,
             0);
    QCOMPARE(cli({QStringLiteral("predict"), QStringLiteral("--model"), ckpt, QStringLiteral("--input"), in,
                  QStringLiteral("--output"), yf})
                 .exitCode,
             0);
    auto a = qat::readNpyArray(yq.toStdString()), b = qat::readNpyArray(yf.toStdString());
    QVERIFY(a.ok() && b.ok());
    QCOMPARE(a->values.shape(), qat::Shape({4, 10}));
    double diff = 0;
    for (size_t i = 0; i < a->values.size(); ++i) diff = std::max(diff, double(std::abs(a->values[i] - b->values[i])));
    QVERIFY(diff > 0 && diff < 1.0);  // fake quant moves the logits a little
    r = cli({QStringLiteral("predict"), QStringLiteral("--model"), floatModel, QStringLiteral("--mode"),
             QStringLiteral("fake-quant"), QStringLiteral("--input"), in, QStringLiteral("--output"), yq});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.err.contains("not a QAT checkpoint"));

    // The checkpoint continues: 0 more epochs and no calibration reproduce the QAT accuracy.
    r = cli({QStringLiteral("quantize"), QStringLiteral("--model"), ckpt, QStringLiteral("--epochs"), QStringLiteral("0"),
             QStringLiteral("--calib-batches"), QStringLiteral("0"), QStringLiteral("--json")});
    QVERIFY2(r.exitCode == 0, r.out.constData());
    QVERIFY(!summaryOf(r.out).contains(QStringLiteral("qat")));
    QCOMPARE(accuracy(summaryOf(r.out), "fake_quant"), qat);

    // An edited config: only the Dense layers, 4-bit weights, activations skipped.
    auto c = qat::quant::readQuantizeConfig(cfg.toStdString());
    c->layers["dense"].weights["kernel"].bits = 4;
    c->layers["dense"].output.reset();
    QVERIFY(qat::quant::writeQuantizeConfig(*c, cfg.toStdString()).ok());
    r = cli({QStringLiteral("quantize"), QStringLiteral("--model"), floatModel, QStringLiteral("--config"), cfg,
             QStringLiteral("--epochs"), QStringLiteral("0"), QStringLiteral("--max-samples"), QStringLiteral("1000"),
             QStringLiteral("--json")});
    QVERIFY2(r.exitCode == 0, r.out.constData());
    QVERIFY(accuracy(summaryOf(r.out), "post_training") > 0.6);
  }
};

QTEST_APPLESS_MAIN(TestCliQuantize)
#include "test_cli_quantize.moc"
