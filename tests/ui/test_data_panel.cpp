// The data panel through its real widgets: bundled Fashion-MNIST, NPZ with a Keras-style
// validation split, CSV with a test file and standardisation, an image folder (loaded off
// the GUI thread, resized to the model input), and bad files whose error names the file
// while the loaded data is kept. The preview strip shows the samples with the labels of
// the data set. Fixtures are written at run time into a QTemporaryDir.
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <memory>

#include "common/data_files.h"
#include "engine/data/idx_reader.h"
#include "ui/data_panel.h"
#include "ui/project_document.h"
#include "ui/sample_preview.h"

using namespace qat;
using namespace qat::ui;

namespace {

QString writeText(const QTemporaryDir& dir, const QString& name, const QByteArray& text) {
  const QString path = dir.filePath(name);
  QFile f(path);
  QAT_ASSERT(f.open(QIODevice::WriteOnly));
  f.write(text);
  return path;
}

// x (n, 4, 4, 1) float32 with x[i] = i + pixel / 100, y (n) int64 = i % 3.
QString writeNpz(const QTemporaryDir& dir, int n) {
  std::vector<float> x(size_t(n) * 16);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i / 16) + float(i % 16) / 100.0f;
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) y[size_t(i)] = i % 3;
  const std::string shape = std::to_string(n);
  const test::Bytes zip = test::makeZip(
      {{"x.npy", test::npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape + ", 4, 4, 1), }",
                                test::rawLE(x))},
       {"y.npy", test::npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (" + shape + ",), }",
                                test::rawLE(y)),
        true}});
  const QString path = dir.filePath(QStringLiteral("small.npz"));
  QAT_ASSERT(test::writeBytes(path.toStdString(), zip));
  return path;
}

// The form filled in through its widgets, then Load clicked; waits for loadFinished.
bool loadThroughPanel(DataPanel& panel, const char* kind, const QString& train, const QString& test,
                      const QString& normalize, QSignalSpy& spy) {
  panel.kindBox()->setCurrentIndex(panel.kindBox()->findData(QString::fromLatin1(kind)));
  panel.trainPathEdit()->setText(train);
  panel.testPathEdit()->setText(test);
  panel.normalizationBox()->setCurrentIndex(panel.normalizationBox()->findData(normalize));
  const int before = int(spy.count());
  QTest::mouseClick(panel.loadButton(), Qt::LeftButton);
  if (!QTest::qWaitFor([&] { return spy.count() > before; }, 30000)) return false;
  return spy.last().at(0).toBool();
}

}  // namespace

class TestDataPanel : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
  void init();
  void fashionMnistPreviewShowsItsLabels();
  void npzWithValidationSplitIsTheTail();
  void csvWithTestFileIsStandardisedWithTrainingStatistics();
  void imageFolderLoadsOffThreadAtModelSize();
  void badFilesNameTheFileAndKeepTheData();

 private:
  std::unique_ptr<ProjectDocument> doc_;
  std::unique_ptr<DataPanel> panel_;
  std::unique_ptr<QSignalSpy> finished_;
  QTemporaryDir dir_;
};

void TestDataPanel::init() {
  panel_.reset();
  doc_ = std::make_unique<ProjectDocument>();
  QString error;
  QVERIFY2(doc_->newFromBuiltin(QStringLiteral("fashion-mlp"), 42, &error), qPrintable(error));
  panel_ = std::make_unique<DataPanel>(doc_.get());
  panel_->resize(900, 700);
  panel_->show();
  QVERIFY(QTest::qWaitForWindowExposed(panel_.get()));
  finished_ = std::make_unique<QSignalSpy>(panel_.get(), &DataPanel::loadFinished);
  QVERIFY(dir_.isValid());
}

