#include "ui/run_charts.h"

#include <QHelpEvent>
#include <QToolTip>

#include <algorithm>
#include <cmath>
#include <iterator>

namespace qat::ui {
namespace {

// tab10: float, fake quant, integer, then further runs.
const QColor kColors[] = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44),
                          QColor(214, 39, 40),  QColor(148, 103, 189), QColor(140, 86, 75)};
constexpr double kBarWidth = 0.26;   // key units; a group of three fills ~0.8 of a run's slot
constexpr double kBarSpacing = 0.01;
constexpr double kSizeBarWidth = 0.55;

QString accuracyText(double percent) { return QString::number(percent, 'f', 2); }

QString kbText(double kb) {
  return kb >= 1024 ? QStringLiteral("%1 MB").arg(kb / 1024, 0, 'f', 2) : QStringLiteral("%1 KB").arg(kb, 0, 'f', 1);
}

// The legend in its own row under the plot, laid out horizontally: inside the axis rect
// it would cover the bars.
void legendBelow(QCustomPlot* plot) {
  plot->legend->setVisible(true);
  plot->axisRect()->insetLayout()->take(plot->legend);
  plot->plotLayout()->addElement(plot->plotLayout()->rowCount(), 0, plot->legend);
  plot->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  plot->legend->setBorderPen(Qt::NoPen);
  plot->plotLayout()->setRowStretchFactor(plot->plotLayout()->rowCount() - 1, 0.001);
}

}  // namespace

// ---- RunChart -------------------------------------------------------------------------

RunChart::RunChart(const QString& title, QWidget* parent) : QCustomPlot(parent) {
  plotLayout()->insertRow(0);
  title_ = new QCPTextElement(this, title, QFont(font().family(), font().pointSize() + 1, QFont::Bold));
  plotLayout()->addElement(0, 0, title_);
  setMinimumSize(300, 220);
  xAxis->grid()->setVisible(false);
  yAxis->grid()->setPen(QPen(QColor(220, 220, 220), 1, Qt::DotLine));
  connect(this, &QCustomPlot::afterReplot, this, &RunChart::fitLabels);
}

bool RunChart::event(QEvent* e) {
  if (e->type() != QEvent::ToolTip) return QCustomPlot::event(e);
  auto* help = static_cast<QHelpEvent*>(e);
  int index = -1;
  QString text;
  if (QCPAbstractPlottable* p = plottableAt(help->pos(), false, &index); p && index >= 0) text = tooltip(p, index);
  if (text.isEmpty()) {
    QToolTip::hideText();
    e->ignore();
  } else {
    QToolTip::showText(help->globalPos(), text, this);
  }
  return true;
}

void RunChart::addValueLabel(double key, double value, const QString& text) {
  auto* label = new QCPItemText(this);
  label->position->setCoords(key, value);
  label->setText(text);
  QFont f = font();
  f.setPointSizeF(std::max(7.0, f.pointSizeF() - 1));
  label->setFont(f);
  label->setPadding(QMargins(2, 0, 2, 2));
  label->setBrush(QColor(255, 255, 255, 210));  // readable over grid and reference lines
  label->setClipToAxisRect(false);
  labels_.push_back(label);
}

void RunChart::clearValueLabels() {
  for (QCPItemText* l : labels_) removeItem(l);
  labels_.clear();
}

void RunChart::setLabelGeometry(double labelWidth, double bottom, double highestBar, double minTop) {
  labelWidth_ = labelWidth;
  rangeBottom_ = bottom;
  highestBar_ = highestBar;
  minTop_ = minTop;
  managesRange_ = true;
  fitPasses_ = 3;
  fitLabels();
}

void RunChart::resizeEvent(QResizeEvent* e) {
  fitPasses_ = 3;
  QCustomPlot::resizeEvent(e);
}

