#pragma once
// MainWindow: menus, status bar and the central TrainingPanel over one ProjectDocument
// (owned by the caller, which must outlive the window).
#include <QMainWindow>

#include <functional>

class QAction;
class QLabel;

namespace qat::ui {

class ProjectDocument;
class TrainingPanel;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(ProjectDocument* document, QWidget* parent = nullptr);

  TrainingPanel* trainingPanel() const { return panel_; }
  QAction* openModelAction() const { return openModelAction_; }
  QAction* trainAction() const { return trainAction_; }
  QAction* stopAction() const { return stopAction_; }

  // Asks the user for a file to open: (caption, name filter) -> path, "" when cancelled.
  // QFileDialog by default; tests put a function in its place.
  using FileChooser = std::function<QString(const QString& caption, const QString& filter)>;
  void setFileChooser(FileChooser chooser) { chooseFile_ = std::move(chooser); }
  // Shows an error to the user: (title, text). A QMessageBox by default.
  using ErrorSink = std::function<void(const QString& title, const QString& text)>;
  void setErrorSink(ErrorSink sink) { showError_ = std::move(sink); }

  // File ▸ Open Model… for a known path: a Keras .h5, asking for the architecture JSON
  // when the file holds only weights. Errors go to the error sink; warnings of the import
  // to the status bar. Returns whether a model was opened.
  bool openModelFile(const QString& path);

  // QSettings keys of the persisted window state.
  static constexpr const char* kOrganization = "QAT Studio";
  static constexpr const char* kApplication = "qat-studio";

 protected:
  void closeEvent(QCloseEvent* event) override;
  // Dropping a .h5 / .hdf5 file on the window opens it.
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void createMenus();
  void updateTitleAndStatus();
  void updateActions();
  void newFromExample(const QString& name);
  void openModel();
  void showAbout();

  ProjectDocument* document_;
  TrainingPanel* panel_;
  QAction* openModelAction_ = nullptr;
  QAction* trainAction_ = nullptr;
  QAction* stopAction_ = nullptr;
  QList<QAction*> exampleActions_;
  QLabel* modelLabel_;
  QLabel* paramsLabel_;
  QLabel* threadsLabel_;
  FileChooser chooseFile_;
  ErrorSink showError_;
};

}  // namespace qat::ui
