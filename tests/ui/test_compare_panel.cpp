// The compare panel over real runs: the document (built-in fashion-mlp on a Fashion-MNIST
// subset) runs Evaluate (float baseline), a PTQ run and a QAT run on its worker with tiny
// budgets while the panel is open; the panel's table, charts and confusion matrices must
// show exactly the runs' numbers. Rename, delete (with confirmation), export request and
// the active-run selection go through the real widgets. Runs offscreen.
//
// QAT_SCREENSHOT_DIR=<dir> makes screenshot() write the panel's tabs as PNGs.
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QtTest>

#include <cmath>
#include <memory>

#include "engine/data/dataset.h"
#include "engine/data/idx_reader.h"
#include "ui/compare_panel.h"
#include "ui/confusion_view.h"
#include "ui/project_document.h"
#include "ui/run_charts.h"

using namespace qat;
using namespace qat::ui;
using project::RunKind;

namespace {

QString percentText(double accuracy) { return QStringLiteral("%1 %").arg(100 * accuracy, 0, 'f', 2); }

// The bar of `bars` at `key`, or NaN when there is none.
double barAt(QCPBars* bars, double key) {
  for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it)
    if (it->key == key) return it->value;
  return std::nan("");
}

}  // namespace

class TestComparePanel : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void tableListsRunsWithTheirMetrics();
  void accuracyAndSizeBarsEqualMetrics();
  void perLayerChartHasOnePointPerLayer();
  void trainingCurvesShowEachRunsHistory();
  void confusionDifferenceIsBMinusA();
  void selectionAndActiveRunFollowEachOther();
  void screenshot();
  void renameThroughModelAndEditor();
  void contextMenuExportsAndAsksBeforeDeleting();
  void deleteKeyRemovesRowsUntilEmpty();
  void cleanupTestCase();

 private:
  bool runAndWait(bool evaluation, RunKind kind);
  const project::Run* runAtRow(int row) const { return doc_->run(panel_->runModel()->runId(row)); }

  std::unique_ptr<ProjectDocument> doc_;
  std::unique_ptr<ComparePanel> panel_;
  int baselineId_ = 0, ptqId_ = 0, qatId_ = 0;
};

bool TestComparePanel::runAndWait(bool evaluation, RunKind kind) {
  QSignalSpy finished(doc_.get(), evaluation ? &ProjectDocument::evaluationFinished : &ProjectDocument::trainingFinished);
  QString error;
  const bool started = evaluation ? doc_->startEvaluation(&error) : doc_->startRun(kind, &error);
  if (!started) {
    qWarning("start failed: %s", qPrintable(error));
    return false;
  }
  if (!QTest::qWaitFor([&] { return finished.count() == 1; }, 120000)) return false;
  if (!finished.at(0).at(0).toBool()) qWarning("run failed: %s", qPrintable(finished.at(0).at(1).toString()));
  return finished.at(0).at(0).toBool();
}

