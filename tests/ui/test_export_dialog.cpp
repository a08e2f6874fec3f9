// File ▸ Export end to end, offscreen: a fashion-mlp document with a PTQ run (through
// ProjectDocument::startRun on the worker), the menu action for a format opens the export
// dialog, Export… asks the (injected) file chooser, the export runs on a worker, and the
// report shows the agreement figures. The written file loads with the engine's reader and
// the dialog's figures equal a verifyGraph run on that file here. Also: a float layer in
// the quantized model blocks the export and the dialog names it; with no quantized run
// the int8 formats say what to do and the float formats export the float model.
#include <QComboBox>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QUndoStack>
#include <QtTest>

#include <memory>

#include "engine/data/idx_reader.h"
#include "engine/deploy/onnx_file.h"
#include "engine/deploy/tflite_file.h"
#include "engine/deploy/verify.h"
#include "engine/io/keras_model.h"
#include "engine/project/project.h"
#include "ui/export_dialog.h"
#include "ui/export_menu.h"
#include "ui/project_document.h"

using namespace qat;
using namespace qat::ui;
using deploy::ExportFormat;
using Figure = ExportDialog::Figure;

class TestExportDialog : public QObject {
  Q_OBJECT

  std::shared_ptr<const Dataset> train_, test_;
  std::unique_ptr<ProjectDocument> doc_;
  std::unique_ptr<QWidget> window_;  // the main window's stand-in: parent of menu and dialogs
  ExportMenu* menu_ = nullptr;
  QTemporaryDir dir_;
  int ptqRun_ = 0;
  QStringList chooserCalls_, openedFolders_;
  QString nextPath_;

  // A run with a small budget, on the document's worker; returns its id.
  int runAndWait(project::RunKind kind) {
    QSignalSpy finished(doc_.get(), &ProjectDocument::trainingFinished);
    QString error;
    if (!doc_->startRun(kind, &error)) qFatal("startRun: %s", qPrintable(error));
    if (!finished.wait(120000)) qFatal("the run did not finish");
    if (!finished.at(0).at(0).toBool()) qFatal("run failed: %s", qPrintable(finished.at(0).at(1).toString()));
    return doc_->activeRunId();
  }

  // Triggers File ▸ Export ▸ <format>, then Export… with the chooser answering `file`.
  ExportDialog* exportThroughMenu(ExportFormat format, const QString& file) {
    menu_->action(format)->trigger();
    ExportDialog* d = menu_->dialog();
    if (!d) return nullptr;
    nextPath_ = dir_.filePath(file);
    QTest::mouseClick(d->exportButton(), Qt::LeftButton);
    return d;
  }

  static void saveShot(QWidget* w, const char* name) {
    const QString dir = qEnvironmentVariable("QAT_SCREENSHOT_DIR");  // for looking at the dialog
    if (!dir.isEmpty()) w->grab().save(dir + u'/' + QString::fromLatin1(name));
  }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    const std::string dir = ProjectDocument::fashionMnistDir().toStdString();
    auto train = loadFashionMnist(dir, true, Normalization::scale01());
    if (!train.ok()) QSKIP("Fashion-MNIST not installed (dataset-fashion-mnist)");
    auto test = loadFashionMnist(dir, false, Normalization::scale01());
    QVERIFY(test.ok());
    train_ = std::make_shared<const Dataset>(subset(*train, 1280));
    test_ = std::make_shared<const Dataset>(subset(*test, 1000));
    QVERIFY(dir_.isValid());

    doc_ = std::make_unique<ProjectDocument>();
    QString error;
    QVERIFY2(doc_->newFromBuiltin(QStringLiteral("fashion-mlp"), 42, &error), qPrintable(error));
    doc_->setData(train_, test_);
    TrainingSettings s = doc_->trainingSettings();
    s.calibrationBatches = 4;
    s.epochs = 1;
    s.evaluationSamples = 300;
    doc_->setTrainingSettings(s);

