#include "ui/confusion_view.h"

#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QHelpEvent>
#include <QLabel>
#include <QPainter>
#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "ui/project_document.h"

namespace qat::ui {
namespace {

constexpr int kMargin = 4;
constexpr int kMaxLabelWidth = 84;  // longer class names are elided

QColor mix(const QColor& from, const QColor& to, double t) {
  t = std::clamp(t, 0.0, 1.0);
  return QColor::fromRgbF(float(from.redF() + (to.redF() - from.redF()) * t),
                          float(from.greenF() + (to.greenF() - from.greenF()) * t),
                          float(from.blueF() + (to.blueF() - from.blueF()) * t));
}

const QColor kWhite(255, 255, 255);
const QColor kBlue(8, 48, 107);    // counts at the largest value
const QColor kGreen(0, 109, 44);   // the largest improvement
const QColor kRed(165, 15, 21);    // the largest regression

QString signedNumber(long v) {
  return v > 0 ? QStringLiteral("+%1").arg(v) : v < 0 ? QStringLiteral("−%1").arg(-v) : QStringLiteral("0");
}

}  // namespace

// ---- ConfusionMatrixView -------------------------------------------------------------------

ConfusionMatrixView::ConfusionMatrixView(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
  setMouseTracking(true);
  QFont f = font();
  f.setPointSizeF(std::max(7.0, f.pointSizeF() - 1));
  setFont(f);
}

void ConfusionMatrixView::setCounts(const project::ConfusionMatrix& m, const QString& title) {
  mode_ = Mode::Counts;
  classes_ = m.classes;
  values_ = m.counts;
  maxAbs_ = values_.empty() ? 0 : *std::max_element(values_.begin(), values_.end());
  title_ = title;
  message_.clear();
  update();
}

void ConfusionMatrixView::setDifference(const project::ConfusionMatrix& a, const project::ConfusionMatrix& b,
                                        const QString& title) {
  if (a.classes != b.classes || a.classes == 0) {
    clear(tr("The runs' matrices have different class counts (%1 and %2).").arg(a.classes).arg(b.classes));
    return;
  }
  mode_ = Mode::Difference;
  classes_ = a.classes;
  values_.resize(a.counts.size());
  maxAbs_ = 0;
  for (size_t i = 0; i < values_.size(); ++i) {
    values_[i] = b.counts[i] - a.counts[i];
    maxAbs_ = std::max(maxAbs_, std::abs(values_[i]));
  }
  title_ = title;
  message_.clear();
  update();
}

void ConfusionMatrixView::clear(const QString& message) {
  classes_ = 0;
  values_.clear();
  maxAbs_ = 0;
  message_ = message;
  update();
}

void ConfusionMatrixView::setClassNames(const QStringList& names) {
  names_ = names;
  update();
}

QString ConfusionMatrixView::className(int c) const {
  return names_.size() == classes_ ? names_[c] : QString::number(c);
}

ConfusionMatrixView::Geometry ConfusionMatrixView::geometry() const {
  Geometry g;
  if (classes_ <= 0) return g;
  const QFontMetrics fm(font());
  int labelWidth = 0;
  for (int c = 0; c < classes_; ++c) labelWidth = std::max(labelWidth, fm.horizontalAdvance(className(c)));
  labelWidth = std::min(labelWidth, kMaxLabelWidth) + 6;
  // Title, then the rotated column labels; row labels on the left.
  const double top = kMargin + fm.height() + 4 + labelWidth;
  const double left = kMargin + labelWidth;
  g.cell = std::max(1.0, std::min((width() - left - kMargin) / classes_, (height() - top - kMargin) / classes_));
  g.grid = QRectF(left, top, g.cell * classes_, g.cell * classes_);
  return g;
}

bool ConfusionMatrixView::cellAt(QPoint pos, int* trueClass, int* predicted) const {
  const Geometry g = geometry();
  if (classes_ <= 0 || !g.grid.contains(pos)) return false;
  *predicted = std::min(classes_ - 1, int((pos.x() - g.grid.left()) / g.cell));
  *trueClass = std::min(classes_ - 1, int((pos.y() - g.grid.top()) / g.cell));
  return true;
}

QColor ConfusionMatrixView::cellColor(int t, int p) const {
  const long v = value(t, p);
  if (maxAbs_ <= 0 || v == 0) return kWhite;
  if (mode_ == Mode::Counts)  // log scale: off-diagonal counts are tiny next to the diagonal
    return mix(kWhite, kBlue, std::log1p(double(v)) / std::log1p(double(maxAbs_)));
  const bool better = (t == p) == (v > 0);  // more right answers or fewer wrong ones
  // sqrt: a change of one sample next to a change of fifty should still be visible.
  return mix(kWhite, better ? kGreen : kRed, 0.15 + 0.85 * std::sqrt(double(std::abs(v)) / double(maxAbs_)));
}

void ConfusionMatrixView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().base());
  const QFontMetrics fm(font());
  QFont bold = font();
  bold.setBold(true);
  p.setFont(bold);
  p.setPen(palette().text().color());
  p.drawText(QRect(kMargin, kMargin, width() - 2 * kMargin, fm.height() + 2), Qt::AlignLeft | Qt::AlignVCenter,
             QFontMetrics(bold).elidedText(title_, Qt::ElideRight, width() - 2 * kMargin));
  p.setFont(font());
  if (classes_ <= 0) {
    p.setPen(palette().placeholderText().color());
    p.drawText(rect().adjusted(kMargin, fm.height() + 8, -kMargin, -kMargin), Qt::AlignCenter | Qt::TextWordWrap,
               message_);
    return;
  }
  const Geometry g = geometry();
  const QRectF& grid = g.grid;
  for (int c = 0; c < classes_; ++c) {
    const QString name = fm.elidedText(className(c), Qt::ElideRight, kMaxLabelWidth);
    p.setPen(palette().text().color());
    // Row label (true class), right-aligned next to the row.
    p.drawText(QRectF(kMargin, grid.top() + c * g.cell, grid.left() - kMargin - 4, g.cell),
               Qt::AlignRight | Qt::AlignVCenter, name);
    // Column label (predicted class), rotated to read bottom-up above the column.
    p.save();
    p.translate(grid.left() + (c + 0.5) * g.cell, grid.top() - 4);
    p.rotate(-90);
    p.drawText(QRectF(0, -g.cell / 2, grid.top(), g.cell), Qt::AlignLeft | Qt::AlignVCenter, name);
    p.restore();
  }
  // Counts in the cells, in a smaller font when the widest one does not fit; none when
  // even 6 pt does not (the tooltip still gives every value).
  auto cellText = [this](long v) { return mode_ == Mode::Difference ? signedNumber(v) : QString::number(v); };
  const QString widest = cellText(mode_ == Mode::Difference ? -maxAbs_ : maxAbs_);
  QFont cellFont = font();
  while (cellFont.pointSizeF() > 6 && QFontMetricsF(cellFont).horizontalAdvance(widest) > g.cell - 3)
    cellFont.setPointSizeF(cellFont.pointSizeF() - 0.5);
  const QFontMetricsF cfm(cellFont);
  const bool showText = cfm.horizontalAdvance(widest) <= g.cell - 3 && cfm.height() <= g.cell;
  p.setFont(cellFont);
  for (int t = 0; t < classes_; ++t) {
    for (int q = 0; q < classes_; ++q) {
      const QRectF cell(grid.left() + q * g.cell, grid.top() + t * g.cell, g.cell, g.cell);
      const QColor fill = cellColor(t, q);
      p.fillRect(cell, fill);
      const long v = value(t, q);
      if (!showText || (mode_ == Mode::Difference && v == 0)) continue;
      p.setPen(fill.lightnessF() < 0.5 ? QColor(Qt::white) : v == 0 ? QColor(170, 170, 170) : QColor(Qt::black));
      p.drawText(cell, Qt::AlignCenter, cellText(v));
    }
  }
  // Light grid, and the diagonal outlined: it is where the right answers are.
  p.setPen(QPen(QColor(225, 225, 225), 1));
  for (int i = 0; i <= classes_; ++i) {
    p.drawLine(QPointF(grid.left() + i * g.cell, grid.top()), QPointF(grid.left() + i * g.cell, grid.bottom()));
    p.drawLine(QPointF(grid.left(), grid.top() + i * g.cell), QPointF(grid.right(), grid.top() + i * g.cell));
  }
  p.setPen(QPen(QColor(90, 90, 90), 1));
  for (int i = 0; i < classes_; ++i)
    p.drawRect(QRectF(grid.left() + i * g.cell, grid.top() + i * g.cell, g.cell, g.cell));
}

