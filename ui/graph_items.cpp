#include "ui/graph_items.h"

#include <QFontMetricsF>
#include <QLinearGradient>
#include <QPainter>
#include <QPainterPathStroker>
#include <QStyleOptionGraphicsItem>

#include <algorithm>
#include <cmath>

namespace qat::ui {

namespace {

const QColor kText(0x1d, 0x1d, 0x1d);
const QColor kDetailText(0x45, 0x45, 0x45);
const QColor kSelection(0x1f, 0x6f, 0xd6);
const QColor kEdge(0x78, 0x78, 0x78);
const QColor kGroupBorder(0x8a, 0xa3, 0xc8);

// Below this zoom the three text lines are unreadable (< ~5 px): draw the box, its
// colour and the name in a font that stays legible on screen instead.
constexpr double kDetailLod = 0.55;
constexpr double kArrowHalfWidth = 4.5;
constexpr double kGroupRadius = 9;

}  // namespace

QColor stateColour(NodeState state) {
  switch (state) {
    case NodeState::Quantized: return {0xd3, 0xe4, 0xfa};
    case NodeState::Float: return {0xfc, 0xec, 0xc8};
    case NodeState::PassThrough: return {0xec, 0xec, 0xec};
    case NodeState::Unsupported: return {0xf5, 0xcc, 0xcc};
  }
  return Qt::white;
}

QString stateName(NodeState state) {
  switch (state) {
    case NodeState::Quantized: return QStringLiteral("quantized");
    case NodeState::Float: return QStringLiteral("float");
    case NodeState::PassThrough: return QStringLiteral("pass-through");
    case NodeState::Unsupported: return QStringLiteral("unsupported");
  }
  return {};
}

QColor errorColour(double sqnrDb) {
  if (std::isnan(sqnrDb)) return noValueColour();
  const double t = std::clamp((sqnrDb - kErrorLowDb) / (kErrorHighDb - kErrorLowDb), 0.0, 1.0);
  // Hue 0 (red) → 60° (yellow) → 120° (green); light enough for dark text on top.
  return QColor::fromHsvF(float(t * 120.0 / 360.0), 0.45f, 0.97f);
}

QColor noValueColour() { return {0xc8, 0xc8, 0xc8}; }

QSizeF NodeStyle::nodeSize(const QStringList& names, const QStringList& details) const {
  const QFontMetricsF nameFm(nameFont), detailFm(detailFont);
  double w = kMinWidth;
  for (const QString& s : names) w = std::max(w, nameFm.horizontalAdvance(s) + tickSize + 5 + 2 * padding);
  for (const QString& s : details) w = std::max(w, detailFm.horizontalAdvance(s) + 2 * padding);
  const double h = 2 * padding + nameFm.height() + 2 * (detailFm.height() + 2);
  return {std::ceil(std::min(w, kMaxWidth)), std::ceil(h)};
}

// ---------------------------------------------------------------- NodeItem

NodeItem::NodeItem(int node, QSizeF size, const NodeStyle* style) : node_(node), size_(size), style_(style) {
  setFlag(ItemIsSelectable);
  setAcceptHoverEvents(false);
}

void NodeItem::setContent(NodeContent content) {
  content_ = std::move(content);
  setToolTip(content_.toolTip);
  update();
}

QColor NodeItem::fillColour() const { return content_.fill ? *content_.fill : stateColour(content_.state); }

QRectF NodeItem::boundingRect() const { return rect().adjusted(-2, -2, 2, 2); }

QRectF NodeItem::tickRect() const {
  const QRectF r = rect();
  const double lineH = QFontMetricsF(style_->nameFont).height();
  return {r.left() + style_->padding, r.top() + style_->padding + (lineH - style_->tickSize) / 2, style_->tickSize,
          style_->tickSize};
}

bool NodeItem::hitsTick(const QPointF& itemPos) const { return tickRect().adjusted(-3, -3, 3, 3).contains(itemPos); }

QRectF NodeItem::badgeRect() const {
  if (content_.badge.isEmpty()) return {};
  const QFontMetricsF fm(style_->detailFont);
  const QRectF r = rect();
  const double w = fm.horizontalAdvance(content_.badge) + 10, h = fm.height() + 2;
  return {r.right() - style_->padding - w, r.bottom() - style_->padding - h, w, h};
}

void NodeItem::paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget*) {
  const QRectF r = rect();
  const QColor fill = fillColour();
  const bool selected = isSelected();
  const double lod = option->levelOfDetailFromTransform(painter->worldTransform());
  painter->setRenderHint(QPainter::Antialiasing);
  QPen border(selected ? kSelection : fill.darker(165), selected ? 2.6 : 1.1);
  if (content_.state == NodeState::PassThrough && !content_.fill) border.setStyle(Qt::DashLine);
  painter->setPen(border);
  painter->setBrush(fill);
  painter->drawRoundedRect(r, 5, 5);

  if (lod < kDetailLod) {
    // Zoomed out: the name alone, in a font about 9 px high on screen, clipped to the box.
    QFont f = style_->nameFont;
    f.setPixelSize(std::max(1, int(std::lround(std::min(9.0 / lod, r.height() * 0.6)))));
    painter->setFont(f);
    painter->setPen(kText);
    const QRectF inner = r.adjusted(3, 0, -3, 0);
    painter->drawText(inner, Qt::AlignCenter, QFontMetricsF(f).elidedText(content_.name, Qt::ElideRight, inner.width()));
    return;
  }
  paintDetails(painter, r);
}

