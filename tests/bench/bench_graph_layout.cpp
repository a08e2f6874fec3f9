// Opening and drawing the largest loadable model of ../shared/models/keras (by node count)
// in the graph view, step by step: outlineKerasFile, loadKerasFile, ProjectDocument::
// openKerasModel, the Graphviz dot layout alone (and our fallback layered layout), the
// GraphView build (layout + scene items + fit) and its first paint. Prints the median of
// several repetitions in ms, the time per node, layout against load, and the open-to-
// first-paint total against the 1 s budget of the issue. Offscreen; no shared dir: the
// built-in fashion-cnn instead.
// Run by hand: bench_graph_layout [repetitions]   (default 5)
#include <QApplication>
#include <QElapsedTimer>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <vector>

#include "engine/io/keras_model.h"
#include "engine/io/model_outline.h"
#include "ui/graph_layout.h"
#include "ui/graph_view.h"
#include "ui/project_document.h"

using namespace qat;
using namespace qat::ui;

namespace {

double medianMs(int reps, const std::function<void()>& f) {
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    QElapsedTimer t;
    t.start();
    f();
    ms.push_back(double(t.nsecsElapsed()) / 1e6);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// The loadable shared model with the most nodes; "" when there is none.
std::string largestModel() {
  const std::filesystem::path dir = QAT_SHARED_DIR "/models/keras";
  if (!std::filesystem::exists(dir)) return {};
  std::string best;
  size_t bestNodes = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const auto ext = e.path().extension();
    if (ext != ".h5" && ext != ".hdf5") continue;
    auto outline = outlineKerasFile(e.path().string());
    if (!outline.ok() || !outline->allSupported()) continue;  // weights-only or rejected
    if (outline->nodes.size() > bestNodes) {
      bestNodes = outline->nodes.size();
      best = e.path().string();
    }
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  const std::string path = largestModel();

  double outlineMs = 0, loadMs = 0, openMs = 0;
  ProjectDocument doc;
  if (path.empty()) {
    std::printf("no ../shared/models/keras: timing builtin:fashion-cnn\n");
    openMs = medianMs(reps, [&] { doc.newFromBuiltin(QStringLiteral("fashion-cnn")); });
  } else {
    outlineMs = medianMs(reps, [&] {
      if (!outlineKerasFile(path).ok()) std::abort();
    });
    loadMs = medianMs(reps, [&] {
      if (!loadKerasFile(path).ok()) std::abort();
    });
    openMs = medianMs(reps, [&] {
      QString error;
      if (!doc.openKerasModel(QString::fromStdString(path), {}, &error)) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        std::abort();
      }
    });
  }

  // The layout alone, on the input the view builds (same box size, edges and clusters).
  GraphView probe(&doc);
  LayoutInput input;
  const int nodes = doc.model().size();
  input.nodeSizes.assign(size_t(nodes), probe.graphLayout().sizes.front());
  for (int i = 0; i < nodes; ++i)
    for (int p : doc.model().node(i).inputs) input.edges.push_back({p, i});
  for (GroupItem* g : probe.groupItems()) input.clusters.emplace_back(g->nodes().begin(), g->nodes().end());
  bool usedDot = true;
  const double layoutMs = medianMs(reps, [&] { usedDot = layoutGraph(input).usedGraphviz && usedDot; });
  const double fallbackMs = medianMs(reps, [&] { (void)layeredLayout(input); });

  double viewMs = 0, paintMs = 0;
  std::vector<double> views, paints;
  for (int i = 0; i < reps; ++i) {
    QElapsedTimer t;
    t.start();
    GraphView view(&doc);
    view.resize(1200, 800);
    views.push_back(double(t.nsecsElapsed()) / 1e6);
    t.restart();
    (void)view.grab();  // the first paint of every visible item
    paints.push_back(double(t.nsecsElapsed()) / 1e6);
  }
  std::sort(views.begin(), views.end());
  std::sort(paints.begin(), paints.end());
  viewMs = views[views.size() / 2];
  paintMs = paints[paints.size() / 2];

  std::printf("model: %s (%d nodes, %zu edges, %zu fused groups), median of %d\n",
              path.empty() ? "builtin:fashion-cnn" : std::filesystem::path(path).filename().c_str(), nodes,
              input.edges.size(), input.clusters.size(), reps);
  if (!path.empty()) {
    std::printf("  outlineKerasFile          %8.2f ms\n", outlineMs);
    std::printf("  loadKerasFile             %8.2f ms\n", loadMs);
  }
  std::printf("  document open             %8.2f ms  (load + default config)\n", openMs);
  std::printf("  layout, Graphviz dot      %8.2f ms  (%.3f ms/node%s)\n", layoutMs, layoutMs / nodes,
              usedDot ? "" : ", FELL BACK");
  std::printf("  layout, fallback layered  %8.2f ms\n", fallbackMs);
  std::printf("  GraphView build           %8.2f ms  (layout + %d node items + fit)\n", viewMs, nodes);
  std::printf("  first paint (1200x800)    %8.2f ms\n", paintMs);
  const double total = openMs + viewMs + paintMs;
  std::printf("open to first paint:        %8.2f ms = %.2f of the 1 s budget; layout = %.2fx the file load\n", total,
              total / 1000.0, layoutMs / std::max(1e-9, path.empty() ? openMs : loadMs));
  return total < 1000.0 && usedDot ? 0 : 1;
}
