// How long the GUI thread is blocked while a run trains on the worker thread: a 10 ms
// QTimer on the GUI thread records the gap between its ticks while the TrainingPanel is
// shown (offscreen) and drains and replots the live plots at ~30 Hz. A responsive GUI has
// gaps close to 10 ms; a stall shows up as a long gap. Reports the tick count, median,
// 99th percentile and maximum gap.
//
//   bench_ui_stall [model=fashion-cnn] [kind=float|ptq|qat] [samples=3200] [epochs=2] [threads=2]
#include <QApplication>
#include <QElapsedTimer>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/threading.h"
#include "engine/data/idx_reader.h"
#include "ui/project_document.h"
#include "ui/training_panel.h"

using namespace qat;
using namespace qat::ui;

namespace {

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

  std::vector<double> gapsMs;
  QElapsedTimer clock;
  qint64 last = -1;
  QTimer probe;
  probe.setInterval(10);
  QObject::connect(&probe, &QTimer::timeout, &probe, [&] {
    const qint64 now = clock.nsecsElapsed();
    if (doc.isTraining() && last >= 0) gapsMs.push_back(double(now - last) / 1e6);
    last = doc.isTraining() ? now : -1;
  });
  bool ok = false;
  QString message;
  QObject::connect(&doc, &ProjectDocument::trainingFinished, &app, [&](bool success, const QString& m) {
    ok = success;
    message = m;
    app.quit();
  });
  clock.start();
  probe.start();
  if (!doc.startTraining(&error)) {
    std::fprintf(stderr, "%s\n", qPrintable(error));
    return 1;
  }
  app.exec();
  const double seconds = double(clock.nsecsElapsed()) / 1e9;

  std::printf("bench_ui_stall: %s %s run, %zu samples, %d epochs, batch 64, %d engine threads: %s\n",
              model.c_str(), kindName.c_str(), samples, epochs, threads, ok ? "ok" : qPrintable(message));
  std::printf("  run %.2f s; 10 ms probe: %zu gaps (ideal %.0f)\n", seconds, gapsMs.size(), seconds * 100);
  std::printf("  gap median %.1f ms, p99 %.1f ms, max %.1f ms\n", percentile(gapsMs, 0.5), percentile(gapsMs, 0.99),
              gapsMs.empty() ? 0.0 : *std::max_element(gapsMs.begin(), gapsMs.end()));
  return ok ? 0 : 1;
}
