#include "ui/main_window.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QLocale>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QStatusBar>
#include <QUrl>

#include "engine/core/threading.h"
#include "engine/io/keras_model.h"
#include "engine/io/model_outline.h"
#include "engine/models/builtin.h"
#include "ui/project_document.h"
#include "ui/training_panel.h"

namespace qat::ui {
namespace {

// The first local Keras model file among dropped URLs, or "".
QString droppedModelPath(const QMimeData* mime) {
  if (!mime || !mime->hasUrls()) return {};
  for (const QUrl& url : mime->urls()) {
    if (!url.isLocalFile()) continue;
    const QString path = url.toLocalFile();
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("h5") || suffix == QLatin1String("hdf5") || suffix == QLatin1String("keras"))
      return path;
  }
  return {};
}

// The loader stops at the first layer it cannot run; the outline lists all of them.
QString explainOpenFailure(const QString& path, const QString& json, const QString& error) {
  auto outline = outlineKerasFile(path.toStdString(), json.toStdString());
  if (!outline.ok() || outline->problems().size() < 2) return error;
  QString text = error + QObject::tr("\n\nLayers the studio cannot run (%1):").arg(outline->problems().size());
  int listed = 0;
  for (const OutlineNode& n : outline->nodes) {
    if (n.supported) continue;
    if (++listed > 12) {
      text += QStringLiteral("\n…");
      break;
    }
    text += QStringLiteral("\n• %1 (%2)").arg(QString::fromStdString(n.name), QString::fromStdString(n.className));
  }
  return text;
}

}  // namespace

MainWindow::MainWindow(ProjectDocument* document, QWidget* parent)
    : QMainWindow(parent),
      document_(document),
      panel_(new TrainingPanel(document, this)),
      modelLabel_(new QLabel(this)),
      paramsLabel_(new QLabel(this)),
      threadsLabel_(new QLabel(this)) {
  setCentralWidget(panel_);
  setAcceptDrops(true);
  chooseFile_ = [this](const QString& caption, const QString& filter) {
    QSettings settings(QString::fromUtf8(kOrganization), QString::fromUtf8(kApplication));
    const QString path = QFileDialog::getOpenFileName(this, caption, settings.value(QStringLiteral("files/lastDir")).toString(), filter);
    if (!path.isEmpty()) settings.setValue(QStringLiteral("files/lastDir"), QFileInfo(path).absolutePath());
    return path;
  };
  showError_ = [this](const QString& title, const QString& text) { QMessageBox::warning(this, title, text); };
  createMenus();
  statusBar()->addPermanentWidget(modelLabel_);
  statusBar()->addPermanentWidget(paramsLabel_);
  statusBar()->addPermanentWidget(threadsLabel_);

  connect(document_, &ProjectDocument::modelChanged, this, &MainWindow::updateTitleAndStatus);
  connect(document_, &ProjectDocument::modelChanged, this, &MainWindow::updateActions);
  connect(document_, &ProjectDocument::dataChanged, this, &MainWindow::updateActions);
  connect(document_, &ProjectDocument::trainingStarted, this, &MainWindow::updateActions);
  connect(document_, &ProjectDocument::trainingFinished, this, [this](bool ok, const QString& message) {
    updateActions();
    statusBar()->showMessage(ok ? message : tr("Training failed."), 10000);
  });

  const QSettings settings(QString::fromUtf8(kOrganization), QString::fromUtf8(kApplication));
  if (!restoreGeometry(settings.value(QStringLiteral("mainWindow/geometry")).toByteArray()))
    resize(1100, 720);
  restoreState(settings.value(QStringLiteral("mainWindow/state")).toByteArray());

  updateTitleAndStatus();
  updateActions();
}

void MainWindow::createMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  openModelAction_ = file->addAction(tr("&Open Model…"));
  openModelAction_->setShortcut(QKeySequence::Open);
  if (openModelAction_->shortcut().isEmpty()) openModelAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_O));
  openModelAction_->setStatusTip(tr("Open a Keras model (.h5); drag a file onto the window works too"));
  connect(openModelAction_, &QAction::triggered, this, &MainWindow::openModel);
  QMenu* examples = file->addMenu(tr("&New from example"));
  for (const std::string& name : builtinModelNames()) {
    const QString qname = QString::fromStdString(name);
    QAction* a = examples->addAction(qname);
    a->setStatusTip(QString::fromStdString(builtinModelDescription(name)));
    connect(a, &QAction::triggered, this, [this, qname] { newFromExample(qname); });
    exampleActions_.append(a);
  }
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"));
  quit->setShortcut(QKeySequence::Quit);
  quit->setShortcutContext(Qt::ApplicationShortcut);
  if (quit->shortcut().isEmpty()) quit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
  quit->setMenuRole(QAction::QuitRole);
  connect(quit, &QAction::triggered, this, &QWidget::close);

  QMenu* run = menuBar()->addMenu(tr("&Run"));
  trainAction_ = run->addAction(tr("&Train"));
  trainAction_->setShortcut(QKeySequence(Qt::Key_F5));
  connect(trainAction_, &QAction::triggered, panel_, &TrainingPanel::startTraining);
  stopAction_ = run->addAction(tr("&Stop"));
  stopAction_->setShortcut(QKeySequence(Qt::SHIFT | Qt::Key_F5));
  connect(stopAction_, &QAction::triggered, panel_, &TrainingPanel::stopTraining);

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  QAction* about = help->addAction(tr("&About QAT Studio"));
  about->setMenuRole(QAction::AboutRole);
  connect(about, &QAction::triggered, this, &MainWindow::showAbout);
}

