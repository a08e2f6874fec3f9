// The studio's training loop end to end, through the real widgets: the Train button starts
// a run on the worker thread, the panel's timer drains metrics into the plots, and the
// GUI thread stays responsive (a 10 ms timer keeps firing while the run goes). Stop and
// Pause go through their buttons too. Runs offscreen (CTest sets QT_QPA_PLATFORM).
#include <QElapsedTimer>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTimer>
#include <QtTest>

#include <cmath>
#include <memory>

#include "engine/data/dataset.h"
#include "engine/data/idx_reader.h"
#include "engine/train/trainer.h"
#include "ui/live_plots.h"
#include "ui/main_window.h"
#include "ui/project_document.h"
#include "ui/training_panel.h"

using namespace qat;
using namespace qat::ui;

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

double evaluateLoss(const ProjectDocument& doc) {
  Model copy = doc.model().clone();
  Trainer trainer(copy, TrainingController::makeConfig(doc.trainingSettings()));
  auto r = trainer.evaluate(*doc.validationData());
  return r.ok() ? r->loss : std::nan("");
}

}  // namespace

class TestTrainingPanel : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void init();
  void trainKeepsUiResponsive();
  void pauseThenStopKeepsTrainedWeights();
  void nanLossIsReportedAndWeightsKept();
  void missingDataSetSaysWhatToInstall();

 private:
  std::shared_ptr<const Dataset> train_, test_;
  std::unique_ptr<ProjectDocument> doc_;
  std::unique_ptr<MainWindow> window_;
};

void TestTrainingPanel::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);  // keep QSettings away from the user's config
  const std::string dir = QAT_FASHION_MNIST_DIR;
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
  window_.reset();
  doc_ = std::make_unique<ProjectDocument>();
  QString error;
  QVERIFY2(doc_->newFromBuiltin(QStringLiteral("fashion-mlp"), 42, &error), qPrintable(error));
  doc_->setData(train_, test_);
  window_ = std::make_unique<MainWindow>(doc_.get());
  window_->show();
  QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
  QCOMPARE(window_->windowTitle(), QStringLiteral("fashion-mlp — QAT Studio"));
}

void TestTrainingPanel::trainKeepsUiResponsive() {
  TrainingSettings s = doc_->trainingSettings();
  s.epochs = 4;
  s.batchSize = 16;
  s.learningRate = 1e-3;
  s.optimizer = OptimizerKind::Adam;
  doc_->setTrainingSettings(s);
  TrainingPanel* panel = window_->trainingPanel();
  const double lossBefore = evaluateLoss(*doc_);

  QSignalSpy finished(doc_.get(), &ProjectDocument::trainingFinished);
  StallProbe probe(*doc_);
  QElapsedTimer wall;
  wall.start();
  QVERIFY(panel->trainButton()->isEnabled());
  QTest::mouseClick(panel->trainButton(), Qt::LeftButton);
  QVERIFY(doc_->isTraining());
  QVERIFY(!panel->trainButton()->isEnabled());
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 15000);
  const qint64 ms = wall.elapsed();

  QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(finished.at(0).at(1).toString()));
  const TrainingOutcome* out = doc_->lastTrainingOutcome();
  QVERIFY(out && !out->cancelled);
  QCOMPARE(out->summary.steps, 4L * (640 / 16));
  qDebug("run: %lld ms, %ld steps, %d ticks of the 10 ms probe during training, max UI stall %.1f ms",
         ms, out->summary.steps, probe.ticks(), probe.maxGapMs());

  // The plots received the run through the queue (bounded by the decimation).
  const int points = panel->lossPlot()->rawGraph()->dataCount();
  QVERIFY(points > 0);
  QVERIFY(points <= LossPlot::kMaxPoints);
  QCOMPARE(panel->accuracyPlot()->trainGraph()->dataCount(), 4);
  QCOMPARE(panel->accuracyPlot()->validationGraph()->dataCount(), 4);

  // The GUI thread kept running while the worker trained: the 10 ms probe fired for at
  // least a quarter of the ticks the run's duration allows (and at least 3 times), and
  // never waited half a second.
  const int idealTicks = static_cast<int>(ms / 10);
  QVERIFY2(probe.ticks() >= std::max(3, idealTicks / 4),
           qPrintable(QStringLiteral("%1 of %2").arg(probe.ticks()).arg(idealTicks)));
  QVERIFY2(probe.maxGapMs() < 500, qPrintable(QString::number(probe.maxGapMs())));

  // It learned: the smoothed loss at the end is below the first batch's, and the trained
  // weights are back in the document's model.
  QVERIFY(std::isfinite(panel->firstBatchLoss()));
  QVERIFY2(panel->lossPlot()->lastSmoothed() < panel->firstBatchLoss(),
           qPrintable(QStringLiteral("%1 vs %2").arg(panel->lossPlot()->lastSmoothed()).arg(panel->firstBatchLoss())));
  const double lossAfter = evaluateLoss(*doc_);
  QVERIFY2(lossAfter < 0.8 * lossBefore, qPrintable(QStringLiteral("%1 -> %2").arg(lossBefore).arg(lossAfter)));
  QVERIFY(out->finalValidation);
  QVERIFY2(out->finalValidation->accuracy > 0.6, qPrintable(QString::number(out->finalValidation->accuracy)));
  QVERIFY(panel->trainButton()->isEnabled());
}

