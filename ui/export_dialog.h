#pragma once
// ExportDialog (File ▸ Export): writes one run of the document (or the float model when
// there is no run) as TFLite int8 / TFLite float / ONNX QDQ / Keras / C header through
// deploy::exportModel, then shows the verification report: the written file read back and
// run by the integer interpreter against the studio's model on test samples.
//
// Two pages: the set-up (run, format, I/O type, sub-8-bit handling, verify samples; why an
// export is impossible, or the error of the last attempt naming the blocking layer) and the
// report (file, size, notes, agreement figures, Show in folder).
//
// Threads: startExport() copies everything the export needs on the GUI thread (the run's
// model image or a clone of the float model, the first verify samples of the test data,
// range samples) into a job that a worker QThread owns; the worker never touches the
// document or a widget. Exports cannot be cancelled (the slow part is verification, a few
// seconds): while one runs the dialog refuses to close and its destructor waits for it.
#include <QDialog>
#include <QString>
#include <QStringList>

#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "engine/deploy/export.h"

class QButtonGroup;
class QComboBox;
class QGroupBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QRadioButton;
class QSpinBox;
class QThread;

namespace qat::ui {

class ProjectDocument;

class ExportDialog : public QDialog {
  Q_OBJECT
 public:
  explicit ExportDialog(ProjectDocument* document, QWidget* parent = nullptr);
  ~ExportDialog() override;

  // What to export: a run id, or 0 for the document's float model (no run).
  void setRunId(int runId);
  int runId() const;
  void setFormat(deploy::ExportFormat format);
  deploy::ExportFormat format() const;
  // Picks `format` and a run that can go to it: `runId` (-1: the document's active run),
  // else, for integer formats, the newest PTQ/QAT run. What the File ▸ Export actions do.
  void preset(deploy::ExportFormat format, int runId = -1);
  // Options (the set-up page's controls).
  void setInt8Io(bool on);
  void setInt4Weights(bool on);
  void setVerifySamples(int n);  // 0: no verification
  deploy::ExportOptions options() const;
  // Why the current choice cannot be exported ("Run ▸ Calibrate (PTQ) or Train QAT
  // first", ...), "" when it can. Export… is disabled while there is one.
  QString blocker() const;

  // Asks for the file to write: (caption, suggested path, name filter) → path, "" when
  // cancelled. QFileDialog by default; tests put a function in its place.
  using FileChooser = std::function<QString(const QString& caption, const QString& suggested, const QString& filter)>;
  void setFileChooser(FileChooser chooser) { chooseFile_ = std::move(chooser); }
  // Show in folder: opens a directory (QDesktopServices by default).
  using FolderOpener = std::function<void(const QString& directory)>;
  void setFolderOpener(FolderOpener opener) { openFolder_ = std::move(opener); }
  // The file name Export… suggests: the project's folder, model and run name, extension.
  QString suggestedPath() const;

  // Export…: asks for the file, then startExport. False when cancelled or refused.
  bool chooseFileAndExport();
  // Starts exporting to `path` on the worker; false (the reason shown) when blocked or busy.
  bool startExport(const QString& path);
  bool isBusy() const { return thread_ != nullptr; }
  // Exports to `path` and waits for the report (a local event loop): for the studio's
  // `--view export --screenshot`. Returns whether the export succeeded; the dialog then
  // shows the report (or the error) and can be grabbed.
  bool runHeadless(const QString& path);

  // The last finished export (null before one, or after a failure: see errorText()).
  const deploy::ExportResult* result() const { return result_ ? &*result_ : nullptr; }
  QString errorText() const { return error_; }  // the failure shown on the set-up page
  bool isShowingReport() const;
  // The report's figures as shown.
  enum class Figure { File, Size, Samples, Top1Agreement, MaxDifference, WithinOneStep, StudioAccuracy, ExportAccuracy };
  QString figureText(Figure f) const;
  QString notesText() const;  // the report's notes as plain text, one per line
  static QString percentText(double fraction);  // 0.9987 → "99.87 %"
  static QString formatTitle(deploy::ExportFormat f);  // "TFLite int8", "ONNX QDQ", ...

  QPushButton* exportButton() const { return exportButton_; }
  QPushButton* showInFolderButton() const { return showFolderButton_; }
  QComboBox* runBox() const { return runBox_; }
  QComboBox* formatBox() const { return formatBox_; }

 signals:
  void exportFinished(bool ok);

 public slots:
  void reject() override;  // refused while an export runs

 private:
  struct Job;
  QWidget* buildSetupPage();
  QWidget* buildReportPage();
  void refreshRuns();
  void refreshControls();
  void onWorkerFinished();
  void showReport();
  void showError(const QString& message);
  void showPage(int index);  // 0: set-up, 1: report
  bool runHasSubByteWeights() const;

  ProjectDocument* document_;
  QWidget* setupPage_ = nullptr;
  QWidget* reportPage_ = nullptr;
  // set-up page
  QComboBox* runBox_ = nullptr;
  QComboBox* formatBox_ = nullptr;
  QGroupBox* ioGroup_ = nullptr;
  QRadioButton* floatIo_ = nullptr;
  QRadioButton* int8Io_ = nullptr;
  QGroupBox* subByteGroup_ = nullptr;
  QRadioButton* gridInInt8_ = nullptr;
  QRadioButton* int4Tensors_ = nullptr;
  QSpinBox* verifySamples_ = nullptr;
  QLabel* dataNote_ = nullptr;
  QLabel* message_ = nullptr;
  QProgressBar* busy_ = nullptr;
  QLabel* busyText_ = nullptr;
  QPushButton* exportButton_ = nullptr;
  QPushButton* cancelButton_ = nullptr;
  // report page
  QLabel* headline_ = nullptr;
  QGroupBox* verifyGroup_ = nullptr;
  QLabel* verifyNote_ = nullptr;
  QGroupBox* notesGroup_ = nullptr;
  QLabel* notes_ = nullptr;
  QStringList noteLines_;  // the notes shown, as plain text
  std::map<Figure, QLabel*> figures_;
  QPushButton* showFolderButton_ = nullptr;

  FileChooser chooseFile_;
  FolderOpener openFolder_;
  QThread* thread_ = nullptr;  // the running export; owns nothing, deleted when it ends
  std::unique_ptr<Job> job_;   // written by the worker only while thread_ runs
  std::optional<deploy::ExportResult> result_;
  QString error_;
  deploy::ExportFormat exportedFormat_ = deploy::ExportFormat::TfliteInt8;
  QString exportedWhat_;  // "fashion-mlp · PTQ 2", for the report headline
};

}  // namespace qat::ui
