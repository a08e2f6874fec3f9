#include "ui/compare_panel.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QSet>
#include <QSplitter>
#include <QStackedLayout>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>
#include <map>

#include "ui/confusion_view.h"
#include "ui/project_document.h"
#include "ui/run_charts.h"

namespace qat::ui {
namespace {

QString fromStd(const std::string& s) { return QString::fromStdString(s); }
const QString kDash = QStringLiteral("—");

QString kindText(project::RunKind k) {
  switch (k) {
    case project::RunKind::Float: return QStringLiteral("Float");
    case project::RunKind::PostTraining: return QStringLiteral("PTQ");
    case project::RunKind::Qat: return QStringLiteral("QAT");
  }
  return {};
}

// The inspector's badge for one config entry ("W8/A8", "W8", "A8", "float"); "" for an
// entry with nothing to quantize (pass-through layers: dropout, flatten, ...).
QString badge(const quant::LayerQuantConfig& c) {
  if (!c.quantize) return QStringLiteral("float");
  int wbits = 0;
  for (const auto& [name, spec] : c.weights) wbits = std::max(wbits, spec.bits);
  QStringList parts;
  if (wbits > 0) parts << QStringLiteral("W%1").arg(wbits);
  if (c.output) parts << QStringLiteral("A%1").arg(c.output->bits);
  return parts.join(QLatin1Char('/'));
}

QString createdText(const std::string& iso) {
  const QDateTime t = QDateTime::fromString(fromStd(iso), Qt::ISODate);
  return t.isValid() ? t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")) : fromStd(iso);
}

}  // namespace

QString bitWidthSummary(const quant::QuantizeConfig& config) {
  std::map<QString, int> counts;
  for (const auto& [layer, c] : config.layers)
    if (QString b = badge(c); !b.isEmpty()) ++counts[b];
  if (counts.empty()) return QStringLiteral("float");
  std::vector<std::pair<QString, int>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  QStringList parts;
  for (const auto& [b, n] : sorted) parts << QStringLiteral("%1 ×%2").arg(b).arg(n);
  return parts.join(QStringLiteral(", "));
}

QString settingsSummary(const project::Run& run) {
  const nlohmann::json& s = run.settings;
  if (!s.is_object()) return {};
  if (s.value("baseline", false)) return ComparePanel::tr("float model as is (Evaluate)");
  QStringList parts;
  if (run.kind != project::RunKind::PostTraining && s.contains("epochs")) {
    const int epochs = s.value("epochs", 0);
    parts << (epochs == 1 ? ComparePanel::tr("1 epoch") : ComparePanel::tr("%1 epochs").arg(epochs));
    parts << ComparePanel::tr("batch %1").arg(s.value("batch_size", 0));
    parts << QStringLiteral("%1 lr %2").arg(fromStd(s.value("optimizer", std::string()))).arg(s.value("learning_rate", 0.0));
  }
  if (run.kind != project::RunKind::Float && s.contains("calibration_batches"))
    parts << ComparePanel::tr("calibration %1 batches").arg(s.value("calibration_batches", 0));
  if (const int n = s.value("max_train_samples", 0); n > 0) parts << ComparePanel::tr("%1 training samples").arg(n);
  if (run.kind == project::RunKind::Qat && s.value("bn_mode", std::string()) == "fold") parts << ComparePanel::tr("BN folded");
  return parts.join(QStringLiteral(" · "));
}

QString formatAccuracy(double accuracy) {
  return accuracy < 0 ? kDash : QStringLiteral("%1 %").arg(100 * accuracy, 0, 'f', 2);
}

QString formatBytes(size_t bytes) {
  const double kb = double(bytes) / 1024;
  return kb >= 1024 ? QStringLiteral("%1 MB").arg(kb / 1024, 0, 'f', 2) : QStringLiteral("%1 KB").arg(kb, 0, 'f', 1);
}

// ---- RunTableModel --------------------------------------------------------------------------

RunTableModel::RunTableModel(ProjectDocument* document, QObject* parent)
    : QAbstractTableModel(parent), document_(document) {
  connect(document_, &ProjectDocument::modelChanged, this, &RunTableModel::reset);
  connect(document_, &ProjectDocument::runAdded, this, &RunTableModel::onRunAdded);
  connect(document_, &ProjectDocument::runChanged, this, &RunTableModel::onRunChanged);
  connect(document_, &ProjectDocument::runRemoved, this, &RunTableModel::onRunRemoved);
  connect(document_, &ProjectDocument::activeRunChanged, this, [this] {
    if (!ids_.empty()) emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1), {Qt::FontRole});
  });
  reset();
}

int RunTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(ids_.size()); }
int RunTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

int RunTableModel::rowOf(int runId) const {
  const auto it = std::find(ids_.begin(), ids_.end(), runId);
  return it == ids_.end() ? -1 : int(it - ids_.begin());
}

QVariant RunTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  static const char* const names[ColumnCount] = {
      QT_TR_NOOP("Run"),     QT_TR_NOOP("Kind"),    QT_TR_NOOP("Created"),  QT_TR_NOOP("Float"),
      QT_TR_NOOP("Fake quant"), QT_TR_NOOP("Integer"), QT_TR_NOOP("Loss"), QT_TR_NOOP("Weights"),
      QT_TR_NOOP("vs float"), QT_TR_NOOP("Bit widths"), QT_TR_NOOP("Settings")};
  static const char* const tips[ColumnCount] = {
      QT_TR_NOOP("Double-click to rename; tick to plot the run's per-layer error (up to 3 runs)"),
      nullptr, nullptr,
      QT_TR_NOOP("Accuracy of the float model (for PTQ/QAT runs: the quantized model's float twin)"),
      QT_TR_NOOP("Accuracy with simulated (fake) quantization: what QAT trains"),
      QT_TR_NOOP("Accuracy of the exported int8 graph in the integer interpreter (TFLite arithmetic)"),
      QT_TR_NOOP("Test loss of the fake-quant model (float runs: the float model)"),
      QT_TR_NOOP("Weights stored at the run's bit widths"), QT_TR_NOOP("Float32 weight size / stored size"),
      QT_TR_NOOP("Layers per quantization (largest weight bits / output bits)"), nullptr};
  if (section < 0 || section >= ColumnCount) return {};
  if (role == Qt::DisplayRole) return tr(names[section]);
  if (role == Qt::ToolTipRole && tips[section]) return tr(tips[section]);
  return {};
}

Qt::ItemFlags RunTableModel::flags(const QModelIndex& index) const {
  Qt::ItemFlags f = QAbstractTableModel::flags(index);
  if (index.column() != Name) return f;
  f |= Qt::ItemIsEditable;
  if (const project::Run* r = document_->run(runId(index.row())); r && !r->layerErrors.empty())
    f |= Qt::ItemIsUserCheckable;
  return f;
}

