#include "ui/main_window.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenuBar>
#include <QMimeData>
#include <QSettings>
#include <QStatusBar>
#include <QTableWidget>
#include <QToolBar>
#include <QUndoStack>
#include <QUrl>
#include <QVBoxLayout>

#include "engine/core/threading.h"
#include "engine/io/keras_model.h"
#include "engine/io/model_outline.h"
#include "engine/models/builtin.h"
#include "engine/quant/scheme.h"
#include "ui/compare_panel.h"
#include "ui/data_panel.h"
#include "ui/export_menu.h"
#include "ui/graph_view.h"
#include "ui/layer_inspector.h"
#include "ui/project_document.h"
#include "ui/training_panel.h"

namespace qat::ui {
namespace {

constexpr int kMaxRecent = 10;
const QString kRecentKey = QStringLiteral("files/recent");
const QString kLastDirKey = QStringLiteral("files/lastDir");

bool isModelFile(const QString& path) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  return suffix == QLatin1String("h5") || suffix == QLatin1String("hdf5") || suffix == QLatin1String("keras");
}
bool isProjectPath(const QString& path) { return path.endsWith(QLatin1String(project::kProjectExtension)); }

// The first local model or project file among dropped URLs, or "".
QString droppedPath(const QMimeData* mime) {
  if (!mime || !mime->hasUrls()) return {};
  for (const QUrl& url : mime->urls())
    if (url.isLocalFile() && (isModelFile(url.toLocalFile()) || isProjectPath(url.toLocalFile())))
      return url.toLocalFile();
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

QString humanBytes(qint64 bytes) { return QLocale().formattedDataSize(bytes, 1, QLocale::DataSizeSIFormat); }

QSettings appSettings() {
  return QSettings(QString::fromUtf8(MainWindow::kOrganization), QString::fromUtf8(MainWindow::kApplication));
}

}  // namespace

MainWindow::MainWindow(ProjectDocument* document, QWidget* parent)
    : QMainWindow(parent),
      document_(document),
      graph_(new GraphView(document, this)),
      modelLabel_(new QLabel(this)),
      paramsLabel_(new QLabel(this)),
      sizeLabel_(new QLabel(this)),
      threadsLabel_(new QLabel(this)) {
  setObjectName(QStringLiteral("MainWindow"));
  setCentralWidget(graph_);
  setAcceptDrops(true);
  setDockNestingEnabled(true);
  chooseFile_ = [this](const QString& caption, const QString& filter) {
    QSettings settings = appSettings();
    const QString path = QFileDialog::getOpenFileName(this, caption, settings.value(kLastDirKey).toString(), filter);
    if (!path.isEmpty()) settings.setValue(kLastDirKey, QFileInfo(path).absolutePath());
    return path;
  };
  chooseSaveFile_ = [this](const QString& caption, const QString& filter) {
    QSettings settings = appSettings();
    const QString path = QFileDialog::getSaveFileName(this, caption, settings.value(kLastDirKey).toString(), filter);
    if (!path.isEmpty()) settings.setValue(kLastDirKey, QFileInfo(path).absolutePath());
    return path;
  };
  showError_ = [this](const QString& title, const QString& text) { QMessageBox::warning(this, title, text); };
  askSave_ = [this](const QString& text) {
    return QMessageBox::question(this, tr("Unsaved changes"), text,
                                 QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
  };
  createDocks();
  createMenus();
  createToolBar();
  statusBar()->addPermanentWidget(modelLabel_);
  statusBar()->addPermanentWidget(paramsLabel_);
  statusBar()->addPermanentWidget(sizeLabel_);
  statusBar()->addPermanentWidget(threadsLabel_);

  connect(graph_, &GraphView::statusMessage, this, [this](const QString& m) { statusBar()->showMessage(m, 8000); });
  for (auto signal : {&ProjectDocument::modelChanged, &ProjectDocument::dataChanged,
                      &ProjectDocument::trainingStarted, &ProjectDocument::selectionChanged})
    connect(document_, signal, this, &MainWindow::updateActions);
  connect(document_, &ProjectDocument::modelChanged, this, &MainWindow::updateTitleAndStatus);
  connect(document_, &ProjectDocument::quantizeConfigChanged, this, [this] {
    updateTitleAndStatus();
    updateActions();
  });
  connect(document_, &ProjectDocument::modifiedChanged, this, &MainWindow::updateTitleAndStatus);
  connect(document_, &ProjectDocument::projectPathChanged, this, &MainWindow::updateTitleAndStatus);
  connect(document_, &ProjectDocument::trainingFinished, this, [this](bool ok, const QString& message) {
    updateActions();
    statusBar()->showMessage(ok ? message : tr("Run failed: %1").arg(message), 10000);
  });
  connect(document_, &ProjectDocument::evaluationFinished, this, [this](bool ok, const QString& message) {
    updateActions();
    statusBar()->showMessage(ok ? message : tr("Evaluation failed: %1").arg(message), 10000);
    // The per-layer errors are what an evaluation is for: show them.
    if (ok && !document_->activeLayerErrors().empty()) errorColourAction_->setChecked(true);
  });

  const QSettings settings = appSettings();
  if (!restoreGeometry(settings.value(QStringLiteral("mainWindow/geometry")).toByteArray())) resize(1280, 800);
  restoreState(settings.value(QStringLiteral("mainWindow/state")).toByteArray());

  updateTitleAndStatus();
  updateActions();
}

void MainWindow::createDocks() {
  auto dock = [this](const QString& title, const QString& name, QWidget* w, Qt::DockWidgetArea area) {
    auto* d = new QDockWidget(title, this);
    d->setObjectName(name);  // saveState() needs names
    d->setWidget(w);
    addDockWidget(area, d);
    return d;
  };
  inspector_ = new LayerInspector(document_, this);
  dataPanel_ = new DataPanel(document_, this);
  panel_ = new TrainingPanel(document_, this);
  compare_ = new ComparePanel(document_, this);
  inspectorDock_ = dock(tr("Layer inspector"), QStringLiteral("inspectorDock"), inspector_, Qt::RightDockWidgetArea);
  dataDock_ = dock(tr("Data"), QStringLiteral("dataDock"), dataPanel_, Qt::BottomDockWidgetArea);
  trainingDock_ = dock(tr("Training"), QStringLiteral("trainingDock"), panel_, Qt::BottomDockWidgetArea);
  compareDock_ = dock(tr("Compare runs"), QStringLiteral("compareDock"), compare_, Qt::BottomDockWidgetArea);
  tabifyDockWidget(dataDock_, trainingDock_);
  tabifyDockWidget(trainingDock_, compareDock_);
  trainingDock_->raise();
  // A finished run or evaluation is what the compare view is for.
  connect(document_, &ProjectDocument::runAdded, this, [this] {
    if (!document_->isTraining()) compareDock_->raise();
  });
}

void MainWindow::createMenus() {
  createFileMenu();
  createEditMenu();
  createViewMenu();
  createRunMenu();
  QMenu* help = menuBar()->addMenu(tr("&Help"));
  QAction* keys = help->addAction(tr("&Keyboard Shortcuts"), this, &MainWindow::showShortcuts);
  keys->setShortcut(QKeySequence(Qt::Key_F1));
  QAction* about = help->addAction(tr("&About QAT Studio"), this, &MainWindow::showAbout);
  about->setMenuRole(QAction::AboutRole);
}

void MainWindow::createFileMenu() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QMenu* examples = file->addMenu(tr("&New from example"));
  for (const std::string& name : builtinModelNames()) {
    const QString qname = QString::fromStdString(name);
    QAction* a = examples->addAction(qname);
    a->setStatusTip(QString::fromStdString(builtinModelDescription(name)));
    connect(a, &QAction::triggered, this, [this, qname] { newFromExample(qname); });
    exampleActions_.append(a);
  }
  openModelAction_ = file->addAction(tr("&Open Model…"), this, &MainWindow::openModel);
  openModelAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_O));
  openModelAction_->setStatusTip(tr("Open a Keras model (.h5); dropping a file on the window works too"));
  openProjectAction_ = file->addAction(tr("Open &Project…"), this, &MainWindow::openProject);
  openProjectAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
  recentMenu_ = file->addMenu(tr("&Recent"));
  rebuildRecentMenu();
  file->addSeparator();
  saveAction_ = file->addAction(tr("&Save Project"), this, [this] { saveProject(); });
  saveAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_S));
  saveAsAction_ = file->addAction(tr("Save Project &As…"), this, [this] { saveProjectAs(); });
  saveAsAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
  file->addSeparator();
  exportMenu_ = new ExportMenu(document_, this);
  file->addMenu(exportMenu_->menu());
  connect(compare_, &ComparePanel::exportRequested, exportMenu_, &ExportMenu::exportRun);
  exportMenu_->action(deploy::ExportFormat::TfliteInt8)->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
  quit->setShortcutContext(Qt::ApplicationShortcut);
  quit->setMenuRole(QAction::QuitRole);
}

