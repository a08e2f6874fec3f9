// File ▸ Open Model: Keras .h5 files into the document, through the document API, the
// menu action (file dialog replaced by a scripted chooser), a weights-only file plus its
// architecture JSON, drag and drop, and the error path (message shown, model kept). A
// loaded model that does not fit the data explains itself on the Train button instead of
// failing. Runs offscreen; real files from ../shared are skipped when absent.
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QLabel>
#include <QMimeData>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QtTest>

#include <deque>
#include <memory>

#include "engine/data/dataset.h"
#include "engine/io/hdf5_util.h"
#include "engine/io/keras_model.h"
#include "engine/layers/dense.h"
#include "engine/layers/flatten.h"
#include "ui/main_window.h"
#include "ui/project_document.h"
#include "ui/training_panel.h"

using namespace qat;
using namespace qat::ui;

namespace {

const QString kShared = QStringLiteral(QAT_SHARED_DIR "/models/keras/");

// (28, 28, 1) -> Flatten -> Dense(10, softmax): fits Fashion-MNIST-shaped data.
const char* kMlpJson = R"({"class_name": "Sequential", "config": {"name": "mlp", "layers": [
  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 28, 28, 1], "name": "img"}},
  {"class_name": "Flatten", "config": {"name": "flat"}},
  {"class_name": "Dense", "config": {"name": "fc", "units": 10, "activation": "softmax"}}]}})";

// A Lambda and a custom class: refused, and the message lists both.
const char* kBadJson = R"({"class_name": "Sequential", "config": {"name": "bad", "layers": [
  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "name": "in"}},
  {"class_name": "Lambda", "config": {"name": "lam", "function": ["4wEAAAAA", null, null]}},
  {"class_name": "QDense", "config": {"name": "qd", "units": 2}}]}})";

QString writeText(const QTemporaryDir& dir, const QString& name, const QByteArray& text) {
  const QString path = dir.filePath(name);
  QFile f(path);
  QAT_ASSERT(f.open(QIODevice::WriteOnly));
  f.write(text);
  return path;
}

// A Keras weights layout at `root`-level group `w`: layer_names and per layer its weights.
void writeLayers(const h5::Group& w, const std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::vector<uint64_t>>>>>& layers) {
  std::vector<std::string> names;
  for (const auto& [layer, ws] : layers) names.push_back(layer);
  QAT_ASSERT(w.writeStringListAttr("layer_names", names).ok());
  for (const auto& [layer, ws] : layers) {
    auto g = w.createGroup(layer);
    std::vector<std::string> wn;
    for (const auto& [name, dims] : ws) {
      uint64_t n = 1;
      for (uint64_t d : dims) n *= d;
      std::vector<float> v(n);
      for (size_t i = 0; i < n; ++i) v[i] = 0.001f * static_cast<float>(i % 97) - 0.04f;
      QAT_ASSERT(g->writeFloats(name, dims, v.data()).ok());
      wn.push_back(name);
    }
    QAT_ASSERT(g->writeStringListAttr("weight_names", wn).ok());
  }
}

// save_weights layout of kMlpJson's model.
QString writeMlpWeights(const QTemporaryDir& dir) {
  const QString path = dir.filePath(QStringLiteral("weights.h5"));
  auto f = h5::File::create(path.toStdString());
  QAT_ASSERT(f.ok());
  writeLayers(f->root().value(), {{"flat", {}}, {"fc", {{"fc/kernel:0", {784, 10}}, {"fc/bias:0", {10}}}}});
  QAT_ASSERT(f->close().ok());
  return path;
}

// A whole-model file (model_config + model_weights).
QString writeModelFile(const QTemporaryDir& dir, const QString& name, const char* json,
                       const std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::vector<uint64_t>>>>>& layers) {
  const QString path = dir.filePath(name);
  auto f = h5::File::create(path.toStdString());
  QAT_ASSERT(f.ok());
  {
    auto root = f->root();
    QAT_ASSERT(root->writeStringAttr("model_config", json).ok());
    QAT_ASSERT(root->writeStringAttr("keras_version", "2.13.1").ok());
    writeLayers(root->createGroup("model_weights").value(), layers);
  }
  QAT_ASSERT(f->close().ok());
  return path;
}

