#include "ui/graph_layout.h"

#include <QCoreApplication>
#include <QThread>
#include <QtDebug>

#include <algorithm>
#include <deque>
#include <numeric>

// Graphviz last: its headers define many short macros (ND_*, GD_*, MIN, MAX, ...).
#include <gvc.h>

namespace qat::ui {

namespace {

// Scene units are Graphviz points; node sizes are given to Graphviz in inches.
constexpr double kPointsPerInch = 72.0;
constexpr double kArrowLength = 10.0;  // dot's default arrowhead (arrowsize 1) is 10 pt
constexpr double kClusterMargin = 8.0;  // dot's default cluster margin

// Graphviz' C API takes `char*` for names and values it only reads (it copies them).
char* mut(const char* s) { return const_cast<char*>(s); }

// Collects Graphviz' error messages instead of letting them go to stderr. Graphviz has
// one global handler; we run on the GUI thread only, so a plain pointer is enough.
QString* gvErrorSink = nullptr;
int collectGvError(char* message) {
  if (gvErrorSink) gvErrorSink->append(QString::fromUtf8(message));
  return 0;
}

class GvErrorCapture {
 public:
  explicit GvErrorCapture(QString* sink) : previousLevel_(agseterr(AGERR)) {
    gvErrorSink = sink;
    previousHandler_ = agseterrf(collectGvError);
  }
  ~GvErrorCapture() {
    agseterrf(previousHandler_);
    agseterr(previousLevel_);
    gvErrorSink = nullptr;
  }
  GvErrorCapture(const GvErrorCapture&) = delete;
  GvErrorCapture& operator=(const GvErrorCapture&) = delete;