void MainWindow::createEditMenu() {
  QMenu* edit = menuBar()->addMenu(tr("&Edit"));
  undoAction_ = document_->undoStack()->createUndoAction(this, tr("&Undo"));
  undoAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Z));
  redoAction_ = document_->undoStack()->createRedoAction(this, tr("&Redo"));
  redoAction_->setShortcuts({QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence(Qt::CTRL | Qt::Key_Y)});
  edit->addAction(undoAction_);
  edit->addAction(redoAction_);
  edit->addSeparator();
  QAction* all = edit->addAction(tr("Select &All Layers"), this, [this] {
    QList<int> nodes;
    for (int n = 0; n < document_->model().size(); ++n)
      if (document_->nodeInfo(n).role != quant::QuantRole::Input) nodes << n;
    document_->setSelectedNodes(nodes);
  });
  all->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_A));
  selectTypeAction_ = edit->addAction(tr("Select All of &Type…"), this, [this] {
    bool ok = false;
    const QString cls = QInputDialog::getItem(this, tr("Select all of type"), tr("Layer class:"),
                                              document_->layerClasses(), 0, false, &ok);
    if (ok) selectAllOfType(cls);
  });
  selectTypeAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_T));
  selectNameAction_ = edit->addAction(tr("Select by &Name…"), this, [this] {
    bool ok = false;
    const QString pattern = QInputDialog::getText(
        this, tr("Select by name"), tr("Layer names, globs (block1_*) or re:<regex>, comma-separated:"),
        QLineEdit::Normal, {}, &ok);
    if (ok && !pattern.trimmed().isEmpty()) selectByName(pattern);
  });
  selectNameAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_N));
}

