// Crash-test helper for test_autosave: a studio session (document + Autosaver, no window)
// that opens a saved project, makes a change and then autosaves back to back until the
// test kills it in the middle of a write.
//
//   autosave_child <project.qatproj> <recovery dir>
//
// stdout, flushed line by line: "autosaved <n>" once the n-th recovery file is complete.
// The n-th file holds uiState["autosave_child_write"] = n, so the test can tell which
// write a recovered file came from. Exits by itself after a minute so a broken test never
// leaves it running.
#include <QCoreApplication>
#include <QTimer>

#include <cstdio>

#include "ui/autosave.h"
#include "ui/project_document.h"

using namespace qat::ui;

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  const QStringList args = QCoreApplication::arguments();
  if (args.size() != 3) {
    std::fprintf(stderr, "usage: autosave_child <project.qatproj> <recovery dir>\n");
    return 2;
  }
  ProjectDocument document;
  QString error;
  if (!document.openProject(args[1], &error)) {
    std::fprintf(stderr, "autosave_child: %s\n", qPrintable(error));
    return 2;
  }
  // The unsaved work the test expects to recover: a renamed run and a layer in float.
  if (document.runs().empty() || !document.renameRun(document.runs().front().id, QStringLiteral("renamed in the crashed session"))) {
    std::fprintf(stderr, "autosave_child: the project has no run to rename\n");
    return 2;
  }
  document.applyPreset({document.nodeOfLayer(QStringLiteral("conv1"))}, QuantPreset::Float);

  Autosaver autosaver(&document, nullptr, args[2]);
  autosaver.setIntervalMs(0);  // writes are driven below, one right after the other
  int write = 1;
  auto stamp = [&] {
    nlohmann::json state = document.uiState();
    state["autosave_child_write"] = write;
    document.setUiState(state);
  };
  QObject::connect(&autosaver, &Autosaver::autosaved, &app, [&](bool ok, const QString& message) {
    if (!ok) {
      std::fprintf(stderr, "autosave_child: %s\n", qPrintable(message));
      QCoreApplication::exit(1);
      return;
    }
    std::printf("autosaved %d\n", write);
    std::fflush(stdout);
    ++write;
    stamp();
    autosaver.autosaveNow();
  });
  stamp();
  if (!autosaver.autosaveNow()) {
    std::fprintf(stderr, "autosave_child: the document is not modified\n");
    return 2;
  }
  QTimer::singleShot(60000, &app, [] { QCoreApplication::exit(3); });
  return QCoreApplication::exec();
}
