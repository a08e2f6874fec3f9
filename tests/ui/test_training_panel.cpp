// The studio's runs end to end, through the real training panel: the Start button starts
// a run on the worker thread, the panel's timer drains metrics into the plots while the
// GUI thread keeps running (a 10 ms timer keeps firing; its largest gap is printed, not
// asserted: bench_ui_stall measures it), Pause and Stop go through their buttons, a NaN
// is reported in the panel, and every finished run (float, QAT, stopped) shows its
// metrics. The settings form writes the document and follows it. Runs offscreen.
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTimer>
#include <QUndoStack>
#include <QtTest>

#include <cmath>
#include <memory>

#include "engine/data/dataset.h"
#include "engine/data/idx_reader.h"
#include "engine/train/trainer.h"
#include "ui/live_plots.h"
#include "ui/project_document.h"
#include "ui/training_panel.h"
#include "ui/training_settings_form.h"

using namespace qat;
using namespace qat::ui;
using project::RunKind;

namespace {

// Records the gaps between ticks of a 10 ms timer while `doc` is training.
class StallProbe {
 public:
  explicit StallProbe(ProjectDocument& doc) {
    timer_.setInterval(10);
    QObject::connect(&timer_, &QTimer::timeout, &timer_, [this, &doc] {
      const qint64 now = clock_.nsecsElapsed();
      if (doc.isTraining()) {
        if (last_ >= 0) maxGapMs_ = std::max(maxGapMs_, (now - last_) / 1e6);
        ++ticksWhileTraining_;
        last_ = now;
      } else {
        last_ = -1;
      }
    });
    clock_.start();
    timer_.start();
  }
  int ticks() const { return ticksWhileTraining_; }
  double maxGapMs() const { return maxGapMs_; }

 private:
  QTimer timer_;
  QElapsedTimer clock_;
  qint64 last_ = -1;
  int ticksWhileTraining_ = 0;
  double maxGapMs_ = 0;
};

// Loss of the document's float model on its validation data.
double evaluateLoss(const ProjectDocument& doc) {
  Model copy = doc.model().clone();
  Trainer trainer(copy, TrainingController::makeConfig(doc.trainingSettings(), doc.loss(), 1));
  auto r = trainer.evaluate(*doc.validationData());
  return r.ok() ? r->loss : std::nan("");
}

}  // namespace

class TestTrainingPanel : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void init();
  void settingsFormWritesAndFollowsTheDocument();
  void trainKeepsUiResponsive();
  void qatRunPlotsLiveAndReportsItsMetrics();
  void ptqRunCalibratesWithoutSteps();
  void pauseThenStopKeepsTrainedWeights();
  void nanLossIsReportedAndWeightsKept();
  void missingDataSetSaysWhatToInstall();

 private:
  void setSettings(RunKind kind, int epochs, int batchSize);
  std::shared_ptr<const Dataset> train_, test_;
  std::unique_ptr<ProjectDocument> doc_;
  std::unique_ptr<TrainingPanel> panel_;
};

void TestTrainingPanel::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);  // keep QSettings away from the user's config
  const std::string dir = ProjectDocument::fashionMnistDir().toStdString();
  auto train = loadFashionMnist(dir, true, Normalization::scale01());
  if (!train.ok())
    QSKIP(qPrintable(QStringLiteral("Fashion-MNIST not installed (dataset-fashion-mnist): %1")
                         .arg(QString::fromStdString(train.error().message))));
  auto test = loadFashionMnist(dir, false, Normalization::scale01());
  QVERIFY2(test.ok(), test.ok() ? "" : test.error().message.c_str());
  // A few hundred training samples keep each run to about a second.
  train_ = std::make_shared<const Dataset>(subset(*train, 640));
  test_ = std::make_shared<const Dataset>(subset(*test, 1000));
}