QString writeMlpModel(const QTemporaryDir& dir) {
  return writeModelFile(dir, QStringLiteral("mlp.h5"), kMlpJson,
                        {{"flat", {}}, {"fc", {{"fc/kernel:0", {784, 10}}, {"fc/bias:0", {10}}}}});
}

// 64 random (28, 28, 1) samples, labels 0..9.
std::shared_ptr<const Dataset> syntheticData() {
  Dataset d;
  d.x = Tensor(Shape{64, 28, 28, 1});
  Rng rng(9);
  for (size_t i = 0; i < d.x.size(); ++i) d.x[i] = rng.uniform();
  for (int i = 0; i < 64; ++i) d.labels.push_back(i % 10);
  d.numClasses = 10;
  d.source = "synthetic";
  return std::make_shared<const Dataset>(std::move(d));
}

}  // namespace

class TestOpenModel : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

  void init() {
    window_.reset();
    doc_ = std::make_unique<ProjectDocument>();
    QString error;
    QVERIFY2(doc_->newFromBuiltin(QStringLiteral("fashion-mlp"), 42, &error), qPrintable(error));
    doc_->setData(syntheticData(), nullptr);
    window_ = std::make_unique<MainWindow>(doc_.get());
    chooserAnswers_.clear();
    chooserCaptions_.clear();
    errors_.clear();
    window_->setFileChooser([this](const QString& caption, const QString&) {
      chooserCaptions_ << caption;
      if (chooserAnswers_.empty()) return QString();
      const QString answer = chooserAnswers_.front();
      chooserAnswers_.pop_front();
      return answer;
    });
    window_->setErrorSink([this](const QString& title, const QString& text) { errors_ << (title + QLatin1Char('|') + text); });
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
  }

  // Document API: the model replaces the built-in one, its softmax output picks the
  // loss on probabilities, and it trains on data of its input shape.
  void openThroughDocumentAndTrain() {
    QTemporaryDir dir;
    const QString path = writeMlpModel(dir);
    QSignalSpy changed(doc_.get(), &ProjectDocument::modelChanged);
    QString error;
    QVERIFY2(doc_->openKerasModel(path, {}, &error), qPrintable(error));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(doc_->modelName(), QStringLiteral("mlp.h5"));
    QCOMPARE(doc_->modelSource(), path);
    QCOMPARE(doc_->parameterCount(), qint64(7850));
    QCOMPARE(doc_->loss().kind, LossKind::SparseCategoricalCrossentropy);
    QVERIFY(!doc_->loss().fromLogits);  // the softmax output gives probabilities
    // "[*]" is Qt's placeholder for the modified marker; a freshly opened model is unmodified.
    QCOMPARE(window_->windowTitle().remove(QStringLiteral("[*]")), QStringLiteral("mlp.h5 — QAT Studio"));
    QVERIFY(!window_->isWindowModified());
    QCOMPARE(doc_->trainingBlocker(), QString());
    TrainingPanel* panel = window_->trainingPanel();
    QVERIFY(panel->trainButton()->isEnabled());
    QVERIFY(panel->blockerLabel()->isHidden());

    const std::vector<float> before(doc_->model().node(2).layer->params()[0]->value.data(),
                                    doc_->model().node(2).layer->params()[0]->value.data() + 7840);
    TrainingSettings s = doc_->trainingSettings();
    s.epochs = 2;
    s.batchSize = 16;
    doc_->setTrainingSettings(s);
    QSignalSpy finished(doc_.get(), &ProjectDocument::trainingFinished);
    QTest::mouseClick(panel->trainButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 20000);
    QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(finished.at(0).at(1).toString()));
    QCOMPARE(doc_->lastTrainingOutcome()->summary.steps, 8L);
    const float* after = doc_->model().node(2).layer->params()[0]->value.data();
    QVERIFY(!std::equal(before.begin(), before.end(), after));
  }

  // A model whose input does not fit the data: the Train button is disabled and says why.
  void mismatchedInputExplainsInsteadOfTraining() {
    QTemporaryDir dir;
    const char* json = R"({"class_name": "Sequential", "config": {"name": "small", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 8], "name": "in"}},
      {"class_name": "Dense", "config": {"name": "d", "units": 10}}]}})";
    const QString path = writeModelFile(dir, QStringLiteral("small.h5"), json,
                                        {{"d", {{"d/kernel:0", {8, 10}}, {"d/bias:0", {10}}}}});
    chooserAnswers_ = {path};
    window_->openModelAction()->trigger();
    QCOMPARE(doc_->modelSource(), path);
    TrainingPanel* panel = window_->trainingPanel();
    QVERIFY(!panel->trainButton()->isEnabled());
    QVERIFY(!window_->trainAction()->isEnabled());
    const QString why = doc_->trainingBlocker();
    QVERIFY2(why.contains(QStringLiteral("input 'in' expects samples of shape (8,)")) &&
                 why.contains(QStringLiteral("(28, 28, 1)")), qPrintable(why));
    QCOMPARE(panel->trainButton()->toolTip(), why);
    QVERIFY(!panel->blockerLabel()->isHidden());
    QCOMPARE(panel->blockerLabel()->text(), why);
    QString error;
    QVERIFY(!doc_->startTraining(&error));
    QCOMPARE(error, why);
    QVERIFY(!doc_->isTraining());
  }

  // Through File ▸ Open Model… with a real file.
  void openRealFileThroughAction() {
    const QString path = kShared + QStringLiteral("tinymaix__mnist_dw.h5");
    if (!QFileInfo::exists(path)) QSKIP("../shared/models/keras is not present");
    chooserAnswers_ = {path};
    window_->openModelAction()->trigger();
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join(QLatin1Char('\n'))));
    QCOMPARE(chooserCaptions_.size(), 1);
    QCOMPARE(doc_->modelSource(), path);
    auto direct = loadKerasModel(path.toStdString());
    QVERIFY(direct.ok());
    QCOMPARE(doc_->parameterCount(), static_cast<qint64>(direct->paramCount()));
    QCOMPARE(doc_->model().size(), direct->size());
    QVERIFY(window_->statusBar()->currentMessage().startsWith(QStringLiteral("Opened tinymaix__mnist_dw.h5")));
    QCOMPARE(doc_->trainingBlocker(), QString());  // (28, 28, 1) in, 10 classes out
  }

  // A weights-only file: a second prompt asks for the architecture JSON; both load.
  void weightsOnlyAsksForArchitecture() {
    QTemporaryDir dir;
    const QString weights = writeMlpWeights(dir);
    const QString json = writeText(dir, QStringLiteral("mlp.json"), kMlpJson);
    QCOMPARE(kerasFileKind(weights.toStdString()), KerasFileKind::WeightsOnly);

    chooserAnswers_ = {weights, QString()};  // cancelled at the JSON prompt
    window_->openModelAction()->trigger();
    QCOMPARE(chooserCaptions_.size(), 2);
    QCOMPARE(chooserCaptions_[1], QStringLiteral("Choose the architecture JSON (model.to_json()) for weights.h5"));
    QCOMPARE(doc_->modelSource(), QStringLiteral("builtin:fashion-mlp"));
    QVERIFY(window_->statusBar()->currentMessage().contains(QStringLiteral("holds only weights")));
    QVERIFY(errors_.isEmpty());

    chooserCaptions_.clear();
    chooserAnswers_ = {weights, json};
    window_->openModelAction()->trigger();
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join(QLatin1Char('\n'))));
    QCOMPARE(chooserCaptions_.size(), 2);
    QCOMPARE(doc_->modelSource(), weights);
    QCOMPARE(doc_->parameterCount(), qint64(7850));
    const Param& kernel = *doc_->model().node(2).layer->params()[0];
    QCOMPARE(kernel.value[1], 0.001f * 1 - 0.04f);  // the file's values

    // The real weights-only example and its JSON.
    const QString realWeights = kShared + QStringLiteral("fml_example_models__KERAS_3layer_weights.h5");
    const QString realJson = kShared + QStringLiteral("fml_example_models__KERAS_3layer.json");
    if (!QFileInfo::exists(realWeights)) QSKIP("../shared/models/keras is not present");
    chooserAnswers_ = {realWeights, realJson};
    window_->openModelAction()->trigger();
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join(QLatin1Char('\n'))));
    QCOMPARE(doc_->modelSource(), realWeights);
    auto direct = loadKerasModel(realWeights.toStdString(), realJson.toStdString());
    QVERIFY(direct.ok());
    QCOMPARE(doc_->parameterCount(), static_cast<qint64>(direct->paramCount()));
  }

  // Unsupported layers, a file that is not HDF5: a message, no crash, the model kept.
  void errorsAreShownAndTheModelKept() {
    QTemporaryDir dir;
    const QString bad = writeModelFile(dir, QStringLiteral("bad.h5"), kBadJson, {{"lam", {}}, {"qd", {}}});
    QSignalSpy changed(doc_.get(), &ProjectDocument::modelChanged);
    chooserAnswers_ = {bad};
    window_->openModelAction()->trigger();
    QCOMPARE(errors_.size(), 1);
    const QString& e = errors_[0];
    QVERIFY2(e.startsWith(QStringLiteral("Open Model|") + bad), qPrintable(e));
    QVERIFY2(e.contains(QStringLiteral("Layer 'lam' (Lambda) contains Python code")), qPrintable(e));
    QVERIFY2(e.contains(QStringLiteral("Layers the studio cannot run (2):\n• lam (Lambda)\n• qd (QDense)")), qPrintable(e));
    QCOMPARE(changed.count(), 0);
    QCOMPARE(doc_->modelSource(), QStringLiteral("builtin:fashion-mlp"));

    const QString junk = writeText(dir, QStringLiteral("junk.h5"), "this is not an HDF5 file");
    QCOMPARE(kerasFileKind(junk.toStdString()), KerasFileKind::Other);
    QVERIFY(!window_->openModelFile(junk));
    QCOMPARE(errors_.size(), 2);
    QVERIFY2(errors_[1].contains(junk), qPrintable(errors_[1]));
    QCOMPARE(doc_->modelSource(), QStringLiteral("builtin:fashion-mlp"));

    const QString car = kShared + QStringLiteral("car_behavioral_cloning__model.h5");
    if (!QFileInfo::exists(car)) QSKIP("../shared/models/keras is not present");
    QVERIFY(!window_->openModelFile(car));
    QCOMPARE(errors_.size(), 3);
    QVERIFY2(errors_[2].contains(QStringLiteral("Layer 'lambda_1' (Lambda)")), qPrintable(errors_[2]));
    QCOMPARE(changed.count(), 0);
  }

  // Dropping a .h5 file on the window opens it; other files are not accepted.
  void dropOpensModel() {
    QTemporaryDir dir;
    const QString path = writeMlpModel(dir);
    QMimeData other;
    other.setUrls({QUrl::fromLocalFile(writeText(dir, QStringLiteral("notes.txt"), "x"))});
    QDragEnterEvent refuse(QPoint(10, 10), Qt::CopyAction, &other, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(window_.get(), &refuse);
    QVERIFY(!refuse.isAccepted());

    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(path)});
    QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(window_.get(), &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(window_.get(), &drop);
    QVERIFY(drop.isAccepted());
    QTRY_COMPARE(doc_->modelSource(), path);
    QCOMPARE(doc_->parameterCount(), qint64(7850));
  }

  void cleanup() {
    window_.reset();
    doc_.reset();
  }

 private:
  std::unique_ptr<ProjectDocument> doc_;
  std::unique_ptr<MainWindow> window_;
  std::deque<QString> chooserAnswers_;
  QStringList chooserCaptions_;
  QStringList errors_;
};

QTEST_MAIN(TestOpenModel)
#include "test_open_model.moc"