QVariant RunTableModel::data(const QModelIndex& index, int role) const {
  const project::Run* r = document_->run(runId(index.row()));
  if (!r || !index.isValid()) return {};
  const project::RunMetrics& m = r->metrics;
  const int col = index.column();
  const bool numeric = col >= FloatAcc && col <= Compression;
  switch (role) {
    case RunIdRole: return r->id;
    case Qt::DisplayRole:
    case Qt::EditRole:
      switch (Column(col)) {
        case Name: return fromStd(r->name);
        case Kind: return kindText(r->kind);
        case Created: return createdText(r->created);
        case FloatAcc: return formatAccuracy(m.floatAccuracy);
        case FakeQuantAcc: return formatAccuracy(m.fakeQuantAccuracy);
        case IntegerAcc: return formatAccuracy(m.integerAccuracy);
        case Loss: return m.loss < 0 ? kDash : QString::number(m.loss, 'f', 4);
        case Weights: return m.weightBytes == 0 ? kDash : formatBytes(m.weightBytes);
        case Compression:
          return m.weightBytes == 0 ? kDash
                                    : QStringLiteral("×%1").arg(double(m.floatWeightBytes) / double(m.weightBytes), 0, 'f', 1);
        case BitWidths: return bitWidthSummary(r->config);
        case Settings: return settingsSummary(*r);
        case ColumnCount: break;
      }
      return {};
    case Qt::CheckStateRole:
      if (col != Name || r->layerErrors.empty()) return {};
      return std::find(plotted_.begin(), plotted_.end(), r->id) != plotted_.end() ? Qt::Checked : Qt::Unchecked;
    case Qt::FontRole:
      if (r->id == document_->activeRunId()) {
        QFont f;
        f.setBold(true);
        return f;
      }
      return {};
    case Qt::TextAlignmentRole:
      return int(numeric ? Qt::AlignRight | Qt::AlignVCenter : Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::ToolTipRole:
      if (col == IntegerAcc && m.integerAccuracy < 0)
        return m.integerError.empty() ? tr("Not measured") : fromStd(m.integerError);
      if (col >= FloatAcc && col <= Loss)
        return m.samples > 0 ? tr("Evaluated on %n test sample(s)", nullptr, int(m.samples)) : tr("Not evaluated");
      if (col == Created) return fromStd(r->created);
      if (col == BitWidths && !r->config.layers.empty()) {
        QStringList lines;
        for (const auto& [layer, c] : r->config.layers)
          if (QString b = badge(c); !b.isEmpty()) lines << QStringLiteral("%1: %2").arg(fromStd(layer), b);
        return lines.join(QLatin1Char('\n'));
      }
      if (col == Settings) return fromStd(r->settings.dump(2));
      return {};
    case Qt::ForegroundRole:
      if (data(index, Qt::DisplayRole).toString() == kDash) return QColor(140, 140, 140);
      return {};
    default: return {};
  }
}

bool RunTableModel::setData(const QModelIndex& index, const QVariant& value, int role) {
  const int id = runId(index.row());
  if (!id || index.column() != Name) return false;
  if (role == Qt::EditRole) return document_->renameRun(id, value.toString());  // runChanged refreshes the row
  if (role == Qt::CheckStateRole) {
    setPlotted(id, value.toInt() == Qt::Checked);
    return true;
  }
  return false;
}

void RunTableModel::setPlotted(int runId, bool on) {
  const project::Run* r = document_->run(runId);
  const auto it = std::find(plotted_.begin(), plotted_.end(), runId);
  const bool was = it != plotted_.end();
  if (on == was || (on && (!r || r->layerErrors.empty()))) return;
  std::vector<int> touched{runId};
  if (on) {
    plotted_.push_back(runId);
    if (int(plotted_.size()) > LayerErrorChart::kMaxRuns) {
      touched.push_back(plotted_.front());
      plotted_.erase(plotted_.begin());
    }
  } else {
    plotted_.erase(it);
  }
  for (int id : touched)
    if (int row = rowOf(id); row >= 0) emit dataChanged(index(row, Name), index(row, Name), {Qt::CheckStateRole});
  emit plottedRunsChanged();
}

void RunTableModel::reset() {
  beginResetModel();
  ids_.clear();
  plotted_.clear();
  for (const project::Run& r : document_->runs()) {
    ids_.push_back(r.id);
    if (!r.layerErrors.empty()) plotted_.push_back(r.id);
  }
  // The newest runs with layer errors are on the chart.
  if (int(plotted_.size()) > LayerErrorChart::kMaxRuns)
    plotted_.erase(plotted_.begin(), plotted_.end() - LayerErrorChart::kMaxRuns);
  endResetModel();
  emit plottedRunsChanged();
}

void RunTableModel::onRunAdded(int id) {
  // openProject announces its runs after modelChanged has already listed them.
  if (rowOf(id) >= 0) return onRunChanged(id);
  const int row = int(ids_.size());
  beginInsertRows({}, row, row);
  ids_.push_back(id);
  endInsertRows();
  setPlotted(id, true);  // only takes when the run has layer errors
}

void RunTableModel::onRunChanged(int id) {
  if (int row = rowOf(id); row >= 0) emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

void RunTableModel::onRunRemoved(int id) {
  const int row = rowOf(id);
  if (row < 0) return;
  beginRemoveRows({}, row, row);
  ids_.erase(ids_.begin() + row);
  endRemoveRows();
  if (auto it = std::find(plotted_.begin(), plotted_.end(), id); it != plotted_.end()) {
    plotted_.erase(it);
    emit plottedRunsChanged();
  }
}

// ---- ComparePanel ---------------------------------------------------------------------------

ComparePanel::ComparePanel(ProjectDocument* document, QWidget* parent)
    : QWidget(parent), document_(document), model_(new RunTableModel(document, this)) {
  confirm_ = [this](const QString& title, const QString& text) {
    return QMessageBox::question(this, title, text, QMessageBox::Yes | QMessageBox::No, QMessageBox::No) ==
           QMessageBox::Yes;
  };
  buildUi();
  for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
    connect(model_, signal, this, &ComparePanel::refreshCharts);
  connect(model_, &QAbstractItemModel::modelReset, this, &ComparePanel::refreshCharts);
  connect(model_, &QAbstractItemModel::dataChanged, this,
          [this](const QModelIndex&, const QModelIndex&, const QList<int>& roles) {
            // Font (active run) and check state changes do not change what the charts show.
            if (roles.isEmpty() || roles.contains(Qt::DisplayRole)) refreshCharts();
          });
  connect(model_, &RunTableModel::plottedRunsChanged, this, &ComparePanel::refreshLayerChart);
  connect(document_, &ProjectDocument::activeRunChanged, this, [this](int id) {
    selectActiveRow();
    confusion_->followActiveRun(id);
  });
  connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
    if (syncingSelection_) return;
    const QModelIndexList rows = table_->selectionModel()->selectedRows();
    if (!rows.isEmpty()) document_->setActiveRun(model_->runId(rows.front().row()));
  });
  refreshCharts();
}