void MainWindow::createViewMenu() {
  viewMenu_ = menuBar()->addMenu(tr("&View"));
  QAction* fit = viewMenu_->addAction(tr("&Fit Graph"), graph_, &GraphView::fitGraph);
  fit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
  QAction* in = viewMenu_->addAction(tr("Zoom &In"), graph_, &GraphView::zoomIn);
  in->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Plus), QKeySequence(Qt::CTRL | Qt::Key_Equal)});
  QAction* out = viewMenu_->addAction(tr("Zoom &Out"), graph_, &GraphView::zoomOut);
  out->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Minus));
  QAction* actual = viewMenu_->addAction(tr("Actual &Size"), graph_, &GraphView::resetZoom);
  actual->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_1));
  QAction* find = viewMenu_->addAction(tr("&Find Layer…"), this, [this] {
    search_->setFocus();
    search_->selectAll();
  });
  find->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_F));
  errorColourAction_ = viewMenu_->addAction(tr("Colour by Quantization &Error"));
  errorColourAction_->setCheckable(true);
  errorColourAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
  errorColourAction_->setStatusTip(tr("Colour layers by the SQNR between float and fake-quant activations of the active run"));
  connect(errorColourAction_, &QAction::toggled, this, [this](bool on) {
    graph_->setColourMode(on ? GraphView::ColourMode::Error : GraphView::ColourMode::State);
  });
  connect(graph_, &GraphView::colourModeChanged, this, [this](GraphView::ColourMode m) {
    errorColourAction_->setChecked(m == GraphView::ColourMode::Error);
  });
  viewMenu_->addSeparator();
  for (QDockWidget* d : {inspectorDock_, dataDock_, trainingDock_, compareDock_})
    viewMenu_->addAction(d->toggleViewAction());
  compareDock_->toggleViewAction()->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
  inspectorDock_->toggleViewAction()->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
  trainingDock_->toggleViewAction()->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_T));
  dataDock_->toggleViewAction()->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
}