void RunChart::fitLabels() {
  if (fitPasses_ <= 0 || !managesRange_) return;  // charts without value labels keep their own range
  --fitPasses_;
  double widest = 0, height = 0;
  for (const QCPItemText* l : labels_) {
    const QRect r = QFontMetrics(l->font()).boundingRect(QRect(), Qt::AlignCenter, l->text());
    widest = std::max(widest, double(r.width()) + 4);
    height = std::max(height, double(r.height()) + 2);
  }
  const double roomPx = std::abs(xAxis->coordToPixel(labelWidth_) - xAxis->coordToPixel(0));
  const bool vertical = widest > roomPx;
  // Room above the highest bar: the label's extent in pixels as a fraction f of the axis
  // height, so (top − highest) / (top − bottom) = f.
  const double extent = labels_.empty() ? 0 : (vertical ? widest : height) + 6;
  const double f = std::min(0.6, extent / std::max(1, axisRect()->height()));
  const double top = std::max(minTop_, (highestBar_ - f * rangeBottom_) / (1 - f));
  const bool rangeChanged = std::abs(yAxis->range().upper - top) > 1e-6 * std::max(1.0, top - rangeBottom_) ||
                            yAxis->range().lower != rangeBottom_;
  const bool changed = vertical != labelsVertical_ || rangeChanged;
  labelsVertical_ = vertical;
  for (QCPItemText* l : labels_) {
    // Vertical labels read bottom-up from the bar's top.
    l->setRotation(vertical ? -90 : 0);
    l->setPositionAlignment(vertical ? (Qt::AlignLeft | Qt::AlignVCenter) : (Qt::AlignHCenter | Qt::AlignBottom));
  }
  if (!changed) return;
  yAxis->setRange(rangeBottom_, top);
  replot(QCustomPlot::rpQueuedReplot);
}

void RunChart::setRunTicks(const QStringList& names) {
  auto ticker = QSharedPointer<QCPAxisTickerText>::create();
  const QFontMetrics fm(xAxis->tickLabelFont());
  for (int i = 0; i < names.size(); ++i) ticker->addTick(i + 1, fm.elidedText(names[i], Qt::ElideRight, 130));
  xAxis->setTicker(ticker);
  xAxis->setTickLabelRotation(names.size() > 4 ? 30 : 0);
  xAxis->setSubTicks(false);
  xAxis->setTickLength(0, 4);
  xAxis->setRange(0.4, std::max<qsizetype>(1, names.size()) + 0.6);
}

// ---- AccuracyChart --------------------------------------------------------------------

AccuracyChart::AccuracyChart(QWidget* parent) : RunChart(tr("Accuracy on the test data"), parent) {
  auto* group = new QCPBarsGroup(this);
  group->setSpacingType(QCPBarsGroup::stPlotCoords);
  group->setSpacing(kBarSpacing);
  const QString names[] = {tr("float"), tr("fake quant"), tr("integer (int8 interpreter)")};
  for (int m = 0; m < 3; ++m) {
    bars_[m] = new QCPBars(xAxis, yAxis);
    bars_[m]->setName(names[m]);
    bars_[m]->setWidth(kBarWidth);
    bars_[m]->setPen(QPen(kColors[m].darker(130)));
    bars_[m]->setBrush(kColors[m]);
    bars_[m]->setBarsGroup(group);
  }
  yAxis->setLabel(tr("accuracy (%)"));
  legendBelow(this);
  setRuns({});
}

