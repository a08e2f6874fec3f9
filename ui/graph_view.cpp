#include "ui/graph_view.h"

#include <QApplication>
#include <QGraphicsScene>
#include <QGraphicsSimpleTextItem>
#include <QKeyEvent>
#include <QLineEdit>
#include <QLocale>
#include <QScopedValueRollback>
#include <QScrollBar>
#include <QSet>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

#include "ui/project_document.h"

namespace qat::ui {

namespace {

constexpr double kSceneMargin = 40;  // room around the graph so edge nodes can be scrolled clear
constexpr double kReadableZoom = 0.55;  // below this node text is not drawn (NodeItem's LOD)

QString paramText(qint64 count) {
  if (count <= 0) return {};
  return QObject::tr("%1 params").arg(QLocale(QLocale::English).toString(count));  // "18,432"
}

qint64 paramCount(const Node& n) {
  qint64 total = 0;
  for (const Param* p : std::as_const(*n.layer).params()) total += qint64(p->value.size());
  return total;
}

}  // namespace

GraphView::GraphView(ProjectDocument* document, QWidget* parent)
    : QGraphicsView(parent), document_(document), scene_(new QGraphicsScene(this)) {
  setScene(scene_);
  setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
  setDragMode(RubberBandDrag);
  setRubberBandSelectionMode(Qt::IntersectsItemShape);
  // Zoom anchoring is done by hand (zoomAt): Qt's AnchorUnderMouse needs a tracked cursor.
  setTransformationAnchor(NoAnchor);
  setResizeAnchor(AnchorViewCenter);
  setFocusPolicy(Qt::StrongFocus);
  setBackgroundBrush(QColor(0xfb, 0xfb, 0xfb));

  style_.nameFont = font();
  style_.nameFont.setBold(true);
  style_.detailFont = font();
  style_.detailFont.setPointSizeF(std::max(6.0, font().pointSizeF() - 1));

  legend_ = new ErrorLegend(this);
  legend_->hide();
  search_ = new QLineEdit(this);
  search_->setPlaceholderText(tr("Find layer…"));
  search_->setClearButtonEnabled(true);
  search_->setFixedWidth(200);
  search_->hide();
  search_->installEventFilter(this);
  connect(search_, &QLineEdit::textEdited, this, [this](const QString& text) {
    if (!text.isEmpty() && !findLayer(text)) emit statusMessage(tr("No layer name contains \"%1\".").arg(text));
  });
  connect(search_, &QLineEdit::returnPressed, this, [this] {
    // Enter: the next match after the selected node, wrapping around.
    const QList<int> sel = selectedNodeIds();
    if (!findFrom(search_->text(), sel.size() == 1 ? sel.front() + 1 : 0))
      emit statusMessage(tr("No layer name contains \"%1\".").arg(search_->text()));
  });

  connect(scene_, &QGraphicsScene::selectionChanged, this, &GraphView::onSceneSelectionChanged);
  connect(document_, &ProjectDocument::modelChanged, this, &GraphView::rebuild);
  connect(document_, &ProjectDocument::quantizeConfigChanged, this, &GraphView::onConfigChanged);
  connect(document_, &ProjectDocument::selectionChanged, this, &GraphView::onDocumentSelectionChanged);
  for (auto signal : {&ProjectDocument::activeRunChanged, &ProjectDocument::runChanged, &ProjectDocument::runAdded,
                      &ProjectDocument::runRemoved})
    connect(document_, signal, this, [this] {
      refreshErrors();
      refreshNodes({});
    });
  connect(document_, &ProjectDocument::evaluationFinished, this, [this] {
    refreshErrors();
    refreshNodes({});
  });
  rebuild();
}

GraphView::~GraphView() {
  // The scene (a child) outlives this class's part of the object and announces the
  // deselection of its dying items: nothing must reach our slots by then.
  scene_->disconnect(this);
}

// ---------------------------------------------------------------- building

void GraphView::rebuild() {
  {
    QScopedValueRollback guard(syncingSelection_, true);  // clearing the scene is no user deselection
    scene_->clear();
  }
  nodes_.clear();
  edges_.clear();
  groups_.clear();
  layout_ = GraphLayout{};
  errors_.clear();
  if (!document_->hasModel()) {
    auto* hint = scene_->addSimpleText(tr("Open a model (File ▸ Open Model) to see its layers here."));
    hint->setBrush(QColor(0x70, 0x70, 0x70));
    setSceneRect(hint->boundingRect().adjusted(-20, -20, 20, 20));
    return;
  }
  refreshErrors();
  const Model& model = document_->model();
  const int n = model.size();

  // One box size for all nodes, from the text they will show.
  std::vector<NodeContent> contents;
  QStringList names, details;
  for (int i = 0; i < n; ++i) {
    contents.push_back(contentOf(i));
    names << contents.back().name;
    details << contents.back().className + QStringLiteral(" · ") + contents.back().params
            << contents.back().shape + QStringLiteral("   W16/A16");
  }
  const QSizeF box = style_.nodeSize(names, details);

  LayoutInput input;
  input.nodeSizes.assign(size_t(n), box);
  for (int i = 0; i < n; ++i)
    for (int p : model.node(i).inputs) input.edges.push_back({p, i});
  // Fused groups become dot clusters; they must be disjoint and hold valid ids.
  QList<QList<int>> groups;
  QSet<int> grouped;
  for (const QList<int>& g : document_->fusedGroups()) {
    const bool valid = g.size() >= 2 && std::all_of(g.begin(), g.end(), [&](int v) { return v >= 0 && v < n && !grouped.contains(v); });
    if (!valid) continue;
    for (int v : g) grouped.insert(v);
    groups << g;
    input.clusters.emplace_back(g.begin(), g.end());
  }
  layout_ = layoutGraph(input);
  if (!layout_.warning.isEmpty()) emit statusMessage(layout_.warning);

  for (int i = 0; i < n; ++i) {
    auto* item = new NodeItem(i, box, &style_);
    item->setPos(layout_.centres[size_t(i)]);
    item->setContent(std::move(contents[size_t(i)]));
    scene_->addItem(item);
    nodes_.push_back(item);
  }
  for (const EdgePath& e : layout_.edges) {
    auto* item = new EdgeItem(e, nodes_[size_t(e.from)], nodes_[size_t(e.to)]);
    scene_->addItem(item);
    edges_.push_back(item);
  }
  for (qsizetype g = 0; g < groups.size(); ++g) {
    auto* item = new GroupItem(groups[g], layout_.clusterRects[size_t(g)], &style_);
    scene_->addItem(item);
    groups_.push_back(item);
  }
  refreshGroups();
  setSceneRect(layout_.bounds.adjusted(-kSceneMargin, -kSceneMargin, kSceneMargin, kSceneMargin));
  onDocumentSelectionChanged();
  fitGraph();
}

NodeContent GraphView::contentOf(int node) const {
  const Node& n = document_->model().node(node);
  NodeContent c;
  c.name = document_->layerName(node);
  c.className = document_->layerClass(node);
  c.shape = n.shape.rank() > 0 ? QString::fromStdString(n.shape.str()) : QString();
  c.params = paramText(paramCount(n));
  c.badge = document_->bitBadge(node);
  QString reason;
  c.tickable = document_->canQuantize(node, &reason);
  c.ticked = document_->isQuantized(node);
  const quant::NodeQuantInfo& info = document_->nodeInfo(node);
  c.state = info.role == quant::QuantRole::Unsupported ? NodeState::Unsupported
            : !c.tickable                              ? NodeState::PassThrough
            : c.ticked                                 ? NodeState::Quantized
                                                       : NodeState::Float;
  const auto err = errors_.find(node);
  if (colourMode_ == ColourMode::Error) c.fill = err != errors_.end() ? errorColour(err->second) : noValueColour();

  QStringList tip;
  tip << QStringLiteral("%1 (%2)").arg(c.name, c.className);
  if (!c.shape.isEmpty()) tip << tr("Output: %1").arg(c.shape);
  if (!c.params.isEmpty()) tip << c.params;
  tip << tr("State: %1").arg(stateName(c.state)) + (c.badge.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(c.badge));
  if (!info.reason.empty()) tip << QString::fromStdString(info.reason);
  else if (!c.tickable && !reason.isEmpty()) tip << reason;
  if (err != errors_.end()) tip << tr("SQNR: %1 dB").arg(err->second, 0, 'f', 1);
  c.toolTip = tip.join(QLatin1Char('\n'));
  return c;
}

void GraphView::refreshNodes(const QList<int>& nodes) {
  if (nodes.isEmpty()) {
    for (NodeItem* item : nodes_) item->setContent(contentOf(item->node()));
    return;
  }
  for (int v : nodes)
    if (NodeItem* item = nodeItem(v)) item->setContent(contentOf(v));
}

void GraphView::refreshGroups() {
  const bool fold = document_->quantizeConfig().bnMode == quant::BnMode::Fold;
  const QString text = fold ? tr("BN fold") : tr("BN tfmot");
  const QString tip = fold ? tr("Fused group. BatchNorm is folded into the weights during QAT (batch-statistics "
                                "correction), and the group is exported as one op.")
                           : tr("Fused group. BatchNorm runs in float during QAT (tfmot) and is folded into the "
                                "weights at export, as one op.");
  for (GroupItem* g : groups_) g->setFoldText(text, tip);
}

void GraphView::refreshErrors() { errors_ = document_->hasModel() ? document_->activeLayerErrors() : std::map<int, double>{}; }

void GraphView::onConfigChanged(const QList<int>& nodes) {
  if (!document_->hasModel()) return;
  refreshNodes(nodes);
  if (nodes.isEmpty()) refreshGroups();  // model-wide settings (BN mode) changed
}

void GraphView::setColourMode(ColourMode mode) {
  if (mode == colourMode_) return;
  colourMode_ = mode;
  legend_->setVisible(mode == ColourMode::Error);
  placeOverlays();
  refreshErrors();
  refreshNodes({});
  emit colourModeChanged(mode);
}

NodeItem* GraphView::nodeItem(int node) const {
  return node >= 0 && size_t(node) < nodes_.size() ? nodes_[size_t(node)] : nullptr;
}

// ---------------------------------------------------------------- selection and ticks

QList<int> GraphView::selectedNodeIds() const {
  QList<int> ids;
  for (NodeItem* item : nodes_)
    if (item->isSelected()) ids << item->node();
  return ids;
}

void GraphView::onSceneSelectionChanged() {
  scene_->update();  // edges of (de)selected nodes change colour
  if (syncingSelection_) return;
  QScopedValueRollback guard(syncingSelection_, true);
  document_->setSelectedNodes(selectedNodeIds());
}

void GraphView::onDocumentSelectionChanged() {
  if (syncingSelection_) return;
  QScopedValueRollback guard(syncingSelection_, true);
  const QList<int> docSelection = document_->selectedNodes();
  const QSet<int> wanted(docSelection.begin(), docSelection.end());
  for (NodeItem* item : nodes_) item->setSelected(wanted.contains(item->node()));
  scene_->update();
}

void GraphView::clickTick(int node) {
  QString reason;
  if (!document_->canQuantize(node, &reason)) {
    const QString message = tr("%1 cannot be quantized: %2").arg(document_->layerName(node), reason);
    QToolTip::showText(QCursor::pos(), message, viewport());
    emit statusMessage(message);
    return;
  }
  // Ticking a selected node ticks the whole selection, as one undo step.
  const QList<int> targets = nodes_[size_t(node)]->isSelected() ? selectedNodeIds() : QList<int>{node};
  document_->setQuantized(targets, !document_->isQuantized(node));
}

void GraphView::toggleSelectionTicks() {
  QList<int> tickable;
  for (int v : selectedNodeIds())
    if (document_->canQuantize(v)) tickable << v;
  if (tickable.isEmpty()) {
    emit statusMessage(tr("None of the selected layers can be quantized."));
    return;
  }
  // Mixed selection: tick all; all ticked: untick all.
  const bool on = std::any_of(tickable.begin(), tickable.end(), [&](int v) { return !document_->isQuantized(v); });
  document_->setQuantized(tickable, on);
}

bool GraphView::findLayer(const QString& text) { return findFrom(text, 0); }

bool GraphView::findFrom(const QString& text, int start) {
  const int n = int(nodes_.size());
  if (text.isEmpty() || n == 0) return false;
  for (int k = 0; k < n; ++k) {
    const int v = (std::max(0, start) + k) % n;
    if (!nodes_[size_t(v)]->content().name.contains(text, Qt::CaseInsensitive)) continue;
    scene_->clearSelection();
    nodes_[size_t(v)]->setSelected(true);
    if (zoomFactor() < kReadableZoom) resetZoom();
    fitPending_ = false;
    centerOn(nodes_[size_t(v)]);
    return true;
  }
  return false;
}

// ---------------------------------------------------------------- zoom and pan

void GraphView::fitGraph() {
  fitPending_ = true;
  if (!document_->hasModel()) return;
  fitInView(layout_.bounds.adjusted(-12, -12, 12, 12), Qt::KeepAspectRatio);
  if (zoomFactor() > 1.0) {  // small graphs stay at 100 %: larger text only looks blurry
    setTransform(QTransform());
    centerOn(layout_.bounds.center());
  } else if (zoomFactor() < kMinFitZoom) {
    // A long model (a MobileNet is ~90 layers deep) fitted whole is a column of specks:
    // stop where the names stay legible and show the top (the inputs); the wheel zooms out.
    setTransform(QTransform::fromScale(kMinFitZoom, kMinFitZoom));
    const double halfHeight = viewport()->height() / (2 * kMinFitZoom);
    centerOn(layout_.bounds.center().x(), layout_.bounds.top() - 12 + halfHeight);
  }
}

void GraphView::zoomAt(double factor, const QPointF& viewportPos) {
  const double target = std::clamp(zoomFactor() * factor, kMinZoom, kMaxZoom);
  if (target == zoomFactor()) return;
  fitPending_ = false;
  const QPointF anchor = mapToScene(viewportPos.toPoint());
  setTransform(QTransform::fromScale(target, target));
  // Scroll so the scene point under the cursor stays under it.
  const QPointF moved = mapFromScene(anchor) - viewportPos;
  horizontalScrollBar()->setValue(horizontalScrollBar()->value() + int(std::lround(moved.x())));
  verticalScrollBar()->setValue(verticalScrollBar()->value() + int(std::lround(moved.y())));
}

void GraphView::zoomIn() { zoomAt(kZoomStep, QRectF(viewport()->rect()).center()); }
void GraphView::zoomOut() { zoomAt(1 / kZoomStep, QRectF(viewport()->rect()).center()); }
void GraphView::resetZoom() { zoomAt(1 / zoomFactor(), QRectF(viewport()->rect()).center()); }

void GraphView::wheelEvent(QWheelEvent* event) {
  const int delta = event->angleDelta().y();
  if (delta == 0) {
    QGraphicsView::wheelEvent(event);  // horizontal wheels scroll
    return;
  }
  zoomAt(std::pow(kZoomStep, delta / 120.0), event->position());
  event->accept();
}

// ---------------------------------------------------------------- mouse and keys

NodeItem* GraphView::nodeAt(const QPoint& viewportPos) const {
  for (QGraphicsItem* item : items(viewportPos))
    if (auto* node = qgraphicsitem_cast<NodeItem*>(item)) return node;
  return nullptr;
}

void GraphView::mousePressEvent(QMouseEvent* event) {
  if (event->button() == Qt::MiddleButton || (event->button() == Qt::LeftButton && spaceHeld_)) {
    panning_ = true;
    spacePanned_ = spaceHeld_;
    fitPending_ = false;
    panLast_ = event->position().toPoint();
    viewport()->setCursor(Qt::ClosedHandCursor);
    event->accept();
    return;
  }
  if (event->button() == Qt::LeftButton) {
    const QPoint pos = event->position().toPoint();
    if (NodeItem* node = nodeAt(pos); node && node->hitsTick(node->mapFromScene(mapToScene(pos)))) {
      clickTick(node->node());  // the tick box never changes the selection
      event->accept();
      return;
    }
  }
  QGraphicsView::mousePressEvent(event);
}

void GraphView::mouseMoveEvent(QMouseEvent* event) {
  if (panning_) {
    const QPoint pos = event->position().toPoint();
    const QPoint d = pos - panLast_;
    panLast_ = pos;
    horizontalScrollBar()->setValue(horizontalScrollBar()->value() - d.x());
    verticalScrollBar()->setValue(verticalScrollBar()->value() - d.y());
    event->accept();
    return;
  }
  QGraphicsView::mouseMoveEvent(event);
}

void GraphView::mouseReleaseEvent(QMouseEvent* event) {
  if (panning_ && (event->button() == Qt::MiddleButton || event->button() == Qt::LeftButton)) {
    panning_ = false;
    viewport()->setCursor(spaceHeld_ ? Qt::OpenHandCursor : Qt::ArrowCursor);
    event->accept();
    return;
  }
  QGraphicsView::mouseReleaseEvent(event);
}

void GraphView::mouseDoubleClickEvent(QMouseEvent* event) {
  const QPoint pos = event->position().toPoint();
  if (NodeItem* node = nodeAt(pos); node && event->button() == Qt::LeftButton) {
    if (node->hitsTick(node->mapFromScene(mapToScene(pos)))) {
      clickTick(node->node());  // a fast second click on the box is a second toggle
    } else {
      emit nodeActivated(node->node());
    }
    event->accept();
    return;
  }
  QGraphicsView::mouseDoubleClickEvent(event);
}

void GraphView::keyPressEvent(QKeyEvent* event) {
  if (event->key() == Qt::Key_Space && event->modifiers() == Qt::NoModifier) {
    // Held Space pans with the left button; a Space without a drag toggles (on release).
    if (!event->isAutoRepeat()) {
      spaceHeld_ = true;
      spacePanned_ = false;
      viewport()->setCursor(Qt::OpenHandCursor);
    }
    event->accept();
    return;
  }
  if (event->matches(QKeySequence::Find)) {
    showSearch();
  } else if (event->matches(QKeySequence::ZoomIn) || (event->key() == Qt::Key_Plus && event->modifiers() == Qt::NoModifier)) {
    zoomIn();
  } else if (event->matches(QKeySequence::ZoomOut) || (event->key() == Qt::Key_Minus && event->modifiers() == Qt::NoModifier)) {
    zoomOut();
  } else if (event->key() == Qt::Key_Escape) {
    scene_->clearSelection();
  } else {
    QGraphicsView::keyPressEvent(event);
    return;
  }
  event->accept();
}

void GraphView::keyReleaseEvent(QKeyEvent* event) {
  if (event->key() == Qt::Key_Space && !event->isAutoRepeat() && spaceHeld_) {
    spaceHeld_ = false;
    viewport()->setCursor(Qt::ArrowCursor);
    if (!spacePanned_ && !panning_) toggleSelectionTicks();
    event->accept();
    return;
  }
  QGraphicsView::keyReleaseEvent(event);
}

void GraphView::focusOutEvent(QFocusEvent* event) {
  spaceHeld_ = false;  // the release may go elsewhere
  viewport()->setCursor(Qt::ArrowCursor);
  QGraphicsView::focusOutEvent(event);
}

// ---------------------------------------------------------------- overlays

void GraphView::showSearch() {
  search_->show();
  placeOverlays();
  search_->setFocus();
  search_->selectAll();
}

bool GraphView::eventFilter(QObject* watched, QEvent* event) {
  if (watched == search_ && event->type() == QEvent::KeyPress && static_cast<QKeyEvent*>(event)->key() == Qt::Key_Escape) {
    search_->hide();
    setFocus();
    return true;
  }
  return QGraphicsView::eventFilter(watched, event);
}

void GraphView::placeOverlays() {
  const QRect vp = viewport()->geometry();  // in the view's coordinates, inside the frame
  search_->move(vp.right() - search_->width() - 8, vp.top() + 8);
  legend_->resize(legend_->sizeHint());
  legend_->move(vp.left() + 8, vp.bottom() - legend_->height() - 8);
  search_->raise();
  legend_->raise();
}

void GraphView::resizeEvent(QResizeEvent* event) {
  QGraphicsView::resizeEvent(event);
  placeOverlays();
  if (fitPending_) fitGraph();
}

}  // namespace qat::ui