bool ConfusionMatrixView::event(QEvent* e) {
  if (e->type() != QEvent::ToolTip) return QWidget::event(e);
  auto* help = static_cast<QHelpEvent*>(e);
  int t = 0, q = 0;
  if (!cellAt(help->pos(), &t, &q)) {
    QToolTip::hideText();
    e->ignore();
    return true;
  }
  const long v = value(t, q);
  QString text = tr("True %1, predicted %2").arg(className(t), className(q)) + QLatin1Char('\n');
  if (mode_ == Mode::Counts) {
    long row = 0;
    for (int c = 0; c < classes_; ++c) row += value(t, c);
    text += tr("%n sample(s)", nullptr, int(v));
    if (row > 0) text += tr(" (%1 % of the class)").arg(100.0 * double(v) / double(row), 0, 'f', 1);
  } else {
    text += tr("B − A: %1").arg(signedNumber(v));
    if (v != 0) text += (t == q) == (v > 0) ? tr(" (B is better here)") : tr(" (B is worse here)");
  }
  QToolTip::showText(help->globalPos(), text, this);
  return true;
}

// ---- ConfusionComparison -------------------------------------------------------------------

ConfusionComparison::ConfusionComparison(ProjectDocument* document, QWidget* parent)
    : QWidget(parent), document_(document) {
  auto* top = new QHBoxLayout;
  boxA_ = new QComboBox(this);
  boxB_ = new QComboBox(this);
  for (QComboBox* b : {boxA_, boxB_}) {
    b->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    b->setMinimumContentsLength(14);
  }
  boxA_->setToolTip(tr("Run A: the reference (by default the float baseline)"));
  boxB_->setToolTip(tr("Run B: compared against A (by default the active run)"));
  top->addWidget(new QLabel(tr("A:"), this));
  top->addWidget(boxA_);
  top->addSpacing(12);
  top->addWidget(new QLabel(tr("B:"), this));
  top->addWidget(boxB_);
  top->addSpacing(12);
  summary_ = new QLabel(this);
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  top->addWidget(summary_, 1);

  auto* views = new QHBoxLayout;
  viewA_ = new ConfusionMatrixView(this);
  viewB_ = new ConfusionMatrixView(this);
  diff_ = new ConfusionMatrixView(this);
  views->addWidget(viewA_);
  views->addWidget(viewB_);
  views->addWidget(diff_);

  auto* legend = new QLabel(tr("Rows: true class, columns: predicted class (test samples). "
                               "B − A: <span style='color:#006d2c'><b>green</b></span> where B is better "
                               "(more on the diagonal, fewer off it), "
                               "<span style='color:#a50f15'><b>red</b></span> where B is worse."),
                            this);
  legend->setWordWrap(true);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addLayout(views, 1);
  layout->addWidget(legend);

  for (QComboBox* b : {boxA_, boxB_})
    connect(b, &QComboBox::currentIndexChanged, this, [this] {
      if (!filling_) redraw();
    });
  refresh();
}

