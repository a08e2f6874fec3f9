// The layer graph view, through the real widget (offscreen): the Graphviz layout on its own
// and its fallback; every node, edge and fused group of real models drawn without overlap;
// tick-box clicks, multi-selection (Ctrl-click, rubber band) and Space going through the
// document as single undo steps; unsupported and pass-through layers refusing the tick;
// selection kept equal with the document both ways; search, zoom and pan; the SQNR error
// colouring after a real PTQ run. Real files from ../shared/models/keras skip when absent.
// With QAT_GRAPH_PNG_DIR set, renderPngs writes screenshots there.
#include <QLineEdit>
#include <QPainterPath>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QUndoStack>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>

#include "engine/data/dataset.h"
#include "engine/io/keras_model.h"
#include "engine/layers/dense.h"
#include "engine/layers/prelu.h"
#include "ui/graph_view.h"
#include "ui/project_document.h"

using namespace qat;
using namespace qat::ui;

namespace {

const QString kShared = QStringLiteral(QAT_SHARED_DIR "/models/keras/");

// Rows over the built-in CNN and shared models with a concat fan-in, skip connections
// (Add) and a MobileNet; a single "absent" row when ../shared is missing.
void addModelRows() {
  QTest::addColumn<QString>("source");  // "builtin:<name>" or a file path
  QTest::newRow("fashion-cnn") << QStringLiteral("builtin:fashion-cnn");
  if (!std::filesystem::exists(QAT_SHARED_DIR "/models/keras")) {
    QTest::newRow("absent") << QString();
    return;
  }
  QTest::newRow("squeezenet (Concatenate)") << kShared + QStringLiteral("cataract__squeezenet.h5");
  QTest::newRow("mini_XCEPTION (Add skips)") << kShared + QStringLiteral("face_classification__fer2013_mini_XCEPTION.102-0.66.hdf5");
  QTest::newRow("resnet (Add skips)") << kShared + QStringLiteral("mlcommons_tiny__pretrainedResnet.h5");
  QTest::newRow("mbnet96 (MobileNet)") << kShared + QStringLiteral("tinymaix__mbnet96_0.25.h5");
}

void openSource(ProjectDocument& doc, const QString& source) {
  if (source.isEmpty()) QSKIP("../shared/models/keras is absent");
  QString error;
  const bool ok = source.startsWith(QStringLiteral("builtin:")) ? doc.newFromBuiltin(source.mid(8), 42, &error)
                                                                 : doc.openKerasModel(source, {}, &error);
  QVERIFY2(ok, qPrintable(error));
}

struct Fixture {
  ProjectDocument doc;
  std::unique_ptr<GraphView> view;
  explicit Fixture(const QString& builtin = QStringLiteral("fashion-cnn")) {
    QString error;
    QAT_ASSERT(doc.newFromBuiltin(builtin, 42, &error));
    show();
  }
  void show() {
    view = std::make_unique<GraphView>(&doc);
    view->resize(900, 700);
    view->show();
    QAT_ASSERT(QTest::qWaitForWindowExposed(view.get()));
  }
  NodeItem* item(const char* layer) const { return view->nodeItem(doc.nodeOfLayer(QString::fromUtf8(layer))); }
  QPoint tickPos(NodeItem* n) const {
    view->centerOn(n);
    return view->mapFromScene(n->mapToScene(n->tickRect().center()));
  }
  QPoint bodyPos(NodeItem* n) const {  // right of centre: text, never the tick box
    view->centerOn(n);
    return view->mapFromScene(n->mapToScene(QPointF(n->boundingRect().width() / 4, 0)));
  }
  void clickTick(NodeItem* n, Qt::KeyboardModifiers m = {}) { QTest::mouseClick(view->viewport(), Qt::LeftButton, m, tickPos(n)); }
  void clickBody(NodeItem* n, Qt::KeyboardModifiers m = {}) { QTest::mouseClick(view->viewport(), Qt::LeftButton, m, bodyPos(n)); }
};

QList<int> sorted(QList<int> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::shared_ptr<const Dataset> syntheticImages(int n, uint64_t seed) {
  Dataset d;
  d.x = Tensor(Shape{n, 28, 28, 1});
  Rng rng(seed);
  for (size_t i = 0; i < d.x.size(); ++i) d.x[i] = rng.uniform();
  for (int i = 0; i < n; ++i) d.labels.push_back(i % 10);
  d.numClasses = 10;
  d.source = "synthetic";
  return std::make_shared<const Dataset>(std::move(d));
}

// Non-overlap of node boxes, and edges that start on their producer, end (arrow tip) on
// their consumer and never cross a third node's box.
void checkGeometry(const GraphLayout& l, const std::vector<LayoutEdge>& edges) {
  const int n = int(l.centres.size());
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j)
      QVERIFY2(!l.nodeRect(i).intersects(l.nodeRect(j)), qPrintable(QStringLiteral("nodes %1 and %2 overlap").arg(i).arg(j)));
  QCOMPARE(l.edges.size(), edges.size());
  for (size_t k = 0; k < edges.size(); ++k) {
    const EdgePath& e = l.edges[k];
    QCOMPARE(e.from, edges[k].from);
    QCOMPARE(e.to, edges[k].to);
    QVERIFY(e.bezier.size() >= 4 && (e.bezier.size() - 1) % 3 == 0);
    QVERIFY2(l.nodeRect(e.from).adjusted(-3, -3, 3, 3).contains(e.bezier.front()), qPrintable(QStringLiteral("edge %1 start").arg(k)));
    QVERIFY2(l.nodeRect(e.to).adjusted(-3, -3, 3, 3).contains(e.arrowTip), qPrintable(QStringLiteral("edge %1 tip").arg(k)));
    QPainterPath path(e.bezier[0]);
    for (size_t p = 1; p + 2 < e.bezier.size(); p += 3) path.cubicTo(e.bezier[p], e.bezier[p + 1], e.bezier[p + 2]);
    for (int s = 0; s <= 50; ++s) {
      const QPointF pt = path.pointAtPercent(s / 50.0);
      for (int v = 0; v < n; ++v)
        if (v != e.from && v != e.to)
          QVERIFY2(!l.nodeRect(v).adjusted(2, 2, -2, -2).contains(pt),
                   qPrintable(QStringLiteral("edge %1->%2 crosses node %3").arg(e.from).arg(e.to).arg(v)));
    }
  }
}

}  // namespace