void AccuracyChart::setRuns(const std::vector<const project::Run*>& runs) {
  clearValueLabels();
  names_.clear();
  integerErrors_.clear();
  for (QCPBars* b : bars_) b->data()->clear();
  const bool labelled = int(runs.size()) <= kMaxLabelledRuns;
  double lo = 100, hi = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    const project::Run& r = *runs[i];
    names_ << QString::fromStdString(r.name);
    integerErrors_.push_back(QString::fromStdString(r.metrics.integerError));
    const double acc[3] = {r.metrics.floatAccuracy, r.metrics.fakeQuantAccuracy, r.metrics.integerAccuracy};
    for (int m = 0; m < 3; ++m) {
      if (acc[m] < 0) continue;  // not measured: no bar (the tooltip of the table says why)
      const double key = double(i + 1), value = 100 * acc[m];
      bars_[m]->addData(key, value);
      lo = std::min(lo, value);
      hi = std::max(hi, value);
      if (labelled)  // the group puts bar m at key + (m − 1)·(width + spacing)
        addValueLabel(key + (m - 1) * (kBarWidth + kBarSpacing), value, accuracyText(value));
    }
  }
  setRunTicks(names_);
  // Runs usually differ by a few points: start the axis below the lowest bar (at a
  // multiple of 10) so the differences are visible; the value labels give exact numbers.
  if (hi < lo)
    setLabelGeometry(kBarWidth + kBarSpacing, 0, 100, 100);
  else
    setLabelGeometry(kBarWidth + kBarSpacing, std::max(0.0, std::floor((lo - 5) / 10) * 10), hi, std::min(100.0, hi + 1));
  replot(QCustomPlot::rpQueuedReplot);
}

QString AccuracyChart::tooltip(QCPAbstractPlottable* plottable, int index) const {
  for (int m = 0; m < 3; ++m) {
    if (plottable != bars_[m] || index >= bars_[m]->dataCount()) continue;
    const auto it = bars_[m]->data()->at(index);
    const int run = int(std::lround(it->key)) - 1;
    if (run < 0 || run >= names_.size()) return {};
    return QStringLiteral("%1\n%2: %3 %").arg(names_[run], bars_[m]->name(), accuracyText(it->value));
  }
  return {};
}

// ---- SizeChart ------------------------------------------------------------------------

SizeChart::SizeChart(QWidget* parent) : RunChart(tr("Weight size (dashed: float32)"), parent) {
  bars_ = new QCPBars(xAxis, yAxis);
  bars_->setName(tr("stored weights"));
  bars_->setWidth(kSizeBarWidth);
  bars_->setPen(QPen(kColors[4].darker(130)));
  bars_->setBrush(kColors[4]);
  floatLine_ = new QCPItemStraightLine(this);
  floatLine_->setPen(QPen(QColor(90, 90, 90), 1, Qt::DashLine));
  yAxis->setLabel(tr("KB"));
  setRuns({});
}

void SizeChart::setRuns(const std::vector<const project::Run*>& runs) {
  clearValueLabels();
  bars_->data()->clear();
  names_.clear();
  ratios_.clear();
  floatKb_ = 0;
  double hi = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    const project::RunMetrics& m = runs[i]->metrics;
    names_ << QString::fromStdString(runs[i]->name);
    ratios_.push_back(m.weightBytes > 0 ? double(m.floatWeightBytes) / double(m.weightBytes) : 0);
    floatKb_ = std::max(floatKb_, double(m.floatWeightBytes) / 1024);
    if (m.weightBytes == 0) continue;  // not evaluated: no size recorded
    const double kb = double(m.weightBytes) / 1024;
    bars_->addData(double(i + 1), kb);
    hi = std::max(hi, kb);
    // Two short lines fit over a narrow bar; a float-size run needs no "×1.0".
    const QString ratio = ratios_.back() > 1.005 ? QStringLiteral("\n×%1").arg(ratios_.back(), 0, 'f', 1) : QString();
    if (int(runs.size()) <= AccuracyChart::kMaxLabelledRuns)
      addValueLabel(double(i + 1), kb, kbText(kb) + ratio);
  }
  setRunTicks(names_);
  floatLine_->setVisible(floatKb_ > 0);
  floatLine_->point1->setCoords(0, floatKb_);
  floatLine_->point2->setCoords(1, floatKb_);
  // The dashed float32 line stays inside the plot with a little room above it.
  setLabelGeometry(0.95, 0, hi, std::max(hi, floatKb_) > 0 ? 1.08 * std::max(hi, floatKb_) : 1);
  replot(QCustomPlot::rpQueuedReplot);
}

