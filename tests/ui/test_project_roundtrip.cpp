// The project file through the document, as a user does it: configure layers, run PTQ and
// QAT, Evaluate, Save; then close (a new document, as after a restart), open the project
// and find the same config, runs, metrics, data reference and active-run colouring, with
// nothing modified; undo history starts empty. Also: a save into a missing folder fails
// with the path in the message and leaves the document modified.
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QUndoStack>
#include <QtTest>

#include "engine/data/idx_reader.h"
#include "ui/project_document.h"

using namespace qat;
using namespace qat::ui;

class TestProjectRoundtrip : public QObject {
  Q_OBJECT

  // Waits for the document's worker to finish (run or evaluation).
  static bool waitIdle(ProjectDocument& doc) {
    return QTest::qWaitFor([&] { return !doc.isTraining(); }, 300000);
  }

 private slots:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

  void saveCloseReopen() {
    ProjectDocument doc;
    QString error;
    QVERIFY2(doc.newFromBuiltin(QStringLiteral("fashion-mlp"), 7, &error), qPrintable(error));
    if (!doc.loadFashionMnist(&error)) QSKIP(qPrintable(error));
    TrainingSettings s = doc.trainingSettings();
    s.epochs = 1;
    s.maxTrainSamples = 512;
    s.evaluationSamples = 600;
    s.calibrationBatches = 4;
    doc.setTrainingSettings(s);
    // W4A8 on the hidden Dense layer, float logits: a config the default does not give.
    const int dense = doc.nodeOfLayer(QStringLiteral("dense"));
    const int logits = doc.nodeOfLayer(QStringLiteral("logits"));
    QVERIFY(dense >= 0 && logits >= 0);
    doc.applyPreset({dense}, QuantPreset::W4A8);
    doc.setQuantized({logits}, false);
    QCOMPARE(doc.bitBadge(dense), QStringLiteral("W4/A8"));
    QCOMPARE(doc.bitBadge(logits), QStringLiteral("float"));

    QVERIFY2(doc.startRun(project::RunKind::PostTraining, &error), qPrintable(error));
    QVERIFY(waitIdle(doc));
    QVERIFY2(doc.startRun(project::RunKind::Qat, &error), qPrintable(error));
    QVERIFY(waitIdle(doc));
    QVERIFY2(doc.startEvaluation(&error), qPrintable(error));  // float baseline + active run
    QVERIFY(waitIdle(doc));
    QCOMPARE(int(doc.runs().size()), 3);
    for (const project::Run& r : doc.runs()) {
      QVERIFY2(r.metrics.samples == 600, r.name.c_str());
      QVERIFY2(r.metrics.floatAccuracy > 0.05, r.name.c_str());
    }
    QVERIFY(doc.isModified());
    QVERIFY(!doc.activeLayerErrors().empty());

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("work.qatproj"));
    // A folder that does not exist: the save fails, names the path, and nothing changes.
    const QString bad = dir.filePath(QStringLiteral("missing/work.qatproj"));
    QVERIFY(!doc.saveProject(bad, &error));
    QVERIFY2(error.contains(QStringLiteral("missing")), qPrintable(error));
    QVERIFY(doc.isModified());
    QVERIFY2(doc.saveProject(path, &error), qPrintable(error));
    QVERIFY(!doc.isModified());
    QCOMPARE(doc.projectName(), QStringLiteral("work"));

    ProjectDocument reopened;
    QSignalSpy added(&reopened, &ProjectDocument::runAdded);
    QString warning;
    QVERIFY2(reopened.openProject(path, &error, &warning), qPrintable(error));
    QVERIFY2(warning.isEmpty(), qPrintable(warning));
    QCOMPARE(reopened.modelSource(), doc.modelSource());
    QCOMPARE(reopened.parameterCount(), doc.parameterCount());
    QVERIFY(reopened.quantizeConfig() == doc.quantizeConfig());
    QCOMPARE(reopened.bitBadge(dense), QStringLiteral("W4/A8"));
    QCOMPARE(reopened.bitBadge(logits), QStringLiteral("float"));
    QCOMPARE(int(reopened.runs().size()), 3);
    QCOMPARE(added.count(), 3);
    for (size_t i = 0; i < doc.runs().size(); ++i) {
      const project::Run &a = doc.runs()[i], &b = reopened.runs()[i];
      QCOMPARE(b.id, a.id);
      QCOMPARE(b.name, a.name);
      QVERIFY(b.kind == a.kind);
      QVERIFY(b.config == a.config);
      QVERIFY(b.metrics == a.metrics);
      QVERIFY(b.confusion == a.confusion);
      QVERIFY(b.layerErrors == a.layerErrors);
      QVERIFY(b.modelImage == a.modelImage);
    }
    QCOMPARE(reopened.activeRunId(), doc.activeRunId());  // the QAT run: Evaluate keeps it active
    QVERIFY(reopened.activeLayerErrors() == doc.activeLayerErrors());
    QVERIFY(reopened.dataRef() == doc.dataRef());
    QVERIFY(reopened.trainData() && reopened.trainData()->size() == doc.trainData()->size());
    QCOMPARE(reopened.trainingSettings().maxTrainSamples, 512);
    QCOMPARE(reopened.trainingSettings().evaluationSamples, 600);
    QVERIFY(!reopened.isModified());
    QCOMPARE(reopened.undoStack()->count(), 0);
    QCOMPARE(reopened.projectPath(), path);

    // The reopened project keeps working: a preset is undoable and marks it modified.
    reopened.applyPreset({dense}, QuantPreset::Default8);
    QCOMPARE(reopened.bitBadge(dense), QStringLiteral("W8/A8"));
    QVERIFY(reopened.isModified());
    reopened.undoStack()->undo();
    QCOMPARE(reopened.bitBadge(dense), QStringLiteral("W4/A8"));
  }
};

QTEST_MAIN(TestProjectRoundtrip)
#include "test_project_roundtrip.moc"
