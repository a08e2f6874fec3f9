#pragma once
// ComparePanel: every run of the project side by side (issue 7).
//
//   - a table (RunTableModel over ProjectDocument::runs()): name (editable → renameRun;
//     its check box puts the run on the per-layer chart), kind, date, accuracy in the
//     three evaluation modes, loss, weight size and compression, bit widths, settings;
//     selecting a row makes it the active run, and the selection follows the active run;
//     Delete / the context menu delete a run (after a confirmation), "Export…" asks the
//     main window to export it (exportRequested);
//   - tabs with the charts (ui/run_charts.h): accuracy bars and weight size, the
//     per-layer SQNR of the ticked runs, the training curves of the runs that trained, and
//     the confusion matrices of two runs with their difference (ui/confusion_view.h).
// Everything follows the document's runAdded / runChanged / runRemoved / activeRunChanged
// / modelChanged; the panel changes runs only through the document's methods.
#include <QAbstractTableModel>
#include <QWidget>

#include <functional>
#include <vector>

#include "engine/project/project.h"

class QLabel;
class QMenu;
class QStackedLayout;
class QTabWidget;
class QTableView;

namespace qat::ui {

class AccuracyChart;
class ConfusionComparison;
class HistoryChart;
class LayerErrorChart;
class ProjectDocument;
class SizeChart;

// "W8/A8 ×12, W4/A8 ×3, float ×2": the run's config entries grouped by their badge
// (largest weight bit width / output bit width), most common first. A float run: "float".
QString bitWidthSummary(const quant::QuantizeConfig& config);
// "5 epochs · batch 64 · Adam lr 0.001 · calibration 32 batches" from Run::settings.
QString settingsSummary(const project::Run& run);
// An accuracy in [0, 1] as "87.25 %"; "—" when not measured (< 0).
QString formatAccuracy(double accuracy);
QString formatBytes(size_t bytes);  // "84.2 KB", "1.25 MB"

// The runs as table rows, in the document's order. Rows are tracked by run id, so
// inserting and removing rows follows runAdded / runRemoved exactly.
class RunTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Name, Kind, Created, FloatAcc, FakeQuantAcc, IntegerAcc, Loss, Weights, Compression, BitWidths,
                Settings, ColumnCount };
  static constexpr int RunIdRole = Qt::UserRole + 1;

  explicit RunTableModel(ProjectDocument* document, QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  // Name: EditRole renames through the document; CheckStateRole ticks the run for the
  // per-layer chart.
  bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;

  int runId(int row) const { return row >= 0 && row < int(ids_.size()) ? ids_[size_t(row)] : 0; }
  int rowOf(int runId) const;
  // Runs on the per-layer chart, in the order they were ticked (at most
  // LayerErrorChart::kMaxRuns: ticking one more unticks the oldest). New runs with layer
  // errors are ticked when they arrive.
  const std::vector<int>& plottedRuns() const { return plotted_; }
  void setPlotted(int runId, bool on);

 signals:
  void plottedRunsChanged();

 private:
  void reset();
  void onRunAdded(int id);
  void onRunChanged(int id);
  void onRunRemoved(int id);

  ProjectDocument* document_;
  std::vector<int> ids_;
  std::vector<int> plotted_;
};

class ComparePanel : public QWidget {
  Q_OBJECT
 public:
  // Asked before a run is deleted; true = go ahead. The default asks with a QMessageBox.
  using ConfirmFunction = std::function<bool(const QString& title, const QString& text)>;

  // The document must outlive the panel.
  explicit ComparePanel(ProjectDocument* document, QWidget* parent = nullptr);
  ~ComparePanel() override;

  QTableView* table() const { return table_; }
  RunTableModel* runModel() const { return model_; }
  QTabWidget* tabs() const { return tabs_; }
  AccuracyChart* accuracyChart() const { return accuracy_; }
  SizeChart* sizeChart() const { return size_; }
  LayerErrorChart* layerErrorChart() const { return layers_; }
  HistoryChart* historyChart() const { return history_; }
  ConfusionComparison* confusion() const { return confusion_; }
  // "No runs yet: …", shown instead of the table and charts while there are none.
  QLabel* emptyLabel() const { return empty_; }
  bool isEmptyStateShown() const;

  void setConfirmFunction(ConfirmFunction confirm) { confirm_ = std::move(confirm); }
  // Deletes the run after asking; false when the user said no or the run is gone.
  bool deleteRunWithConfirmation(int runId);
  // The table's context menu for a run: Set as active, Rename, Export…, Delete run.
  QMenu* createContextMenu(int runId, QWidget* parent);

 signals:
  // "Export…" on a run: the main window opens the export dialog for it.
  void exportRequested(int runId);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;  // Delete key on the table

 private:
  void buildUi();
  void refreshCharts();
  void refreshLayerChart();
  void selectActiveRow();
  std::vector<const project::Run*> tableRuns() const;

  ProjectDocument* document_;
  RunTableModel* model_;
  QTableView* table_ = nullptr;
  QTabWidget* tabs_ = nullptr;
  AccuracyChart* accuracy_ = nullptr;
  SizeChart* size_ = nullptr;
  LayerErrorChart* layers_ = nullptr;
  HistoryChart* history_ = nullptr;
  ConfusionComparison* confusion_ = nullptr;
  QLabel* empty_ = nullptr;
  QStackedLayout* stack_ = nullptr;
  ConfirmFunction confirm_;
  bool syncingSelection_ = false;
};

}  // namespace qat::ui