void MainWindow::createRunMenu() {
  QMenu* run = menuBar()->addMenu(tr("&Run"));
  calibrateAction_ = run->addAction(tr("&Calibrate (PTQ)"), this,
                                    [this] { startRun(int(project::RunKind::PostTraining)); });
  calibrateAction_->setShortcut(QKeySequence(Qt::Key_F6));
  calibrateAction_->setStatusTip(tr("Post-training quantization: calibrate the ticked layers' ranges, then evaluate"));
  trainQatAction_ = run->addAction(tr("Train &QAT"), this, [this] { startRun(int(project::RunKind::Qat)); });
  trainQatAction_->setShortcut(QKeySequence(Qt::Key_F5));
  trainQatAction_->setStatusTip(tr("Quantization-aware training with the current config and training settings"));
  trainFloatAction_ = run->addAction(tr("Train &Float"), this, [this] { startRun(int(project::RunKind::Float)); });
  trainFloatAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_F5));
  trainFloatAction_->setStatusTip(tr("Train the float model (the baseline every quantized run starts from)"));
  evaluateAction_ = run->addAction(tr("&Evaluate"), this, &MainWindow::startEvaluation);
  evaluateAction_->setShortcut(QKeySequence(Qt::Key_F7));
  evaluateAction_->setStatusTip(tr("Evaluate the float model and the active run in every mode, with per-layer errors"));
  run->addSeparator();
  pauseAction_ = run->addAction(tr("&Pause"), this, [this] { document_->setTrainingPaused(!document_->isTrainingPaused()); });
  pauseAction_->setShortcut(QKeySequence(Qt::Key_F8));
  stopAction_ = run->addAction(tr("&Stop"), this, [this] { document_->stopTraining(); });
  stopAction_->setShortcut(QKeySequence(Qt::SHIFT | Qt::Key_F5));
  connect(document_, &ProjectDocument::trainingPausedChanged, this,
          [this](bool paused) { pauseAction_->setText(paused ? tr("&Resume") : tr("&Pause")); });
}

void MainWindow::createToolBar() {
  QToolBar* bar = addToolBar(tr("Main"));
  bar->setObjectName(QStringLiteral("mainToolBar"));
  bar->setMovable(false);
  bar->addAction(openModelAction_);
  bar->addAction(saveAction_);
  bar->addSeparator();
  bar->addAction(undoAction_);
  bar->addAction(redoAction_);
  bar->addSeparator();
  bar->addAction(calibrateAction_);
  bar->addAction(trainQatAction_);
  bar->addAction(evaluateAction_);
  bar->addAction(stopAction_);
  bar->addSeparator();
  bar->addAction(errorColourAction_);
  search_ = new QLineEdit(bar);
  search_->setPlaceholderText(tr("Find layer (Ctrl+F)"));
  search_->setClearButtonEnabled(true);
  search_->setMaximumWidth(240);
  connect(search_, &QLineEdit::returnPressed, this, [this] {
    if (!search_->text().isEmpty() && !graph_->findLayer(search_->text()))
      statusBar()->showMessage(tr("No layer matches '%1'.").arg(search_->text()), 5000);
  });
  bar->addWidget(search_);
  viewMenu_->addAction(bar->toggleViewAction());
}

