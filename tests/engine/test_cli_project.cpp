// qat-cli quantize --project end to end, through the real executable: the first call
// creates the project with the model and a float baseline run, the second appends a QAT
// run; the project then holds float + 2 runs with the accuracies the CLI printed, their
// settings, history, confusion matrices, layer errors and checkpoints. A project made
// from another model is refused, naming both.
#include <QtTest>

#include <QTemporaryDir>

#include "common/cli_run.h"
#include "engine/project/project.h"

using namespace qat::project;
using qat::test::cli;
using qat::test::haveFashionMnist;
using qat::test::summaryOf;

namespace {

double accuracy(const QJsonObject& summary, const char* key) {
  return summary[QString::fromLatin1(key)].toObject()[QStringLiteral("accuracy")].toDouble(-1);
}

long total(const ConfusionMatrix& c) {
  long t = 0;
  for (long v : c.counts) t += v;
  return t;
}

}  // namespace

class TestCliProject : public QObject {
  Q_OBJECT
 private slots:
  void quantizeRunsGoIntoTheProject() {
    if (!haveFashionMnist()) QSKIP("dataset-fashion-mnist is not installed");
    QTemporaryDir dir;
    const QString model = dir.filePath(QStringLiteral("float.h5"));
    const QString proj = dir.filePath(QStringLiteral("p.qatproj"));
    qat::test::Run r = cli({QStringLiteral("train"), QStringLiteral("--model"), QStringLiteral("builtin:fashion-mlp"),
                 QStringLiteral("--max-samples"), QStringLiteral("3000"), QStringLiteral("--out"), model});
    QVERIFY2(r.exitCode == 0, r.err.constData());

    // 1: post-training quantization into a new project.
    r = cli({QStringLiteral("quantize"), QStringLiteral("--model"), model, QStringLiteral("--max-samples"),
             QStringLiteral("2000"), QStringLiteral("--epochs"), QStringLiteral("0"), QStringLiteral("--calib-batches"),
             QStringLiteral("8"), QStringLiteral("--json"), QStringLiteral("--project"), proj});
    QVERIFY2(r.exitCode == 0, r.out.constData());
    const QJsonObject s1 = summaryOf(r.out);
    QCOMPARE(s1[QStringLiteral("project")].toObject()[QStringLiteral("run_id")].toInt(), 2);
    QVERIFY(s1[QStringLiteral("project")].toObject()[QStringLiteral("created")].toBool());

    // 2: QAT with 4-bit weights and a name, appended.
    r = cli({QStringLiteral("quantize"), QStringLiteral("--model"), model, QStringLiteral("--max-samples"),
             QStringLiteral("2000"), QStringLiteral("--epochs"), QStringLiteral("1"), QStringLiteral("--scheme"),
             QStringLiteral("w4a8"), QStringLiteral("--json"), QStringLiteral("--project"), proj,
             QStringLiteral("--run-name"), QStringLiteral("QAT w4a8")});
    QVERIFY2(r.exitCode == 0, r.out.constData());
    const QJsonObject s2 = summaryOf(r.out);
    QCOMPARE(s2[QStringLiteral("project")].toObject()[QStringLiteral("run_id")].toInt(), 3);
    QCOMPARE(s2[QStringLiteral("project")].toObject()[QStringLiteral("runs")].toInt(), 3);

    auto p = loadProject(proj.toStdString());
    QVERIFY2(p.ok(), p.ok() ? "" : p.error().message.c_str());
    QCOMPARE(p->runs.size(), size_t(3));
    QCOMPARE(p->modelName, std::string("fashion-mlp"));
    QCOMPARE(p->modelSource, std::filesystem::absolute(model.toStdString()).lexically_normal().string());
    QCOMPARE(p->data.kind, std::string("fashion-mnist"));
    QCOMPARE(p->model.paramCount(), size_t(203530));
    QCOMPARE(p->nextRunId, 4);

    const Run& base = p->runs[0];
    QVERIFY(base.kind == RunKind::Float);
    QCOMPARE(base.name, std::string("float baseline"));
    QCOMPARE(base.metrics.floatAccuracy, accuracy(s1, "float"));
    QVERIFY(base.metrics.floatAccuracy > 0.7);
    QCOMPARE(base.metrics.samples, size_t(10000));
    QCOMPARE(total(base.confusion), 10000L);
    QVERIFY(kerasModelFromImage(base.modelImage).ok());

    const Run& ptq = p->runs[1];
    QVERIFY(ptq.kind == RunKind::PostTraining);
    QCOMPARE(ptq.name, std::string("ptq 2"));
    QCOMPARE(ptq.metrics.fakeQuantAccuracy, accuracy(s1, "post_training"));
    QCOMPARE(ptq.metrics.fakeQuantAccuracy, accuracy(s1, "fake_quant"));
    QCOMPARE(ptq.metrics.integerAccuracy, accuracy(s1, "integer"));
    QCOMPARE(ptq.metrics.floatAccuracy, base.metrics.floatAccuracy);  // calibration leaves weights alone
    QCOMPARE(ptq.settings["epochs"].get<int>(), 0);
    QCOMPARE(ptq.settings["scheme"].get<std::string>(), std::string("default8"));
    QVERIFY(ptq.history.empty());
    QCOMPARE(ptq.layerErrors.size(), size_t(3));
    QCOMPARE(total(ptq.confusion), 10000L);

    const Run& qat = p->runs[2];
    QVERIFY(qat.kind == RunKind::Qat);
    QCOMPARE(qat.name, std::string("QAT w4a8"));
    QCOMPARE(qat.metrics.fakeQuantAccuracy, accuracy(s2, "qat"));
    QCOMPARE(qat.metrics.integerAccuracy, accuracy(s2, "integer"));
    QCOMPARE(qat.config.scheme, std::string("w4a8"));
    QCOMPARE(qat.config.layers.at("dense").weights.at("kernel").bits, 4);
    QCOMPARE(qat.settings["epochs"].get<int>(), 1);
    QCOMPARE(qat.settings["optimizer"].get<std::string>(), std::string("adam"));
    QCOMPARE(qat.history.size(), size_t(1));
    QCOMPARE(qat.history[0]["epoch"].get<int>(), 1);
    QVERIFY(qat.metrics.weightBytes < qat.metrics.floatWeightBytes / 6);
    auto ck = checkpointFromImage(qat.modelImage);
    QVERIFY2(ck.ok(), ck.ok() ? "" : ck.error().message.c_str());
    QVERIFY(ck->quantized.config == qat.config);
    // The project's config is the one the project was started with.
    QVERIFY(p->config == ptq.config);
    qInfo("float %.4f  PTQ %.4f (int8 %.4f)  QAT w4a8 %.4f (int8 %.4f)", base.metrics.floatAccuracy,
          ptq.metrics.fakeQuantAccuracy, ptq.metrics.integerAccuracy, qat.metrics.fakeQuantAccuracy,
          qat.metrics.integerAccuracy);

    // Another model into the same project: refused, naming both; the project is unchanged.
    r = cli({QStringLiteral("quantize"), QStringLiteral("--model"), QStringLiteral("builtin:fashion-mlp"),
             QStringLiteral("--max-samples"), QStringLiteral("500"), QStringLiteral("--epochs"), QStringLiteral("0"),
             QStringLiteral("--project"), proj});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("builtin:fashion-mlp") && r.err.contains("float.h5"), r.err.constData());
    auto again = loadProject(proj.toStdString());
    QVERIFY(again.ok());
    QCOMPARE(again->runs.size(), size_t(3));
  }
};

QTEST_APPLESS_MAIN(TestCliProject)
#include "test_cli_project.moc"
