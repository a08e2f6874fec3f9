// How long the GUI thread is blocked while a run trains on the worker thread: a 10 ms
// QTimer on the GUI thread records the gap between its ticks while the TrainingPanel is
// shown (offscreen) and drains and replots the live plots at ~30 Hz. A responsive GUI has
// gaps close to 10 ms; a stall shows up as a long gap. Reports the tick count, median,
// 99th percentile and maximum gap.
//
// On a loaded machine a gap can also mean the GUI thread was runnable but not scheduled.
// The GUI thread's own CPU time within each gap (CLOCK_THREAD_CPUTIME_ID) separates the
// two: "busy" is the work our code did on the GUI thread (drain, replot, the document's
// handlers), the rest of the gap is waiting for a core.
//
//   bench_ui_stall [model=fashion-cnn] [kind=float|ptq|qat] [samples=3200] [epochs=2] [threads=2]
#include <QApplication>
#include <QElapsedTimer>
#include <QTimer>

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/threading.h"
#include "engine/data/idx_reader.h"
#include "ui/live_plots.h"
#include "ui/project_document.h"
#include "ui/training_panel.h"

using namespace qat;
using namespace qat::ui;

namespace {

double threadCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) * 1e3 + double(t.tv_nsec) / 1e6;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * double(v.size() - 1) + 0.5));
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  const std::string model = argc > 1 ? argv[1] : "fashion-cnn";
  const std::string kindName = argc > 2 ? argv[2] : "float";
  const size_t samples = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 3200;
  const int epochs = argc > 4 ? std::atoi(argv[4]) : 2;
  const int threads = argc > 5 ? std::atoi(argv[5]) : 2;
  const auto kind = project::runKindFromName(kindName);
  if (!kind) {
    std::fprintf(stderr, "unknown run kind '%s' (float, ptq, qat)\n", kindName.c_str());
    return 2;
  }
  setThreadCount(threads);  // the controller hands the GUI thread's count to its worker

  const std::string dir = ProjectDocument::fashionMnistDir().toStdString();
  auto train = loadFashionMnist(dir, true, Normalization::scale01());
  auto test = loadFashionMnist(dir, false, Normalization::scale01());
  if (!train.ok() || !test.ok()) {
    std::fprintf(stderr, "%s\n", (train.ok() ? test.error() : train.error()).message.c_str());
    return 1;
  }
  ProjectDocument doc;
  QString error;
  if (!doc.newFromBuiltin(QString::fromStdString(model), 42, &error)) {
    std::fprintf(stderr, "%s\n", qPrintable(error));
    return 1;
  }
  doc.setData(std::make_shared<const Dataset>(subset(*train, samples)),
              std::make_shared<const Dataset>(subset(*test, 2000)));
  TrainingSettings s = doc.trainingSettings();
  s.kind = *kind;
  s.epochs = epochs;
  s.batchSize = 64;
  s.calibrationBatches = 16;
  doc.setTrainingSettings(s);

  TrainingPanel panel(&doc);
  panel.resize(1200, 760);
  panel.show();

  std::vector<double> gapsMs, busyMs, endS;  // per gap: wall time, GUI-thread CPU time, when it ended
  QElapsedTimer clock;
  qint64 last = -1;
  double lastCpu = 0;
  std::vector<double> epochSeen;
  QTimer probe;
  probe.setInterval(10);
  QObject::connect(&probe, &QTimer::timeout, &probe, [&] {
    const qint64 now = clock.nsecsElapsed();
    const double cpu = threadCpuMs();
    if (doc.isTraining() && last >= 0) {
      gapsMs.push_back(double(now - last) / 1e6);
      busyMs.push_back(cpu - lastCpu);
      endS.push_back(double(now) / 1e9);
    }
    last = doc.isTraining() ? now : -1;
    lastCpu = cpu;
    // When each epoch's point reached the plot: stalls next to these are epoch-end work.
    if (panel.epochPlot()->trainGraph()->dataCount() > int(epochSeen.size())) epochSeen.push_back(double(now) / 1e9);
  });
  bool ok = false;
  QString message;
  QObject::connect(&doc, &ProjectDocument::trainingFinished, &app, [&](bool success, const QString& m) {
    ok = success;
    message = m;
    app.quit();
  });
  // Start once the panel has been laid out and painted: the first paint (fonts, plot
  // layout) is start-up cost, not a stall during training.
  QTimer::singleShot(500, &app, [&] {
    clock.start();
    probe.start();
    if (!doc.startTraining(&error)) {
      std::fprintf(stderr, "%s\n", qPrintable(error));
      app.exit(1);
    }
  });
  if (app.exec() != 0) return 1;
  const double seconds = double(clock.nsecsElapsed()) / 1e9;

  std::printf("bench_ui_stall: %s %s run, %zu samples, %d epochs, batch 64, %d engine threads: %s\n",
              model.c_str(), kindName.c_str(), samples, epochs, threads, ok ? "ok" : qPrintable(message));
  std::printf("  run %.2f s; 10 ms probe: %zu gaps (ideal %.0f)\n", seconds, gapsMs.size(), seconds * 100);
  if (gapsMs.empty()) return ok ? 0 : 1;
  const size_t worst = size_t(std::max_element(gapsMs.begin(), gapsMs.end()) - gapsMs.begin());
  const size_t busiest = size_t(std::max_element(busyMs.begin(), busyMs.end()) - busyMs.begin());
  std::printf("  gap median %.1f ms, p99 %.1f ms, max %.1f ms at %.2f s (GUI thread busy %.1f ms of it)\n",
              percentile(gapsMs, 0.5), percentile(gapsMs, 0.99), gapsMs[worst], endS[worst], busyMs[worst]);
  std::printf("  GUI-thread CPU per gap: median %.2f ms, p99 %.2f ms, max %.2f ms at %.2f s\n", percentile(busyMs, 0.5),
              percentile(busyMs, 0.99), busyMs[busiest], endS[busiest]);
  std::printf("  epoch points plotted at:");
  for (double t : epochSeen) std::printf(" %.2f s", t);
  std::printf("\n");
  return ok ? 0 : 1;
}