QString SizeChart::tooltip(QCPAbstractPlottable* plottable, int index) const {
  if (plottable != bars_ || index >= bars_->dataCount()) return {};
  const auto it = bars_->data()->at(index);
  const int run = int(std::lround(it->key)) - 1;
  if (run < 0 || run >= names_.size()) return {};
  return tr("%1\n%2 of weights, %3× smaller than float32").arg(names_[run], kbText(it->value)).arg(ratios_[size_t(run)], 0, 'f', 2);
}

// ---- LayerErrorChart ------------------------------------------------------------------

LayerErrorChart::LayerErrorChart(QWidget* parent)
    : RunChart(tr("Per-layer quantization error (SQNR of each layer's output vs float; higher is better)"), parent) {
  yAxis->setLabel(tr("SQNR (dB)"));
  identicalLine_ = new QCPItemStraightLine(this);
  identicalLine_->setPen(QPen(QColor(120, 120, 120), 1, Qt::DotLine));
  identicalLabel_ = new QCPItemText(this);
  identicalLabel_->setText(tr("identical to float"));
  identicalLabel_->setColor(QColor(90, 90, 90));
  identicalLabel_->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
  identicalLabel_->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
  identicalLabel_->position->setTypeY(QCPItemPosition::ptPlotCoords);
  legendBelow(this);
  setRuns({}, {});
}

void LayerErrorChart::setRuns(const std::vector<const project::Run*>& runs, const QStringList& layers) {
  clearGraphs();
  series_.clear();
  layers_ = layers;
  // The y range from the finite values; identical layers sit on a line just above them.
  double lo = 1e300, hi = -1e300;
  bool anyIdentical = false;
  for (const project::Run* r : runs)
    for (const project::LayerError& e : r->layerErrors) {
      if (std::abs(e.sqnrDb) >= project::kSqnrIdentical) {
        anyIdentical = anyIdentical || e.sqnrDb > 0;
        continue;
      }
      lo = std::min(lo, e.sqnrDb);
      hi = std::max(hi, e.sqnrDb);
    }
  if (hi < lo) {  // nothing finite to scale to
    lo = 0;
    hi = 40;
  }
  const double margin = std::max(3.0, 0.08 * (hi - lo));
  identicalY_ = hi + margin;
  const double floorY = std::min(0.0, lo - margin);  // where "no signal" (−999) is drawn

  for (size_t i = 0; i < runs.size() && int(i) < kMaxRuns; ++i) {
    QCPGraph* g = addGraph();
    g->setName(QString::fromStdString(runs[i]->name));
    const QColor c = kColors[(i + 1) % std::size(kColors)];  // not the float bars' blue
    g->setPen(QPen(c, 2));
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, c, Qt::white, 7));
    for (const project::LayerError& e : runs[i]->layerErrors) {
      const int x = layers.indexOf(QString::fromStdString(e.layer));
      if (x < 0) continue;
      const double y = e.sqnrDb >= project::kSqnrIdentical ? identicalY_ : e.sqnrDb <= -project::kSqnrIdentical ? floorY : e.sqnrDb;
      g->addData(x, y);
    }
    series_.push_back(g);
  }
  auto ticker = QSharedPointer<QCPAxisTickerText>::create();
  for (int i = 0; i < layers.size(); ++i) ticker->addTick(i, layers[i]);
  xAxis->setTicker(ticker);
  xAxis->setSubTicks(false);
  xAxis->setTickLabelRotation(layers.size() > 3 ? 45 : 0);
  xAxis->setRange(-0.5, std::max<qsizetype>(1, layers.size()) - 0.5);
  yAxis->setRange(std::min(floorY, lo - margin), identicalY_ + margin);
  identicalLine_->setVisible(anyIdentical);
  identicalLabel_->setVisible(anyIdentical);
  identicalLine_->point1->setCoords(0, identicalY_);
  identicalLine_->point2->setCoords(1, identicalY_);
  identicalLabel_->position->setCoords(0.01, identicalY_);
  replot(QCustomPlot::rpQueuedReplot);
}