int ConfusionComparison::runA() const { return boxA_->currentData().toInt(); }
int ConfusionComparison::runB() const { return boxB_->currentData().toInt(); }

void ConfusionComparison::setRuns(int a, int b) {
  filling_ = true;
  boxA_->setCurrentIndex(boxA_->findData(a));
  boxB_->setCurrentIndex(boxB_->findData(b));
  filling_ = false;
  redraw();
}

int ConfusionComparison::defaultA() const {
  const auto& runs = document_->runs();
  // The Evaluate action's baseline first, then any float run, then the oldest run.
  for (const project::Run& r : runs)
    if (r.kind == project::RunKind::Float && r.settings.value("baseline", false)) return r.id;
  for (const project::Run& r : runs)
    if (r.kind == project::RunKind::Float) return r.id;
  return runs.empty() ? 0 : runs.front().id;
}

void ConfusionComparison::fillBox(QComboBox* box, int keep) {
  box->clear();
  for (const project::Run& r : document_->runs()) {
    box->addItem(QString::fromStdString(r.name), r.id);
    if (r.confusion.classes == 0)
      box->setItemData(box->count() - 1, tr("This run has no confusion matrix (no test data)"), Qt::ToolTipRole);
  }
  box->setCurrentIndex(box->findData(keep));
}