void TestTrainingPanel::init() {
  panel_.reset();
  doc_ = std::make_unique<ProjectDocument>();
  QString error;
  QVERIFY2(doc_->newFromBuiltin(QStringLiteral("fashion-mlp"), 42, &error), qPrintable(error));
  doc_->setData(train_, test_);
  panel_ = std::make_unique<TrainingPanel>(doc_.get());
  panel_->resize(1100, 720);
  panel_->show();
  QVERIFY(QTest::qWaitForWindowExposed(panel_.get()));
}

void TestTrainingPanel::setSettings(RunKind kind, int epochs, int batchSize) {
  TrainingSettings s = doc_->trainingSettings();
  s.kind = kind;
  s.epochs = epochs;
  s.batchSize = batchSize;
  s.learningRate = 1e-3;
  s.optimizer = OptimizerKind::Adam;
  s.calibrationBatches = 8;
  doc_->setTrainingSettings(s);
}

void TestTrainingPanel::settingsFormWritesAndFollowsTheDocument() {
  TrainingSettingsForm* form = panel_->settingsForm();
  QSignalSpy changed(doc_.get(), &ProjectDocument::trainingSettingsChanged);
  // Widgets → document.
  form->runKindBox()->setCurrentIndex(form->runKindBox()->findData(int(RunKind::Qat)));
  form->epochsBox()->setValue(7);
  form->scheduleBox()->setCurrentIndex(form->scheduleBox()->findData(int(ScheduleKind::Cosine)));
  form->optimizerBox()->setCurrentIndex(form->optimizerBox()->findData(int(OptimizerKind::SGD)));
  form->calibrationBatchesBox()->setValue(5);
  form->maxSamplesBox()->setValue(320);
  const TrainingSettings& s = doc_->trainingSettings();
  QCOMPARE(s.kind, RunKind::Qat);
  QCOMPARE(s.epochs, 7);
  QCOMPARE(s.schedule, ScheduleKind::Cosine);
  QCOMPARE(s.optimizer, OptimizerKind::SGD);
  QCOMPARE(s.calibrationBatches, 5);
  QCOMPARE(s.maxTrainSamples, 320);
  QVERIFY(changed.count() >= 6);
  QCOMPARE(panel_->trainButton()->text(), QStringLiteral("Train QAT"));

  // Rows follow the run kind: the BN freeze step only for QAT, no optimizer for PTQ.
  QVERIFY(form->isRowShown(form->freezeBnStepBox()));
  QVERIFY(form->isRowShown(form->calibrationBatchesBox()));
  form->runKindBox()->setCurrentIndex(form->runKindBox()->findData(int(RunKind::PostTraining)));
  QVERIFY(!form->isRowShown(form->freezeBnStepBox()));
  QVERIFY(!form->isRowShown(form->optimizerBox()));
  QVERIFY(!form->isRowShown(form->epochsBox()));
  QVERIFY(form->isRowShown(form->calibrationBatchesBox()));
  form->runKindBox()->setCurrentIndex(form->runKindBox()->findData(int(RunKind::Float)));
  QVERIFY(!form->isRowShown(form->calibrationBatchesBox()));
  QVERIFY(form->isRowShown(form->optimizerBox()));

  // Document → widgets.
  TrainingSettings t = doc_->trainingSettings();
  t.kind = RunKind::Qat;
  t.batchSize = 48;
  t.learningRate = 0.02;
  doc_->setTrainingSettings(t);
  QCOMPARE(form->runKindBox()->currentData().toInt(), int(RunKind::Qat));
  QCOMPARE(form->batchSizeBox()->value(), 48);
  QCOMPARE(form->learningRateBox()->value(), 0.02);
  QVERIFY(form->isRowShown(form->freezeBnStepBox()));

  // The freeze step lives in the quantize config: undoable, and only in fold mode.
  QVERIFY(!form->freezeBnStepBox()->isEnabled());
  doc_->setBnMode(quant::BnMode::Fold);
  QVERIFY(form->freezeBnStepBox()->isEnabled());
  form->freezeBnStepBox()->setValue(300);
  QCOMPARE(doc_->quantizeConfig().freezeBnStep, 300L);
  doc_->undoStack()->undo();
  QCOMPARE(doc_->quantizeConfig().freezeBnStep, -1L);
  QCOMPARE(form->freezeBnStepBox()->value(), -1);
}

