// Damaged files never crash a reader: every truncation of a valid .npy, IDX (raw and
// gzip), .npz and CSV file is reported as an error, and seeded random byte corruption
// gives either an error or a result that matches its own header. Meant to be run under
// -DQAT_SANITIZE=ON as well, where an out-of-bounds read fails the test.
#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <random>

#include "common/data_files.h"
#include "engine/data/csv_reader.h"
#include "engine/data/idx_reader.h"
#include "engine/data/image_folder.h"
#include "engine/data/npy.h"
#include "engine/data/npz_reader.h"

using namespace qat;
using test::Bytes;

namespace {

Bytes validNpy() {
  std::vector<float> v(30);
  for (size_t i = 0; i < v.size(); ++i) v[i] = float(i) - 3.5f;
  return test::npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (5, 3, 2), }", test::rawLE(v));
}
Bytes validIdx() {
  Bytes px(4 * 5 * 5);
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t(i * 13);
  return test::idxBytes(0x08, {4, 5, 5}, px);
}
Bytes validNpz() {
  const Bytes y = test::npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }",
                                 test::rawLE<int64_t>({0, 1, 2, 1, 0}));
  return test::makeZip({{"x.npy", validNpy(), true, true}, {"y.npy", y, false, false}});
}

// Flips `flips` random bytes (seeded).
Bytes corrupt(Bytes b, std::mt19937& gen, int flips) {
  for (int i = 0; i < flips; ++i) b[gen() % b.size()] ^= uint8_t(1 + gen() % 255);
  return b;
}

}  // namespace

class TestDataRobustness : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::string path(const char* name) const { return dir_.filePath(QString::fromUtf8(name)).toStdString(); }

 private slots:
  void everyTruncationIsAnError() {
    const Bytes npy = validNpy(), idx = validIdx(), gz = test::gzipBytes(validIdx()), npz = validNpz();
    for (size_t n = 0; n < npy.size(); ++n) {
      auto r = parseNpy(std::span(npy.data(), n), "t.npy");
      QVERIFY2(!r.ok(), qPrintable(QStringLiteral("npy cut at %1 accepted").arg(n)));
    }
    for (size_t n = 0; n < idx.size(); ++n) {
      QVERIFY(test::writeBytes(path("t.idx"), Bytes(idx.begin(), idx.begin() + long(n))));
      QVERIFY2(!readIdxImages(path("t.idx"), Normalization::none()).ok(), qPrintable(QString::number(n)));
    }
    for (size_t n = 0; n < gz.size(); ++n) {
      QVERIFY(test::writeBytes(path("t.gz"), Bytes(gz.begin(), gz.begin() + long(n))));
      QVERIFY2(!readIdxImages(path("t.gz"), Normalization::none()).ok(), qPrintable(QString::number(n)));
    }
    for (size_t n = 0; n < npz.size(); ++n) {
      QVERIFY(test::writeBytes(path("t.npz"), Bytes(npz.begin(), npz.begin() + long(n))));
      auto d = loadNpzDataset(path("t.npz"), "x", "y", Normalization::none());
      QVERIFY2(!d.ok(), qPrintable(QStringLiteral("npz cut at %1 accepted").arg(n)));
    }
    QVERIFY(test::writeBytes(path("t.npz"), npz));
    QVERIFY(loadNpzDataset(path("t.npz"), "x", "y", Normalization::none()).ok());
  }

  void randomCorruptionNeverCrashes() {
    std::mt19937 gen(1234);
    int accepted = 0, rejected = 0;
    const Bytes npy = validNpy(), idx = validIdx(), gz = test::gzipBytes(validIdx()), npz = validNpz();
    for (int it = 0; it < 400; ++it) {
      const int flips = 1 + it % 4;
      auto a = parseNpy(corrupt(npy, gen, flips), "c.npy");
      if (a.ok()) {
        ++accepted;
        QCOMPARE(a->values.size(), a->values.shape().numel());
      } else {
        ++rejected;
      }
      QVERIFY(test::writeBytes(path("c.idx"), corrupt(idx, gen, flips)));
      auto b = readIdxImages(path("c.idx"), Normalization::none());
      b.ok() ? ++accepted : ++rejected;
      QVERIFY(test::writeBytes(path("c.gz"), corrupt(gz, gen, flips)));
      auto c = readIdxImages(path("c.gz"), Normalization::none());
      c.ok() ? ++accepted : ++rejected;
      QVERIFY(test::writeBytes(path("c.npz"), corrupt(npz, gen, flips)));
      auto d = loadNpzDataset(path("c.npz"), "x", "y", Normalization::none());
      if (d.ok()) {
        ++accepted;
        QVERIFY(validateDataset(*d).ok());
      } else {
        ++rejected;
      }
    }
    // Both outcomes happen (pixel bytes may change freely; headers may not).
    QVERIFY(accepted > 0);
    QVERIFY(rejected > 0);
  }

  void corruptPngsNeverCrash() {
    // The PNG signature followed by random bytes: stb must reject every one, with
    // and without a target size (probe path and decode path).
    std::mt19937 gen(99);
    QTemporaryDir t;
    QDir().mkpath(t.filePath(QStringLiteral("r/a")));
    const std::string file = t.filePath(QStringLiteral("r/a/x.png")).toStdString();
    for (int it = 0; it < 100; ++it) {
      Bytes b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
      const size_t extra = gen() % 200;
      for (size_t i = 0; i < extra; ++i) b.push_back(uint8_t(gen()));
      QVERIFY(test::writeBytes(file, b));
      ImageFolderOptions o;
      o.height = o.width = (it % 2) ? 8 : 0;
      auto d = loadImageFolder(t.filePath(QStringLiteral("r")).toStdString(), o);
      QVERIFY(!d.ok());
      QVERIFY(d.error().message.find(file) != std::string::npos);
    }
  }

  void csvGarbageNeverCrashes() {
    std::mt19937 gen(7);
    const std::string alphabet = "0123456789.,;-+e\"\r\n abc";
    for (int it = 0; it < 300; ++it) {
      std::string text;
      const size_t len = gen() % 120;
      for (size_t i = 0; i < len; ++i) text += alphabet[gen() % alphabet.size()];
      QVERIFY(test::writeBytes(path("g.csv"), test::toBytes(text)));
      auto d = loadCsv(path("g.csv"));
      if (d.ok()) QVERIFY(validateDataset(*d).ok());
    }
  }
};

QTEST_APPLESS_MAIN(TestDataRobustness)
#include "test_data_robustness.moc"
