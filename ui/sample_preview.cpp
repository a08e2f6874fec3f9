#include "ui/sample_preview.h"

#include <QPainter>
#include <QPaintEvent>

#include <algorithm>
#include <cmath>

namespace qat::ui {

namespace {

constexpr int kImageSide = 64;   // each sample is drawn in a square this big
constexpr int kLabelHeight = 18;
constexpr int kGap = 6;

// The image geometry of one sample: (H, W, C) with C the channels drawn (1 or 3) and
// `stride` the channels stored per pixel.
struct Geometry {
  int h = 0, w = 0, channels = 1, stride = 1;
};

Geometry geometryOf(const Shape& sample) {
  Geometry g;
  if (sample.rank() == 3) {
    g = {sample[0], sample[1], sample[2] == 3 ? 3 : 1, sample[2]};
  } else if (sample.rank() == 2) {
    g = {sample[0], sample[1], 1, 1};
  } else {
    const int f = static_cast<int>(sample.numel());
    const int side = static_cast<int>(std::lround(std::sqrt(double(f))));
    if (side >= 2 && side * side == f) g = {side, side, 1, 1};
    else g = {1, std::max(1, f), 1, 1};  // a row of feature cells
  }
  return g;
}

}  // namespace

QImage sampleImage(const Dataset& d, size_t index, float lo, float hi) {
  if (index >= d.size()) return {};
  const Geometry g = geometryOf(d.sampleShape());
  const size_t perSample = d.sampleShape().numel();
  const float* px = d.x.data() + index * perSample;
  const float scale = hi > lo ? 255.0f / (hi - lo) : 0.0f;  // constant data: all black
  QImage img(g.w, g.h, g.channels == 3 ? QImage::Format_RGB888 : QImage::Format_Grayscale8);
  for (int y = 0; y < g.h; ++y) {
    uchar* line = img.scanLine(y);
    for (int x = 0; x < g.w; ++x) {
      const float* p = px + (size_t(y) * size_t(g.w) + size_t(x)) * size_t(g.stride);
      for (int c = 0; c < g.channels; ++c) {
        const float v = std::isfinite(p[c]) ? (p[c] - lo) * scale : 0.0f;
        line[x * g.channels + c] = static_cast<uchar>(std::clamp(v, 0.0f, 255.0f) + 0.5f);
      }
    }
  }
  return img;
}

SampleStrip::SampleStrip(QWidget* parent) : QWidget(parent), emptyText_(tr("No data loaded.")) {
  QSizePolicy policy(QSizePolicy::Expanding, QSizePolicy::Preferred);
  policy.setHeightForWidth(true);  // narrow panels wrap the strip into more rows
  setSizePolicy(policy);
}

void SampleStrip::setMaxSamples(int n) { maxSamples_ = std::max(1, n); }

void SampleStrip::setDataset(const Dataset* d, const std::vector<std::string>& classNames) {
  cells_.clear();
  if (d && d->size() > 0) {
    const size_t n = std::min(d->size(), size_t(maxSamples_));
    std::vector<size_t> indices(n);
    for (size_t i = 0; i < n; ++i) indices[i] = i * d->size() / n;  // spread over the whole set
    // One value range for the strip, so the samples compare with each other.
    const size_t perSample = d->sampleShape().numel();
    float lo = INFINITY, hi = -INFINITY;
    for (size_t i : indices) {
      const float* p = d->x.data() + i * perSample;
      for (size_t k = 0; k < perSample; ++k) {
        if (!std::isfinite(p[k])) continue;
        lo = std::min(lo, p[k]);
        hi = std::max(hi, p[k]);
      }
    }
    for (size_t i : indices) {
      Cell c;
      c.index = i;
      c.image = sampleImage(*d, i, lo, hi);
      if (d->hasLabels()) {
        const int label = d->labels[i];
        c.label = label >= 0 && size_t(label) < classNames.size() ? QString::fromStdString(classNames[size_t(label)])
                                                                  : QString::number(label);
      } else if (!d->targets.empty()) {
        c.label = QStringLiteral("y = %1").arg(double(d->targets.data()[i * size_t(d->targets.dim(1))]), 0, 'g', 3);
      }
      c.label = c.label.isEmpty() ? QStringLiteral("?") : c.label;
      cells_.push_back(std::move(c));
    }
  }
  updateGeometry();
  update();
}

QSize SampleStrip::cellSize() const { return {kImageSide + kGap, kImageSide + kLabelHeight + kGap}; }

QSize SampleStrip::sizeHint() const {
  const QSize c = cellSize();
  return {std::max(1, sampleCount()) * c.width(), c.height()};
}

QSize SampleStrip::minimumSizeHint() const {
  const QSize c = cellSize();
  return {4 * c.width(), c.height()};
}

int SampleStrip::heightForWidth(int width) const {
  const QSize c = cellSize();
  const int columns = std::max(1, width / c.width());
  const int rows = std::max(1, (sampleCount() + columns - 1) / columns);
  return rows * c.height();
}

void SampleStrip::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().base());
  if (cells_.empty()) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(rect(), Qt::AlignCenter, emptyText_);
    return;
  }
  const QSize c = cellSize();
  const int columns = std::max(1, width() / c.width());
  const QFontMetrics fm(font());
  for (int i = 0; i < sampleCount(); ++i) {
    const int x = (i % columns) * c.width() + kGap / 2;
    const int y = (i / columns) * c.height() + kGap / 2;
    const QImage& img = cells_[size_t(i)].image;
    // Small images are enlarged pixel for pixel (no smoothing: the pixels are the data).
    const QSize drawn = img.size().scaled(kImageSide, kImageSide, Qt::KeepAspectRatio);
    const QRect target(x + (kImageSide - drawn.width()) / 2, y + (kImageSide - drawn.height()) / 2,
                       drawn.width(), drawn.height());
    p.setRenderHint(QPainter::SmoothPixmapTransform, false);
    p.drawImage(target, img);
    p.setPen(palette().color(QPalette::Mid));
    p.drawRect(QRect(x, y, kImageSide, kImageSide).adjusted(0, 0, -1, -1));
    p.setPen(palette().color(QPalette::Text));
    const QString label = fm.elidedText(cells_[size_t(i)].label, Qt::ElideRight, kImageSide + kGap / 2);
    p.drawText(QRect(x - kGap / 4, y + kImageSide, kImageSide + kGap / 2, kLabelHeight),
               Qt::AlignHCenter | Qt::AlignVCenter, label);
  }
}

}  // namespace qat::ui
