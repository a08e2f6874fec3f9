#pragma once
// Layered (top-to-bottom) layout of a model DAG for the graph view, as a pure function:
// node sizes + edges + clusters in, node centres + edge Béziers + cluster frames out.
// No widgets, so tests and the benchmark run it on its own.
//
// layoutGraph uses Graphviz' dot (libgvc/libcgraph): each node a fixed-size box, each
// fused group a "cluster" subgraph (dot keeps its members together and frames them), and
// the edge splines read back as cubic Béziers. Coordinates are scene units = Graphviz
// points (1/72 in), with y pointing down (Graphviz' y points up, so it is flipped).
// Graphviz keeps global state (its error handler, plugin tables) and is not thread safe:
// call layoutGraph on the GUI thread only. When dot fails (it can, e.g. on some cluster
// shapes) or its plugin is missing, layeredLayout's simpler result is returned and
// `warning` says why (also logged with qWarning).
#include <QPointF>
#include <QRectF>
#include <QSizeF>
#include <QString>

#include <string>
#include <vector>

namespace qat::ui {

struct LayoutEdge {
  int from = 0;  // producer node id
  int to = 0;    // consumer node id
};

struct LayoutInput {
  std::vector<QSizeF> nodeSizes;            // by node id: the box each node is drawn in
  std::vector<LayoutEdge> edges;            // node ids < nodeSizes.size()
  std::vector<std::vector<int>> clusters;   // disjoint node-id lists kept together
  std::string engine = "dot";               // Graphviz layout engine (tests break it on purpose)
};

struct EdgePath {
  int from = 0, to = 0;
  // Cubic Bézier control points: start, then (control 1, control 2, end) per segment;
  // always 1 + 3k points (k >= 1). The line ends at the arrowhead's base.
  std::vector<QPointF> bezier;
  QPointF arrowTip;  // the arrowhead runs from bezier.back() to here (on the target's border)
};

struct GraphLayout {
  std::vector<QPointF> centres;      // by node id
  std::vector<QSizeF> sizes;         // by node id (as given)
  std::vector<EdgePath> edges;       // in the input's edge order
  std::vector<QRectF> clusterRects;  // in the input's cluster order
  QRectF bounds;                     // everything above, in scene coordinates
  bool usedGraphviz = false;
  QString warning;  // why the fallback was used ("" when Graphviz laid it out)

  QRectF nodeRect(int node) const {
    const QSizeF s = sizes[size_t(node)];
    const QPointF c = centres[size_t(node)];
    return {c.x() - s.width() / 2, c.y() - s.height() / 2, s.width(), s.height()};
  }
};

// Graphviz dot, else layeredLayout with a warning. GUI thread only (see above).
GraphLayout layoutGraph(const LayoutInput& input);

// The fallback, our own: longest-path layers (a node one below its lowest producer), each
// layer a centred row ordered by the mean x of its producers; straight-down Béziers.
// Members of a cluster are not kept together; their frames are their members' bounds.
GraphLayout layeredLayout(const LayoutInput& input);

}  // namespace qat::ui