void ConfusionComparison::refresh() {
  const int oldA = runA(), oldB = runB();
  filling_ = true;
  const int a = document_->run(oldA) ? oldA : defaultA();
  int b = document_->run(oldB) ? oldB : document_->activeRunId();
  if (b == a || !document_->run(b)) {
    // The newest run that is not A; A itself when it is the only one.
    b = a;
    for (const project::Run& r : document_->runs())
      if (r.id != a) b = r.id;
  }
  fillBox(boxA_, a);
  fillBox(boxB_, b);
  filling_ = false;
  redraw();
}

void ConfusionComparison::followActiveRun(int id) {
  if (id == 0 || id == runA() || !document_->run(id)) return;
  boxB_->setCurrentIndex(boxB_->findData(id));  // redraws through currentIndexChanged
}

void ConfusionComparison::redraw() {
  const project::Run* a = document_->run(runA());
  const project::Run* b = document_->run(runB());
  QStringList names;
  const int classes = a ? a->confusion.classes : b ? b->confusion.classes : 0;
  if (const Dataset* v = document_->validationData(); v && int(v->classNames.size()) == classes)
    for (const std::string& n : v->classNames) names << QString::fromStdString(n);
  for (ConfusionMatrixView* view : {viewA_, viewB_, diff_}) view->setClassNames(names);

  auto show = [this](ConfusionMatrixView* view, const project::Run* r, const QString& label) {
    if (!r)
      view->clear(document_->runs().empty() ? tr("No runs yet.") : tr("Pick a run."));
    else if (r->confusion.classes == 0)
      view->clear(tr("%1 has no confusion matrix: evaluate it with test data loaded.")
                      .arg(QString::fromStdString(r->name)));
    else
      view->setCounts(r->confusion, QStringLiteral("%1 · %2").arg(label, QString::fromStdString(r->name)));
  };
  show(viewA_, a, QStringLiteral("A"));
  show(viewB_, b, QStringLiteral("B"));
  summary_->clear();
  if (!a || !b || a->confusion.classes == 0 || b->confusion.classes == 0) {
    diff_->clear(tr("Pick two runs with confusion matrices."));
    return;
  }
  diff_->setDifference(a->confusion, b->confusion, tr("B − A"));
  if (diff_->classes() == 0) return;
  // What the difference adds up to: right answers gained or lost, and samples that moved.
  long diagonal = 0, moved = 0, totalA = 0, totalB = 0;
  for (int t = 0; t < diff_->classes(); ++t)
    for (int q = 0; q < diff_->classes(); ++q) {
      if (t == q) diagonal += diff_->value(t, q);
      else moved += std::abs(diff_->value(t, q));
      totalA += a->confusion.at(t, q);
      totalB += b->confusion.at(t, q);
    }
  if (totalA != totalB)
    summary_->setText(tr("A and B were evaluated on different sample counts (%1 and %2).").arg(totalA).arg(totalB));
  else
    summary_->setText(tr("B − A: %1 right answers, %2 off-diagonal changes")
                          .arg(signedNumber(diagonal))
                          .arg(moved));
}

}  // namespace qat::ui