class TestGraphView : public QObject {
  Q_OBJECT
 private slots:
  // A diamond, a skip over two layers and a three-way concat, one cluster.
  void layoutFunction_data() {
    QTest::addColumn<QString>("engine");
    QTest::newRow("graphviz dot") << QStringLiteral("dot");
    QTest::newRow("fallback (unknown engine)") << QStringLiteral("no-such-engine");
  }
  void layoutFunction() {
    QFETCH(QString, engine);
    LayoutInput in;
    in.nodeSizes.assign(9, QSizeF(160, 56));
    in.edges = {{0, 1}, {1, 2}, {1, 3}, {2, 4}, {3, 4}, {1, 5}, {4, 5}, {5, 6}, {5, 7}, {5, 8}, {6, 8}, {7, 8}};
    in.clusters = {{2, 4}};
    in.engine = engine.toStdString();
    const GraphLayout l = layoutGraph(in);
    const bool dot = engine == QStringLiteral("dot");
    QCOMPARE(l.usedGraphviz, dot);
    QCOMPARE(l.warning.isEmpty(), dot);
    if (!dot) QVERIFY(l.warning.contains(QStringLiteral("no-such-engine")));
    if (dot) checkGeometry(l, in.edges);  // the fallback's straight curves may cross nodes
    for (const LayoutEdge& e : in.edges) QVERIFY(l.centres[size_t(e.to)].y() > l.centres[size_t(e.from)].y());  // top to bottom
    for (int v : in.clusters[0]) QVERIFY(l.clusterRects[0].contains(l.nodeRect(v)));
    for (int v = 0; v < 9; ++v) QVERIFY(l.bounds.contains(l.nodeRect(v)));
    // Fan-in reads clearly: the three arrows into the concat (node 8) end at distinct points.
    std::vector<QPointF> tips;
    for (const EdgePath& e : l.edges)
      if (e.to == 8) tips.push_back(e.arrowTip);
    QCOMPARE(tips.size(), size_t(3));
    if (dot)
      for (size_t a = 0; a < 3; ++a)
        for (size_t b = a + 1; b < 3; ++b) QVERIFY(QLineF(tips[a], tips[b]).length() > 4);
  }