 private:
  agerrlevel_t previousLevel_;
  agusererrf previousHandler_ = nullptr;
};

QByteArray inches(double points) { return QByteArray::number(points / kPointsPerInch, 'f', 4); }

EdgePath straightEdge(const GraphLayout& l, int from, int to) {
  const QRectF a = l.nodeRect(from), b = l.nodeRect(to);
  const QPointF start(a.center().x(), a.bottom());
  const QPointF tip(b.center().x(), b.top());
  const QPointF base(tip.x(), tip.y() - kArrowLength);
  const double bend = (base.y() - start.y()) / 2;
  return EdgePath{from, to, {start, start + QPointF(0, bend), base - QPointF(0, bend), base}, tip};
}

QRectF clusterFrame(const GraphLayout& l, const std::vector<int>& members) {
  QRectF r;
  for (int n : members) r = r.united(l.nodeRect(n));
  return r.adjusted(-kClusterMargin, -kClusterMargin, kClusterMargin, kClusterMargin);
}

void computeBounds(GraphLayout& l) {
  QRectF b;
  for (size_t n = 0; n < l.centres.size(); ++n) b = b.united(l.nodeRect(int(n)));
  for (const QRectF& c : l.clusterRects) b = b.united(c);
  for (const EdgePath& e : l.edges)
    for (const QPointF& p : e.bezier) b = b.united(QRectF(p, QSizeF(0.01, 0.01)));
  l.bounds = b;
}

// Runs dot; false (with `error`) when Graphviz refuses. Fills `out` on success.
bool graphvizLayout(const LayoutInput& in, GraphLayout& out, QString& error) {
  GvErrorCapture capture(&error);
  GVC_t* gvc = gvContext();
  if (!gvc) {
    error = QStringLiteral("Graphviz could not create a context");
    return false;
  }
  Agraph_t* g = agopen(mut("model"), Agdirected, nullptr);
  agattr(g, AGRAPH, mut("rankdir"), mut("TB"));
  agattr(g, AGRAPH, mut("nodesep"), mut("0.3"));
  agattr(g, AGRAPH, mut("ranksep"), mut("0.45"));
  agattr(g, AGRAPH, mut("splines"), mut("spline"));
  agattr(g, AGNODE, mut("shape"), mut("box"));
  agattr(g, AGNODE, mut("fixedsize"), mut("true"));
  agattr(g, AGNODE, mut("label"), mut(""));
  Agsym_t* widthSym = agattr(g, AGNODE, mut("width"), mut("1"));
  Agsym_t* heightSym = agattr(g, AGNODE, mut("height"), mut("0.5"));

  std::vector<Agnode_t*> nodes(in.nodeSizes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    const QByteArray name = "n" + QByteArray::number(qulonglong(i));
    nodes[i] = agnode(g, mut(name.constData()), 1);
    agxset(nodes[i], widthSym, mut(inches(in.nodeSizes[i].width()).constData()));
    agxset(nodes[i], heightSym, mut(inches(in.nodeSizes[i].height()).constData()));
  }
  std::vector<Agraph_t*> clusters;
  for (size_t c = 0; c < in.clusters.size(); ++c) {
    const QByteArray name = "cluster_" + QByteArray::number(qulonglong(c));
    Agraph_t* sg = agsubg(g, mut(name.constData()), 1);
    for (int n : in.clusters[c]) agsubnode(sg, nodes[size_t(n)], 1);
    clusters.push_back(sg);
  }
  std::vector<Agedge_t*> edges;
  for (const LayoutEdge& e : in.edges) edges.push_back(agedge(g, nodes[size_t(e.from)], nodes[size_t(e.to)], nullptr, 1));

  const bool ok = gvLayout(gvc, g, in.engine.c_str()) == 0;
  if (ok) {
    const boxf bb = GD_bb(g);
    auto map = [&](pointf p) { return QPointF(p.x - bb.LL.x, bb.UR.y - p.y); };
    out.sizes = in.nodeSizes;
    out.centres.resize(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) out.centres[i] = map(ND_coord(nodes[i]));
    for (size_t k = 0; k < edges.size(); ++k) {
      const LayoutEdge& e = in.edges[k];
      const splines* spl = ED_spl(edges[k]);
      if (!spl || spl->size < 1 || spl->list[0].size < 4) {  // dot drew nothing: a plain curve
        out.edges.push_back(straightEdge(out, e.from, e.to));
        continue;
      }
      const bezier& bz = spl->list[0];
      EdgePath path{e.from, e.to, {}, {}};
      for (int p = 0; p < bz.size; ++p) path.bezier.push_back(map(bz.list[p]));
      if (bz.eflag) {
        path.arrowTip = map(bz.ep);
      } else if (bz.sflag) {  // drawn head to tail: turn it around so it ends at the head
        std::reverse(path.bezier.begin(), path.bezier.end());
        path.arrowTip = map(bz.sp);
      } else {
        path.arrowTip = path.bezier.back();
      }
      out.edges.push_back(std::move(path));
    }
    for (Agraph_t* sg : clusters) {
      const boxf cb = GD_bb(sg);
      out.clusterRects.push_back(QRectF(map(pointf{cb.LL.x, cb.UR.y}), map(pointf{cb.UR.x, cb.LL.y})));
    }
    gvFreeLayout(gvc, g);
  } else if (error.trimmed().isEmpty()) {
    error = QStringLiteral("gvLayout(\"%1\") failed").arg(QString::fromStdString(in.engine));
  }
  agclose(g);
  gvFreeContext(gvc);
  return ok;
}

}  // namespace

GraphLayout layoutGraph(const LayoutInput& input) {
  if (QCoreApplication* app = QCoreApplication::instance())
    Q_ASSERT_X(QThread::currentThread() == app->thread(), "layoutGraph", "Graphviz is not thread safe: GUI thread only");
  if (input.nodeSizes.empty()) return GraphLayout{};
  GraphLayout out;
  QString error;
  if (graphvizLayout(input, out, error)) {
    out.usedGraphviz = true;
    computeBounds(out);
    return out;
  }
  GraphLayout fallback = layeredLayout(input);
  fallback.warning = QStringLiteral("Graphviz layout failed (%1); using a simple layered layout").arg(error.trimmed());
  qWarning().noquote() << fallback.warning;
  return fallback;
}

GraphLayout layeredLayout(const LayoutInput& input) {
  constexpr double kRowGap = 40.0, kColumnGap = 24.0;
  const size_t n = input.nodeSizes.size();
  GraphLayout out;
  out.sizes = input.nodeSizes;
  out.centres.assign(n, QPointF());

  // Longest-path layering in topological order (Kahn), robust to any node numbering.
  std::vector<std::vector<int>> producers(n), consumers(n);
  std::vector<int> pending(n, 0), rank(n, 0);
  for (const LayoutEdge& e : input.edges) {
    producers[size_t(e.to)].push_back(e.from);
    consumers[size_t(e.from)].push_back(e.to);
    ++pending[size_t(e.to)];
  }
  std::deque<int> ready;
  for (size_t i = 0; i < n; ++i)
    if (pending[i] == 0) ready.push_back(int(i));
  int maxRank = 0;
  while (!ready.empty()) {
    const int v = ready.front();
    ready.pop_front();
    for (int c : consumers[size_t(v)]) {
      rank[size_t(c)] = std::max(rank[size_t(c)], rank[size_t(v)] + 1);
      maxRank = std::max(maxRank, rank[size_t(c)]);
      if (--pending[size_t(c)] == 0) ready.push_back(c);
    }
  }

  std::vector<std::vector<int>> rows(size_t(maxRank) + 1);
  for (size_t i = 0; i < n; ++i) rows[size_t(rank[i])].push_back(int(i));
  double y = 0;
  for (auto& row : rows) {
    // Order by the mean x of the producers (placed in earlier rows) to limit crossings.
    std::vector<double> key(n, 0.0);
    for (int v : row) {
      const auto& ps = producers[size_t(v)];
      key[size_t(v)] = ps.empty() ? double(v)
                                  : std::accumulate(ps.begin(), ps.end(), 0.0,
                                                    [&](double s, int p) { return s + out.centres[size_t(p)].x(); }) /
                                        double(ps.size());
    }
    std::stable_sort(row.begin(), row.end(), [&](int a, int b) { return key[size_t(a)] < key[size_t(b)]; });
    double width = 0, height = 0;
    for (int v : row) {
      width += input.nodeSizes[size_t(v)].width();
      height = std::max(height, input.nodeSizes[size_t(v)].height());
    }
    width += kColumnGap * double(row.size() > 0 ? row.size() - 1 : 0);
    double x = -width / 2;
    for (int v : row) {
      const QSizeF s = input.nodeSizes[size_t(v)];
      out.centres[size_t(v)] = QPointF(x + s.width() / 2, y + height / 2);
      x += s.width() + kColumnGap;
    }
    y += height + kRowGap;
  }
  for (const LayoutEdge& e : input.edges) out.edges.push_back(straightEdge(out, e.from, e.to));
  for (const auto& members : input.clusters) out.clusterRects.push_back(clusterFrame(out, members));
  computeBounds(out);

  // Move the top-left corner to (0, 0) like the Graphviz result.
  const QPointF shift = -out.bounds.topLeft();
  for (QPointF& c : out.centres) c += shift;
  for (EdgePath& e : out.edges) {
    for (QPointF& p : e.bezier) p += shift;
    e.arrowTip += shift;
  }
  for (QRectF& r : out.clusterRects) r.translate(shift);
  out.bounds.translate(shift);
  return out;
}

}  // namespace qat::ui