void TestDataPanel::fashionMnistPreviewShowsItsLabels() {
  if (!QDir(ProjectDocument::fashionMnistDir()).exists())
    QSKIP("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)");
  QVERIFY2(loadThroughPanel(*panel_, kDataFashionMnist, {}, {}, QStringLiteral("scale01"), *finished_),
           qPrintable(finished_->last().at(1).toString()));
  const Dataset* train = doc_->trainData();
  QVERIFY(train && doc_->validationData());
  QCOMPARE(train->size(), size_t(60000));
  QCOMPARE(doc_->validationData()->size(), size_t(10000));
  QCOMPARE(doc_->dataRef().kind, std::string(kDataFashionMnist));
  QVERIFY(!panel_->errorLabel()->isVisible());
  QVERIFY2(panel_->summaryLabel()->text().contains(QStringLiteral("60000")), qPrintable(panel_->summaryLabel()->text()));

  // The strip: 12 samples spread over the set, each labelled with its class name and
  // drawn from its own pixels (28 × 28 grey, [0, 1] mapped to the strip's range).
  SampleStrip* strip = panel_->preview();
  QCOMPARE(strip->sampleCount(), strip->maxSamples());
  const auto& names = fashionMnistClassNames();
  QSet<QString> distinct;
  for (int i = 0; i < strip->sampleCount(); ++i) {
    const size_t index = strip->sampleIndex(i);
    QVERIFY(index < train->size());
    QCOMPARE(strip->labelText(i), QString::fromStdString(names[size_t(train->labels[index])]));
    distinct.insert(strip->labelText(i));
    const QImage img = strip->image(i);
    QCOMPARE(img.size(), QSize(28, 28));
    QCOMPARE(img.format(), QImage::Format_Grayscale8);
    // The brightest pixel of the sample is the brightest in the image.
    const float* px = train->x.data() + index * 784;
    const int brightest = int(std::max_element(px, px + 784) - px);
    int maxGray = 0;
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x) maxGray = std::max(maxGray, qGray(img.pixel(x, y)));
    QCOMPARE(qGray(img.pixel(brightest % 28, brightest / 28)), maxGray);
  }
  QVERIFY2(distinct.size() >= 4, "the preview should show several classes");
  // What the user sees; written only when asked for (QAT_UI_SCREENSHOT_DIR).
  const QByteArray shots = qgetenv("QAT_UI_SCREENSHOT_DIR");
  QCoreApplication::processEvents();  // the layout settles to the new summary text
  if (!shots.isEmpty()) QVERIFY(panel_->grab().save(QString::fromLocal8Bit(shots) + QStringLiteral("/data_panel.png")));
  // Saved with the project: it reloads through loadData.
  auto again = loadData(doc_->dataRef(), Shape{28, 28, 1});
  QVERIFY2(again.ok(), again.ok() ? "" : again.error().message.c_str());
  QCOMPARE(again->train->labels, train->labels);
}

void TestDataPanel::npzWithValidationSplitIsTheTail() {
  const QString path = writeNpz(dir_, 20);
  panel_->validationSplitBox()->setValue(0.25);
  QVERIFY2(loadThroughPanel(*panel_, kDataNpz, path, {}, QStringLiteral("none"), *finished_),
           qPrintable(finished_->last().at(1).toString()));
  const Dataset* train = doc_->trainData();
  const Dataset* val = doc_->validationData();
  QVERIFY(train && val);
  QCOMPARE(train->x.shape(), (Shape{15, 4, 4, 1}));
  QCOMPARE(val->x.shape(), (Shape{5, 4, 4, 1}));
  // Keras' validation_split: the last 25 % in file order, no shuffling.
  for (int i = 0; i < 5; ++i) {
    QCOMPARE(val->labels[size_t(i)], (15 + i) % 3);
    QCOMPARE(val->x.data()[size_t(i) * 16 + 3], float(15 + i) + 0.03f);
  }
  for (int i = 0; i < 15; ++i) QCOMPARE(train->labels[size_t(i)], i % 3);
  QCOMPARE(train->x.data()[16 * 7 + 5], 7.0f + 5.0f / 100.0f);  // "none": values untouched
  QCOMPARE(doc_->dataRef().kind, std::string(kDataNpz));
  QCOMPARE(doc_->dataRef().trainPath, "npz:" + path.toStdString());  // a data-source spec
  QCOMPARE(doc_->dataRef().options.value("validation_split", 0.0), 0.25);
  // No class names: the strip shows the label numbers of the samples it picked.
  SampleStrip* strip = panel_->preview();
  QCOMPARE(strip->sampleCount(), 12);
  for (int i = 0; i < strip->sampleCount(); ++i)
    QCOMPARE(strip->labelText(i), QString::number(train->labels[strip->sampleIndex(i)]));
  QCOMPARE(strip->image(0).size(), QSize(4, 4));
}