void TestComparePanel::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);
  const std::string dir = ProjectDocument::fashionMnistDir().toStdString();
  auto train = loadFashionMnist(dir, true, Normalization::scale01());
  if (!train.ok())
    QSKIP(qPrintable(QStringLiteral("Fashion-MNIST not installed (dataset-fashion-mnist): %1")
                         .arg(QString::fromStdString(train.error().message))));
  auto test = loadFashionMnist(dir, false, Normalization::scale01());
  QVERIFY2(test.ok(), test.ok() ? "" : test.error().message.c_str());

  doc_ = std::make_unique<ProjectDocument>();
  QString error;
  QVERIFY2(doc_->newFromBuiltin(QStringLiteral("fashion-mlp"), 42, &error), qPrintable(error));
  doc_->setData(std::make_shared<const Dataset>(subset(*train, 600)), std::make_shared<const Dataset>(subset(*test, 500)));
  TrainingSettings s = doc_->trainingSettings();
  s.epochs = 1;
  s.batchSize = 32;
  s.maxTrainSamples = 300;
  s.calibrationBatches = 4;
  s.evaluationSamples = 500;
  doc_->setTrainingSettings(s);

  panel_ = std::make_unique<ComparePanel>(doc_.get());
  panel_->resize(1200, 820);
  panel_->show();
  QVERIFY(QTest::qWaitForWindowExposed(panel_.get()));
  QVERIFY(panel_->isEmptyStateShown());
  QCOMPARE(panel_->emptyLabel()->text(), QStringLiteral("No runs yet: Run ▸ Calibrate, Train QAT or Evaluate"));
  QVERIFY(panel_->emptyLabel()->isVisible());

  // The built-in model starts untrained: a short float training run first, then
  // Evaluate adds the "Float baseline" run of the trained model and the training run is
  // deleted, as a user who only wants the baseline would. The panel follows each step.
  TrainingSettings floatSettings = s;
  floatSettings.epochs = 3;
  floatSettings.maxTrainSamples = 600;
  doc_->setTrainingSettings(floatSettings);
  QVERIFY(panel_->historyChart()->emptyNoteShown());
  QVERIFY(runAndWait(false, RunKind::Float));
  QCOMPARE(panel_->runModel()->rowCount(), 1);
  // The training run's curve: one point per epoch (3).
  QVERIFY(!panel_->historyChart()->emptyNoteShown());
  QVERIFY(panel_->historyChart()->seriesCount() >= 1);
  QCOMPARE(panel_->historyChart()->series(0)->dataCount(), 3);
  QVERIFY(!panel_->isEmptyStateShown());
  QVERIFY(panel_->table()->isVisible());
  const int floatRun = panel_->runModel()->runId(0);
  doc_->setTrainingSettings(s);
  QVERIFY(runAndWait(true, RunKind::Float));
  QCOMPARE(panel_->runModel()->rowCount(), 2);
  baselineId_ = panel_->runModel()->runId(1);
  QVERIFY(doc_->run(baselineId_)->settings.value("baseline", false));
  QVERIFY(doc_->deleteRun(floatRun));
  QCOMPARE(panel_->runModel()->rowCount(), 1);
  QCOMPARE(panel_->runModel()->runId(0), baselineId_);
  QVERIFY(runAndWait(false, RunKind::PostTraining));
  QCOMPARE(panel_->runModel()->rowCount(), 2);
  ptqId_ = panel_->runModel()->runId(1);
  QVERIFY(runAndWait(false, RunKind::Qat));
  QCOMPARE(panel_->runModel()->rowCount(), 3);
  qatId_ = panel_->runModel()->runId(2);
  QCOMPARE(doc_->run(baselineId_)->kind, RunKind::Float);
  QCOMPARE(doc_->run(ptqId_)->kind, RunKind::PostTraining);
  QCOMPARE(doc_->run(qatId_)->kind, RunKind::Qat);
  for (int id : {baselineId_, ptqId_, qatId_}) {
    const project::RunMetrics& m = doc_->run(id)->metrics;
    qDebug("%s: float %.4f fake-quant %.4f integer %.4f (%s) loss %.4f, %zu samples, %zu of %zu weight bytes",
           doc_->run(id)->name.c_str(), m.floatAccuracy, m.fakeQuantAccuracy, m.integerAccuracy,
           m.integerError.c_str(), m.loss, m.samples, m.weightBytes, m.floatWeightBytes);
  }
}