void MainWindow::updateTitleAndStatus() {
  setWindowTitle(tr("%1[*] — QAT Studio").arg(document_->projectName()));
  setWindowModified(document_->isModified());
  const bool has = document_->hasModel();
  modelLabel_->setText(tr("Model: %1").arg(has ? document_->modelName() : tr("none")));
  modelLabel_->setToolTip(has ? document_->modelSource() + QLatin1Char('\n') + document_->modelWarnings().join(QLatin1Char('\n'))
                              : QString());
  paramsLabel_->setText(tr("Parameters: %1").arg(QLocale().toString(document_->parameterCount())));
  const ProjectDocument::SizeEstimate size = document_->sizeEstimate();
  sizeLabel_->setText(tr("Size: %1 float → %2 quantized").arg(humanBytes(size.floatBytes), humanBytes(size.quantizedBytes)));
  sizeLabel_->setToolTip(tr("Weights at the configured bit widths; biases and float layers at 32 bits"));
  threadsLabel_->setText(tr("Engine threads: %1").arg(threadCount()));
}

void MainWindow::updateActions() {
  const bool running = document_->isTraining();
  const bool has = document_->hasModel();
  calibrateAction_->setEnabled(!running && document_->runBlocker(project::RunKind::PostTraining).isEmpty());
  trainQatAction_->setEnabled(!running && document_->runBlocker(project::RunKind::Qat).isEmpty());
  trainFloatAction_->setEnabled(!running && document_->runBlocker(project::RunKind::Float).isEmpty());
  evaluateAction_->setEnabled(!running && has && document_->validationData());
  pauseAction_->setEnabled(running);
  stopAction_->setEnabled(running);
  for (QAction* a : {openModelAction_, openProjectAction_}) a->setEnabled(!running);
  for (QAction* a : exampleActions_) a->setEnabled(!running);
  recentMenu_->setEnabled(!running && !recentFiles().isEmpty());
  saveAction_->setEnabled(has);
  saveAsAction_->setEnabled(has);
  selectTypeAction_->setEnabled(has);
  selectNameAction_->setEnabled(has);
}

// ---- files ----------------------------------------------------------------------------------

void MainWindow::openModel() {
  if (!maybeSave()) return;
  const QString path = chooseFile_(tr("Open Keras model"), tr("Keras models (*.h5 *.hdf5 *.keras);;All files (*)"));
  if (!path.isEmpty()) openModelFile(path);
}

void MainWindow::openProject() {
  if (!maybeSave()) return;
  const QString path = chooseFile_(tr("Open project"), tr("QAT Studio projects (*.qatproj);;All files (*)"));
  if (!path.isEmpty()) openProjectFile(path);
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
  addRecentFile(path);
  const QStringList warnings = document_->modelWarnings();
  if (warnings.isEmpty())
    statusBar()->showMessage(tr("Opened %1.").arg(fileName), 10000);
  else  // all of them in the model label's tooltip
    statusBar()->showMessage(
        tr("Opened %1 with %2 warning(s): %3").arg(fileName).arg(warnings.size()).arg(warnings.first()), 30000);
  return true;
}

bool MainWindow::openProjectFile(const QString& path) {
  QString error, warning;
  QApplication::setOverrideCursor(Qt::WaitCursor);
  const bool ok = document_->openProject(path, &error, &warning);
  QApplication::restoreOverrideCursor();
  if (!ok) {
    showError_(tr("Open Project"), error);
    return false;
  }
  addRecentFile(path);
  statusBar()->showMessage(warning.isEmpty() ? tr("Opened project %1.").arg(QFileInfo(path).fileName()) : warning,
                           warning.isEmpty() ? 10000 : 30000);
  return true;
}