  void modelGraph_data() { addModelRows(); }
  void modelGraph() {
    QFETCH(QString, source);
    ProjectDocument doc;
    openSource(doc, source);
    GraphView view(&doc);
    view.resize(900, 700);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    const Model& m = doc.model();
    const GraphLayout& l = view.graphLayout();
    QVERIFY2(l.usedGraphviz, qPrintable(l.warning));
    std::vector<LayoutEdge> edges;
    for (int i = 0; i < m.size(); ++i) {
      NodeItem* item = view.nodeItem(i);
      QVERIFY(item);
      QCOMPARE(item->pos(), l.centres[size_t(i)]);
      QCOMPARE(item->content().name, doc.layerName(i));
      QCOMPARE(item->content().badge, doc.bitBadge(i));
      QCOMPARE(item->content().ticked, doc.isQuantized(i));
      for (int p : m.node(i).inputs) edges.push_back({p, i});
    }
    QVERIFY(!view.nodeItem(m.size()));
    checkGeometry(l, edges);
    QCOMPARE(view.edgeItems().size(), edges.size());
    for (size_t k = 0; k < edges.size(); ++k) {
      QCOMPARE(view.edgeItems()[k]->fromNode(), edges[k].from);
      QCOMPARE(view.edgeItems()[k]->toNode(), edges[k].to);
    }
    // Each fused group framed around its members, with the BN mode on its pill.
    const QList<QList<int>> groups = doc.fusedGroups();
    QCOMPARE(qsizetype(view.groupItems().size()), groups.size());
    for (size_t g = 0; g < view.groupItems().size(); ++g) {
      GroupItem* gi = view.groupItems()[g];
      QCOMPARE(gi->nodes(), groups[qsizetype(g)]);
      for (int v : gi->nodes()) QVERIFY(gi->boundingRect().contains(l.nodeRect(v)));
      QCOMPARE(gi->foldText(), QStringLiteral("BN tfmot"));
    }
    // Fit: everything when it stays legible, else the legible minimum showing the inputs.
    view.fitGraph();
    QVERIFY(view.zoomFactor() >= GraphView::kMinFitZoom - 1e-9 && view.zoomFactor() <= 1.0);
    const QRect visible = view.viewport()->rect().adjusted(-1, -1, 1, 1);
    if (view.zoomFactor() > GraphView::kMinFitZoom + 1e-9)
      QVERIFY(visible.contains(view.mapFromScene(l.bounds).boundingRect()));
    for (int in : m.inputs()) QVERIFY(visible.contains(view.mapFromScene(l.nodeRect(in)).boundingRect()));
    // Fan-in (Concatenate, Add): the arrows into a node end at distinct points.
    for (int i = 0; i < m.size(); ++i) {
      std::vector<QPointF> tips;
      for (const EdgePath& e : l.edges)
        if (e.to == i) tips.push_back(e.arrowTip);
      for (size_t a = 0; a < tips.size(); ++a)
        for (size_t b = a + 1; b < tips.size(); ++b)
          if (m.node(i).inputs[a] != m.node(i).inputs[b]) QVERIFY(QLineF(tips[a], tips[b]).length() > 3);
    }
  }