void TestComparePanel::tableListsRunsWithTheirMetrics() {
  RunTableModel* model = panel_->runModel();
  QCOMPARE(model->rowCount(), 3);
  auto cell = [&](int row, int column, int role = Qt::DisplayRole) { return model->index(row, column).data(role); };
  const QString kinds[] = {QStringLiteral("Float"), QStringLiteral("PTQ"), QStringLiteral("QAT")};
  for (int row = 0; row < 3; ++row) {
    const project::Run* r = runAtRow(row);
    QVERIFY(r);
    const project::RunMetrics& m = r->metrics;
    QCOMPARE(cell(row, RunTableModel::Name).toString(), QString::fromStdString(r->name));
    QCOMPARE(cell(row, RunTableModel::Kind).toString(), kinds[row]);
    QVERIFY(m.floatAccuracy > 0.3);  // a tiny budget, but far above chance (0.1)
    QCOMPARE(cell(row, RunTableModel::FloatAcc).toString(), percentText(m.floatAccuracy));
    QCOMPARE(cell(row, RunTableModel::Loss).toString(), QString::number(m.loss, 'f', 4));
    const double kb = double(m.weightBytes) / 1024;
    QCOMPARE(cell(row, RunTableModel::Weights).toString(), QStringLiteral("%1 KB").arg(kb, 0, 'f', 1));
    QCOMPARE(cell(row, RunTableModel::Compression).toString(),
             QStringLiteral("×%1").arg(double(m.floatWeightBytes) / double(m.weightBytes), 0, 'f', 1));
    QVERIFY(!cell(row, RunTableModel::Settings).toString().isEmpty());
    if (r->kind == RunKind::Float) {
      // Evaluate measures the float model only: the quantized modes show a dash.
      QCOMPARE(cell(row, RunTableModel::FakeQuantAcc).toString(), QStringLiteral("—"));
      QCOMPARE(cell(row, RunTableModel::IntegerAcc).toString(), QStringLiteral("—"));
      QCOMPARE(cell(row, RunTableModel::BitWidths).toString(), QStringLiteral("float"));
      QCOMPARE(m.weightBytes, m.floatWeightBytes);
      QCOMPARE(cell(row, RunTableModel::Settings).toString(), QStringLiteral("float model as is (Evaluate)"));
      continue;
    }
    QVERIFY(m.fakeQuantAccuracy > 0.3);
    QCOMPARE(cell(row, RunTableModel::FakeQuantAcc).toString(), percentText(m.fakeQuantAccuracy));
    if (m.integerAccuracy >= 0) {
      QCOMPARE(cell(row, RunTableModel::IntegerAcc).toString(), percentText(m.integerAccuracy));
    } else {
      QCOMPARE(cell(row, RunTableModel::IntegerAcc).toString(), QStringLiteral("—"));
      QCOMPARE(cell(row, RunTableModel::IntegerAcc, Qt::ToolTipRole).toString(), QString::fromStdString(m.integerError));
    }
    // fashion-mlp under the default 8-bit scheme: two Dense layers with 8-bit weights.
    QVERIFY2(cell(row, RunTableModel::BitWidths).toString().startsWith(QStringLiteral("W8/A8 ×")),
             qPrintable(cell(row, RunTableModel::BitWidths).toString()));
    QVERIFY(m.weightBytes * 3 < m.floatWeightBytes);  // int8 weights: about 4× smaller
  }
  // Integer accuracy was measured for the quantized runs of this model.
  QVERIFY(runAtRow(1)->metrics.integerAccuracy >= 0);
  QVERIFY(runAtRow(2)->metrics.integerAccuracy >= 0);
  QVERIFY(cell(1, RunTableModel::Settings).toString().contains(QStringLiteral("calibration 4 batches")));
  QVERIFY(cell(2, RunTableModel::Settings).toString().contains(QStringLiteral("1 epoch")));
  // The active run (the last one added) is bold.
  QCOMPARE(doc_->activeRunId(), qatId_);
  QVERIFY(cell(2, RunTableModel::Name, Qt::FontRole).value<QFont>().bold());
  QVERIFY(!cell(0, RunTableModel::Name, Qt::FontRole).value<QFont>().bold());
}