ComparePanel::~ComparePanel() {
  // Destroying the table commits an open name editor (a rename through the document);
  // the half-destroyed panel must not hear about it.
  disconnect(model_, nullptr, this, nullptr);
  disconnect(document_, nullptr, this, nullptr);
}

void ComparePanel::buildUi() {
  empty_ = new QLabel(tr("No runs yet: Run ▸ Calibrate, Train QAT or Evaluate"), this);
  empty_->setAlignment(Qt::AlignCenter);
  empty_->setWordWrap(true);
  empty_->setForegroundRole(QPalette::PlaceholderText);

  table_ = new QTableView(this);
  table_->setModel(model_);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setAlternatingRowColors(true);
  table_->setWordWrap(false);
  table_->setContextMenuPolicy(Qt::CustomContextMenu);
  table_->installEventFilter(this);
  connect(table_, &QWidget::customContextMenuRequested, this, [this](QPoint pos) {
    const QModelIndex index = table_->indexAt(pos);
    if (!index.isValid()) return;
    QMenu* menu = createContextMenu(model_->runId(index.row()), this);
    menu->setAttribute(Qt::WA_DeleteOnClose);
    menu->popup(table_->viewport()->mapToGlobal(pos));
  });

  accuracy_ = new AccuracyChart(this);
  size_ = new SizeChart(this);
  auto* accuracyPage = new QSplitter(Qt::Horizontal, this);
  accuracyPage->addWidget(accuracy_);
  accuracyPage->addWidget(size_);
  accuracyPage->setStretchFactor(0, 3);
  accuracyPage->setStretchFactor(1, 2);

  auto* layerPage = new QWidget(this);
  layers_ = new LayerErrorChart(layerPage);
  auto* hint = new QLabel(tr("Tick up to %1 runs in the table's Run column to plot them. "
                             "Where a line drops, that layer's quantization loses the most information.")
                              .arg(LayerErrorChart::kMaxRuns),
                          layerPage);
  hint->setWordWrap(true);
  auto* layerLayout = new QVBoxLayout(layerPage);
  layerLayout->setContentsMargins(0, 0, 0, 0);
  layerLayout->addWidget(layers_, 1);
  layerLayout->addWidget(hint);

  history_ = new HistoryChart(this);
  confusion_ = new ConfusionComparison(document_, this);

  tabs_ = new QTabWidget(this);
  tabs_->addTab(accuracyPage, tr("Accuracy && size"));
  tabs_->addTab(layerPage, tr("Per-layer error"));
  tabs_->addTab(history_, tr("Training curves"));
  tabs_->addTab(confusion_, tr("Confusion matrices"));

  auto* splitter = new QSplitter(Qt::Vertical, this);
  splitter->addWidget(table_);
  splitter->addWidget(tabs_);
  splitter->setStretchFactor(0, 1);
  splitter->setStretchFactor(1, 3);
  splitter->setChildrenCollapsible(false);
  // Room for the header and about four rows before the charts take the rest.
  table_->setMinimumHeight(table_->horizontalHeader()->sizeHint().height() + 4 * table_->verticalHeader()->defaultSectionSize() + 4);
  splitter->setSizes({table_->minimumHeight() + 30, 600});

  stack_ = new QStackedLayout(this);
  stack_->addWidget(empty_);
  stack_->addWidget(splitter);
}

