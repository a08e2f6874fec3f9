#include "ui/weight_histogram.h"

#include <algorithm>
#include <cmath>

namespace qat::ui {

namespace {

const QColor kBarColour(70, 130, 180);     // weights: steel blue
const QColor kGridColour(214, 39, 40, 170);  // grid levels: translucent red, visible over bars

}  // namespace

WeightHistogram::WeightHistogram(QWidget* parent) : QCustomPlot(parent) {
  plotLayout()->insertRow(0);
  title_ = new QCPTextElement(this, QString(), QFont(font().family(), font().pointSize(), QFont::Bold));
  plotLayout()->addElement(0, 0, title_);
  xAxis->setLabel(tr("weight value"));
  yAxis->setLabel(tr("count"));
  // Counts are whole numbers: no "2.5" ticks on a channel of 9 weights.
  auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
  ticker->setTickStep(1);
  ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  yAxis->setTicker(ticker);
  bars_ = new QCPBars(xAxis, yAxis);
  bars_->setName(tr("weights"));
  bars_->setPen(QPen(kBarColour.darker(130), 1));
  bars_->setBrush(kBarColour);
  // Vertical lines from 0 to the top of the plot, one data point per grid level.
  gridGraph_ = addGraph();
  gridGraph_->setName(tr("grid levels"));
  gridGraph_->setLineStyle(QCPGraph::lsImpulse);
  gridGraph_->setPen(QPen(kGridColour, 1));
  // The legend in its own row under the title, in one line: inside the axis rect it
  // would hide bars, which fill the plot's height.
  legend->setVisible(true);
  legend->setBorderPen(Qt::NoPen);
  legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  axisRect()->insetLayout()->take(legend);
  axisRect()->insetLayout()->simplify();
  plotLayout()->insertRow(1);
  plotLayout()->addElement(1, 0, legend);
  plotLayout()->setRowStretchFactor(1, 0.001);
  legend->setMargins(QMargins(4, 0, 4, 0));
  setMinimumSize(300, 220);
  clear();
}

int WeightHistogram::axisChannels(const std::string& param, const Shape& shape) {
  if (shape.rank() == 0) return 1;
  if (param == "depthwise_kernel" && shape.rank() == 4) return shape[2] * shape[3];
  return shape.back();
}

void WeightHistogram::clear() {
  layer_.clear();
  param_.clear();
  weights_ = Tensor();
  spec_.reset();
  grids_.clear();
  channels_ = 1;
  channel_ = 0;
  rebuild();
}

void WeightHistogram::setTensor(const QString& layer, const std::string& param, const Tensor& weights,
                                const std::optional<quant::QuantizerSpec>& spec) {
  const int oldChannels = channels_;
  layer_ = layer;
  param_ = param;
  weights_ = weights;
  spec_ = spec;
  channels_ = spec && spec->perAxis ? axisChannels(param, weights.shape()) : 1;
  if (channels_ != oldChannels) channel_ = 0;
  computeGrids();
  rebuild();
}

void WeightHistogram::setChannel(int channel) {
  const int c = std::clamp(channel, 0, channels_ - 1);
  if (c == channel_) return;
  channel_ = c;
  rebuild();
}

void WeightHistogram::computeGrids() {
  grids_.clear();
  gridNote_.clear();
  if (!spec_) {
    gridNote_ = tr("float, no grid");
    return;
  }
  if (weights_.size() == 0 || weights_.size() % static_cast<size_t>(channels_) != 0) return;
  // The grid the quantizer would use on these weights: LastValue takes the tensor's
  // (per-channel) range, the way weights are quantized in tfmot's scheme. Fixed keeps its
  // given range; the learned kinds start from a range too, shown here as LastValue's.
  quant::QuantizerSpec s = *spec_;
  if (s.type != "Fixed" && s.type != "FixedRangeClip") {
    s.type = "LastValue";
    s.initMin.reset();
    s.initMax.reset();
    s.tfmotInit = false;
    s.extra = nlohmann::json::object();
  }
  auto q = quant::makeQuantizer(s);
  if (!q.ok()) {
    gridNote_ = QString::fromStdString(q.error().message);
    return;
  }
  if (auto st = q.value()->build(channels_, param_); !st.ok()) {
    gridNote_ = QString::fromStdString(st.error().message);
    return;
  }
  RunContext ctx;
  ctx.calibrating = true;  // observe the range (LastValue: exactly these weights)
  Tensor out;
  q.value()->forward(weights_, out, ctx);
  grids_ = q.value()->grids();
  if (grids_.empty()) gridNote_ = tr("%1: no integer grid").arg(QString::fromStdString(s.type));
}

void WeightHistogram::rebuild() {
  shown_.clear();
  levels_.clear();
  drawn_.clear();
  stride_ = 1;
  const size_t C = static_cast<size_t>(channels_), c = static_cast<size_t>(channel_);
  for (size_t i = c; i < weights_.size(); i += C) shown_.push_back(weights_.data()[i]);

  // Histogram of the shown values: about 2·sqrt(n) bins, between 8 and 60.
  QVector<double> keys, counts;
  double lo = 0, hi = 0, width = 1;
  int maxCount = 0;
  if (!shown_.empty()) {
    const auto [mn, mx] = std::minmax_element(shown_.begin(), shown_.end());
    lo = *mn;
    hi = *mx;
    const int bins = std::clamp(static_cast<int>(2 * std::sqrt(double(shown_.size()))), 8, 60);
    width = hi > lo ? (hi - lo) / bins : std::max(1e-3, std::abs(lo) * 1e-2);
    std::vector<int> n(static_cast<size_t>(bins), 0);
    for (float v : shown_) {
      const int b = std::clamp(static_cast<int>((v - lo) / width), 0, bins - 1);
      ++n[static_cast<size_t>(b)];
    }
    for (int b = 0; b < bins; ++b) {
      keys.push_back(lo + (b + 0.5) * width);
      counts.push_back(n[static_cast<size_t>(b)]);
      maxCount = std::max(maxCount, n[static_cast<size_t>(b)]);
    }
  }
  bars_->setWidth(width);
  bars_->setData(keys, counts, true);
  const double top = std::max(1, maxCount) * 1.1;

  // Grid levels r(q) = (q − zp)·scale, computed as the engine does (float); when there
  // are many, draw every stride-th counted from the zero point so 0 is always drawn.
  QVector<double> lineKeys, lineValues;
  QString gridText = gridNote_;
  double gridLo = lo, gridHi = hi;
  if (!grids_.empty()) {
    const quant::Grid& g = grids_[grids_.size() == 1 ? 0 : c];
    const int count = g.qmax - g.qmin + 1;
    stride_ = (count + kMaxDrawnLevels - 1) / kMaxDrawnLevels;
    for (int q = g.qmin; q <= g.qmax; ++q) {
      const double v = (static_cast<float>(q) - static_cast<float>(g.zeroPoint)) * g.scale;
      levels_.push_back(v);
      if ((q - g.zeroPoint) % stride_ == 0) {
        drawn_.push_back(v);
        lineKeys.push_back(v);
        lineValues.push_back(top);
      }
    }
    gridLo = std::min(lo, double(g.nudgedMin));
    gridHi = std::max(hi, double(g.nudgedMax));
    gridText = tr("%1-bit grid, %2 levels").arg(spec_->bits).arg(count);
    if (stride_ > 1) gridText += tr(" (every %1th drawn)").arg(stride_);
  }
  gridGraph_->setData(lineKeys, lineValues, true);

  // Two short lines: a dock is narrow.
  QString t = layer_.isEmpty() ? tr("No weights") : layer_ + QStringLiteral(" · ") + QString::fromStdString(param_);
  if (channels_ > 1) t += tr(" · channel %1 of %2").arg(channel_).arg(channels_);
  if (!gridText.isEmpty()) t += QLatin1Char('\n') + gridText;
  title_->setText(t);

  const double pad = std::max(1e-6, (gridHi - gridLo) * 0.04);
  xAxis->setRange(gridLo - pad, gridHi + pad);
  yAxis->setRange(0, top);
  replot(rpQueuedReplot);
}

}  // namespace qat::ui
