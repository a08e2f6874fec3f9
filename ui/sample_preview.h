#pragma once
// SampleStrip: a row of a data set's samples drawn as small images with their labels, so
// the user sees at a glance that the data loaded the right way round (orientation,
// channels, normalisation, labels).
//
// Samples are read from the tensor as NHWC: (N, H, W, 1) grey, (N, H, W, 3) RGB, any other
// channel count shows its first channel; (N, H, W) grey; (N, F) feature rows are drawn as
// a square image when F is a perfect square (784 → 28×28), else as one row of cells.
// Values are mapped to 0..255 over the range of the shown samples, so raw, [0, 1] and
// standardised data all display with full contrast.
#include <QImage>
#include <QString>
#include <QWidget>

#include <string>
#include <vector>

#include "engine/data/dataset.h"

namespace qat::ui {

// Sample `index` of `d` as an image, values lo..hi mapped to 0..255 (clamped).
QImage sampleImage(const Dataset& d, size_t index, float lo, float hi);

class SampleStrip : public QWidget {
  Q_OBJECT
 public:
  explicit SampleStrip(QWidget* parent = nullptr);

  // Shows up to maxSamples() samples spread evenly over `d` (first, ..., near the end);
  // null clears. classNames: label index -> name (empty: the index is shown).
  void setDataset(const Dataset* d, const std::vector<std::string>& classNames);
  int maxSamples() const { return maxSamples_; }
  void setMaxSamples(int n);

  int sampleCount() const { return static_cast<int>(cells_.size()); }
  size_t sampleIndex(int i) const { return cells_[size_t(i)].index; }  // into the data set
  QString labelText(int i) const { return cells_[size_t(i)].label; }
  QImage image(int i) const { return cells_[size_t(i)].image; }

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;
  bool hasHeightForWidth() const override { return true; }
  int heightForWidth(int width) const override;

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  struct Cell {
    size_t index = 0;
    QImage image;
    QString label;
  };
  QSize cellSize() const;

  std::vector<Cell> cells_;
  int maxSamples_ = 12;
  QString emptyText_;
};

}  // namespace qat::ui
