#pragma once
// The graph view's scene items and overlays. Items only draw what they are given
// (NodeContent, an EdgePath, a group frame); GraphView fills them from ProjectDocument
// and handles every click, so no item knows the document.
//
// Z order: group frames (-2) < edges (-1) < nodes (0).
#include <QColor>
#include <QFont>
#include <QGraphicsItem>
#include <QPainterPath>
#include <QWidget>

#include <optional>

#include "ui/graph_layout.h"

namespace qat::ui {

// What a node is, for its colour in the State colour mode.
enum class NodeState { Quantized, Float, PassThrough, Unsupported };
QColor stateColour(NodeState state);
QString stateName(NodeState state);  // "quantized", "float", "pass-through", "unsupported"

// Per-layer SQNR colour ramp: red at or below kErrorLowDb, yellow half way, green at or
// above kErrorHighDb, hue interpolated linearly in between. +inf (exact) is green; NaN
// (no value) is noValueColour().
inline constexpr double kErrorLowDb = 10.0;
inline constexpr double kErrorHighDb = 40.0;
QColor errorColour(double sqnrDb);
QColor noValueColour();

// Fonts and spacing shared by all node items; owned by the view, outlives its items.
struct NodeStyle {
  QFont nameFont;    // bold
  QFont detailFont;  // class, parameters, shape, badge
  double padding = 6;
  double tickSize = 13;
  // The one box size every node gets: wide enough for the longest of the given lines
  // within [minWidth, maxWidth] (longer names are elided), three text lines high.
  QSizeF nodeSize(const QStringList& names, const QStringList& details) const;
  static constexpr double kMinWidth = 150, kMaxWidth = 250;
};

struct NodeContent {
  QString name;
  QString className;
  QString shape;    // "(28, 28, 32)", "" when unknown
  QString params;   // "320 params", "" for none
  QString badge;    // ProjectDocument::bitBadge: "W8/A8", "float", "" (nothing drawn)
  QString toolTip;
  NodeState state = NodeState::PassThrough;
  bool ticked = false;    // quantized
  bool tickable = false;  // ProjectDocument::canQuantize
  std::optional<QColor> fill;  // replaces the state colour (error colour mode)
};

class NodeItem : public QGraphicsItem {
 public:
  enum { Type = QGraphicsItem::UserType + 1 };
  NodeItem(int node, QSizeF size, const NodeStyle* style);
  int type() const override { return Type; }
  int node() const { return node_; }

  void setContent(NodeContent content);
  const NodeContent& content() const { return content_; }
  QColor fillColour() const;  // the colour the body is painted with

  QRectF boundingRect() const override;
  void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;
  // In item coordinates. The tick box's hit area is a few pixels larger than its drawing.
  QRectF tickRect() const;
  bool hitsTick(const QPointF& itemPos) const;
  QRectF badgeRect() const;  // empty without a badge

 private:
  void paintDetails(QPainter* painter, const QRectF& r) const;
  QRectF rect() const { return {-size_.width() / 2, -size_.height() / 2, size_.width(), size_.height()}; }

  int node_;
  QSizeF size_;
  const NodeStyle* style_;  // owned by the view
  NodeContent content_;
};

// A model edge: dot's cubic Bézier spline plus an arrowhead at the consumer. Drawn darker
// when either end is selected, so a node's inputs and outputs stand out.
class EdgeItem : public QGraphicsItem {
 public:
  enum { Type = QGraphicsItem::UserType + 3 };
  EdgeItem(const EdgePath& path, const NodeItem* from, const NodeItem* to);
  int type() const override { return Type; }
  int fromNode() const { return from_->node(); }
  int toNode() const { return to_->node(); }
  const QPainterPath& path() const { return path_; }
  QPolygonF arrowHead() const { return arrow_; }

  QRectF boundingRect() const override;
  QPainterPath shape() const override;
  void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

 private:
  QPainterPath path_;
  QPolygonF arrow_;
  const NodeItem* from_;  // scene siblings, deleted with the scene
  const NodeItem* to_;
};

// A fused group (Conv/Dense + BN (+ activation)): a rounded frame behind its members
// with a small pill on its top edge saying how BatchNorm is handled ("BN fold" or
// "BN tfmot"). Not selectable: clicks pass through to the nodes or the rubber band.
class GroupItem : public QGraphicsItem {
 public:
  enum { Type = QGraphicsItem::UserType + 2 };
  GroupItem(QList<int> nodes, const QRectF& frame, const NodeStyle* style);
  int type() const override { return Type; }
  const QList<int>& nodes() const { return nodes_; }
  void setFoldText(const QString& text, const QString& toolTip);
  QString foldText() const { return foldText_; }
  QRectF foldRect() const;  // the pill, in item (= scene) coordinates

  QRectF boundingRect() const override;
  void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

 private:
  QList<int> nodes_;
  QRectF frame_;
  const NodeStyle* style_;
  QString foldText_;
};

// The SQNR legend: title, the continuous ramp from kErrorLowDb to kErrorHighDb with its
// end labels, and the "no value" swatch. A child of the view (not of its viewport, which
// scrolls its children), so it stays in its corner whatever the zoom and scroll.
class ErrorLegend : public QWidget {
  Q_OBJECT
 public:
  explicit ErrorLegend(QWidget* parent = nullptr);
  QSize sizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;
};

}  // namespace qat::ui