void TestComparePanel::accuracyAndSizeBarsEqualMetrics() {
  AccuracyChart* chart = panel_->accuracyChart();
  int bars = 0;
  for (int row = 0; row < 3; ++row) {
    const project::RunMetrics& m = runAtRow(row)->metrics;
    const double expected[3] = {m.floatAccuracy, m.fakeQuantAccuracy, m.integerAccuracy};
    for (EvalMode mode : {EvalMode::Float, EvalMode::FakeQuant, EvalMode::Integer}) {
      const double value = barAt(chart->bars(mode), row + 1);
      if (expected[int(mode)] < 0) {
        QVERIFY2(std::isnan(value), "a mode the run did not measure has no bar");
      } else {
        QCOMPARE(value, 100 * expected[int(mode)]);
        ++bars;
      }
    }
    // The size chart: stored KB per run.
    QCOMPARE(barAt(panel_->sizeChart()->bars(), row + 1), double(m.weightBytes) / 1024);
  }
  QCOMPARE(bars, 7);  // the baseline's float bar + 3 for each quantized run
  QCOMPARE(chart->labelCount(), 7);
  QCOMPARE(panel_->sizeChart()->floatReferenceKb(), double(runAtRow(0)->metrics.floatWeightBytes) / 1024);
  // The value labels fit inside the plot: horizontal over wide bars, vertical over
  // narrow ones (after a resize), never above the axis rect.
  auto labelsInside = [](RunChart* c) {
    const int top = c->axisRect()->top();
    for (QCPItemText* l : c->valueLabels())
      for (QCPItemAnchor* a : {l->topLeft, l->topRight, l->bottomLeft, l->bottomRight})
        if (a->pixelPosition().y() < top - 1) return false;
    return true;
  };
  QTRY_VERIFY(labelsInside(chart) && labelsInside(panel_->sizeChart()));
  QVERIFY(!chart->labelsVertical());
  const QSize size = panel_->size();
  panel_->resize(620, size.height());
  QTRY_VERIFY(chart->labelsVertical());
  QTRY_VERIFY(labelsInside(chart) && labelsInside(panel_->sizeChart()));
  panel_->resize(size);
  QTRY_VERIFY(!chart->labelsVertical());
  // The bars are inside the visible range.
  for (EvalMode mode : {EvalMode::Float, EvalMode::FakeQuant, EvalMode::Integer})
    for (auto it = chart->bars(mode)->data()->constBegin(); it != chart->bars(mode)->data()->constEnd(); ++it)
      QVERIFY(chart->yAxis->range().contains(it->value));
}

// Only runs that trained have curves: here the QAT run (the float training run was
// deleted; Evaluate and PTQ do not train). Its points are its history's accuracies.
void TestComparePanel::trainingCurvesShowEachRunsHistory() {
  HistoryChart* chart = panel_->historyChart();
  const project::Run* qat = doc_->run(qatId_);
  QVERIFY(qat && qat->history.size() == 1);
  QVERIFY(chart->seriesCount() >= 1);
  bool sawTraining = false;
  for (int i = 0; i < chart->seriesCount(); ++i) {
    QCPGraph* g = chart->series(i);
    QVERIFY2(g->name().startsWith(QString::fromStdString(qat->name) + QStringLiteral(" · ")), qPrintable(g->name()));
    QCOMPARE(g->dataCount(), 1);
    QCOMPARE(g->data()->at(0)->key, 1.0);
    const bool training = g->name().endsWith(QStringLiteral("training"));
    const char* key = training ? "accuracy" : "val_accuracy";
    QCOMPARE(g->data()->at(0)->value, 100 * qat->history[0][key].get<double>());
    QVERIFY(chart->yAxis->range().contains(g->data()->at(0)->value));
    sawTraining = sawTraining || training;
  }
  QVERIFY(sawTraining);
  QVERIFY(!chart->emptyNoteShown());
  // Shown and resized, the chart keeps its own range (only charts with value labels refit
  // theirs after a resize).
  const QSize size = panel_->size();
  panel_->tabs()->setCurrentIndex(2);
  panel_->resize(700, size.height());
  QTest::qWait(50);
  chart->replot();
  QTest::qWait(50);
  for (int i = 0; i < chart->seriesCount(); ++i)
    QVERIFY(chart->yAxis->range().contains(chart->series(i)->data()->at(0)->value));
  QVERIFY(chart->yAxis->range().upper > 1.5);  // percent, not the [0, 1] a label fit would set
  panel_->resize(size);
  panel_->tabs()->setCurrentIndex(0);
  QCOMPARE(panel_->tabs()->tabText(2), QStringLiteral("Training curves"));
}

