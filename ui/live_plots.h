#pragma once
// Live training plots. They are fed by TrainingPanel's drain timer (never by the worker)
// and keep a bounded number of points however long the run is.
#include <qcustomplot.h>

#include <optional>

#include "engine/train/trainer.h"

namespace qat::ui {

// Appends (x, y) samples to a QCPGraph, keeping at most `maxPoints` for the whole run:
// every `stride`-th sample is kept, and when the graph is full every other stored point
// is dropped and the stride doubles. The plot so always spans the run from step 0 at a
// resolution of maxPoints/2 .. maxPoints points.
class DecimatingSeries {
 public:
  DecimatingSeries(QCPGraph* graph, int maxPoints);
  void add(double x, double y);
  void clear();
  long stride() const { return stride_; }
  QCPGraph* graph() const { return graph_; }

 private:
  QCPGraph* graph_;  // owned by its QCustomPlot
  int maxPoints_;
  long stride_ = 1;
  long offered_ = 0;  // samples passed to add() since clear()
};

// Loss per optimizer step: raw batch losses as a light line and an exponentially
// smoothed (debiased, like TensorBoard) curve on top.
class LossPlot : public QCustomPlot {
  Q_OBJECT
 public:
  explicit LossPlot(QWidget* parent = nullptr);
  // x range 0..totalSteps, empty data.
  void reset(long totalSteps);
  void addBatch(long step, double loss);
  QCPGraph* rawGraph() const { return raw_.graph(); }
  QCPGraph* smoothGraph() const { return smooth_.graph(); }
  double lastSmoothed() const { return smoothed_; }

  static constexpr int kMaxPoints = 3000;
  static constexpr double kSmoothing = 0.9;  // EMA factor β

 private:
  DecimatingSeries raw_, smooth_;
  double ema_ = 0, smoothed_ = 0, betaPow_ = 1;
  double maxLoss_ = 0;
};

// Per epoch: accuracy (left axis, %) and loss (right axis, dashed) of the training
// batches and of the validation set.
class EpochPlot : public QCustomPlot {
  Q_OBJECT
 public:
  explicit EpochPlot(QWidget* parent = nullptr);
  void reset(int epochs);
  // e.epoch is 0-based; accuracies are fractions in [0, 1]. A non-finite loss is skipped.
  void addEpoch(const EpochEvent& e);
  QCPGraph* trainGraph() const { return trainAccuracy_; }  // accuracy
  QCPGraph* validationGraph() const { return validationAccuracy_; }
  QCPGraph* trainLossGraph() const { return trainLoss_; }
  QCPGraph* validationLossGraph() const { return validationLoss_; }

 private:
  QCPGraph *trainAccuracy_, *validationAccuracy_, *trainLoss_, *validationLoss_;
  double minAccuracy_ = 100;
  double maxLoss_ = 0;
};

}  // namespace qat::ui