void TestDataPanel::csvWithTestFileIsStandardisedWithTrainingStatistics() {
  // Two features, class names as labels (sorted: "high" = 0, "low" = 1).
  const QString train = writeText(dir_, QStringLiteral("train.csv"),
                                  "a,b,kind\n1,10,low\n3,10,high\n5,40,high\n7,40,low\n");
  const QString test = writeText(dir_, QStringLiteral("test.csv"), "a,b,kind\n4,25,low\n8,55,high\n");
  QVERIFY2(loadThroughPanel(*panel_, kDataCsv, train, test, QStringLiteral("meanstd"), *finished_),
           qPrintable(finished_->last().at(1).toString()));
  const Dataset* tr = doc_->trainData();
  const Dataset* te = doc_->validationData();
  QVERIFY(tr && te);
  QCOMPARE(tr->x.shape(), (Shape{4, 2}));
  QCOMPARE(te->x.shape(), (Shape{2, 2}));
  QCOMPARE(tr->labels, (std::vector<int>{1, 0, 0, 1}));
  QCOMPARE(te->labels, (std::vector<int>{1, 0}));
  // Training statistics: a mean 4, std sqrt(5); b mean 25, std 15.
  const float sa = std::sqrt(5.0f);
  QVERIFY(std::abs(tr->x.data()[0] - (1 - 4) / sa) < 1e-5f);
  QVERIFY(std::abs(tr->x.data()[1] - (10 - 25) / 15.0f) < 1e-5f);
  // The test file uses the training statistics, not its own.
  QVERIFY(std::abs(te->x.data()[0] - 0.0f) < 1e-5f);
  QVERIFY(std::abs(te->x.data()[2] - (8 - 4) / sa) < 1e-5f);
  QVERIFY(std::abs(te->x.data()[3] - (55 - 25) / 15.0f) < 1e-5f);
  // The statistics are stored, so a reopened project standardises the same way.
  const nlohmann::json& o = doc_->dataRef().options;
  QCOMPARE(o.value("normalize", std::string()), std::string("meanstd"));
  QVERIFY(o.contains("mean") && o.contains("std"));
  QVERIFY(std::abs(o["mean"][0].get<float>() - 4.0f) < 1e-5f);
  QVERIFY(!panel_->validationSplitBox()->isEnabled());  // a test file is the validation data
  SampleStrip* strip = panel_->preview();
  QCOMPARE(strip->sampleCount(), 4);
  QCOMPARE(strip->labelText(0), QStringLiteral("low"));
  QCOMPARE(strip->labelText(1), QStringLiteral("high"));
  QCOMPARE(strip->image(0).size(), QSize(2, 1));  // two features: one row of cells
}

void TestDataPanel::imageFolderLoadsOffThreadAtModelSize() {
  // root/circle/*.png, root/square/*.png; 12 × 10 RGB, resized to the MLP's 28 × 28 × 1.
  const QString root = dir_.filePath(QStringLiteral("shapes"));
  for (const QString& cls : {QStringLiteral("circle"), QStringLiteral("square")}) {
    QVERIFY(QDir().mkpath(root + QLatin1Char('/') + cls));
    for (int i = 0; i < 3; ++i) {
      QImage img(12, 10, QImage::Format_RGB888);
      img.fill(Qt::black);
      QPainter p(&img);
      p.setBrush(Qt::white);
      if (cls == QLatin1String("circle")) p.drawEllipse(2, 1, 7 + i, 7);
      else p.drawRect(2, 1, 6 + i, 6);
      p.end();
      QVERIFY(img.save(QStringLiteral("%1/%2/%3.png").arg(root, cls).arg(i)));
    }
  }
  QVERIFY2(loadThroughPanel(*panel_, kDataImageFolder, root, {}, QStringLiteral("scale01"), *finished_),
           qPrintable(finished_->last().at(1).toString()));
  const Dataset* train = doc_->trainData();
  QVERIFY(train);
  QCOMPARE(train->x.shape(), (Shape{6, 28, 28, 1}));
  QCOMPARE(train->classNames, (std::vector<std::string>{"circle", "square"}));
  QCOMPARE(doc_->validationData(), nullptr);
  SampleStrip* strip = panel_->preview();
  QCOMPARE(strip->sampleCount(), 6);
  for (int i = 0; i < 6; ++i)
    QCOMPARE(strip->labelText(i), i < 3 ? QStringLiteral("circle") : QStringLiteral("square"));
  QCOMPARE(doc_->trainingBlocker(), QString());  // fits the model: a run could start
}