void TestComparePanel::perLayerChartHasOnePointPerLayer() {
  LayerErrorChart* chart = panel_->layerErrorChart();
  // The baseline has no layer errors; PTQ and QAT were ticked when they arrived.
  const std::vector<int> expectedPlotted{ptqId_, qatId_};
  QCOMPARE(panel_->runModel()->plottedRuns(), expectedPlotted);
  QCOMPARE(chart->seriesCount(), 2);
  QCOMPARE(panel_->runModel()->index(0, RunTableModel::Name).data(Qt::CheckStateRole), QVariant());
  QCOMPARE(panel_->runModel()->index(1, RunTableModel::Name).data(Qt::CheckStateRole).toInt(), int(Qt::Checked));
  for (int i = 0; i < 2; ++i) {
    const project::Run* r = doc_->run(expectedPlotted[size_t(i)]);
    QVERIFY(!r->layerErrors.empty());
    QCPGraph* g = chart->series(i);
    QCOMPARE(g->name(), QString::fromStdString(r->name));
    QCOMPARE(g->dataCount(), int(r->layerErrors.size()));
    for (int k = 0; k < g->dataCount(); ++k) {
      const project::LayerError& e = r->layerErrors[size_t(k)];
      const auto point = g->data()->at(k);
      QCOMPARE(chart->layers().at(int(point->key)), QString::fromStdString(e.layer));
      QCOMPARE(point->value, e.sqnrDb >= project::kSqnrIdentical ? chart->identicalLevel() : e.sqnrDb);
    }
  }
  // Layers in model order: the x order follows the float model's node ids.
  int last = -1;
  for (const QString& layer : chart->layers()) {
    const int node = doc_->nodeOfLayer(layer);
    QVERIFY(node > last);
    last = node;
  }
  // Unticking removes the series; ticking brings it back.
  QVERIFY(panel_->runModel()->setData(panel_->runModel()->index(1, RunTableModel::Name), Qt::Unchecked, Qt::CheckStateRole));
  QCOMPARE(chart->seriesCount(), 1);
  QCOMPARE(chart->series(0)->name(), QString::fromStdString(doc_->run(qatId_)->name));
  QVERIFY(panel_->runModel()->setData(panel_->runModel()->index(1, RunTableModel::Name), Qt::Checked, Qt::CheckStateRole));
  // Series stay in table order (and so keep their colours) whatever the tick order.
  QCOMPARE(chart->seriesCount(), 2);
  QCOMPARE(chart->series(0)->name(), QString::fromStdString(doc_->run(ptqId_)->name));
  QCOMPARE(chart->series(1)->name(), QString::fromStdString(doc_->run(qatId_)->name));
}

void TestComparePanel::confusionDifferenceIsBMinusA() {
  ConfusionComparison* c = panel_->confusion();
  // Defaults: the float baseline against the active run.
  QCOMPARE(c->runA(), baselineId_);
  QCOMPARE(c->runB(), qatId_);
  for (auto [a, b] : {std::pair{baselineId_, qatId_}, std::pair{ptqId_, qatId_}}) {
    c->runABox()->setCurrentIndex(c->runABox()->findData(a));
    c->runBBox()->setCurrentIndex(c->runBBox()->findData(b));
    const project::ConfusionMatrix& ma = doc_->run(a)->confusion;
    const project::ConfusionMatrix& mb = doc_->run(b)->confusion;
    QCOMPARE(ma.classes, 10);
    QCOMPARE(c->differenceView()->mode(), ConfusionMatrixView::Mode::Difference);
    QCOMPARE(c->differenceView()->classes(), 10);
    int changed = 0;
    long total = 0;
    for (int t = 0; t < 10; ++t)
      for (int p = 0; p < 10; ++p) {
        QCOMPARE(c->viewA()->value(t, p), ma.counts[size_t(t * 10 + p)]);
        QCOMPARE(c->viewB()->value(t, p), mb.counts[size_t(t * 10 + p)]);
        const long d = mb.counts[size_t(t * 10 + p)] - ma.counts[size_t(t * 10 + p)];
        QCOMPARE(c->differenceView()->value(t, p), d);
        total += mb.counts[size_t(t * 10 + p)];
        const QColor color = c->differenceView()->cellColor(t, p);
        if (d == 0) {
          QCOMPARE(color, QColor(Qt::white));
          continue;
        }
        ++changed;
        // Green where B is better: more on the diagonal, fewer off it; red otherwise.
        const bool better = (t == p) == (d > 0);
        QVERIFY2(better ? color.green() > color.red() : color.red() > color.green(),
                 qPrintable(QStringLiteral("cell %1,%2 diff %3 colour %4").arg(t).arg(p).arg(d).arg(color.name())));
      }
    QCOMPARE(total, long(doc_->run(b)->metrics.samples));
    qDebug("confusion %d vs %d: %d cells differ", a, b, changed);
    QVERIFY(changed > 0);  // a quantized and trained model does not predict exactly as the baseline
  }
  // Fashion-MNIST's class names label the rows and columns.
  QCOMPARE(c->viewA()->className(0), QStringLiteral("T-shirt/top"));
  QCOMPARE(c->viewA()->className(9), QStringLiteral("Ankle boot"));
  c->setRuns(baselineId_, qatId_);
}