bool MainWindow::saveProject() {
  if (document_->projectPath().isEmpty()) return saveProjectAs();
  QString error;
  if (!document_->saveProject(document_->projectPath(), &error)) {
    showError_(tr("Save Project"), error);
    return false;
  }
  statusBar()->showMessage(tr("Saved %1.").arg(document_->projectPath()), 5000);
  return true;
}

bool MainWindow::saveProjectAs() {
  QString path = chooseSaveFile_(tr("Save project"), tr("QAT Studio projects (*.qatproj)"));
  if (path.isEmpty()) return false;
  if (!isProjectPath(path)) path += QLatin1String(project::kProjectExtension);
  QString error;
  if (!document_->saveProject(path, &error)) {
    showError_(tr("Save Project"), error);
    return false;
  }
  addRecentFile(path);
  statusBar()->showMessage(tr("Saved %1.").arg(path), 5000);
  return true;
}

bool MainWindow::maybeSave() {
  if (!document_->isModified()) return true;
  switch (askSave_(tr("%1 has unsaved changes. Save them?").arg(document_->projectName()))) {
    case QMessageBox::Save: return saveProject();
    case QMessageBox::Discard: return true;
    default: return false;
  }
}

QStringList MainWindow::recentFiles() const { return appSettings().value(kRecentKey).toStringList(); }

void MainWindow::addRecentFile(const QString& path) {
  QSettings settings = appSettings();
  QStringList files = settings.value(kRecentKey).toStringList();
  const QString abs = QFileInfo(path).absoluteFilePath();
  files.removeAll(abs);
  files.prepend(abs);
  while (files.size() > kMaxRecent) files.removeLast();
  settings.setValue(kRecentKey, files);
  rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
  recentMenu_->clear();
  const QStringList files = recentFiles();
  for (int i = 0; i < files.size(); ++i) {
    const QString path = files[i];
    QAction* a = recentMenu_->addAction(QStringLiteral("&%1 %2").arg((i + 1) % 10).arg(QFileInfo(path).fileName()),
                                        this, [this, path] { openRecent(path); });
    a->setStatusTip(path);
  }
  recentMenu_->setEnabled(!files.isEmpty());
}