void TestTrainingPanel::trainKeepsUiResponsive() {
  setSettings(RunKind::Float, 4, 16);
  const double lossBefore = evaluateLoss(*doc_);

  QSignalSpy finished(doc_.get(), &ProjectDocument::trainingFinished);
  QSignalSpy added(doc_.get(), &ProjectDocument::runAdded);
  StallProbe probe(*doc_);
  QElapsedTimer wall;
  wall.start();
  QVERIFY(panel_->trainButton()->isEnabled());
  QTest::mouseClick(panel_->trainButton(), Qt::LeftButton);
  QVERIFY(doc_->isTraining());
  QVERIFY(!panel_->trainButton()->isEnabled());
  QVERIFY(!panel_->settingsForm()->epochsBox()->isEnabled());  // locked during the run
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 30000);
  qDebug("float run: %lld ms, %d ticks of the 10 ms probe during training, max UI stall %.1f ms",
         wall.elapsed(), probe.ticks(), probe.maxGapMs());

  QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(finished.at(0).at(1).toString()));
  const TrainingOutcome* out = doc_->lastTrainingOutcome();
  QVERIFY(out && !out->cancelled);
  QCOMPARE(out->summary.steps, 4L * (640 / 16));

  // The plots received the run through the queue (bounded by the decimation), and the
  // GUI thread kept running while the worker trained.
  const int points = panel_->lossPlot()->rawGraph()->dataCount();
  QVERIFY(points > 0);
  QVERIFY(points <= LossPlot::kMaxPoints);
  QCOMPARE(panel_->epochPlot()->trainGraph()->dataCount(), 4);
  QCOMPARE(panel_->epochPlot()->validationGraph()->dataCount(), 4);
  QCOMPARE(panel_->epochPlot()->trainLossGraph()->dataCount(), 4);
  QCOMPARE(panel_->epochPlot()->validationLossGraph()->dataCount(), 4);
  QVERIFY(probe.ticks() > 0);
  QCOMPARE(panel_->progressBar()->value(), panel_->progressBar()->maximum());

  // It learned: the smoothed loss at the end is below the first batch's, and the trained
  // weights are back in the document's model.
  QVERIFY(std::isfinite(panel_->firstBatchLoss()));
  QVERIFY2(panel_->lossPlot()->lastSmoothed() < panel_->firstBatchLoss(),
           qPrintable(QStringLiteral("%1 vs %2").arg(panel_->lossPlot()->lastSmoothed()).arg(panel_->firstBatchLoss())));
  const double lossAfter = evaluateLoss(*doc_);
  QVERIFY2(lossAfter < 0.8 * lossBefore, qPrintable(QStringLiteral("%1 -> %2").arg(lossBefore).arg(lossAfter)));

  // The run was added and the panel shows its float accuracy.
  QCOMPARE(added.count(), 1);
  const project::Run* run = doc_->run(added.at(0).at(0).toInt());
  QVERIFY(run);
  QCOMPARE(run->kind, RunKind::Float);
  QVERIFY2(run->metrics.floatAccuracy > 0.6, qPrintable(QString::number(run->metrics.floatAccuracy)));
  QCOMPARE(panel_->lastRunId(), run->id);
  const QString shown = QStringLiteral("%1 %").arg(100 * run->metrics.floatAccuracy, 0, 'f', 2);
  QVERIFY2(panel_->resultLabel()->text().contains(shown), qPrintable(panel_->resultLabel()->text()));
  QVERIFY(panel_->trainButton()->isEnabled());
}