void TestComparePanel::selectionAndActiveRunFollowEachOther() {
  QTableView* table = panel_->table();
  QSignalSpy active(doc_.get(), &ProjectDocument::activeRunChanged);
  // A click on the baseline's row makes it the active run.
  const QRect rect = table->visualRect(panel_->runModel()->index(0, RunTableModel::Kind));
  QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, rect.center());
  QCOMPARE(doc_->activeRunId(), baselineId_);
  QCOMPARE(active.count(), 1);
  // The document's active run moves the selection (and does not echo back).
  doc_->setActiveRun(ptqId_);
  QCOMPARE(table->selectionModel()->selectedRows().size(), 1);
  QCOMPARE(table->selectionModel()->selectedRows().front().row(), 1);
  QCOMPARE(active.count(), 2);
  QVERIFY(panel_->runModel()->index(1, RunTableModel::Name).data(Qt::FontRole).value<QFont>().bold());
  // B of the confusion comparison follows the active run.
  QCOMPARE(panel_->confusion()->runB(), ptqId_);
  doc_->setActiveRun(qatId_);
  QCOMPARE(table->selectionModel()->selectedRows().front().row(), 2);
  QCOMPARE(panel_->confusion()->runB(), qatId_);
}

void TestComparePanel::screenshot() {
  const QString dir = qEnvironmentVariable("QAT_SCREENSHOT_DIR");
  if (dir.isEmpty()) QSKIP("set QAT_SCREENSHOT_DIR to write the compare panel's screenshots");
  const char* names[] = {"compare_accuracy", "compare_layers", "compare_history", "compare_confusion"};
  for (int tab = 0; tab < 4; ++tab) {
    panel_->tabs()->setCurrentIndex(tab);
    QTest::qWait(50);
    panel_->accuracyChart()->replot();
    panel_->sizeChart()->replot();
    panel_->layerErrorChart()->replot();
    panel_->historyChart()->replot();
    const QString path = QStringLiteral("%1/%2.png").arg(dir, QString::fromLatin1(names[tab]));
    QVERIFY2(panel_->grab().save(path), qPrintable(path));
    qDebug("wrote %s", qPrintable(path));
  }
  panel_->tabs()->setCurrentIndex(0);
}

void TestComparePanel::renameThroughModelAndEditor() {
  RunTableModel* model = panel_->runModel();
  QSignalSpy changed(doc_.get(), &ProjectDocument::runChanged);
  QVERIFY(model->setData(model->index(2, RunTableModel::Name), QStringLiteral("QAT w8 tiny"), Qt::EditRole));
  QCOMPARE(QString::fromStdString(doc_->run(qatId_)->name), QStringLiteral("QAT w8 tiny"));
  QCOMPARE(changed.count(), 1);
  QCOMPARE(model->index(2, RunTableModel::Name).data().toString(), QStringLiteral("QAT w8 tiny"));
  // The charts and pickers show the new name.
  QCOMPARE(panel_->layerErrorChart()->series(1)->name(), QStringLiteral("QAT w8 tiny"));  // table order
  auto ticker = qSharedPointerCast<QCPAxisTickerText>(panel_->accuracyChart()->xAxis->ticker());
  QVERIFY(ticker);
  QCOMPARE(ticker->ticks().value(3), QStringLiteral("QAT w8 tiny"));  // the third run's bar group
  QCOMPARE(panel_->confusion()->runBBox()->currentText(), QStringLiteral("QAT w8 tiny"));
  // An empty name is refused and changes nothing.
  QVERIFY(!model->setData(model->index(2, RunTableModel::Name), QStringLiteral("  "), Qt::EditRole));
  QCOMPARE(QString::fromStdString(doc_->run(qatId_)->name), QStringLiteral("QAT w8 tiny"));

  // The editor a user gets with a double click / F2.
  QTableView* table = panel_->table();
  table->setCurrentIndex(model->index(1, RunTableModel::Name));
  table->edit(model->index(1, RunTableModel::Name));
  auto* editor = table->findChild<QLineEdit*>();
  QVERIFY(editor);
  editor->selectAll();
  QTest::keyClicks(editor, QStringLiteral("PTQ calibrated"));
  QTest::keyClick(editor, Qt::Key_Return);  // the delegate commits on the next event loop pass
  QTRY_COMPARE(QString::fromStdString(doc_->run(ptqId_)->name), QStringLiteral("PTQ calibrated"));
  QCOMPARE(model->index(1, RunTableModel::Name).data().toString(), QStringLiteral("PTQ calibrated"));
}