void MainWindow::openRecent(const QString& path) {
  if (!maybeSave()) return;
  if (!QFileInfo::exists(path)) {
    showError_(tr("Open Recent"), tr("%1 no longer exists.").arg(path));
    QSettings settings = appSettings();
    QStringList files = settings.value(kRecentKey).toStringList();
    files.removeAll(path);
    settings.setValue(kRecentKey, files);
    rebuildRecentMenu();
    return;
  }
  if (isProjectPath(path)) openProjectFile(path);
  else openModelFile(path);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (!droppedPath(event->mimeData()).isEmpty() && !document_->isTraining()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  const QString path = droppedPath(event->mimeData());
  if (path.isEmpty()) return;
  event->acceptProposedAction();
  // After the drop has finished: opening may show a dialog, which must not block the
  // drag source's event loop.
  QMetaObject::invokeMethod(
      this,
      [this, path] {
        if (!maybeSave()) return;
        if (isProjectPath(path)) openProjectFile(path);
        else openModelFile(path);
      },
      Qt::QueuedConnection);
}

void MainWindow::newFromExample(const QString& name) {
  if (!maybeSave()) return;
  QString error;
  if (!document_->newFromBuiltin(name, document_->trainingSettings().seed, &error))
    showError_(tr("New from example"), error);
}

// ---- edit / run --------------------------------------------------------------------------

int MainWindow::selectAllOfType(const QString& className) {
  const QList<int> nodes = document_->nodesOfClass(className);
  document_->setSelectedNodes(nodes);
  statusBar()->showMessage(tr("Selected %n %1 layer(s).", nullptr, int(nodes.size())).arg(className), 5000);
  return int(nodes.size());
}

int MainWindow::selectByName(const QString& pattern) {
  auto nodes = quant::selectNodes(document_->model(), quant::parseLayerSelection(pattern.toStdString()));
  if (!nodes.ok()) {
    showError_(tr("Select by name"), QString::fromStdString(nodes.error().message));
    return 0;
  }
  document_->setSelectedNodes(QList<int>(nodes->begin(), nodes->end()));
  return int(nodes->size());
}

void MainWindow::startRun(int kind) {
  QString error;
  if (!document_->startRun(project::RunKind(kind), &error)) {
    showError_(tr("Run"), error);
    return;
  }
  trainingDock_->show();
  trainingDock_->raise();
}

void MainWindow::startEvaluation() {
  QString error;
  if (!document_->startEvaluation(&error)) showError_(tr("Evaluate"), error);
  else statusBar()->showMessage(tr("Evaluating…"));
}

// ---- help -----------------------------------------------------------------------------------

void MainWindow::showAbout() {
  QMessageBox::about(this, tr("About QAT Studio"),
                     tr("<h3>QAT Studio %1</h3>"
                        "<p>Quantization-aware training of Keras models: train, quantize per layer, "
                        "compare and export integer models.</p>"
                        "<p>Engine threads: %2 of %3 hardware threads.</p>"
                        "<p>Licensed under the GNU GPL version 3 or later. Plots by QCustomPlot; "
                        "graph layout by Graphviz.</p>")
                         .arg(QApplication::applicationVersion())
                         .arg(threadCount())
                         .arg(hardwareThreads()));
}

// Every menu action with a shortcut, read from the menus so the list cannot go stale.
void MainWindow::showShortcuts() {
  QDialog dialog(this);
  dialog.setWindowTitle(tr("Keyboard Shortcuts"));
  auto* table = new QTableWidget(0, 3, &dialog);
  table->setHorizontalHeaderLabels({tr("Menu"), tr("Action"), tr("Shortcut")});
  table->verticalHeader()->hide();
  table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  for (QAction* menuAction : menuBar()->actions()) {
    QMenu* menu = menuAction->menu();
    if (!menu) continue;
    for (QAction* a : menu->actions()) {
      if (a->shortcut().isEmpty()) continue;
      const int row = table->rowCount();
      table->insertRow(row);
      table->setItem(row, 0, new QTableWidgetItem(menuAction->text().remove(QLatin1Char('&'))));
      table->setItem(row, 1, new QTableWidgetItem(a->text().remove(QLatin1Char('&'))));
      table->setItem(row, 2, new QTableWidgetItem(a->shortcut().toString(QKeySequence::NativeText)));
    }
  }
  const int row = table->rowCount();
  table->insertRow(row);
  table->setItem(row, 0, new QTableWidgetItem(tr("Graph")));
  table->setItem(row, 1, new QTableWidgetItem(tr("Toggle quantize of the selected layers")));
  table->setItem(row, 2, new QTableWidgetItem(tr("Space")));
  table->resizeColumnsToContents();
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, &dialog);
  connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
  auto* layout = new QVBoxLayout(&dialog);
  layout->addWidget(table);
  layout->addWidget(buttons);
  dialog.resize(560, 520);
  dialog.exec();
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (!maybeSave()) {
    event->ignore();
    return;
  }
  QSettings settings = appSettings();
  settings.setValue(QStringLiteral("mainWindow/geometry"), saveGeometry());
  settings.setValue(QStringLiteral("mainWindow/state"), saveState());
  // Closing ends the run: the document's destructor would cancel and join it anyway,
  // but cancelling here lets the worker wind down while the window goes away.
  if (document_->isTraining()) document_->stopTraining();
  QMainWindow::closeEvent(event);
}

}  // namespace qat::ui