  void tickBoxClickIsUndoable() {
    Fixture f;
    NodeItem* conv = f.item("conv1");
    QVERIFY(conv->content().tickable && conv->content().ticked);
    const QString badge = conv->content().badge;
    QVERIFY(!badge.isEmpty() && badge != QStringLiteral("float"));
    const QPointF posBefore = conv->pos();
    const int steps = f.doc.undoStack()->index();
    f.clickTick(conv);
    QVERIFY(!f.doc.isQuantized(conv->node()));
    QVERIFY(!conv->content().ticked);
    QCOMPARE(conv->content().badge, f.doc.bitBadge(conv->node()));
    QVERIFY(conv->content().badge != badge);
    QCOMPARE(conv->content().state, NodeState::Float);
    QCOMPARE(f.doc.undoStack()->index(), steps + 1);
    QCOMPARE(f.view->nodeItem(conv->node()), conv);  // repainted, not rebuilt
    QCOMPARE(conv->pos(), posBefore);
    QVERIFY(f.doc.selectedNodes().isEmpty());  // the tick box does not select
    f.doc.undoStack()->undo();
    QVERIFY(f.doc.isQuantized(conv->node()));
    QCOMPARE(conv->content().badge, badge);
    QCOMPARE(conv->content().state, NodeState::Quantized);
  }

  void multiSelectionTicksInOneStep() {
    Fixture f;
    NodeItem* conv = f.item("conv2");
    NodeItem* dense = f.item("dense");
    f.clickBody(conv);
    f.clickBody(dense, Qt::ControlModifier);
    QCOMPARE(sorted(f.doc.selectedNodes()), sorted({conv->node(), dense->node()}));
    const int steps = f.doc.undoStack()->index();
    f.clickTick(dense);
    QVERIFY(!f.doc.isQuantized(conv->node()) && !f.doc.isQuantized(dense->node()));
    QVERIFY(f.doc.isQuantized(f.doc.nodeOfLayer(QStringLiteral("conv1"))));  // not selected: kept
    QCOMPARE(f.doc.undoStack()->index(), steps + 1);
    f.doc.undoStack()->undo();
    QVERIFY(f.doc.isQuantized(conv->node()) && f.doc.isQuantized(dense->node()));
    // Ctrl-click again deselects.
    f.clickBody(conv, Qt::ControlModifier);
    QCOMPARE(f.doc.selectedNodes(), QList<int>{dense->node()});

    // Rubber band over the whole fitted graph, from the empty corner of the viewport.
    f.view->fitGraph();
    const QRect vp = f.view->viewport()->rect();
    QVERIFY(!f.view->itemAt(QPoint(3, 3)));
    QTest::mousePress(f.view->viewport(), Qt::LeftButton, {}, QPoint(3, 3));
    QTest::mouseMove(f.view->viewport(), vp.center());
    QTest::mouseMove(f.view->viewport(), vp.bottomRight() - QPoint(3, 3));
    QTest::mouseRelease(f.view->viewport(), Qt::LeftButton, {}, vp.bottomRight() - QPoint(3, 3));
    QCOMPARE(f.doc.selectedNodes().size(), qsizetype(f.doc.model().size()));
    QList<int> tickable;
    for (int v = 0; v < f.doc.model().size(); ++v)
      if (f.doc.canQuantize(v)) tickable << v;
    QVERIFY(tickable.size() >= 4);
    f.clickTick(f.item("logits"));
    for (int v : tickable) QVERIFY(!f.doc.isQuantized(v));
    QCOMPARE(f.doc.undoStack()->index(), steps + 1);  // the first step was undone
    f.doc.undoStack()->undo();
    for (int v : tickable) QVERIFY(f.doc.isQuantized(v));
  }

  void spaceTogglesSelection() {
    Fixture f;
    NodeItem* dense = f.item("dense");
    f.clickBody(dense);
    f.view->setFocus();
    const int steps = f.doc.undoStack()->index();
    QTest::keyClick(f.view.get(), Qt::Key_Space);
    QVERIFY(!f.doc.isQuantized(dense->node()));
    QTest::keyClick(f.view.get(), Qt::Key_Space);
    QVERIFY(f.doc.isQuantized(dense->node()));
    QCOMPARE(f.doc.undoStack()->index(), steps + 2);
  }