void TestTrainingPanel::qatRunPlotsLiveAndReportsItsMetrics() {
  setSettings(RunKind::Qat, 3, 16);
  QCOMPARE(doc_->runBlocker(RunKind::Qat), QString());  // a new model has every layer ticked
  QSignalSpy finished(doc_.get(), &ProjectDocument::trainingFinished);
  QSignalSpy added(doc_.get(), &ProjectDocument::runAdded);
  StallProbe probe(*doc_);
  QTest::mouseClick(panel_->trainButton(), Qt::LeftButton);
  QVERIFY(doc_->isTraining());
  QCOMPARE(doc_->currentRunKind(), RunKind::Qat);

  // Mid-run: the loss curve grows while the GUI's event loop keeps running.
  QTRY_VERIFY_WITH_TIMEOUT(panel_->epochPlot()->trainGraph()->dataCount() >= 1 || finished.count() == 1, 30000);
  const int pointsMidRun = panel_->lossPlot()->rawGraph()->dataCount();
  const int ticksMidRun = probe.ticks();
  if (finished.count() == 0) {
    QVERIFY(pointsMidRun > 0);
    QVERIFY(ticksMidRun > 0);
    QVERIFY2(panel_->progressLabel()->text().contains(QStringLiteral("samples/s")),
             qPrintable(panel_->progressLabel()->text()));
    // What the user sees mid-run; written only when asked for (QAT_UI_SCREENSHOT_DIR).
    const QByteArray shots = qgetenv("QAT_UI_SCREENSHOT_DIR");
    if (!shots.isEmpty())
      QVERIFY(panel_->grab().save(QString::fromLocal8Bit(shots) + QStringLiteral("/training_panel_qat.png")));
  }
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 60000);
  QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(finished.at(0).at(1).toString()));
  qDebug("QAT run: %d loss points mid-run, %d probe ticks during training, max UI stall %.1f ms",
         pointsMidRun, probe.ticks(), probe.maxGapMs());
  QVERIFY(probe.ticks() > 0);
  QCOMPARE(panel_->epochPlot()->trainGraph()->dataCount(), 3);

  QCOMPARE(added.count(), 1);
  const project::Run* run = doc_->run(added.at(0).at(0).toInt());
  QVERIFY(run);
  QCOMPARE(run->kind, RunKind::Qat);
  const project::RunMetrics& m = run->metrics;
  qDebug("QAT run metrics: float %.4f, fake quant %.4f, integer %.4f on %zu samples (%s)", m.floatAccuracy,
         m.fakeQuantAccuracy, m.integerAccuracy, m.samples, m.integerError.c_str());
  // 3 epochs of 640 samples from random weights: ~70 % on the test subset; chance is 10 %.
  QVERIFY2(m.fakeQuantAccuracy > 0.6, qPrintable(QString::number(m.fakeQuantAccuracy)));
  QVERIFY2(m.integerAccuracy > 0.6, qPrintable(QString::fromStdString(m.integerError)));
  // Fake quant simulates the integer graph: they agree within a few test samples.
  QVERIFY2(std::abs(m.fakeQuantAccuracy - m.integerAccuracy) < 0.02,
           qPrintable(QStringLiteral("%1 vs %2").arg(m.fakeQuantAccuracy).arg(m.integerAccuracy)));
  const QByteArray shots = qgetenv("QAT_UI_SCREENSHOT_DIR");
  if (!shots.isEmpty())
    QVERIFY(panel_->grab().save(QString::fromLocal8Bit(shots) + QStringLiteral("/training_panel_qat_done.png")));
  const QString text = panel_->resultLabel()->text();
  for (double a : {m.floatAccuracy, m.fakeQuantAccuracy, m.integerAccuracy})
    QVERIFY2(text.contains(QStringLiteral("%1 %").arg(100 * a, 0, 'f', 2)), qPrintable(text));

  // Run ▸ Evaluate uses the same worker but trains nothing: the curves stay, and the
  // panel is ready again when it has finished.
  const int points = panel_->lossPlot()->rawGraph()->dataCount();
  QSignalSpy evaluated(doc_.get(), &ProjectDocument::evaluationFinished);
  QString error;
  QVERIFY2(doc_->startEvaluation(&error), qPrintable(error));
  QVERIFY(!panel_->trainButton()->isEnabled());
  QTRY_VERIFY_WITH_TIMEOUT(evaluated.count() == 1, 60000);
  QVERIFY2(evaluated.at(0).at(0).toBool(), qPrintable(evaluated.at(0).at(1).toString()));
  QCOMPARE(panel_->lossPlot()->rawGraph()->dataCount(), points);
  QCOMPARE(panel_->epochPlot()->trainGraph()->dataCount(), 3);
  QCOMPARE(panel_->progressLabel()->text(), evaluated.at(0).at(1).toString());
  QCOMPARE(panel_->progressBar()->maximum(), 1000);
  QVERIFY(panel_->trainButton()->isEnabled());
}

