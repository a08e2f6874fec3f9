// qat-studio: the desktop studio. Opens a built-in example model, a Keras .h5 or a
// project, with Fashion-MNIST loaded (unless the project names other data), ready to
// quantize and train.
//
//   qat-studio [--model builtin:fashion-mlp | model.h5] [--project p.qatproj]
//              [--preset SELECTION=PRESET ...] [--train-samples N] [--epochs N]
//              [--screenshot out.png [--view graph|training] [--kind float|ptq|qat]
//               [--train-before-screenshot | --mid-run]]
//
// --screenshot renders the main window offscreen to a PNG and exits (the README's
// screenshots). --view picks what is in front; --train-before-screenshot trains first and
// waits for the end; --mid-run grabs while a run is going (live curves), then stops it.
// --preset applies an inspector preset (default8, w4a8, w8a16, float) to the layers a
// selection picks (names, classes, globs, re:<regex>; as qat-cli --layers).
#include <QApplication>
#include <QCommandLineParser>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QEventLoop>
#include <QMessageBox>
#include <QPixmap>
#include <QTimer>

#include <cstdio>
#include <cstring>

#include "engine/quant/scheme.h"
#include "ui/autosave.h"
#include "ui/export_dialog.h"
#include "ui/export_menu.h"
#include "ui/graph_items.h"
#include "ui/graph_view.h"
#include "ui/live_plots.h"
#include "ui/main_window.h"
#include "ui/project_document.h"
#include "ui/training_panel.h"

