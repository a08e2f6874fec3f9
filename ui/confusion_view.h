#pragma once
// Confusion matrices of two runs side by side and their difference.
//
// ConfusionMatrixView paints one matrix as a heat map with the count in each cell (rows:
// true class, columns: predicted class). In Difference mode the values are B − A and the
// colours diverge by what the change means, not by its sign: more samples on the diagonal
// or fewer off it is an improvement (green), the opposite a regression (red).
//
// ConfusionComparison holds the two run pickers (A, B) and three views (A, B, B − A). It
// reads runs from the document; the compare panel owns it and tells it when runs change.
#include <QString>
#include <QStringList>
#include <QWidget>

#include <vector>

#include "engine/project/project.h"

class QComboBox;
class QLabel;

namespace qat::ui {

class ProjectDocument;

class ConfusionMatrixView : public QWidget {
  Q_OBJECT
 public:
  enum class Mode { Counts, Difference };
  explicit ConfusionMatrixView(QWidget* parent = nullptr);

  // counts: a matrix's counts; difference: B − A (same class count, else cleared).
  void setCounts(const project::ConfusionMatrix& m, const QString& title);
  void setDifference(const project::ConfusionMatrix& a, const project::ConfusionMatrix& b, const QString& title);
  void clear(const QString& message);
  void setClassNames(const QStringList& names);  // shorter lists fall back to indices

  Mode mode() const { return mode_; }
  int classes() const { return classes_; }
  long value(int trueClass, int predicted) const { return values_[size_t(trueClass * classes_ + predicted)]; }
  QString title() const { return title_; }
  QString className(int c) const;  // the name when known, else the index
  // The cell under a widget position, or false outside the grid.
  bool cellAt(QPoint pos, int* trueClass, int* predicted) const;
  // The fill colour of a cell as painted (for tests and the legend).
  QColor cellColor(int trueClass, int predicted) const;

  QSize sizeHint() const override { return {380, 400}; }
  QSize minimumSizeHint() const override { return {220, 240}; }

 protected:
  void paintEvent(QPaintEvent*) override;
  bool event(QEvent* e) override;  // tooltips

 private:
  struct Geometry {
    QRectF grid;
    double cell = 0;
  };
  Geometry geometry() const;

  Mode mode_ = Mode::Counts;
  int classes_ = 0;
  std::vector<long> values_;  // row-major, true class × predicted
  long maxAbs_ = 0;           // colour scale (counts: the largest count; difference: |largest change|)
  QString title_, message_;
  QStringList names_;
};

class ConfusionComparison : public QWidget {
  Q_OBJECT
 public:
  explicit ConfusionComparison(ProjectDocument* document, QWidget* parent = nullptr);

  QComboBox* runABox() const { return boxA_; }
  QComboBox* runBBox() const { return boxB_; }
  int runA() const;  // run ids, 0 when none
  int runB() const;
  void setRuns(int a, int b);
  ConfusionMatrixView* viewA() const { return viewA_; }
  ConfusionMatrixView* viewB() const { return viewB_; }
  ConfusionMatrixView* differenceView() const { return diff_; }

  // Rebuilds the pickers from the document's runs, keeping the picks that still exist;
  // A defaults to the float baseline, B to the active run.
  void refresh();
  // B follows the active run (unless that is A).
  void followActiveRun(int id);

 private:
  void fillBox(QComboBox* box, int keep);
  void redraw();
  int defaultA() const;

  ProjectDocument* document_;
  QComboBox *boxA_, *boxB_;
  QLabel* summary_;
  ConfusionMatrixView *viewA_, *viewB_, *diff_;
  bool filling_ = false;
};

}  // namespace qat::ui
