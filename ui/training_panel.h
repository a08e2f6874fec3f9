#pragma once
// TrainingPanel: the run's settings (TrainingSettingsForm), Start / Pause / Stop, progress
// with samples/s and ETA, the live plots, and the metrics of the run that finished.
//
// Live plots pull: while a run is going a ~30 Hz QTimer drains the document's
// MetricsQueue (filled by the worker thread), appends the new points to the plots
// (bounded, see DecimatingSeries) and asks for a queued replot. The worker never touches
// a widget and never emits a signal per batch.
//
// Failures are shown in messageLabel(), never in a modal dialog (the main window decides
// whether to add one), so scripted use and tests never block.
#include <QTimer>
#include <QWidget>

#include "ui/training_controller.h"

class QLabel;
class QProgressBar;
class QPushButton;

namespace qat::ui {

class EpochPlot;
class LossPlot;
class ProjectDocument;
class TrainingSettingsForm;

class TrainingPanel : public QWidget {
  Q_OBJECT
 public:
  explicit TrainingPanel(ProjectDocument* document, QWidget* parent = nullptr);

  TrainingSettingsForm* settingsForm() const { return form_; }
  QPushButton* trainButton() const { return trainButton_; }  // "Start": a run of settings.kind
  QPushButton* pauseButton() const { return pauseButton_; }
  QPushButton* stopButton() const { return stopButton_; }
  // Says why a run cannot start (ProjectDocument::trainingBlocker); hidden otherwise.
  QLabel* blockerLabel() const { return blocker_; }
  QProgressBar* progressBar() const { return progress_; }
  // "Epoch 2/5 · step … · 1234 samples/s · ETA 0:12" while running.
  QLabel* progressLabel() const { return progressText_; }
  // The last failure (a NaN loss, a refused start) in red; empty otherwise.
  QLabel* messageLabel() const { return message_; }
  // The metrics of the last run added (float / fake-quant / integer accuracy); follows
  // re-evaluation (runChanged) and deletion of that run.
  QLabel* resultLabel() const { return result_; }
  int lastRunId() const { return lastRunId_; }  // 0 before a run was added
  LossPlot* lossPlot() const { return lossPlot_; }
  EpochPlot* epochPlot() const { return epochPlot_; }
  // Loss of the first and the most recent batch drained into the plot (NaN before).
  double firstBatchLoss() const { return firstLoss_; }
  double lastBatchLoss() const { return lastLoss_; }

  // Drains the metrics queue and replots at once (the timer does this while training).
  void refreshNow();

  static constexpr int kRefreshIntervalMs = 33;  // ~30 Hz

 public slots:
  void startTraining();
  void togglePause();
  void stopTraining();

 private:
  void buildUi();
  void updateDataInfo();
  void updateButtons();
  void drain();
  void onStarted();
  void onFinished(bool ok, const QString& message);
  void onEvaluationFinished(bool ok, const QString& message);
  void showRun(int id);
  void resetPlots();
  void showMessage(const QString& message);

  ProjectDocument* document_;
  TrainingSettingsForm* form_ = nullptr;
  QPushButton* trainButton_ = nullptr;
  QPushButton* pauseButton_ = nullptr;
  QPushButton* stopButton_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* progressText_ = nullptr;
  QLabel* message_ = nullptr;
  QLabel* blocker_ = nullptr;
  QLabel* dataInfo_ = nullptr;
  QLabel* result_ = nullptr;
  LossPlot* lossPlot_ = nullptr;
  EpochPlot* epochPlot_ = nullptr;
  QTimer refreshTimer_;
  double firstLoss_, lastLoss_;
  int epochsPlanned_ = 0;
  int lastRunId_ = 0;
  bool plotsResetPending_ = false;  // a job started; its first metrics clear the plots
};

}  // namespace qat::ui
