#pragma once
// ExportMenu: File ▸ Export ▸ TFLite int8… / TFLite float… / ONNX QDQ… / Keras H5… /
// C header…, each opening an ExportDialog preset to its format for the document's active
// run, and exportRun(runId) for the compare panel's "Export this run". One dialog at a
// time: a second request re-presets the open one.
//
// Every action is enabled once there is a model. With no quantized run the integer
// formats still open the dialog, which says "Run ▸ Calibrate (PTQ) or Train QAT first"
// (their status tip says so too): a greyed-out item would not say why.
#include <QObject>
#include <QPointer>

#include <map>

#include "engine/deploy/export.h"
#include "ui/export_dialog.h"

class QAction;
class QMenu;
class QWidget;

namespace qat::ui {

class ProjectDocument;

class ExportMenu : public QObject {
  Q_OBJECT
 public:
  // dialogParent: the window the dialogs are modal to (the main window); it also owns the menu.
  ExportMenu(ProjectDocument* document, QWidget* dialogParent);

  QMenu* menu() const { return menu_; }  // "&Export", for File ▸ addMenu
  QAction* action(deploy::ExportFormat f) const { return actions_.at(f); }
  ExportDialog* dialog() const { return dialog_; }  // the open dialog, null when none

  // Passed on to every dialog (tests; the lead may share the main window's choosers).
  void setFileChooser(ExportDialog::FileChooser chooser) { chooseFile_ = std::move(chooser); }
  void setFolderOpener(ExportDialog::FolderOpener opener) { openFolder_ = std::move(opener); }

 public slots:
  // Opens the dialog for `runId` with the format that fits its kind (float run: TFLite
  // float; PTQ/QAT: TFLite int8). Returns the dialog (shown window-modal, not blocking).
  ExportDialog* exportRun(int runId);
  // What the actions do: the active run (or, for integer formats, the newest quantized one).
  ExportDialog* exportAs(deploy::ExportFormat format);

 private:
  ExportDialog* openDialog();
  void updateActions();

  ProjectDocument* document_;
  QWidget* dialogParent_;
  QMenu* menu_;
  std::map<deploy::ExportFormat, QAction*> actions_;
  QPointer<ExportDialog> dialog_;
  ExportDialog::FileChooser chooseFile_;
  ExportDialog::FolderOpener openFolder_;
};

}  // namespace qat::ui
