#pragma once
// MainWindow: the studio's frame over one ProjectDocument (owned by the caller, which must
// outlive the window). The layer graph is the central widget; the layer inspector, the
// data panel and the training panel are dock widgets (View menu toggles them). Menus:
// File, Edit, View, Run, Help; every action with a shortcut is listed in Help ▸ Keyboard
// Shortcuts.
#include <QMainWindow>
#include <QMessageBox>

#include <functional>

class QAction;
class QDockWidget;
class QLabel;
class QLineEdit;
class QMenu;

namespace qat::ui {

class ComparePanel;
class DataPanel;
class ExportMenu;
class GraphView;
class LayerInspector;
class ProjectDocument;
class TrainingPanel;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(ProjectDocument* document, QWidget* parent = nullptr);

  GraphView* graphView() const { return graph_; }
  LayerInspector* inspector() const { return inspector_; }
  TrainingPanel* trainingPanel() const { return panel_; }
  DataPanel* dataPanel() const { return dataPanel_; }
  ComparePanel* comparePanel() const { return compare_; }
  ExportMenu* exportMenu() const { return exportMenu_; }
  QDockWidget* compareDock() const { return compareDock_; }
  QDockWidget* inspectorDock() const { return inspectorDock_; }
  QDockWidget* dataDock() const { return dataDock_; }
  QDockWidget* trainingDock() const { return trainingDock_; }
  QAction* openModelAction() const { return openModelAction_; }
  QAction* trainAction() const { return trainQatAction_; }  // Run ▸ Train QAT
  QAction* calibrateAction() const { return calibrateAction_; }
  QAction* trainFloatAction() const { return trainFloatAction_; }
  QAction* evaluateAction() const { return evaluateAction_; }
  QAction* stopAction() const { return stopAction_; }
  QAction* undoAction() const { return undoAction_; }
  QAction* redoAction() const { return redoAction_; }
  QAction* saveProjectAction() const { return saveAction_; }
  QAction* errorColourAction() const { return errorColourAction_; }

  // Asks the user for a file to open: (caption, name filter) -> path, "" when cancelled.
  // QFileDialog by default; tests put a function in its place.
  using FileChooser = std::function<QString(const QString& caption, const QString& filter)>;
  void setFileChooser(FileChooser chooser) { chooseFile_ = std::move(chooser); }
  // The same for a file to save to.
  void setSaveFileChooser(FileChooser chooser) { chooseSaveFile_ = std::move(chooser); }
  // Shows an error to the user: (title, text). A QMessageBox by default.
  using ErrorSink = std::function<void(const QString& title, const QString& text)>;
  void setErrorSink(ErrorSink sink) { showError_ = std::move(sink); }
  // Asks Save / Discard / Cancel before unsaved changes are lost. A QMessageBox by default.
  using SaveQuestion = std::function<QMessageBox::StandardButton(const QString& text)>;
  void setSaveQuestion(SaveQuestion ask) { askSave_ = std::move(ask); }

  // File ▸ Open Model… for a known path: a Keras .h5, asking for the architecture JSON
  // when the file holds only weights. Errors go to the error sink; warnings of the import
  // to the status bar. Returns whether a model was opened.
  bool openModelFile(const QString& path);
  // File ▸ Open Project… for a known path.
  bool openProjectFile(const QString& path);
  // File ▸ Save Project (asks for a path the first time) / Save As. False when cancelled
  // or failed (the error went to the error sink).
  bool saveProject();
  bool saveProjectAs();
  // Edit ▸ Select all of type… / Select by name… for a known class or pattern (a name, a
  // glob "block1_*" or "re:<regex>"). Returns the number of layers selected.
  int selectAllOfType(const QString& className);
  int selectByName(const QString& pattern);
  // If there are unsaved changes, asks whether to save them; false: the user cancelled.
  bool maybeSave();
  // Recently opened models and projects, newest first (persisted in QSettings).
  QStringList recentFiles() const;

  // QSettings keys of the persisted window state.
  static constexpr const char* kOrganization = "QAT Studio";
  static constexpr const char* kApplication = "qat-studio";

 protected:
  void closeEvent(QCloseEvent* event) override;
  // Dropping a .h5 / .hdf5 model or a .qatproj project on the window opens it.
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void createDocks();
  void createMenus();
  void createFileMenu();
  void createEditMenu();
  void createViewMenu();
  void createRunMenu();
  void createToolBar();
  void updateTitleAndStatus();
  void updateActions();
  void newFromExample(const QString& name);
  void openModel();
  void openProject();
  void addRecentFile(const QString& path);
  void rebuildRecentMenu();
  void openRecent(const QString& path);
  void startRun(int kind);  // project::RunKind
  void startEvaluation();
  void showAbout();
  void showShortcuts();

  ProjectDocument* document_;
  GraphView* graph_;
  LayerInspector* inspector_ = nullptr;
  TrainingPanel* panel_ = nullptr;
  DataPanel* dataPanel_ = nullptr;
  ComparePanel* compare_ = nullptr;
  ExportMenu* exportMenu_ = nullptr;
  QDockWidget* compareDock_ = nullptr;
  QDockWidget* inspectorDock_ = nullptr;
  QDockWidget* dataDock_ = nullptr;
  QDockWidget* trainingDock_ = nullptr;
  QMenu* viewMenu_ = nullptr;
  QMenu* recentMenu_ = nullptr;
  QLineEdit* search_ = nullptr;
  QAction* openModelAction_ = nullptr;
  QAction* openProjectAction_ = nullptr;
  QAction* saveAction_ = nullptr;
  QAction* saveAsAction_ = nullptr;
  QAction* undoAction_ = nullptr;
  QAction* redoAction_ = nullptr;
  QAction* selectTypeAction_ = nullptr;
  QAction* selectNameAction_ = nullptr;
  QAction* calibrateAction_ = nullptr;
  QAction* trainQatAction_ = nullptr;
  QAction* trainFloatAction_ = nullptr;
  QAction* evaluateAction_ = nullptr;
  QAction* pauseAction_ = nullptr;
  QAction* stopAction_ = nullptr;
  QAction* errorColourAction_ = nullptr;
  QList<QAction*> exampleActions_;
  QLabel* modelLabel_;
  QLabel* paramsLabel_;
  QLabel* sizeLabel_;
  QLabel* threadsLabel_;
  FileChooser chooseFile_, chooseSaveFile_;
  ErrorSink showError_;
  SaveQuestion askSave_;
};

}  // namespace qat::ui