bool ComparePanel::isEmptyStateShown() const { return stack_->currentWidget() == empty_; }

std::vector<const project::Run*> ComparePanel::tableRuns() const {
  std::vector<const project::Run*> runs;
  for (int row = 0; row < model_->rowCount(); ++row)
    if (const project::Run* r = document_->run(model_->runId(row))) runs.push_back(r);
  return runs;
}

void ComparePanel::refreshCharts() {
  stack_->setCurrentIndex(model_->rowCount() == 0 ? 0 : 1);
  const std::vector<const project::Run*> runs = tableRuns();
  accuracy_->setRuns(runs);
  size_->setRuns(runs);
  history_->setRuns(runs);
  confusion_->refresh();
  refreshLayerChart();  // a re-evaluated run may bring new layer errors
  table_->resizeColumnsToContents();
  selectActiveRow();
}

void ComparePanel::refreshLayerChart() {
  std::vector<const project::Run*> runs;
  QSet<QString> pending;
  QStringList order;
  // Series in table order, so a run keeps its colour when another one is ticked.
  std::vector<int> ids = model_->plottedRuns();
  std::sort(ids.begin(), ids.end(), [this](int a, int b) { return model_->rowOf(a) < model_->rowOf(b); });
  for (int id : ids)
    if (const project::Run* r = document_->run(id)) {
      runs.push_back(r);
      for (const project::LayerError& e : r->layerErrors) pending.insert(fromStd(e.layer));
    }
  // x axis in the float model's node order; layers the model no longer has go last.
  if (document_->hasModel())
    for (int n = 0; n < document_->model().size(); ++n)
      if (const QString name = document_->layerName(n); pending.remove(name)) order << name;
  for (const project::Run* r : runs)
    for (const project::LayerError& e : r->layerErrors)
      if (pending.remove(fromStd(e.layer))) order << fromStd(e.layer);
  layers_->setRuns(runs, order);
}

void ComparePanel::selectActiveRow() {
  const int row = model_->rowOf(document_->activeRunId());
  syncingSelection_ = true;
  if (row < 0) {
    table_->clearSelection();
  } else if (table_->selectionModel()->selectedRows().value(0).row() != row || !table_->selectionModel()->hasSelection()) {
    table_->selectRow(row);
    table_->scrollTo(model_->index(row, 0));
  }
  syncingSelection_ = false;
}

bool ComparePanel::deleteRunWithConfirmation(int runId) {
  const project::Run* r = document_->run(runId);
  if (!r) return false;
  if (!confirm_(tr("Delete run"), tr("Delete the run “%1”? Its metrics and trained model are removed from the "
                                     "project (Save keeps the change).")
                                      .arg(fromStd(r->name))))
    return false;
  return document_->deleteRun(runId);
}

QMenu* ComparePanel::createContextMenu(int runId, QWidget* parent) {
  auto* menu = new QMenu(parent);
  auto add = [&](const QString& text, auto&& slot) {
    QAction* a = menu->addAction(text);
    connect(a, &QAction::triggered, this, slot);
    return a;
  };
  add(tr("Set as active run"), [this, runId] { document_->setActiveRun(runId); })
      ->setEnabled(runId != document_->activeRunId());
  add(tr("Rename"), [this, runId] {
    if (int row = model_->rowOf(runId); row >= 0) table_->edit(model_->index(row, RunTableModel::Name));
  });
  add(tr("Export…"), [this, runId] { emit exportRequested(runId); });
  menu->addSeparator();
  add(tr("Delete run"), [this, runId] { deleteRunWithConfirmation(runId); });
  return menu;
}

bool ComparePanel::eventFilter(QObject* watched, QEvent* event) {
  if (watched == table_ && event->type() == QEvent::KeyPress) {
    const auto* key = static_cast<QKeyEvent*>(event);
    // While a name is edited the keys go to the editor, not here.
    if (key->key() == Qt::Key_Delete || key->key() == Qt::Key_Backspace) {
      const QModelIndexList rows = table_->selectionModel()->selectedRows();
      if (!rows.isEmpty()) deleteRunWithConfirmation(model_->runId(rows.front().row()));
      return true;
    }
  }
  return QWidget::eventFilter(watched, event);
}

}  // namespace qat::ui