void TestComparePanel::contextMenuExportsAndAsksBeforeDeleting() {
  QSignalSpy exportSpy(panel_.get(), &ComparePanel::exportRequested);
  int asked = 0;
  QString question;
  panel_->setConfirmFunction([&](const QString&, const QString& text) {
    ++asked;
    question = text;
    return false;
  });
  std::unique_ptr<QMenu> menu(panel_->createContextMenu(ptqId_, nullptr));
  QAction *exportAction = nullptr, *deleteAction = nullptr;
  for (QAction* a : menu->actions()) {
    if (a->text() == QStringLiteral("Export…")) exportAction = a;
    if (a->text() == QStringLiteral("Delete run")) deleteAction = a;
  }
  QVERIFY(exportAction && deleteAction);
  exportAction->trigger();
  QCOMPARE(exportSpy.count(), 1);
  QCOMPARE(exportSpy.at(0).at(0).toInt(), ptqId_);
  // Declined: the run stays.
  deleteAction->trigger();
  QCOMPARE(asked, 1);
  QVERIFY(question.contains(QStringLiteral("PTQ calibrated")));
  QVERIFY(doc_->run(ptqId_));
  QCOMPARE(panel_->runModel()->rowCount(), 3);
}

void TestComparePanel::deleteKeyRemovesRowsUntilEmpty() {
  int asked = 0;
  panel_->setConfirmFunction([&](const QString&, const QString&) { return ++asked > 0; });
  QTableView* table = panel_->table();
  doc_->setActiveRun(ptqId_);
  table->setFocus();
  QTest::keyClick(table, Qt::Key_Delete);
  QCOMPARE(asked, 1);
  QVERIFY(!doc_->run(ptqId_));
  QCOMPARE(panel_->runModel()->rowCount(), 2);
  QCOMPARE(panel_->runModel()->runId(0), baselineId_);
  QCOMPARE(panel_->runModel()->runId(1), qatId_);
  // Everything that showed the run forgot it.
  QVERIFY(std::isnan(barAt(panel_->accuracyChart()->bars(EvalMode::Float), 3)));
  QCOMPARE(panel_->accuracyChart()->bars(EvalMode::FakeQuant)->dataCount(), 1);
  QCOMPARE(barAt(panel_->accuracyChart()->bars(EvalMode::FakeQuant), 2), 100 * doc_->run(qatId_)->metrics.fakeQuantAccuracy);
  QCOMPARE(panel_->layerErrorChart()->seriesCount(), 1);
  QCOMPARE(panel_->confusion()->runABox()->findData(ptqId_), -1);
  QCOMPARE(panel_->confusion()->runBBox()->count(), 2);

  // The document picked a new active run; deleting the rest leaves the empty state.
  QVERIFY(doc_->activeRunId() != 0);
  while (panel_->runModel()->rowCount() > 0) {
    table->setFocus();
    QTest::keyClick(table, Qt::Key_Delete);
  }
  QCOMPARE(asked, 3);
  QVERIFY(doc_->runs().empty());
  QVERIFY(panel_->isEmptyStateShown());
  QVERIFY(panel_->emptyLabel()->isVisible());
  QCOMPARE(panel_->layerErrorChart()->seriesCount(), 0);
}

void TestComparePanel::cleanupTestCase() {
  panel_.reset();  // before the document it observes
  doc_.reset();
}

QTEST_MAIN(TestComparePanel)
#include "test_compare_panel.moc"