void MainWindow::updateTitleAndStatus() {
  const QString name = document_->hasModel() ? document_->modelName() : tr("no model");
  setWindowTitle(tr("%1 — QAT Studio").arg(name));
  modelLabel_->setText(tr("Model: %1").arg(document_->hasModel() ? document_->modelSource() : name));
  modelLabel_->setToolTip(document_->modelWarnings().join(QLatin1Char('\n')));
  paramsLabel_->setText(tr("Parameters: %1").arg(QLocale().toString(document_->parameterCount())));
  threadsLabel_->setText(tr("Engine threads: %1").arg(threadCount()));
}

void MainWindow::updateActions() {
  const bool running = document_->isTraining();
  trainAction_->setEnabled(!running && document_->trainingBlocker().isEmpty());
  stopAction_->setEnabled(running);
  openModelAction_->setEnabled(!running);
  for (QAction* a : exampleActions_) a->setEnabled(!running);
}

void MainWindow::openModel() {
  const QString path = chooseFile_(tr("Open Keras model"), tr("Keras models (*.h5 *.hdf5);;All files (*)"));
  if (!path.isEmpty()) openModelFile(path);
}

bool MainWindow::openModelFile(const QString& path) {
  const QString title = tr("Open Model");
  if (document_->isTraining()) {
    showError_(title, tr("Stop the training run before opening another model."));
    return false;
  }
  const QString fileName = QFileInfo(path).fileName();
  QString json;
  if (kerasFileKind(path.toStdString()) == KerasFileKind::WeightsOnly) {
    // save_weights files hold no architecture: ask for the model.to_json() file.
    json = chooseFile_(tr("Choose the architecture JSON (model.to_json()) for %1").arg(fileName),
                       tr("Keras architecture (*.json);;All files (*)"));
    if (json.isEmpty()) {
      statusBar()->showMessage(tr("%1 holds only weights; not opened without its architecture JSON.").arg(fileName),
                               10000);
      return false;
    }
  }
  QString error;
  QApplication::setOverrideCursor(Qt::WaitCursor);
  const bool ok = document_->openKerasModel(path, json, &error);
  QApplication::restoreOverrideCursor();
  if (!ok) {
    showError_(title, explainOpenFailure(path, json, error));
    return false;
  }
  const QStringList warnings = document_->modelWarnings();
  if (warnings.isEmpty())
    statusBar()->showMessage(tr("Opened %1.").arg(fileName), 10000);
  else  // all of them in the model label's tooltip
    statusBar()->showMessage(tr("Opened %1 with %2 warning(s): %3").arg(fileName).arg(warnings.size()).arg(warnings.first()),
                             30000);
  return true;
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (!droppedModelPath(event->mimeData()).isEmpty() && !document_->isTraining()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  const QString path = droppedModelPath(event->mimeData());
  if (path.isEmpty()) return;
  event->acceptProposedAction();
  // After the drop has finished: opening may show a dialog, which must not block the
  // drag source's event loop.
  QMetaObject::invokeMethod(this, [this, path] { openModelFile(path); }, Qt::QueuedConnection);
}

void MainWindow::newFromExample(const QString& name) {
  QString error;
  if (!document_->newFromBuiltin(name, document_->trainingSettings().seed, &error))
    QMessageBox::warning(this, tr("New from example"), error);
}

void MainWindow::showAbout() {
  QMessageBox::about(
      this, tr("About QAT Studio"),
      tr("<h3>QAT Studio %1</h3>"
         "<p>Quantization-aware training of Keras models: train, quantize per layer, "
         "compare and export integer models.</p>"
         "<p>Engine threads: %2 of %3 hardware threads.</p>"
         "<p>Licensed under the GNU GPL version 3 or later. Plots by QCustomPlot.</p>")
          .arg(QApplication::applicationVersion())
          .arg(threadCount())
          .arg(hardwareThreads()));
}

void MainWindow::closeEvent(QCloseEvent* event) {
  QSettings settings(QString::fromUtf8(kOrganization), QString::fromUtf8(kApplication));
  settings.setValue(QStringLiteral("mainWindow/geometry"), saveGeometry());
  settings.setValue(QStringLiteral("mainWindow/state"), saveState());
  // Closing ends the run: the document's destructor would cancel and join it anyway,
  // but cancelling here lets the worker wind down while the window goes away.
  if (document_->isTraining()) document_->stopTraining();
  QMainWindow::closeEvent(event);
}

}  // namespace qat::ui
