#pragma once
// GraphView: the model's layer DAG, top to bottom, laid out by Graphviz dot (graph_layout.h).
//
// Each node shows name, class, parameter count, output shape, a "quantize" tick box and
// the bit-width badge, coloured by state (quantized / float / pass-through / unsupported)
// or, in the Error colour mode, by the active run's per-layer SQNR with a legend. Fused
// groups (Conv/Dense + BN + activation) are framed together with their BatchNorm mode.
//
// The view only reads the document and calls its methods: a tick-box click is
// document->setQuantized (one undoable step, for the whole selection when the clicked
// node is selected); the scene selection and document->selectedNodes are kept equal in
// both directions (a guard flag stops the echo). modelChanged rebuilds the scene and
// fits it; quantizeConfigChanged repaints the named nodes without a relayout.
//
// Mouse: wheel zooms around the cursor; middle-drag or Space+drag pans; left-drag on the
// background draws a rubber band; Ctrl-click adds to / removes from the selection.
// Keys: Space (pressed and released without panning) toggles the selection's tick boxes;
// Ctrl+F opens the search field overlay (Enter: next match, Esc: close).
#include <QGraphicsView>

#include <map>
#include <vector>

#include "ui/graph_items.h"
#include "ui/graph_layout.h"

class QLineEdit;

namespace qat::ui {

class ProjectDocument;

class GraphView : public QGraphicsView {
  Q_OBJECT
 public:
  enum class ColourMode { State, Error };
  Q_ENUM(ColourMode)

  explicit GraphView(ProjectDocument* document, QWidget* parent = nullptr);
  ~GraphView() override;

  ColourMode colourMode() const { return colourMode_; }
  // Selects the first layer in model order whose name contains `text` (case-insensitive),
  // centres it (zooming to 100 % when the names are too small to read) and returns true;
  // false (selection kept) when no name matches or `text` is empty.
  bool findLayer(const QString& text);

  // For tests and the main window.
  NodeItem* nodeItem(int node) const;  // null when out of range or no model
  const std::vector<EdgeItem*>& edgeItems() const { return edges_; }
  const std::vector<GroupItem*>& groupItems() const { return groups_; }
  const GraphLayout& graphLayout() const { return layout_; }
  double zoomFactor() const { return transform().m11(); }
  QLineEdit* searchField() const { return search_; }
  ErrorLegend* legend() const { return legend_; }
  static constexpr double kMinZoom = 0.05, kMaxZoom = 4.0, kZoomStep = 1.25, kMinFitZoom = 0.4;

 public slots:
  // The whole graph in view, never enlarged beyond 100 %; a graph that would need less
  // than kMinFitZoom (names no longer legible) gets kMinFitZoom and shows its top.
  void fitGraph();
  void zoomIn();
  void zoomOut();
  void resetZoom();  // 100 %, keeping the view's centre
  void setColourMode(ColourMode mode);
  void showSearch();  // shows and focuses the search overlay
  void rebuild();     // re-reads the model and lays it out again (modelChanged does this)

 signals:
  // One-line messages for the status bar: why a layer cannot be ticked, layout fallback.
  void statusMessage(const QString& text);
  void colourModeChanged(ColourMode mode);
  void nodeActivated(int node);  // double click on a node (outside its tick box)

 protected:
  void wheelEvent(QWheelEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void keyReleaseEvent(QKeyEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void focusOutEvent(QFocusEvent* event) override;
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  NodeContent contentOf(int node) const;
  void refreshNodes(const QList<int>& nodes);  // empty: all
  void refreshGroups();
  void refreshErrors();
  void onConfigChanged(const QList<int>& nodes);
  void onSceneSelectionChanged();
  void onDocumentSelectionChanged();
  void clickTick(int node);
  void toggleSelectionTicks();
  QList<int> selectedNodeIds() const;
  NodeItem* nodeAt(const QPoint& viewportPos) const;
  void zoomAt(double factor, const QPointF& viewportPos);
  void placeOverlays();
  bool findFrom(const QString& text, int start);

  ProjectDocument* document_;
  QGraphicsScene* scene_;  // child QObject
  NodeStyle style_;
  GraphLayout layout_;
  std::vector<NodeItem*> nodes_;  // by node id; items owned by scene_
  std::vector<EdgeItem*> edges_;
  std::vector<GroupItem*> groups_;
  std::map<int, double> errors_;  // active run's SQNR (dB) by node
  ColourMode colourMode_ = ColourMode::State;
  ErrorLegend* legend_;  // child widget of the view (not of the viewport: stays put)
  QLineEdit* search_;    // idem
  bool syncingSelection_ = false;
  bool fitPending_ = true;  // refit on resize until the user zooms or pans
  bool spaceHeld_ = false, spacePanned_ = false;
  bool panning_ = false;
  QPoint panLast_;
};

}  // namespace qat::ui