void TestTrainingPanel::ptqRunCalibratesWithoutSteps() {
  setSettings(RunKind::PostTraining, 1, 32);
  QSignalSpy finished(doc_.get(), &ProjectDocument::trainingFinished);
  QSignalSpy added(doc_.get(), &ProjectDocument::runAdded);
  QCOMPARE(panel_->trainButton()->text(), QStringLiteral("Calibrate"));
  QTest::mouseClick(panel_->trainButton(), Qt::LeftButton);
  QVERIFY(doc_->isTraining());
  QCOMPARE(panel_->progressBar()->maximum(), 0);  // no step count: a busy bar
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 60000);
  QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(finished.at(0).at(1).toString()));
  QCOMPARE(added.count(), 1);
  const project::Run* run = doc_->run(added.at(0).at(0).toInt());
  QVERIFY(run);
  QCOMPARE(run->kind, RunKind::PostTraining);
  const project::RunMetrics& m = run->metrics;
  qDebug("PTQ run metrics (untrained model): float %.4f, fake quant %.4f, integer %.4f", m.floatAccuracy,
         m.fakeQuantAccuracy, m.integerAccuracy);
  // 8-bit calibration barely moves an untrained MLP's predictions.
  QVERIFY(m.floatAccuracy >= 0 && m.fakeQuantAccuracy >= 0 && m.integerAccuracy >= 0);
  QVERIFY2(std::abs(m.fakeQuantAccuracy - m.floatAccuracy) < 0.05,
           qPrintable(QStringLiteral("%1 vs %2").arg(m.fakeQuantAccuracy).arg(m.floatAccuracy)));
  QCOMPARE(panel_->lossPlot()->rawGraph()->dataCount(), 0);
  QCOMPARE(panel_->progressBar()->maximum(), 1000);
  QCOMPARE(panel_->lastRunId(), run->id);
  QVERIFY(panel_->resultLabel()->text().contains(QStringLiteral("%1 %").arg(100 * m.fakeQuantAccuracy, 0, 'f', 2)));
}

