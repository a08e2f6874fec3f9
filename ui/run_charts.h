#pragma once
// The compare panel's charts, each fed a list of runs by ComparePanel (the same runs, in
// the same order, as its table): accuracy in the three evaluation modes as grouped bars,
// weight size per run, the per-layer quantization error (SQNR) of a few runs, and the
// training curves (accuracy per epoch) of the runs that trained.
// They keep no pointer to the runs: setRuns copies what it draws.
#include <qcustomplot.h>

#include <QStringList>

#include <vector>

#include "engine/project/project.h"

namespace qat::ui {

// A QCustomPlot with a title row and tooltips for the data point under the mouse.
class RunChart : public QCustomPlot {
  Q_OBJECT
 public:
  explicit RunChart(const QString& title, QWidget* parent = nullptr);
  QString title() const { return title_->text(); }
  bool labelsVertical() const { return labelsVertical_; }  // the bars are narrower than their labels
  const std::vector<QCPItemText*>& valueLabels() const { return labels_; }

 protected:
  // Tooltip of data point `index` of `plottable`; "" for none.
  virtual QString tooltip(QCPAbstractPlottable* plottable, int index) const = 0;
  bool event(QEvent* e) override;
  // Run names as x tick labels at 1..n (rotated when there are many).
  void setRunTicks(const QStringList& names);

  // Value labels above bars. Whether they fit horizontally, and how much room they need
  // above the highest bar, depends on the plot's pixel size: after each replot
  // fitLabels() turns them vertical when a label is wider than `labelWidth` (key units:
  // the bar, or the bar and its gap when neighbours are far) and sets the y range to
  // [bottom, top] with top leaving room for them (at least minTop).
  void addValueLabel(double key, double value, const QString& text);
  void clearValueLabels();
  void setLabelGeometry(double labelWidth, double bottom, double highestBar, double minTop);
  void fitLabels();
  void resizeEvent(QResizeEvent* e) override;

  QCPTextElement* title_;
  std::vector<QCPItemText*> labels_;

 private:
  double labelWidth_ = 1, rangeBottom_ = 0, highestBar_ = 0, minTop_ = 1;
  bool labelsVertical_ = false;
  bool managesRange_ = false;  // setLabelGeometry was called: fitLabels owns the y range
  int fitPasses_ = 0;  // replots fitLabels may still ask for (guards against ping-pong)
};

enum class EvalMode { Float = 0, FakeQuant = 1, Integer = 2 };

// Accuracy (%) per run: one bar group per run with float / fake-quant / integer bars;
// a mode the run did not measure has no bar. Value labels above the bars (few runs).
class AccuracyChart : public RunChart {
  Q_OBJECT
 public:
  explicit AccuracyChart(QWidget* parent = nullptr);
  void setRuns(const std::vector<const project::Run*>& runs);
  // key = 1-based run position, value = accuracy in %.
  QCPBars* bars(EvalMode mode) const { return bars_[int(mode)]; }
  int labelCount() const { return int(labels_.size()); }

  static constexpr int kMaxLabelledRuns = 6;

 protected:
  QString tooltip(QCPAbstractPlottable* plottable, int index) const override;

 private:
  QCPBars* bars_[3];
  QStringList names_;
  std::vector<QString> integerErrors_;  // per run, why integer accuracy is missing
};

// Stored weight size (KB) per run at its bit widths, the compression against float32 in
// the bar's label, and the float32 size as a dashed reference line.
class SizeChart : public RunChart {
  Q_OBJECT
 public:
  explicit SizeChart(QWidget* parent = nullptr);
  // A run without a recorded size (never evaluated) has no bar.
  void setRuns(const std::vector<const project::Run*>& runs);
  QCPBars* bars() const { return bars_; }  // key = run position, value = KB
  double floatReferenceKb() const { return floatKb_; }

 protected:
  QString tooltip(QCPAbstractPlottable* plottable, int index) const override;

 private:
  QCPBars* bars_;
  QCPItemStraightLine* floatLine_;
  QStringList names_;
  std::vector<double> ratios_;  // float bytes / stored bytes per run
  double floatKb_ = 0;
};

// SQNR (dB) of each float layer's output per run: x = layer in model order (names as
// rotated tick labels), one line with markers per run. An identical output (SQNR
// kSqnrIdentical) is drawn on a dotted "identical" line just above the largest finite
// value, so one exact layer does not flatten the rest.
class LayerErrorChart : public RunChart {
  Q_OBJECT
 public:
  explicit LayerErrorChart(QWidget* parent = nullptr);
  // layers: the x order (model order); layers a run has no error for get no point.
  void setRuns(const std::vector<const project::Run*>& runs, const QStringList& layers);
  int seriesCount() const { return int(series_.size()); }
  QCPGraph* series(int i) const { return series_[size_t(i)]; }  // key = layer index
  QStringList layers() const { return layers_; }
  double identicalLevel() const { return identicalY_; }  // y where identical layers are drawn

  static constexpr int kMaxRuns = 3;

 protected:
  QString tooltip(QCPAbstractPlottable* plottable, int index) const override;

 private:
  std::vector<QCPGraph*> series_;
  QStringList layers_;
  QCPItemStraightLine* identicalLine_;
  QCPItemText* identicalLabel_;
  double identicalY_ = 0;
};

// Accuracy (%) per epoch of the runs that trained (float and QAT runs; the last kMaxRuns
// of them in the given order): validation accuracy solid where the run held data out,
// training accuracy dashed, one colour per run. x = epoch (1-based).
class HistoryChart : public RunChart {
  Q_OBJECT
 public:
  explicit HistoryChart(QWidget* parent = nullptr);
  void setRuns(const std::vector<const project::Run*>& runs);
  int seriesCount() const { return int(series_.size()); }
  QCPGraph* series(int i) const { return series_[size_t(i)]; }  // key = epoch, value = accuracy %
  bool emptyNoteShown() const { return emptyNote_->visible(); }

  static constexpr int kMaxRuns = 6;

 protected:
  QString tooltip(QCPAbstractPlottable* plottable, int index) const override;

 private:
  std::vector<QCPGraph*> series_;
  QCPItemText* emptyNote_;
};

}  // namespace qat::ui