void TestTrainingPanel::pauseThenStopKeepsTrainedWeights() {
  TrainingSettings s = doc_->trainingSettings();
  s.epochs = 500;  // far more than the test waits for: it must be stopped
  s.batchSize = 16;
  doc_->setTrainingSettings(s);
  TrainingPanel* panel = window_->trainingPanel();
  const double lossBefore = evaluateLoss(*doc_);
  QSignalSpy finished(doc_.get(), &ProjectDocument::trainingFinished);

  QTest::mouseClick(panel->trainButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(panel->lossPlot()->rawGraph()->dataCount() > 30, 10000);

  // Pause: the worker parks after its current batch, so the plot stops growing.
  QTest::mouseClick(panel->pauseButton(), Qt::LeftButton);
  QVERIFY(doc_->isTrainingPaused());
  QCOMPARE(panel->pauseButton()->text(), QStringLiteral("Resume"));
  QTest::qWait(150);  // the batch in flight arrives
  panel->refreshNow();
  const int pausedPoints = panel->lossPlot()->rawGraph()->dataCount();
  const double pausedLoss = panel->lastBatchLoss();
  QTest::qWait(300);
  panel->refreshNow();
  QCOMPARE(panel->lossPlot()->rawGraph()->dataCount(), pausedPoints);
  QCOMPARE(panel->lastBatchLoss(), pausedLoss);
  QVERIFY(doc_->isTraining());

  // Stop while paused: cancel must wake the parked worker.
  QTest::mouseClick(panel->stopButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 5000);
  QVERIFY(finished.at(0).at(0).toBool());
  const TrainingOutcome* out = doc_->lastTrainingOutcome();
  QVERIFY(out && out->cancelled);
  QVERIFY(out->summary.steps > 30);
  QVERIFY(out->summary.steps < 500L * 40);
  QVERIFY(!doc_->isTraining());
  QVERIFY(!doc_->isTrainingPaused());

  // The document's model holds the weights of the last completed step: finite, and
  // better than the initial weights.
  const double lossAfter = evaluateLoss(*doc_);
  QVERIFY2(std::isfinite(lossAfter), qPrintable(QString::number(lossAfter)));
  QVERIFY2(lossAfter < lossBefore, qPrintable(QStringLiteral("%1 -> %2").arg(lossBefore).arg(lossAfter)));
  QVERIFY(out->finalValidation);
  QCOMPARE(out->finalValidation->loss, lossAfter);
}

void TestTrainingPanel::nanLossIsReportedAndWeightsKept() {
  // One NaN pixel in the first sample: whichever batch holds it has a NaN loss.
  Dataset bad = subset(*train_, 64);
  bad.x[100] = std::nanf("");
  doc_->setData(std::make_shared<const Dataset>(std::move(bad)), test_);
  TrainingSettings s = doc_->trainingSettings();
  s.epochs = 1;
  s.batchSize = 64;
  doc_->setTrainingSettings(s);
  const double lossBefore = evaluateLoss(*doc_);
  QSignalSpy finished(doc_.get(), &ProjectDocument::trainingFinished);
  QTest::mouseClick(window_->trainingPanel()->trainButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 5000);
  QCOMPARE(finished.at(0).at(0).toBool(), false);
  const QString message = finished.at(0).at(1).toString();
  QVERIFY2(message.contains(QStringLiteral("NaN")), qPrintable(message));
  QVERIFY2(message.contains(QStringLiteral("step 1")), qPrintable(message));
  QCOMPARE(evaluateLoss(*doc_), lossBefore);  // weights untouched
  QVERIFY(window_->trainingPanel()->trainButton()->isEnabled());
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