    window_ = std::make_unique<QWidget>();
    window_->resize(900, 600);
    menu_ = new ExportMenu(doc_.get(), window_.get());
    menu_->setFileChooser([this](const QString& caption, const QString& suggested, const QString&) {
      chooserCalls_ << caption + u'|' + suggested;
      return nextPath_;
    });
    menu_->setFolderOpener([this](const QString& folder) { openedFolders_ << folder; });
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
  }

  // Before any run: integer formats say what to do; the float model exports as float.
  void beforeAnyRun() {
    QCOMPARE(menu_->menu()->actions().size(), 5);
    QVERIFY(menu_->action(ExportFormat::TfliteInt8)->isEnabled());
    QVERIFY(menu_->action(ExportFormat::TfliteInt8)->statusTip().contains(QStringLiteral("Calibrate (PTQ)")));
    menu_->action(ExportFormat::OnnxQdq)->trigger();
    ExportDialog* d = menu_->dialog();
    QVERIFY(d && d->isVisible());
    QCOMPARE(d->format(), ExportFormat::OnnxQdq);
    QCOMPARE(d->runId(), 0);
    QVERIFY2(d->blocker().contains(QStringLiteral("Run ▸ Calibrate (PTQ) or Train QAT first")), qPrintable(d->blocker()));
    QVERIFY(!d->exportButton()->isEnabled());
    saveShot(d, "export_blocked.png");

    d = exportThroughMenu(ExportFormat::TfliteFloat, QStringLiteral("float.tflite"));
    QSignalSpy done(d, &ExportDialog::exportFinished);
    QVERIFY(d->isBusy());
    QVERIFY(done.wait(60000));
    QVERIFY2(done.at(0).at(0).toBool(), qPrintable(d->errorText()));
    QVERIFY(d->isShowingReport());
    QCOMPARE(d->figureText(Figure::Top1Agreement), ExportDialog::percentText(1.0));
    QVERIFY(d->figureText(Figure::MaxDifference).endsWith(QStringLiteral("of the output range")));
    QVERIFY(deploy::readTflite(nextPath_.toStdString()).ok());
    d->close();
    QTRY_VERIFY(!menu_->dialog());
  }

  // A float run (one short epoch, so that the PTQ run below has a trained model): it goes
  // to TFLite float and Keras only.
  void floatRun() {
    const int id = runAndWait(project::RunKind::Float);
    ExportDialog* d = menu_->exportRun(id);
    QCOMPARE(d->runId(), id);
    QCOMPARE(d->format(), ExportFormat::TfliteFloat);
    auto* formats = qobject_cast<QStandardItemModel*>(d->formatBox()->model());
    QVERIFY(formats);
    for (int i = 0; i < d->formatBox()->count(); ++i)
      QCOMPARE(formats->item(i)->isEnabled(), !deploy::isIntegerFormat(ExportFormat(d->formatBox()->itemData(i).toInt())));
    d->setFormat(ExportFormat::CHeader);
    QVERIFY2(d->blocker().contains(QStringLiteral("Calibrate (PTQ)")), qPrintable(d->blocker()));
    d->setFormat(ExportFormat::Keras);
    nextPath_ = dir_.filePath(QStringLiteral("float_run.h5"));
    QSignalSpy done(d, &ExportDialog::exportFinished);
    QVERIFY(d->chooseFileAndExport());
    QVERIFY(done.wait(60000));
    QVERIFY2(done.at(0).at(0).toBool(), qPrintable(d->errorText()));
    QVERIFY(!d->result()->verification);
    QCOMPARE(kerasFileKind(nextPath_.toStdString()), KerasFileKind::FullModel);
    d->close();
    QTRY_VERIFY(!menu_->dialog());
  }

  // File ▸ Export ▸ TFLite int8… / ONNX QDQ… on the PTQ run: the report's figures are the
  // ones verifyGraph gives for the written file read back here.
  void exportThroughMenu_data() {
    QTest::addColumn<int>("format");
    QTest::addColumn<QString>("file");
    QTest::addRow("tflite int8") << int(ExportFormat::TfliteInt8) << "ptq.tflite";
    QTest::addRow("onnx") << int(ExportFormat::OnnxQdq) << "ptq.onnx";
  }
  void exportThroughMenu() {
    QFETCH(int, format);
    QFETCH(QString, file);
    if (!ptqRun_) ptqRun_ = runAndWait(project::RunKind::PostTraining);
    const project::Run* run = doc_->run(ptqRun_);
    QVERIFY(run && run->kind == project::RunKind::PostTraining);

    chooserCalls_.clear();
    ExportDialog* d = exportThroughMenu(ExportFormat(format), file);
    QVERIFY(d);
    QCOMPARE(d->runId(), ptqRun_);
    QCOMPARE(d->format(), ExportFormat(format));
    QCOMPARE(chooserCalls_.size(), 1);
    QVERIFY2(chooserCalls_[0].endsWith(file.section(u'.', -1)), qPrintable(chooserCalls_[0]));  // suggested extension
    QSignalSpy done(d, &ExportDialog::exportFinished);
    QVERIFY(d->isBusy() && !d->exportButton()->isEnabled());
    d->reject();  // refused while the worker writes
    QVERIFY(d->isVisible());
    QVERIFY(done.wait(60000));
    QVERIFY2(done.at(0).at(0).toBool(), qPrintable(d->errorText()));
    QVERIFY(d->isShowingReport());
    saveShot(d, format == int(ExportFormat::TfliteInt8) ? "export_report_tflite.png" : "export_report_onnx.png");

    // The file loads with the engine's reader...
    const std::string path = nextPath_.toStdString();
    auto graph = ExportFormat(format) == ExportFormat::OnnxQdq ? deploy::readOnnxQdq(path) : deploy::readTflite(path);
    QVERIFY2(graph.ok(), graph.ok() ? "" : graph.error().message.c_str());
    QCOMPARE(d->figureText(Figure::File), QDir::toNativeSeparators(nextPath_));
    QVERIFY(d->figureText(Figure::Size).contains(QLocale().toString(QFileInfo(nextPath_).size())));
    // ...and verifying it here against the run's model gives the figures the dialog shows.
    auto ck = project::checkpointFromImage(run->modelImage);
    QVERIFY(ck.ok());
    auto own = deploy::verifyGraph(ck->quantized.model, *graph, *test_, 1000);
    QVERIFY(own.ok());
    qInfo("%s", own->summary().c_str());
    QVERIFY(own->top1Agreement >= 0.99 && own->maxStepDifference <= 1.0);
    const deploy::VerificationReport& shown = *d->result()->verification;
    QCOMPARE(shown.top1Agreement, own->top1Agreement);
    QCOMPARE(shown.maxStepDifference, own->maxStepDifference);
    QCOMPARE(shown.exportAccuracy, own->exportAccuracy);
    QCOMPARE(d->figureText(Figure::Samples), QLocale().toString(1000));
    QCOMPARE(d->figureText(Figure::Top1Agreement), ExportDialog::percentText(own->top1Agreement));
    QCOMPARE(d->figureText(Figure::WithinOneStep), ExportDialog::percentText(own->withinOneStep));
    QCOMPARE(d->figureText(Figure::StudioAccuracy), ExportDialog::percentText(own->referenceAccuracy));
    QCOMPARE(d->figureText(Figure::ExportAccuracy), ExportDialog::percentText(own->exportAccuracy));
    QCOMPARE(d->figureText(Figure::MaxDifference),
             own->maxStepDifference == 1 ? QStringLiteral("1 int8 step")
                                         : QStringLiteral("%1 int8 steps").arg(long(own->maxStepDifference)));

    openedFolders_.clear();
    QTest::mouseClick(d->showInFolderButton(), Qt::LeftButton);
    QCOMPARE(openedFolders_, QStringList{QFileInfo(nextPath_).absolutePath()});
    d->close();  // deleted on close
    QTRY_VERIFY(!menu_->dialog());
  }

  // W4A8 weights: the sub-8-bit choice is offered, the report notes how TFLite runs them;
  // runHeadless (qat-studio --view export) exports without a chooser and waits.
  void subEightBitHeadless() {
    const QList<int> dense = doc_->nodesOfClass(QStringLiteral("Dense"));
    QCOMPARE(dense.size(), 2);
    doc_->applyPreset(dense, QuantPreset::W4A8);
    const int w4 = runAndWait(project::RunKind::PostTraining);
    doc_->undoStack()->undo();
    ExportDialog d(doc_.get());
    QCOMPARE(d.runId(), w4);  // the active run
    d.show();
    saveShot(&d, "export_setup_w4.png");
    QCOMPARE(d.format(), ExportFormat::TfliteInt8);
    d.setInt4Weights(true);
    d.setVerifySamples(200);
    const QString path = dir_.filePath(QStringLiteral("w4.tflite"));
    QVERIFY2(d.runHeadless(path), qPrintable(d.errorText()));
    QVERIFY(d.isShowingReport());
    QCOMPARE(d.figureText(Figure::Samples), QStringLiteral("200"));
    QVERIFY2(d.notesText().contains(QStringLiteral("4-bit grid")) &&
                 d.notesText().contains(QStringLiteral("TFLite runs them as int8")),
             qPrintable(d.notesText()));
    QCOMPARE(d.result()->int4Tensors, size_t(2));
    QVERIFY(d.notesText().contains(QStringLiteral("2 weight tensors are stored as INT4")));
    auto g = deploy::readTflite(path.toStdString());
    QVERIFY2(g.ok(), g.ok() ? "" : g.error().message.c_str());
    QVERIFY(d.result()->verification->top1Agreement >= 0.99);
    d.show();
    saveShot(&d, "export_report_w4.png");
    // Grid values in int8 tensors (the default) write no INT4 tensor.
    d.setInt4Weights(false);
    QVERIFY(d.runHeadless(dir_.filePath(QStringLiteral("w4_int8.tflite"))));
    QCOMPARE(d.result()->int4Tensors, size_t(0));
    QVERIFY(!d.notesText().contains(QStringLiteral("INT4")));
  }

  // The compare panel's "Export this run" on a run whose 'logits' layer stayed float:
  // freeze refuses it and the dialog names the layer; nothing is written.
  void unsupportedLayerIsNamed() {
    const int logits = doc_->nodeOfLayer(QStringLiteral("logits"));
    QVERIFY(logits >= 0);
    doc_->setQuantized({logits}, false);
    const int blocked = runAndWait(project::RunKind::PostTraining);
    QVERIFY(blocked != ptqRun_);
    ExportDialog* d = menu_->exportRun(blocked);
    QCOMPARE(d->runId(), blocked);
    QCOMPARE(d->format(), ExportFormat::TfliteInt8);
    nextPath_ = dir_.filePath(QStringLiteral("blocked.tflite"));
    QSignalSpy done(d, &ExportDialog::exportFinished);
    QVERIFY(d->chooseFileAndExport());
    QVERIFY(done.wait(60000));
    QCOMPARE(done.at(0).at(0).toBool(), false);
    QVERIFY(!d->isShowingReport());
    QVERIFY2(d->errorText().contains(QStringLiteral("Layer 'logits' (Dense)")), qPrintable(d->errorText()));
    const auto labels = d->findChildren<QLabel*>();
    const bool shown = std::any_of(labels.begin(), labels.end(), [](QLabel* l) {
      return l->isVisible() && l->text().contains(QStringLiteral("Layer 'logits' (Dense)"));
    });
    QVERIFY(shown);
    QVERIFY(!QFileInfo::exists(nextPath_));
    saveShot(d, "export_error.png");
    // Picking another run clears the error and enables Export… again.
    d->setRunId(ptqRun_);
    QVERIFY(d->errorText().isEmpty());
    QVERIFY(d->blocker().isEmpty() && d->exportButton()->isEnabled());
    d->close();
    doc_->undoStack()->undo();
  }
};

QTEST_MAIN(TestExportDialog)
#include "test_export_dialog.moc"
