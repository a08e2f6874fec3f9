// IDX (MNIST format) reader: raw and gzip round trips, truncation and mismatch errors,
// and the real Fashion-MNIST from the dataset-fashion-mnist package when installed.
#include <QTemporaryDir>
#include <QtTest>

#include "common/data_files.h"
#include "engine/data/idx_reader.h"

using namespace qat;
using test::Bytes;

namespace {

// N images of rows x cols with pixel value (i*7 + r*cols + c) % 256.
Bytes imagePayload(int n, int rows, int cols) {
  Bytes b;
  for (int i = 0; i < n; ++i)
    for (int p = 0; p < rows * cols; ++p) b.push_back(uint8_t((i * 7 + p) % 256));
  return b;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

class TestDataIdx : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::string path(const char* name) const { return dir_.filePath(QString::fromUtf8(name)).toStdString(); }

 private slots:
  void roundTrip_data() {
    QTest::addColumn<bool>("gz");
    QTest::addRow("raw") << false;
    QTest::addRow("gzip") << true;
  }
  void roundTrip() {
    QFETCH(bool, gz);
    const Bytes img = test::idxBytes(0x08, {5, 3, 4}, imagePayload(5, 3, 4));
    const Bytes lab = test::idxBytes(0x08, {5}, {3, 0, 9, 1, 3});
    const std::string ip = path(gz ? "img.gz" : "img"), lp = path(gz ? "lab.gz" : "lab");
    QVERIFY(test::writeBytes(ip, gz ? test::gzipBytes(img) : img));
    QVERIFY(test::writeBytes(lp, gz ? test::gzipBytes(lab) : lab));
    auto d = loadIdx(ip, lp, Normalization::none());
    QVERIFY2(d.ok(), d.ok() ? "" : d.error().message.c_str());
    QCOMPARE(d->x.shape(), (Shape{5, 3, 4, 1}));
    for (int i = 0; i < 5; ++i)
      for (int p = 0; p < 12; ++p) QCOMPARE(d->x[size_t(i * 12 + p)], float((i * 7 + p) % 256));
    QCOMPARE(d->labels, (std::vector<int>{3, 0, 9, 1, 3}));
    QCOMPARE(d->numClasses, 10);
    auto scaled = readIdxImages(ip, Normalization::scale01());
    QVERIFY(scaled.ok());
    QCOMPARE((*scaled)[13], 8.0f / 255.0f);
  }

  void otherElementTypes() {
    // Big-endian int16 and float32 payloads.
    Bytes s16 = {0xFF, 0xFE, 0x01, 0x00};  // -2, 256
    QVERIFY(test::writeBytes(path("s16"), test::idxBytes(0x0B, {1, 2}, s16)));
    auto a = readIdxImages(path("s16"), Normalization::none());
    QVERIFY(a.ok());
    QCOMPARE(a->shape(), (Shape{1, 2}));
    QCOMPARE((*a)[0], -2.0f);
    QCOMPARE((*a)[1], 256.0f);
    Bytes f32;
    test::putBE32(f32, 0x3FC00000);  // 1.5f
    QVERIFY(test::writeBytes(path("f32"), test::idxBytes(0x0D, {1, 1, 1}, f32)));
    auto b = readIdxImages(path("f32"), Normalization::none());
    QVERIFY(b.ok());
    QCOMPARE(b->shape(), (Shape{1, 1, 1, 1}));
    QCOMPARE((*b)[0], 1.5f);
  }

  void truncated_data() {
    QTest::addColumn<bool>("gz");
    QTest::addRow("raw") << false;
    QTest::addRow("gzip") << true;
  }
  void truncated() {
    QFETCH(bool, gz);
    Bytes img = test::idxBytes(0x08, {4, 28, 28}, imagePayload(4, 28, 28));
    img.resize(img.size() - 100);  // header promises 3136 bytes, 3036 present
    const std::string p = path(gz ? "trunc.gz" : "trunc");
    QVERIFY(test::writeBytes(p, gz ? test::gzipBytes(img) : img));
    auto r = readIdxImages(p, Normalization::none());
    QVERIFY(!r.ok());
    const std::string& m = r.error().message;
    QVERIFY2(contains(m, p), m.c_str());
    QVERIFY2(contains(m, "3136"), m.c_str());
    QVERIFY2(contains(m, "3036"), m.c_str());
    QVERIFY2(contains(m, "truncated"), m.c_str());
  }

  void truncatedGzipStream() {
    // A complete IDX file whose gzip stream was cut off in transfer.
    Bytes gz = test::gzipBytes(test::idxBytes(0x08, {50, 28, 28}, imagePayload(50, 28, 28)));
    gz.resize(gz.size() / 2);
    QVERIFY(test::writeBytes(path("cut.gz"), gz));
    auto r = readIdxImages(path("cut.gz"), Normalization::none());
    QVERIFY(!r.ok());
    QVERIFY2(contains(r.error().message, path("cut.gz")), r.error().message.c_str());
    QVERIFY2(contains(r.error().message, "truncated"), r.error().message.c_str());
  }

  void trailingBytesAndBadHeaders() {
    Bytes img = test::idxBytes(0x08, {1, 2, 2}, {1, 2, 3, 4, 5});
    QVERIFY(test::writeBytes(path("long"), img));
    auto r = readIdxImages(path("long"), Normalization::none());
    QVERIFY(!r.ok());
    QVERIFY2(contains(r.error().message, "trailing"), r.error().message.c_str());

    QVERIFY(test::writeBytes(path("magic"), {1, 2, 8, 3, 0, 0}));
    r = readIdxImages(path("magic"), Normalization::none());
    QVERIFY(!r.ok());
    QVERIFY(contains(r.error().message, "not an IDX file"));

    QVERIFY(test::writeBytes(path("short"), {0, 0, 8, 3, 0, 0, 0, 1}));
    r = readIdxImages(path("short"), Normalization::none());
    QVERIFY(!r.ok());
    QVERIFY(contains(r.error().message, "header is truncated"));

    QVERIFY(test::writeBytes(path("type"), test::idxBytes(0x07, {1}, {0})));
    auto l = readIdxLabels(path("type"));
    QVERIFY(!l.ok());
    QVERIFY(contains(l.error().message, "0x07"));

    // Images where labels are expected and the other way round.
    QVERIFY(test::writeBytes(path("lab1"), test::idxBytes(0x08, {2}, {1, 2})));
    QVERIFY(!readIdxImages(path("lab1"), Normalization::none()).ok());
    QVERIFY(test::writeBytes(path("img3"), test::idxBytes(0x08, {1, 1, 1}, {1})));
    QVERIFY(!readIdxLabels(path("img3")).ok());

    // Gigantic dimensions must not overflow or allocate.
    QVERIFY(test::writeBytes(path("huge"), test::idxBytes(0x0E, {0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF}, {})));
    QVERIFY(!readIdxImages(path("huge"), Normalization::none()).ok());
  }

  void labelCountMismatch() {
    QVERIFY(test::writeBytes(path("i4"), test::idxBytes(0x08, {4, 2, 2}, imagePayload(4, 2, 2))));
    QVERIFY(test::writeBytes(path("l3"), test::idxBytes(0x08, {3}, {0, 1, 2})));
    auto d = loadIdx(path("i4"), path("l3"), Normalization::none());
    QVERIFY(!d.ok());
    const std::string& m = d.error().message;
    QVERIFY2(contains(m, "3 labels") && contains(m, "4 images"), m.c_str());
  }

  void missingFashionMnistDir() {
    auto d = loadFashionMnist(path("nope"), true, Normalization::none());
    QVERIFY(!d.ok());
    QVERIFY2(contains(d.error().message, "dataset-fashion-mnist"), d.error().message.c_str());
    QVERIFY(!loadIdx(path("missing-images"), path("l3"), Normalization::none()).ok());
  }

  void realFashionMnist() {
    const std::string root = QAT_FASHION_MNIST_DIR;
    if (!QFileInfo(QString::fromStdString(root + "/train-images-idx3-ubyte.gz")).exists())
      QSKIP("dataset-fashion-mnist is not installed");
    auto train = loadFashionMnist(root, true, Normalization::scale01());
    QVERIFY2(train.ok(), train.ok() ? "" : train.error().message.c_str());
    QCOMPARE(train->x.shape(), (Shape{60000, 28, 28, 1}));
    QCOMPARE(train->labels.size(), size_t(60000));
    QCOMPARE(train->labels[0], 9);  // ankle boot
    QCOMPARE(train->classNames[size_t(train->labels[0])], std::string("Ankle boot"));
    QCOMPARE(train->numClasses, 10);
    std::vector<int> counts(10, 0);
    for (int l : train->labels) {
      QVERIFY(l >= 0 && l <= 9);
      ++counts[size_t(l)];
    }
    for (int c : counts) QCOMPARE(c, 6000);  // the training set is balanced
    float lo = 1, hi = 0;
    for (size_t i = 0; i < train->x.size(); ++i) lo = std::min(lo, train->x[i]), hi = std::max(hi, train->x[i]);
    QCOMPARE(lo, 0.0f);
    QCOMPARE(hi, 1.0f);
    QVERIFY(validateDataset(*train).ok());

    auto test = loadFashionMnist(root, false, Normalization::none());
    QVERIFY2(test.ok(), test.ok() ? "" : test.error().message.c_str());
    QCOMPARE(test->x.shape(), (Shape{10000, 28, 28, 1}));
    QCOMPARE(test->labels.size(), size_t(10000));
    QCOMPARE(test->labels[0], 9);
  }
};

QTEST_APPLESS_MAIN(TestDataIdx)
#include "test_data_idx.moc"