namespace {

void printError(const QString& message) {
  std::fprintf(stderr, "qat-studio: %s\n", message.toLocal8Bit().constData());
}

// Positive integer option, or -1 when absent; false on a malformed value.
bool intOption(const QCommandLineParser& p, const QString& name, int& out) {
  out = -1;
  if (!p.isSet(name)) return true;
  bool ok = false;
  out = p.value(name).toInt(&ok);
  if (!ok || out < 1) {
    printError(QStringLiteral("--%1 needs a positive whole number, got '%2'").arg(name, p.value(name)));
    return false;
  }
  return true;
}

// --preset SELECTION=PRESET: the inspector's preset on the layers the selection picks.
bool applyPresetOption(qat::ui::ProjectDocument& doc, const QString& option) {
  const qsizetype eq = option.lastIndexOf(QLatin1Char('='));
  if (eq <= 0) {
    printError(QStringLiteral("--preset needs SELECTION=PRESET, got '%1'").arg(option));
    return false;
  }
  const QString presetText = option.mid(eq + 1).toLower();
  std::optional<qat::ui::QuantPreset> preset;
  for (qat::ui::QuantPreset p : qat::ui::kAllPresets) {
    QString name = qat::ui::presetName(p).toLower().remove(QLatin1Char(' ')).remove(QLatin1Char('-'));
    if (name == QLatin1String("default8bit")) name = QStringLiteral("default8");
    if (name == presetText) preset = p;
  }
  if (!preset) {
    printError(QStringLiteral("unknown preset '%1' (default8, w4a8, w8a16, float)").arg(presetText));
    return false;
  }
  auto nodes = qat::quant::selectNodes(doc.model(), qat::quant::parseLayerSelection(option.left(eq).toStdString()));
  if (!nodes.ok()) {
    printError(QString::fromStdString(nodes.error().message));
    return false;
  }
  doc.applyPreset(QList<int>(nodes->begin(), nodes->end()), *preset);
  return true;
}

// Runs the event loop until `done` or the deadline; false on timeout.
template <class Done>
bool waitUntil(Done done, int timeoutMs) {
  QElapsedTimer t;
  t.start();
  while (!done()) {
    if (t.elapsed() > timeoutMs) return false;
    QApplication::processEvents(QEventLoop::AllEvents, 50);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // A screenshot needs no display: pick the offscreen platform before QApplication
  // exists, unless the caller chose one.
  bool screenshotMode = false;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--screenshot") == 0 || std::strncmp(argv[i], "--screenshot=", 13) == 0)
      screenshotMode = true;
  if (screenshotMode && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
    qputenv("QT_QPA_PLATFORM", "offscreen");

  QApplication app(argc, argv);
  QApplication::setOrganizationName(QString::fromUtf8(qat::ui::MainWindow::kOrganization));
  QApplication::setApplicationName(QString::fromUtf8(qat::ui::MainWindow::kApplication));
  QApplication::setApplicationDisplayName(QStringLiteral("QAT Studio"));
  QApplication::setApplicationVersion(QStringLiteral(QAT_VERSION));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("QAT Studio: quantization-aware training of Keras models."));
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addOptions({
      {QStringLiteral("model"), QStringLiteral("Model to open: builtin:fashion-mlp, builtin:fashion-cnn, or a Keras .h5 file."),
       QStringLiteral("source"), QStringLiteral("builtin:fashion-mlp")},
      {QStringLiteral("project"), QStringLiteral("Project to open (.qatproj); overrides --model."), QStringLiteral("file")},
      {QStringLiteral("preset"),
       QStringLiteral("Apply a preset (default8, w4a8, w8a16, float) to the layers SELECTION picks; repeatable."),
       QStringLiteral("SELECTION=PRESET")},
      {QStringLiteral("train-samples"), QStringLiteral("Train on the first N training samples."), QStringLiteral("N")},
      {QStringLiteral("epochs"), QStringLiteral("Number of training epochs."), QStringLiteral("N")},
      {QStringLiteral("kind"), QStringLiteral("Run kind for --train-before-screenshot / --mid-run: float, ptq or qat."),
       QStringLiteral("kind"), QStringLiteral("float")},
      {QStringLiteral("screenshot"), QStringLiteral("Render the main window to a PNG file and exit."),
       QStringLiteral("out.png")},
      {QStringLiteral("view"),
       QStringLiteral("With --screenshot: the view in front: graph, training, compare, or export (exports the active "
                      "run as TFLite int8 next to the screenshot and shows the verification report)."),
       QStringLiteral("view"), QStringLiteral("graph")},
      {QStringLiteral("select"), QStringLiteral("With --screenshot: select these layers (names, classes, globs)."),
       QStringLiteral("SELECTION")},
      {QStringLiteral("train-before-screenshot"),
       QStringLiteral("With --screenshot: run first and wait until the run has finished.")},
      {QStringLiteral("mid-run"), QStringLiteral("With --screenshot: grab while a run is going, then stop it.")},
  });
  parser.process(app);

  int trainSamples = -1, epochs = -1;
  if (!intOption(parser, QStringLiteral("train-samples"), trainSamples) ||
      !intOption(parser, QStringLiteral("epochs"), epochs))
    return 2;
  const QString screenshotPath = parser.value(QStringLiteral("screenshot"));
  const bool trainFirst = parser.isSet(QStringLiteral("train-before-screenshot"));
  const bool midRun = parser.isSet(QStringLiteral("mid-run"));
  const QString view = parser.value(QStringLiteral("view"));
  if ((trainFirst || midRun) && screenshotPath.isEmpty()) {
    printError(QStringLiteral("--train-before-screenshot and --mid-run need --screenshot"));
    return 2;
  }
  const QStringList views{QStringLiteral("graph"), QStringLiteral("training"), QStringLiteral("compare"),
                          QStringLiteral("export")};
  if (!views.contains(view)) {
    printError(QStringLiteral("--view must be graph, training, compare or export, not '%1'").arg(view));
    return 2;
  }
  const auto kind = qat::project::runKindFromName(parser.value(QStringLiteral("kind")).toStdString());
  if (!kind) {
    printError(QStringLiteral("--kind must be float, ptq or qat"));
    return 2;
  }

  qat::ui::ProjectDocument document;
  QString error, warning;
  bool haveData = false;
  if (parser.isSet(QStringLiteral("project"))) {
    if (!document.openProject(parser.value(QStringLiteral("project")), &error, &warning)) {
      printError(error);
      return 2;
    }
    haveData = document.trainData() != nullptr;
    if (!warning.isEmpty()) printError(warning);
  } else {
    const QString source = parser.value(QStringLiteral("model"));
    const QString prefix = QStringLiteral("builtin:");
    const bool opened = source.startsWith(prefix)
                            ? document.newFromBuiltin(source.mid(prefix.size()), document.trainingSettings().seed, &error)
                            : document.openKerasModel(source, {}, &error);
    if (!opened) {
      printError(error);  // names the available models, or the file and layer that failed
      return 2;
    }
  }
  qat::ui::TrainingSettings settings = document.trainingSettings();
  if (epochs > 0) settings.epochs = epochs;
  if (trainSamples > 0) settings.maxTrainSamples = trainSamples;
  settings.kind = *kind;
  document.setTrainingSettings(settings);
  for (const QString& p : parser.values(QStringLiteral("preset")))
    if (!applyPresetOption(document, p)) return 2;
  if (!haveData) haveData = document.loadFashionMnist(&error);
  if (!haveData && (trainFirst || midRun)) {
    printError(error);
    return 1;
  }

  qat::ui::MainWindow window(&document);
  if (screenshotPath.isEmpty()) {
    window.show();
    // Autosave; offers the unsaved work of a session that crashed (which brings its data).
    qat::ui::Autosaver autosaver(&document);
    qat::ui::offerRecoveryOnStart(&autosaver, &window);
    if (!haveData && !document.trainData())
      QMessageBox::critical(&window, QStringLiteral("Fashion-MNIST missing"), error);
    return app.exec();
  }

  // Screenshot: a fixed size (not the user's saved geometry) so the image is reproducible.
  window.resize(1400, 900);
  window.show();
  // Room for what the screenshot is about: the graph, or the training curves.
  if (view == QLatin1String("training") || view == QLatin1String("compare") || view == QLatin1String("export")) {
    QDockWidget* dock = view == QLatin1String("training") ? window.trainingDock() : window.compareDock();
    dock->raise();
    window.resizeDocks({dock}, {560}, Qt::Vertical);
  } else {  // the graph and the inspector; the bottom panels stay one click away (View menu)
    window.trainingDock()->hide();
    window.dataDock()->hide();
    window.resizeDocks({window.inspectorDock()}, {460}, Qt::Horizontal);
  }
  if (parser.isSet(QStringLiteral("select"))) {
    auto nodes = qat::quant::selectNodes(document.model(),
                                         qat::quant::parseLayerSelection(parser.value(QStringLiteral("select")).toStdString()));
    if (!nodes.ok()) {
      printError(QString::fromStdString(nodes.error().message));
      return 2;
    }
    document.setSelectedNodes(QList<int>(nodes->begin(), nodes->end()));
  }
  QApplication::processEvents();
  if (trainFirst || midRun) {
    bool finished = false, ok = false;
    QString message;
    QObject::connect(&document, &qat::ui::ProjectDocument::trainingFinished, &window,
                     [&](bool okIn, const QString& messageIn) {
                       finished = true;
                       ok = okIn;
                       message = messageIn;
                     });
    if (!document.startTraining(&error)) {
      printError(error);
      return 1;
    }
    if (midRun) {
      // Past the first epoch (so the epoch curves have points), then grab and stop.
      waitUntil([&] { return finished || window.trainingPanel()->epochPlot()->graph(0)->dataCount() >= 1; },
                600000);
    } else if (!waitUntil([&] { return finished; }, 3600000)) {
      printError(QStringLiteral("the run did not finish within an hour"));
      return 1;
    }
    if (finished && !ok) {
      printError(message);
      return 1;
    }
  }
  window.trainingPanel()->refreshNow();
  if (view == QLatin1String("export")) {
    // The report dialog of a real export of the active run, grabbed on its own.
    qat::ui::ExportDialog* dialog = window.exportMenu()->exportAs(qat::deploy::ExportFormat::TfliteInt8);
    const QString out = QFileInfo(screenshotPath).absolutePath() + QStringLiteral("/") +
                        QFileInfo(screenshotPath).completeBaseName() + QStringLiteral(".tflite");
    if (!dialog || !dialog->runHeadless(out)) {
      printError(dialog ? dialog->errorText() : QStringLiteral("the export dialog did not open"));
      return 1;
    }
    QApplication::processEvents();
    if (!dialog->grab().save(screenshotPath, "PNG")) {
      printError(QStringLiteral("could not write %1").arg(screenshotPath));
      return 1;
    }
    return 0;
  }
  if (view == QLatin1String("graph")) {
    // A selection is shown at 100 % around its first layer; otherwise the whole graph.
    if (!document.selectedNodes().isEmpty()) {
      window.graphView()->resetZoom();
      window.graphView()->centerOn(window.graphView()->nodeItem(document.selectedNodes().front()));
    } else {
      window.graphView()->fitGraph();
    }
  }
  QApplication::processEvents();
  const QPixmap image = window.grab();
  if (document.isTraining()) {
    document.stopTraining();
    waitUntil([&] { return !document.isTraining(); }, 600000);
  }
  if (!image.save(screenshotPath, "PNG")) {
    printError(QStringLiteral("could not write %1").arg(screenshotPath));
    return 1;
  }
  return 0;
}
