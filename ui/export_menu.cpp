#include "ui/export_menu.h"

#include <QAction>
#include <QMenu>

#include <algorithm>

#include "ui/project_document.h"

namespace qat::ui {

using deploy::ExportFormat;

ExportMenu::ExportMenu(ProjectDocument* document, QWidget* dialogParent)
    : QObject(dialogParent), document_(document), dialogParent_(dialogParent) {
  menu_ = new QMenu(tr("&Export"), dialogParent);
  // The order people look for them: the deployable int8 file first.
  const std::pair<ExportFormat, QString> items[] = {
      {ExportFormat::TfliteInt8, tr("TFLite int8…")}, {ExportFormat::TfliteFloat, tr("TFLite float…")},
      {ExportFormat::OnnxQdq, tr("ONNX QDQ…")},       {ExportFormat::Keras, tr("Keras H5…")},
      {ExportFormat::CHeader, tr("C header…")},
  };
  for (const auto& [format, text] : items) {
    QAction* a = menu_->addAction(text);
    connect(a, &QAction::triggered, this, [this, f = format] { exportAs(f); });
    actions_[format] = a;
  }
  connect(document_, &ProjectDocument::modelChanged, this, &ExportMenu::updateActions);
  connect(document_, &ProjectDocument::runAdded, this, &ExportMenu::updateActions);
  connect(document_, &ProjectDocument::runRemoved, this, &ExportMenu::updateActions);
  connect(document_, &ProjectDocument::activeRunChanged, this, &ExportMenu::updateActions);
  updateActions();
}

void ExportMenu::updateActions() {
  const bool quantizedRun = std::any_of(document_->runs().begin(), document_->runs().end(),
                                        [](const project::Run& r) { return r.kind != project::RunKind::Float; });
  for (const auto& [format, a] : actions_) {
    a->setEnabled(document_->hasModel());
    const QString what = ExportDialog::formatTitle(format);
    if (!document_->hasModel())
      a->setStatusTip(tr("Open a model first"));
    else if (deploy::isIntegerFormat(format) && !quantizedRun)
      a->setStatusTip(tr("%1 needs a quantized model: Run ▸ Calibrate (PTQ) or Train QAT first").arg(what));
    else
      a->setStatusTip(tr("Write the active run as %1 and verify the file").arg(what));
  }
}

ExportDialog* ExportMenu::openDialog() {
  if (!dialog_) {
    dialog_ = new ExportDialog(document_, dialogParent_);
    dialog_->setAttribute(Qt::WA_DeleteOnClose);
    if (chooseFile_) dialog_->setFileChooser(chooseFile_);
    if (openFolder_) dialog_->setFolderOpener(openFolder_);
  }
  return dialog_;
}

ExportDialog* ExportMenu::exportAs(ExportFormat format) {
  ExportDialog* d = openDialog();
  if (!d->isBusy()) d->preset(format);
  d->open();  // window-modal, returns at once
  d->raise();
  return d;
}

ExportDialog* ExportMenu::exportRun(int runId) {
  ExportDialog* d = openDialog();
  if (!d->isBusy()) {
    const project::Run* r = document_->run(runId);
    d->preset(r && r->kind == project::RunKind::Float ? ExportFormat::TfliteFloat : ExportFormat::TfliteInt8,
              runId);
  }
  d->open();
  d->raise();
  return d;
}

}  // namespace qat::ui