void NodeItem::paintDetails(QPainter* painter, const QRectF& r) const {
  const double pad = style_->padding;
  const QFontMetricsF nameFm(style_->nameFont), detailFm(style_->detailFont);

  // Tick box: blue with a white check when quantized; greyed when the layer cannot be
  // quantized (clicking it explains why instead).
  const QRectF tick = tickRect();
  painter->setPen(QPen(content_.tickable ? QColor(0x50, 0x50, 0x50) : QColor(0xb0, 0xb0, 0xb0), 1));
  painter->setBrush(!content_.tickable ? QColor(0xe4, 0xe4, 0xe4) : content_.ticked ? QColor(0x2f, 0x6f, 0xd0) : Qt::white);
  painter->drawRoundedRect(tick, 2, 2);
  if (content_.ticked) {
    QPainterPath check;
    check.moveTo(tick.left() + tick.width() * 0.2, tick.top() + tick.height() * 0.52);
    check.lineTo(tick.left() + tick.width() * 0.42, tick.top() + tick.height() * 0.75);
    check.lineTo(tick.left() + tick.width() * 0.8, tick.top() + tick.height() * 0.25);
    painter->setPen(QPen(content_.tickable ? Qt::white : QColor(0x90, 0x90, 0x90), 1.8, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    painter->setBrush(Qt::NoBrush);
    painter->drawPath(check);
  }

  const double left = r.left() + pad, width = r.width() - 2 * pad;
  const double nameLeft = tick.right() + 5;
  painter->setFont(style_->nameFont);
  painter->setPen(kText);
  const QRectF nameRect(nameLeft, r.top() + pad, r.right() - pad - nameLeft, nameFm.height());
  painter->drawText(nameRect, Qt::AlignLeft | Qt::AlignVCenter,
                    nameFm.elidedText(content_.name, Qt::ElideRight, nameRect.width()));

  painter->setFont(style_->detailFont);
  painter->setPen(kDetailText);
  const QString line2 = content_.params.isEmpty() ? content_.className
                                                  : content_.className + QStringLiteral(" · ") + content_.params;
  const QRectF line2Rect(left, nameRect.bottom() + 2, width, detailFm.height());
  painter->drawText(line2Rect, Qt::AlignLeft | Qt::AlignVCenter, detailFm.elidedText(line2, Qt::ElideRight, width));

  const QRectF badge = badgeRect();
  const double shapeWidth = badge.isEmpty() ? width : badge.left() - 4 - left;
  const QRectF line3Rect(left, line2Rect.bottom() + 2, shapeWidth, detailFm.height());
  painter->drawText(line3Rect, Qt::AlignLeft | Qt::AlignVCenter, detailFm.elidedText(content_.shape, Qt::ElideRight, shapeWidth));

  if (!badge.isEmpty()) {
    // Bit widths on dark slate; "float" as an outlined pill so it reads as "not quantized".
    const bool isFloat = content_.badge == QStringLiteral("float");
    painter->setPen(QPen(isFloat ? QColor(0x9a, 0x7a, 0x30) : QColor(0x34, 0x49, 0x5e), 1));
    painter->setBrush(isFloat ? QColor(Qt::white) : QColor(0x34, 0x49, 0x5e));
    painter->drawRoundedRect(badge, badge.height() / 2, badge.height() / 2);
    painter->setPen(isFloat ? QColor(0x6a, 0x50, 0x10) : QColor(Qt::white));
    painter->drawText(badge, Qt::AlignCenter, content_.badge);
  }
}

// ---------------------------------------------------------------- EdgeItem

EdgeItem::EdgeItem(const EdgePath& path, const NodeItem* from, const NodeItem* to) : from_(from), to_(to) {
  setAcceptedMouseButtons(Qt::NoButton);
  setZValue(-1);
  const auto& p = path.bezier;
  if (!p.empty()) {
    path_.moveTo(p[0]);
    for (size_t i = 1; i + 2 < p.size(); i += 3) path_.cubicTo(p[i], p[i + 1], p[i + 2]);
  }
  // The arrowhead points from the spline's end to the tip; when they coincide (no room
  // left by the layout), along the last control segment instead.
  const QPointF base = p.empty() ? path.arrowTip : p.back();
  QPointF dir = path.arrowTip - base;
  QPointF arrowBase = base;
  if (std::hypot(dir.x(), dir.y()) < 1e-3 && p.size() >= 2) {
    dir = p.back() - p[p.size() - 2];
    arrowBase = path.arrowTip - dir / std::max(1e-9, std::hypot(dir.x(), dir.y())) * 9.0;
  }
  const double len = std::max(1e-9, std::hypot(dir.x(), dir.y()));
  const QPointF normal(-dir.y() / len * kArrowHalfWidth, dir.x() / len * kArrowHalfWidth);
  arrow_ << path.arrowTip << arrowBase + normal << arrowBase - normal;
}

QRectF EdgeItem::boundingRect() const { return path_.boundingRect().united(arrow_.boundingRect()).adjusted(-3, -3, 3, 3); }

QPainterPath EdgeItem::shape() const {
  QPainterPathStroker stroker;
  stroker.setWidth(6);
  QPainterPath s = stroker.createStroke(path_);
  s.addPolygon(arrow_);
  return s;
}

void EdgeItem::paint(QPainter* painter, const QStyleOptionGraphicsItem*, QWidget*) {
  const bool highlighted = from_->isSelected() || to_->isSelected();
  const QColor colour = highlighted ? kSelection : kEdge;
  painter->setRenderHint(QPainter::Antialiasing);
  painter->setPen(QPen(colour, highlighted ? 2.0 : 1.3));
  painter->setBrush(Qt::NoBrush);
  painter->drawPath(path_);
  painter->setPen(Qt::NoPen);
  painter->setBrush(colour);
  painter->drawPolygon(arrow_);
}

// ---------------------------------------------------------------- GroupItem

GroupItem::GroupItem(QList<int> nodes, const QRectF& frame, const NodeStyle* style)
    : nodes_(std::move(nodes)), frame_(frame), style_(style) {
  setAcceptedMouseButtons(Qt::NoButton);
  setZValue(-2);
}

void GroupItem::setFoldText(const QString& text, const QString& toolTip) {
  prepareGeometryChange();
  foldText_ = text;
  setToolTip(toolTip);
  update();
}

QRectF GroupItem::foldRect() const {
  if (foldText_.isEmpty()) return {};
  const QFontMetricsF fm(style_->detailFont);
  const double w = fm.horizontalAdvance(foldText_) + 12, h = fm.height() + 2;
  return {frame_.right() - 12 - w, frame_.top() - h / 2, w, h};
}

QRectF GroupItem::boundingRect() const { return frame_.united(foldRect()).adjusted(-1, -1, 1, 1); }

void GroupItem::paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget*) {
  painter->setRenderHint(QPainter::Antialiasing);
  painter->setPen(QPen(kGroupBorder, 1.2));
  painter->setBrush(QColor(0x5a, 0x78, 0xaa, 30));
  painter->drawRoundedRect(frame_, kGroupRadius, kGroupRadius);
  const QRectF pill = foldRect();
  // Zoomed out the pill's text would be specks: the frame alone says "fused".
  if (pill.isEmpty() || option->levelOfDetailFromTransform(painter->worldTransform()) < kDetailLod) return;
  painter->setBrush(Qt::white);
  painter->drawRoundedRect(pill, pill.height() / 2, pill.height() / 2);
  painter->setFont(style_->detailFont);
  painter->setPen(QColor(0x2d, 0x4a, 0x75));
  painter->drawText(pill, Qt::AlignCenter, foldText_);
}

// ---------------------------------------------------------------- ErrorLegend

ErrorLegend::ErrorLegend(QWidget* parent) : QWidget(parent) {
  setAttribute(Qt::WA_TransparentForMouseEvents);
  resize(sizeHint());
}

QSize ErrorLegend::sizeHint() const {
  const QFontMetrics fm(font());
  return {std::max(200, fm.horizontalAdvance(tr("Layer error: SQNR (dB)")) + 20), 3 * fm.height() + 34};
}

void ErrorLegend::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  const QFontMetricsF fm(font());
  const QRectF box = QRectF(rect()).adjusted(0.5, 0.5, -0.5, -0.5);
  p.setPen(QColor(0xa0, 0xa0, 0xa0));
  p.setBrush(QColor(255, 255, 255, 235));
  p.drawRoundedRect(box, 5, 5);

  const double pad = 9;
  p.setPen(kText);
  p.drawText(QRectF(pad, pad - 2, box.width() - 2 * pad, fm.height()), Qt::AlignLeft | Qt::AlignVCenter,
             tr("Layer error: SQNR (dB)"));

  // The ramp, sampled from errorColour itself so legend and nodes cannot disagree.
  const QRectF bar(pad, pad + fm.height() + 2, box.width() - 2 * pad, 12);
  QLinearGradient g(bar.topLeft(), bar.topRight());
  for (int i = 0; i <= 12; ++i) {
    const double t = i / 12.0;
    g.setColorAt(t, errorColour(kErrorLowDb + t * (kErrorHighDb - kErrorLowDb)));
  }
  p.setPen(QColor(0x90, 0x90, 0x90));
  p.setBrush(g);
  p.drawRect(bar);

  p.setPen(kDetailText);
  const QRectF labels(bar.left(), bar.bottom() + 1, bar.width(), fm.height());
  p.drawText(labels, Qt::AlignLeft | Qt::AlignVCenter, QStringLiteral("≤ %1").arg(kErrorLowDb));
  p.drawText(labels, Qt::AlignHCenter | Qt::AlignVCenter, QString::number((kErrorLowDb + kErrorHighDb) / 2));
  p.drawText(labels, Qt::AlignRight | Qt::AlignVCenter, QStringLiteral("≥ %1").arg(kErrorHighDb));

  const QRectF swatch(pad, labels.bottom() + 4, 12, 12);
  p.setPen(QColor(0x90, 0x90, 0x90));
  p.setBrush(noValueColour());
  p.drawRect(swatch);
  p.setPen(kDetailText);
  p.drawText(QRectF(swatch.right() + 6, swatch.top() - 2, bar.width(), swatch.height() + 4), Qt::AlignLeft | Qt::AlignVCenter,
             tr("no value for this layer"));
}

}  // namespace qat::ui
