#include "ui/live_plots.h"

#include <algorithm>
#include <cmath>

namespace qat::ui {

namespace {

// Title row above the axis rect, axis labels, light grid, legend inside the axis rect.
void setUpPlot(QCustomPlot* p, const QString& title, const QString& xLabel, const QString& yLabel,
               Qt::Alignment legendCorner) {
  p->plotLayout()->insertRow(0);
  auto* t = new QCPTextElement(p, title, QFont(p->font().family(), p->font().pointSize() + 1, QFont::Bold));
  p->plotLayout()->addElement(0, 0, t);
  p->xAxis->setLabel(xLabel);
  p->yAxis->setLabel(yLabel);
  p->legend->setVisible(true);
  p->legend->setBrush(QBrush(QColor(255, 255, 255, 220)));
  p->legend->setBorderPen(QPen(QColor(190, 190, 190)));
  p->axisRect()->insetLayout()->setInsetAlignment(0, legendCorner);
  p->setNoAntialiasingOnDrag(true);
  p->setMinimumSize(320, 200);
}

}  // namespace

// ---- DecimatingSeries ------------------------------------------------------------------

DecimatingSeries::DecimatingSeries(QCPGraph* graph, int maxPoints)
    : graph_(graph), maxPoints_(std::max(4, maxPoints)) {}

void DecimatingSeries::add(double x, double y) {
  if (offered_++ % stride_ != 0) return;
  graph_->addData(x, y);
  if (graph_->dataCount() <= maxPoints_) return;
  // Keep points 0, 2, 4, ...: they are exactly the samples at multiples of 2·stride.
  QVector<double> keys, values;
  keys.reserve(maxPoints_ / 2 + 1);
  values.reserve(maxPoints_ / 2 + 1);
  const auto data = graph_->data();
  for (int i = 0; i < data->size(); i += 2) {
    const auto it = data->at(i);
    keys.push_back(it->key);
    values.push_back(it->value);
  }
  graph_->setData(keys, values, true);
  stride_ *= 2;
}

void DecimatingSeries::clear() {
  graph_->data()->clear();
  stride_ = 1;
  offered_ = 0;
}

// ---- LossPlot --------------------------------------------------------------------------

LossPlot::LossPlot(QWidget* parent)
    : QCustomPlot(parent), raw_(addGraph(), kMaxPoints), smooth_(addGraph(), kMaxPoints) {
  setUpPlot(this, tr("Training loss"), tr("step"), tr("loss (cross-entropy)"),
            Qt::AlignTop | Qt::AlignRight);
  raw_.graph()->setName(tr("batch loss"));
  raw_.graph()->setPen(QPen(QColor(31, 119, 180, 90), 1));
  smooth_.graph()->setName(tr("smoothed (EMA %1)").arg(kSmoothing));
  smooth_.graph()->setPen(QPen(QColor(31, 119, 180), 2));
  // Steps are whole numbers: no "2.5" ticks on a short run.
  auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
  ticker->setTickStep(1);
  ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  xAxis->setTicker(ticker);
  reset(100);
}

void LossPlot::reset(long totalSteps) {
  raw_.clear();
  smooth_.clear();
  ema_ = smoothed_ = maxLoss_ = 0;
  betaPow_ = 1;
  xAxis->setRange(0, std::max(1L, totalSteps));
  yAxis->setRange(0, 1);
  replot(rpQueuedReplot);
}

void LossPlot::addBatch(long step, double loss) {
  raw_.add(static_cast<double>(step), loss);
  // A NaN batch (which ends the run) must not poison the smoothed curve drawn so far.
  if (!std::isfinite(loss)) return;
  // Debiased EMA: the early steps are not pulled toward the initial 0.
  ema_ = kSmoothing * ema_ + (1 - kSmoothing) * loss;
  betaPow_ *= kSmoothing;
  smoothed_ = ema_ / (1 - betaPow_);
  smooth_.add(static_cast<double>(step), smoothed_);
  if (loss > maxLoss_) {
    maxLoss_ = loss;
    yAxis->setRange(0, maxLoss_ * 1.05);
  }
  if (step > xAxis->range().upper) xAxis->setRangeUpper(static_cast<double>(step));
}

// ---- EpochPlot -------------------------------------------------------------------------

EpochPlot::EpochPlot(QWidget* parent) : QCustomPlot(parent) {
  setUpPlot(this, tr("Per epoch"), tr("epoch"), tr("accuracy (%)"), Qt::AlignBottom | Qt::AlignLeft);
  yAxis2->setVisible(true);
  yAxis2->setLabel(tr("loss (dashed)"));
  const QColor trainColor(255, 127, 14), validationColor(44, 160, 44);
  auto graph = [this](QCPAxis* y, const QString& name, const QColor& color, Qt::PenStyle style,
                      QCPScatterStyle::ScatterShape shape) {
    QCPGraph* g = addGraph(xAxis, y);
    g->setName(name);
    g->setPen(QPen(color, 2, style));
    g->setScatterStyle(QCPScatterStyle(shape, 7));
    return g;
  };
  trainAccuracy_ = graph(yAxis, tr("train accuracy"), trainColor, Qt::SolidLine, QCPScatterStyle::ssCircle);
  validationAccuracy_ = graph(yAxis, tr("validation accuracy"), validationColor, Qt::SolidLine, QCPScatterStyle::ssDisc);
  trainLoss_ = graph(yAxis2, tr("train loss"), trainColor, Qt::DashLine, QCPScatterStyle::ssCircle);
  validationLoss_ = graph(yAxis2, tr("validation loss"), validationColor, Qt::DashLine, QCPScatterStyle::ssDisc);
  auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
  ticker->setTickStep(1);
  ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  xAxis->setTicker(ticker);
  // Accuracy climbs to the top right and loss falls to the bottom right: any corner of
  // the axis rect would hide points, so the legend gets a row of its own under the plot.
  axisRect()->insetLayout()->take(legend);
  axisRect()->insetLayout()->simplify();
  plotLayout()->addElement(plotLayout()->rowCount(), 0, legend);
  plotLayout()->setRowStretchFactor(plotLayout()->rowCount() - 1, 0.001);
  legend->setFillOrder(QCPLegend::foColumnsFirst);
  legend->setWrap(4);
  legend->setBorderPen(Qt::NoPen);
  legend->setMargins(QMargins(4, 0, 4, 2));
  reset(5);
}

void EpochPlot::reset(int epochs) {
  for (QCPGraph* g : {trainAccuracy_, validationAccuracy_, trainLoss_, validationLoss_}) g->data()->clear();
  minAccuracy_ = 100;
  maxLoss_ = 0;
  xAxis->setRange(0.5, std::max(1, epochs) + 0.5);
  yAxis->setRange(0, 100);
  yAxis2->setRange(0, 1);
  replot(rpQueuedReplot);
}

void EpochPlot::addEpoch(const EpochEvent& e) {
  const double x = e.epoch + 1;
  auto add = [this, x](QCPGraph* accuracyGraph, QCPGraph* lossGraph, double accuracy, double loss) {
    accuracyGraph->addData(x, 100 * accuracy);
    minAccuracy_ = std::min(minAccuracy_, 100 * accuracy);
    if (std::isfinite(loss)) {
      lossGraph->addData(x, loss);
      maxLoss_ = std::max(maxLoss_, loss);
    }
  };
  add(trainAccuracy_, trainLoss_, e.accuracy, e.loss);
  if (e.validation) add(validationAccuracy_, validationLoss_, e.validation->accuracy, e.validation->loss);
  // Zoom onto the interesting band, in steps of 10 %, but never above 100 %.
  const double lower = std::clamp(std::floor((minAccuracy_ - 5) / 10) * 10, 0.0, 90.0);
  yAxis->setRange(lower, 100);
  if (maxLoss_ > 0) yAxis2->setRange(0, maxLoss_ * 1.1);
  if (x + 0.5 > xAxis->range().upper) xAxis->setRangeUpper(x + 0.5);
}

}  // namespace qat::ui