void TestTrainingPanel::pauseThenStopKeepsTrainedWeights() {
  setSettings(RunKind::Float, 500, 16);  // far more than the test waits for: it must be stopped
  const double lossBefore = evaluateLoss(*doc_);
  QSignalSpy finished(doc_.get(), &ProjectDocument::trainingFinished);
  QSignalSpy added(doc_.get(), &ProjectDocument::runAdded);

  QTest::mouseClick(panel_->trainButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(panel_->lossPlot()->rawGraph()->dataCount() > 30, 10000);

  // Pause: the worker parks after its current batch, so the plot stops growing.
  QTest::mouseClick(panel_->pauseButton(), Qt::LeftButton);
  QVERIFY(doc_->isTrainingPaused());
  QCOMPARE(panel_->pauseButton()->text(), QStringLiteral("Resume"));
  QTest::qWait(150);  // the batch in flight arrives
  panel_->refreshNow();
  const int pausedPoints = panel_->lossPlot()->rawGraph()->dataCount();
  const double pausedLoss = panel_->lastBatchLoss();
  QTest::qWait(300);
  panel_->refreshNow();
  QCOMPARE(panel_->lossPlot()->rawGraph()->dataCount(), pausedPoints);
  QCOMPARE(panel_->lastBatchLoss(), pausedLoss);
  QVERIFY(doc_->isTraining());

  // Stop while paused: cancel must wake the parked worker.
  QTest::mouseClick(panel_->stopButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 30000);
  QVERIFY(finished.at(0).at(0).toBool());
  const TrainingOutcome* out = doc_->lastTrainingOutcome();
  QVERIFY(out && out->cancelled);
  QVERIFY(out->summary.steps > 30);
  QVERIFY(out->summary.steps < 500L * 40);
  QVERIFY(!doc_->isTraining());
  QVERIFY(!doc_->isTrainingPaused());

  // The stopped run is added with the model it reached: better than chance, and the
  // document's model holds those weights (finite, better than the initial ones).
  QCOMPARE(added.count(), 1);
  const project::Run* run = doc_->run(added.at(0).at(0).toInt());
  QVERIFY(run);
  QVERIFY2(run->metrics.floatAccuracy > 0.3, qPrintable(QString::number(run->metrics.floatAccuracy)));
  const double lossAfter = evaluateLoss(*doc_);
  QVERIFY2(std::isfinite(lossAfter), qPrintable(QString::number(lossAfter)));
  QVERIFY2(lossAfter < lossBefore, qPrintable(QStringLiteral("%1 -> %2").arg(lossBefore).arg(lossAfter)));
  QCOMPARE(panel_->lastRunId(), run->id);
  QVERIFY(panel_->progressLabel()->text().startsWith(QStringLiteral("Stopped")));
}

void TestTrainingPanel::nanLossIsReportedAndWeightsKept() {
  // One NaN pixel in the first sample: whichever batch holds it has a NaN loss.
  Dataset bad = subset(*train_, 64);
  bad.x[100] = std::nanf("");
  doc_->setData(std::make_shared<const Dataset>(std::move(bad)), test_);
  setSettings(RunKind::Float, 1, 64);
  const double lossBefore = evaluateLoss(*doc_);
  QSignalSpy finished(doc_.get(), &ProjectDocument::trainingFinished);
  QSignalSpy added(doc_.get(), &ProjectDocument::runAdded);
  QTest::mouseClick(panel_->trainButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 10000);
  QCOMPARE(finished.at(0).at(0).toBool(), false);
  const QString message = finished.at(0).at(1).toString();
  QVERIFY2(message.contains(QStringLiteral("NaN")), qPrintable(message));
  QVERIFY2(message.contains(QStringLiteral("step 1")), qPrintable(message));
  // Shown in the panel (no modal dialog), nothing added, weights untouched.
  QVERIFY(panel_->messageLabel()->isVisible());
  QCOMPARE(panel_->messageLabel()->text(), message);
  QCOMPARE(added.count(), 0);
  QCOMPARE(evaluateLoss(*doc_), lossBefore);
  QVERIFY(panel_->trainButton()->isEnabled());
}

void TestTrainingPanel::missingDataSetSaysWhatToInstall() {
  QString error;
  QVERIFY(!doc_->loadFashionMnist(&error, QStringLiteral("/nonexistent/fashion-mnist")));
  QVERIFY2(error.contains(QStringLiteral("dataset-fashion-mnist")), qPrintable(error));
  QVERIFY2(error.contains(QStringLiteral("/nonexistent/fashion-mnist")), qPrintable(error));
  QCOMPARE(doc_->trainData(), train_.get());  // the loaded data is kept
}

QTEST_MAIN(TestTrainingPanel)
#include "test_training_panel.moc"