  void untickableLayersRefuse() {
    // A PReLU (unsupported: no integer kernel) in a model saved and reopened as Keras.
    QTemporaryDir dir;
    Model m;
    int x = m.addInput("features", Shape{8});
    x = m.add<Dense>({x}, "fc", DenseOptions{6});
    x = m.add<PReLU>({x}, "prelu");
    x = m.add<Dense>({x}, "out", DenseOptions{3});
    m.setOutputs({x});
    QVERIFY(m.build().ok());
    Rng rng(3);
    m.initialize(rng);
    const QString path = dir.filePath(QStringLiteral("prelu.h5"));
    QVERIFY(saveKerasModel(m, path.toStdString()).ok());
    ProjectDocument doc;
    QString error;
    QVERIFY2(doc.openKerasModel(path, {}, &error), qPrintable(error));
    Fixture f(QStringLiteral("fashion-cnn"));
    GraphView view(&doc);
    view.resize(800, 600);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));

    const int prelu = doc.nodeOfLayer(QStringLiteral("prelu"));
    NodeItem* item = view.nodeItem(prelu);
    QCOMPARE(item->content().state, NodeState::Unsupported);
    QVERIFY(!item->content().tickable);
    QString reason;
    QVERIFY(!doc.canQuantize(prelu, &reason));
    QVERIFY(!reason.isEmpty());
    QVERIFY(item->toolTip().contains(QString::fromStdString(doc.nodeInfo(prelu).reason)));
    const quant::QuantizeConfig before = doc.quantizeConfig();
    const int steps = doc.undoStack()->index();
    QSignalSpy messages(&view, &GraphView::statusMessage);
    view.centerOn(item);
    QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, view.mapFromScene(item->mapToScene(item->tickRect().center())));
    QVERIFY(doc.quantizeConfig() == before);
    QCOMPARE(doc.undoStack()->index(), steps);
    QCOMPARE(messages.count(), 1);
    QVERIFY(messages.front().front().toString().contains(reason));

    // Pass-through (Flatten) and the model input: same refusal, nothing changes.
    for (const char* layer : {"flatten", "input"}) {
      NodeItem* n = f.item(layer);
      QCOMPARE(n->content().state, NodeState::PassThrough);
      const quant::QuantizeConfig cfg = f.doc.quantizeConfig();
      const int steps = f.doc.undoStack()->index();
      f.clickTick(n);
      QVERIFY(f.doc.quantizeConfig() == cfg);
      QCOMPARE(f.doc.undoStack()->index(), steps);
    }
  }

  void selectionFollowsDocument() {
    Fixture f;
    QSignalSpy docSignals(&f.doc, &ProjectDocument::selectionChanged);
    const int a = f.doc.nodeOfLayer(QStringLiteral("conv1")), b = f.doc.nodeOfLayer(QStringLiteral("dense"));
    f.doc.setSelectedNodes({a, b});
    QCOMPARE(docSignals.count(), 1);  // no echo back from the scene
    for (int v = 0; v < f.doc.model().size(); ++v) QCOMPARE(f.view->nodeItem(v)->isSelected(), v == a || v == b);
    f.view->scene()->clearSelection();
    QVERIFY(f.doc.selectedNodes().isEmpty());
    f.view->nodeItem(b)->setSelected(true);
    QCOMPARE(f.doc.selectedNodes(), QList<int>{b});
  }

  void findLayerCentres() {
    Fixture f;
    f.view->resetZoom();
    f.view->zoomIn();
    f.view->zoomIn();
    const int target = f.doc.nodeOfLayer(QStringLiteral("relu2"));
    QVERIFY(f.view->findLayer(QStringLiteral("ELU2")));  // substring, any case
    QCOMPARE(f.doc.selectedNodes(), QList<int>{target});
    const QPoint centre = f.view->mapFromScene(f.view->nodeItem(target)->pos());
    const QPoint expected = f.view->viewport()->rect().center();
    QVERIFY2((centre - expected).manhattanLength() <= 3, qPrintable(QStringLiteral("(%1,%2)").arg(centre.x()).arg(centre.y())));
    QVERIFY(!f.view->findLayer(QStringLiteral("no layer has this")));
    QCOMPARE(f.doc.selectedNodes(), QList<int>{target});
    // Zoomed far out, a match brings the names back to a readable 100 %.
    f.view->fitGraph();
    for (int i = 0; i < 20; ++i) f.view->zoomOut();
    QVERIFY(f.view->zoomFactor() < 0.2);
    QVERIFY(f.view->findLayer(QStringLiteral("pool1")));
    QCOMPARE(f.view->zoomFactor(), 1.0);
    // The overlay: Ctrl+F shows it; typing selects; Enter goes to the next match.
    QTest::keyClick(f.view.get(), Qt::Key_F, Qt::ControlModifier);
    QVERIFY(f.view->searchField()->isVisible());
    QTest::keyClicks(f.view->searchField(), QStringLiteral("conv"));
    QCOMPARE(f.doc.selectedNodes(), QList<int>{f.doc.nodeOfLayer(QStringLiteral("conv1"))});
    QTest::keyClick(f.view->searchField(), Qt::Key_Return);
    QCOMPARE(f.doc.selectedNodes(), QList<int>{f.doc.nodeOfLayer(QStringLiteral("conv2"))});
    QTest::keyClick(f.view->searchField(), Qt::Key_Escape);
    QVERIFY(!f.view->searchField()->isVisible());
  }

  void zoomAndPan() {
    Fixture f;
    f.view->fitGraph();
    const QRect inView = f.view->mapFromScene(f.view->graphLayout().bounds).boundingRect();
    QVERIFY(f.view->viewport()->rect().adjusted(-1, -1, 1, 1).contains(inView));
    f.view->resize(320, 320);  // smaller than the graph at 100 %, so both axes can scroll
    QTest::qWait(10);
    f.view->resetZoom();
    QCOMPARE(f.view->zoomFactor(), 1.0);
    f.view->centerOn(f.item("dense"));
    // The wheel zooms around the cursor: the scene point under it stays there.
    const QPoint cursor(100, 120);
    const QPointF under = f.view->mapToScene(cursor);
    QWheelEvent wheel(cursor, f.view->viewport()->mapToGlobal(cursor), {}, QPoint(0, 120), Qt::NoButton, Qt::NoModifier,
                      Qt::NoScrollPhase, false);
    QApplication::sendEvent(f.view->viewport(), &wheel);
    QCOMPARE(f.view->zoomFactor(), GraphView::kZoomStep);
    QVERIFY((f.view->mapFromScene(under) - cursor).manhattanLength() <= 2);
    f.view->zoomOut();
    QCOMPARE(f.view->zoomFactor(), 1.0);
    // Middle-button drag pans by the drag distance.
    QVERIFY(f.view->verticalScrollBar()->maximum() > 200);
    f.view->verticalScrollBar()->setValue(f.view->verticalScrollBar()->maximum() / 2);
    const int start = f.view->verticalScrollBar()->value();
    QTest::mousePress(f.view->viewport(), Qt::MiddleButton, {}, QPoint(150, 200));
    QTest::mouseMove(f.view->viewport(), QPoint(150, 140));
    QTest::mouseRelease(f.view->viewport(), Qt::MiddleButton, {}, QPoint(150, 140));
    QCOMPARE(f.view->verticalScrollBar()->value(), start + 60);
  }

  void configAndModelSignals() {
    Fixture f;
    NodeItem* conv = f.item("conv1");
    f.doc.setBnMode(quant::BnMode::Fold);
    QVERIFY(!f.view->groupItems().empty());
    for (GroupItem* g : f.view->groupItems()) QCOMPARE(g->foldText(), QStringLiteral("BN fold"));
    QCOMPARE(f.item("conv1"), conv);  // no rebuild for a config change
    QVERIFY(f.doc.newFromBuiltin(QStringLiteral("fashion-mlp")));
    QCOMPARE(f.view->graphLayout().centres.size(), size_t(f.doc.model().size()));
    QCOMPARE(f.view->nodeItem(f.doc.nodeOfLayer(QStringLiteral("flatten")))->content().name, QStringLiteral("flatten"));
    QVERIFY(!f.view->nodeItem(f.doc.model().size()));
  }

  void errorColourRamp() {
    QCOMPARE(errorColour(2.0).hueF(), 0.0f);
    QCOMPARE(errorColour(kErrorLowDb).hueF(), 0.0f);
    QVERIFY(std::abs(errorColour(25.0).hueF() - 60.0f / 360) < 0.01f);
    QVERIFY(std::abs(errorColour(kErrorHighDb).hueF() - 120.0f / 360) < 0.01f);
    QCOMPARE(errorColour(80.0), errorColour(kErrorHighDb));
    QCOMPARE(errorColour(std::numeric_limits<double>::infinity()), errorColour(kErrorHighDb));
    QCOMPARE(errorColour(std::nan("")), noValueColour());
    for (double db = 10; db < 40; db += 2.5) QVERIFY(errorColour(db).hueF() < errorColour(db + 2.5).hueF());
  }

  void errorColouringAfterRun() {
    Fixture f;
    f.doc.setData(syntheticImages(96, 1), syntheticImages(48, 2));
    const QString blocker = f.doc.runBlocker(project::RunKind::PostTraining);
    QVERIFY2(blocker.isEmpty(), qPrintable(blocker));
    QSignalSpy finished(&f.doc, &ProjectDocument::trainingFinished);
    QString error;
    QVERIFY2(f.doc.startRun(project::RunKind::PostTraining, &error), qPrintable(error));
    QVERIFY(finished.wait(120000));
    QVERIFY2(finished.front().front().toBool(), qPrintable(finished.front().at(1).toString()));
    const std::map<int, double> errors = f.doc.activeLayerErrors();
    QVERIFY(!errors.empty());
    QVERIFY(!f.view->legend()->isVisible());
    f.view->setColourMode(GraphView::ColourMode::Error);
    QVERIFY(f.view->legend()->isVisible());
    int coloured = 0;
    for (int v = 0; v < f.doc.model().size(); ++v) {
      const auto it = errors.find(v);
      QCOMPARE(f.view->nodeItem(v)->fillColour(), it != errors.end() ? errorColour(it->second) : noValueColour());
      coloured += it != errors.end();
    }
    QCOMPARE(coloured, int(errors.size()));
    // The legend sits in the viewport's corner and stays there when zooming and scrolling.
    const QPoint legendPos = f.view->legend()->pos();
    QVERIFY(f.view->viewport()->geometry().contains(f.view->legend()->geometry()));
    f.view->zoomIn();
    f.view->verticalScrollBar()->setValue(f.view->verticalScrollBar()->maximum());
    QCOMPARE(f.view->legend()->pos(), legendPos);
    if (const QString dir = qEnvironmentVariable("QAT_GRAPH_PNG_DIR"); !dir.isEmpty()) {
      f.view->fitGraph();
      QVERIFY(f.view->grab().save(dir + QStringLiteral("/fashion-cnn_error.png")));
    }
    f.view->setColourMode(GraphView::ColourMode::State);
    QVERIFY(!f.view->legend()->isVisible());
    QCOMPARE(f.item("flatten")->fillColour(), stateColour(NodeState::PassThrough));
  }

  // Screenshots for people to look at (QAT_GRAPH_PNG_DIR=dir): fit and 100 % of each model.
  void renderPngs_data() { addModelRows(); }
  void renderPngs() {
    QFETCH(QString, source);
    const QString dir = qEnvironmentVariable("QAT_GRAPH_PNG_DIR");
    if (dir.isEmpty()) QSKIP("set QAT_GRAPH_PNG_DIR to write screenshots");
    ProjectDocument doc;
    openSource(doc, source);
    GraphView view(&doc);
    view.resize(1000, 760);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    const QString base = dir + QLatin1Char('/') + QString::fromUtf8(QTest::currentDataTag()).section(QLatin1Char(' '), 0, 0);
    view.fitGraph();
    QVERIFY(view.grab().save(base + QStringLiteral("_fit.png")));
    view.resetZoom();
    view.findLayer(doc.layerName(doc.model().size() / 2));
    QVERIFY(view.grab().save(base + QStringLiteral("_100.png")));
  }
};

QTEST_MAIN(TestGraphView)
#include "test_graph_view.moc"