void TestDataPanel::badFilesNameTheFileAndKeepTheData() {
  QVERIFY(loadThroughPanel(*panel_, kDataNpz, writeNpz(dir_, 8), {}, QStringLiteral("none"), *finished_));
  const Dataset* kept = doc_->trainData();
  QSignalSpy dataChanged(doc_.get(), &ProjectDocument::dataChanged);

  // Not a zip file at all.
  const QString corrupt = writeText(dir_, QStringLiteral("corrupt.npz"), "this is not a zip archive, just text\n");
  QVERIFY(!loadThroughPanel(*panel_, kDataNpz, corrupt, {}, QStringLiteral("none"), *finished_));
  QVERIFY(panel_->errorLabel()->isVisible());
  QVERIFY2(panel_->errorLabel()->text().contains(QStringLiteral("corrupt.npz")), qPrintable(panel_->errorLabel()->text()));
  QCOMPARE(finished_->last().at(1).toString(), panel_->errorLabel()->text());
  if (const QByteArray shots = qgetenv("QAT_UI_SCREENSHOT_DIR"); !shots.isEmpty()) {
    QCoreApplication::processEvents();
    QVERIFY(panel_->grab().save(QString::fromLocal8Bit(shots) + QStringLiteral("/data_panel_error.png")));
  }

  // A CSV with a word where a number belongs: the message names file, line and column.
  const QString badCsv = writeText(dir_, QStringLiteral("bad.csv"), "a,b,label\n1,2,0\n3,oops,1\n");
  QVERIFY(!loadThroughPanel(*panel_, kDataCsv, badCsv, {}, QStringLiteral("none"), *finished_));
  QVERIFY2(panel_->errorLabel()->text().contains(QStringLiteral("bad.csv")), qPrintable(panel_->errorLabel()->text()));
  QVERIFY2(panel_->errorLabel()->text().contains(QStringLiteral("oops")), qPrintable(panel_->errorLabel()->text()));

  // A missing file, and a validation split that leaves nothing to train on.
  const QString missing = dir_.filePath(QStringLiteral("nowhere.h5"));
  QVERIFY(!loadThroughPanel(*panel_, kDataHdf5, missing, {}, QStringLiteral("none"), *finished_));
  QVERIFY2(panel_->errorLabel()->text().contains(QStringLiteral("nowhere.h5")), qPrintable(panel_->errorLabel()->text()));
  QVERIFY(!loadThroughPanel(*panel_, kDataNpz, QString(), {}, QStringLiteral("none"), *finished_));
  QVERIFY(!panel_->errorLabel()->text().isEmpty());

  QCOMPARE(dataChanged.count(), 0);
  QCOMPARE(doc_->trainData(), kept);
  QCOMPARE(panel_->preview()->sampleCount(), 8);
  QVERIFY(panel_->loadButton()->isEnabled());
  // A good load clears the error.
  QVERIFY(loadThroughPanel(*panel_, kDataNpz, writeNpz(dir_, 9), {}, QStringLiteral("none"), *finished_));
  QVERIFY(!panel_->errorLabel()->isVisible());
  QCOMPARE(doc_->trainData()->size(), size_t(9));
}

QTEST_MAIN(TestDataPanel)
#include "test_data_panel.moc"
