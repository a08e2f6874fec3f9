#pragma once
// TrainingPanel: training settings, Train / Pause / Stop, progress and the live plots.
//
// Live plots pull: while a run is going a ~30 Hz QTimer drains the document's
// MetricsQueue (filled by the worker thread), appends the new points to the plots
// (bounded, see DecimatingSeries) and asks for a queued replot. The worker never touches
// a widget and never emits a signal per batch.
#include <QTimer>
#include <QWidget>

#include "ui/training_controller.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace qat::ui {

class AccuracyPlot;
class LossPlot;
class ProjectDocument;

class TrainingPanel : public QWidget {
  Q_OBJECT
 public:
  explicit TrainingPanel(ProjectDocument* document, QWidget* parent = nullptr);

  QPushButton* trainButton() const { return trainButton_; }
  QPushButton* pauseButton() const { return pauseButton_; }
  QPushButton* stopButton() const { return stopButton_; }
  // Says why training cannot start (ProjectDocument::trainingBlocker); hidden otherwise.
  QLabel* blockerLabel() const { return blocker_; }
  LossPlot* lossPlot() const { return lossPlot_; }
  AccuracyPlot* accuracyPlot() const { return accuracyPlot_; }
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
  void syncSettingsFromDocument();
  void pushSettingsToDocument();
  void updateDataInfo();
  void updateButtons();
  void drain();
  void onStarted();
  void onFinished(bool ok, const QString& message);

  ProjectDocument* document_;
  QSpinBox* epochs_ = nullptr;
  QSpinBox* batchSize_ = nullptr;
  QDoubleSpinBox* learningRate_ = nullptr;
  QComboBox* optimizer_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QSpinBox* maxSamples_ = nullptr;
  QPushButton* trainButton_ = nullptr;
  QPushButton* pauseButton_ = nullptr;
  QPushButton* stopButton_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* progressText_ = nullptr;
  QLabel* blocker_ = nullptr;
  QLabel* dataInfo_ = nullptr;
  QLabel* result_ = nullptr;
  LossPlot* lossPlot_ = nullptr;
  AccuracyPlot* accuracyPlot_ = nullptr;
  QTimer refreshTimer_;
  double firstLoss_, lastLoss_;
  int epochsPlanned_ = 0;
};

}  // namespace qat::ui