QString LayerErrorChart::tooltip(QCPAbstractPlottable* plottable, int index) const {
  auto* g = qobject_cast<QCPGraph*>(plottable);
  if (!g || index >= g->dataCount()) return {};
  const auto it = g->data()->at(index);
  const int layer = int(std::lround(it->key));
  if (layer < 0 || layer >= layers_.size()) return {};
  const QString value = it->value >= identicalY_ ? tr("identical to float") : tr("%1 dB").arg(it->value, 0, 'f', 1);
  return QStringLiteral("%1\n%2: %3").arg(layers_[layer], g->name(), value);
}

// ---- HistoryChart ---------------------------------------------------------------------

HistoryChart::HistoryChart(QWidget* parent)
    : RunChart(tr("Accuracy per epoch (solid: validation, dashed: training)"), parent) {
  xAxis->setLabel(tr("epoch"));
  yAxis->setLabel(tr("accuracy (%)"));
  auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
  ticker->setTickStep(1.0);
  ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);  // 1, 2, 5, 10 … epochs apart
  xAxis->setTicker(ticker);
  emptyNote_ = new QCPItemText(this);
  emptyNote_->setText(tr("No run has trained yet: Float and QAT runs record their accuracy per epoch."));
  emptyNote_->setColor(QColor(90, 90, 90));
  emptyNote_->position->setType(QCPItemPosition::ptAxisRectRatio);
  emptyNote_->position->setCoords(0.5, 0.5);
  legendBelow(this);
  setRuns({});
}

void HistoryChart::setRuns(const std::vector<const project::Run*>& runs) {
  clearGraphs();
  series_.clear();
  std::vector<const project::Run*> trained;
  for (const project::Run* r : runs)
    if (r->history.is_array() && !r->history.empty()) trained.push_back(r);
  if (int(trained.size()) > kMaxRuns) trained.erase(trained.begin(), trained.end() - kMaxRuns);
  double lo = 100, hi = 0;
  int lastEpoch = 1;
  for (size_t i = 0; i < trained.size(); ++i) {
    const QColor c = kColors[(i + 1) % std::size(kColors)];
    const QString name = QString::fromStdString(trained[i]->name);
    QCPGraph *validation = nullptr, *training = nullptr;
    // One series per run and kind, made when the run has a value of that kind.
    auto add = [&](QCPGraph*& g, const nlohmann::json& epoch, const char* key, Qt::PenStyle style, const QString& what) {
      const auto it = epoch.find(key);
      if (it == epoch.end() || !it->is_number()) return;
      if (!g) {
        g = addGraph();
        g->setName(QStringLiteral("%1 · %2").arg(name, what));
        g->setPen(QPen(c, 2, style));
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, c, Qt::white, 6));
        series_.push_back(g);
      }
      const int e = epoch.value("epoch", 0);
      const double v = 100 * it->get<double>();
      g->addData(e, v);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      lastEpoch = std::max(lastEpoch, e);
    };
    for (const nlohmann::json& epoch : trained[i]->history) {
      if (!epoch.is_object()) continue;
      add(validation, epoch, "val_accuracy", Qt::SolidLine, tr("validation"));
      add(training, epoch, "accuracy", Qt::DashLine, tr("training"));
    }
  }
  if (hi < lo) {
    lo = 0;
    hi = 100;
  }
  const double margin = std::max(1.0, 0.1 * (hi - lo));
  yAxis->setRange(std::max(0.0, lo - margin), std::min(100.0, hi + margin));
  xAxis->setRange(0.5, lastEpoch + 0.5);
  emptyNote_->setVisible(series_.empty());
  legend->setVisible(!series_.empty());
  replot(QCustomPlot::rpQueuedReplot);
}

QString HistoryChart::tooltip(QCPAbstractPlottable* plottable, int index) const {
  auto* g = qobject_cast<QCPGraph*>(plottable);
  if (!g || index >= g->dataCount()) return {};
  const auto it = g->data()->at(index);
  return tr("%1\nepoch %2: %3 %").arg(g->name()).arg(std::lround(it->key)).arg(it->value, 0, 'f', 2);
}

}  // namespace qat::ui
