// qat-studio: the desktop studio. Opens a built-in example model (or a Keras .h5) with
// Fashion-MNIST loaded, ready to train.
//
//   qat-studio [--model builtin:fashion-mlp | model.h5] [--train-samples N] [--epochs N]
//              [--screenshot out.png [--train-before-screenshot]]
//
// --screenshot renders the main window offscreen to a PNG and exits (used for the
// README screenshot); with --train-before-screenshot it first trains and waits.
#include <QApplication>
#include <QCommandLineParser>
#include <QEventLoop>
#include <QMessageBox>
#include <QPixmap>

#include <cstdio>
#include <cstring>

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
      {QStringLiteral("train-samples"), QStringLiteral("Train on the first N training samples."),
       QStringLiteral("N")},
      {QStringLiteral("epochs"), QStringLiteral("Number of training epochs."), QStringLiteral("N")},
      {QStringLiteral("screenshot"), QStringLiteral("Render the main window to a PNG file and exit."),
       QStringLiteral("out.png")},
      {QStringLiteral("train-before-screenshot"),
       QStringLiteral("With --screenshot: train first and wait until the run has finished.")},
  });
  parser.process(app);

  int trainSamples = -1, epochs = -1;
  if (!intOption(parser, QStringLiteral("train-samples"), trainSamples) ||
      !intOption(parser, QStringLiteral("epochs"), epochs))
    return 2;
  const QString screenshotPath = parser.value(QStringLiteral("screenshot"));
  const bool trainFirst = parser.isSet(QStringLiteral("train-before-screenshot"));
  if (trainFirst && screenshotPath.isEmpty()) {
    printError(QStringLiteral("--train-before-screenshot needs --screenshot"));
    return 2;
  }

  const QString source = parser.value(QStringLiteral("model"));
  const QString prefix = QStringLiteral("builtin:");

  qat::ui::ProjectDocument document;
  qat::ui::TrainingSettings settings = document.trainingSettings();
  if (epochs > 0) settings.epochs = epochs;
  if (trainSamples > 0) settings.maxTrainSamples = trainSamples;
  document.setTrainingSettings(settings);

  QString error;
  const bool opened = source.startsWith(prefix) ? document.newFromBuiltin(source.mid(prefix.size()), settings.seed, &error)
                                                : document.openKerasModel(source, {}, &error);
  if (!opened) {
    printError(error);  // names the available models, or the file and layer that failed
    return 2;
  }
  const bool haveData = document.loadFashionMnist(&error);
  if (!haveData && !screenshotPath.isEmpty()) {
    printError(error);
    return 1;
  }

  qat::ui::MainWindow window(&document);
  if (screenshotPath.isEmpty()) {
    window.show();
    if (!haveData) QMessageBox::critical(&window, QStringLiteral("Fashion-MNIST missing"), error);
    return app.exec();
  }

  // Screenshot: a fixed size (not the user's saved geometry) so the image is reproducible.
  window.resize(1200, 760);
  window.show();
  QApplication::processEvents();
  if (trainFirst) {
    QEventLoop loop;
    bool ok = false;
    QString message;
    QObject::connect(&document, &qat::ui::ProjectDocument::trainingFinished, &loop,
                     [&](bool okIn, const QString& messageIn) {
                       ok = okIn;
                       message = messageIn;
                       loop.quit();
                     });
    if (!document.startTraining(&error)) {
      printError(error);
      return 1;
    }
    loop.exec();
    if (!ok) {
      printError(message);
      return 1;
    }
    std::fprintf(stderr, "qat-studio: %s\n", message.toLocal8Bit().constData());
  }
  window.trainingPanel()->refreshNow();
  QApplication::processEvents();
  const QPixmap image = window.grab();
  if (!image.save(screenshotPath, "PNG")) {
    printError(QStringLiteral("could not write %1").arg(screenshotPath));
    return 1;
  }
  return 0;
}
