#include "ui/main_window.h"

#include <QApplication>
#include <QCloseEvent>
#include <QLabel>
#include <QLocale>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QStatusBar>

#include "engine/core/threading.h"
#include "engine/models/builtin.h"
#include "ui/project_document.h"
#include "ui/training_panel.h"

namespace qat::ui {

MainWindow::MainWindow(ProjectDocument* document, QWidget* parent)
    : QMainWindow(parent),
      document_(document),
      panel_(new TrainingPanel(document, this)),
      modelLabel_(new QLabel(this)),
      paramsLabel_(new QLabel(this)),
      threadsLabel_(new QLabel(this)) {
  setCentralWidget(panel_);
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
  paramsLabel_->setText(tr("Parameters: %1").arg(QLocale().toString(document_->parameterCount())));
  threadsLabel_->setText(tr("Engine threads: %1").arg(threadCount()));
}

void MainWindow::updateActions() {
  const bool running = document_->isTraining();
  trainAction_->setEnabled(!running && document_->hasModel() && document_->trainData());
  stopAction_->setEnabled(running);
  for (QAction* a : exampleActions_) a->setEnabled(!running);
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
