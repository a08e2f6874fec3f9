#pragma once
// MainWindow: menus, status bar and the central TrainingPanel over one ProjectDocument
// (owned by the caller, which must outlive the window).
#include <QMainWindow>

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
  QAction* trainAction() const { return trainAction_; }
  QAction* stopAction() const { return stopAction_; }

  // QSettings keys of the persisted window state.
  static constexpr const char* kOrganization = "QAT Studio";
  static constexpr const char* kApplication = "qat-studio";

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void createMenus();
  void updateTitleAndStatus();
  void updateActions();
  void newFromExample(const QString& name);
  void showAbout();

  ProjectDocument* document_;
  TrainingPanel* panel_;
  QAction* trainAction_ = nullptr;
  QAction* stopAction_ = nullptr;
  QList<QAction*> exampleActions_;
  QLabel* modelLabel_;
  QLabel* paramsLabel_;
  QLabel* threadsLabel_;
};

}  // namespace qat::ui
