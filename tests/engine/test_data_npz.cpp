// .npz reader: zip archives with stored and deflated members (including numpy's zip64
// local headers) built here with zlib, exact values, and the errors for missing arrays,
// corrupt data, truncated archives and non-zip files.
#include <QTemporaryDir>
#include <QtTest>

#include "common/data_files.h"
#include "engine/data/npz_reader.h"

using namespace qat;
using test::Bytes;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// x: (6, 2, 2) float32 with value i * 0.25 − 1; y: six int64 labels.
Bytes xNpy() {
  std::vector<float> v(24);
  for (size_t i = 0; i < v.size(); ++i) v[i] = float(i) * 0.25f - 1.0f;
  return test::npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (6, 2, 2), }", test::rawLE(v));
}
Bytes yNpy() {
  return test::npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (6,), }",
                        test::rawLE<int64_t>({0, 1, 2, 0, 1, 2}));
}

}  // namespace

class TestDataNpz : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::string path(const char* name) const { return dir_.filePath(QString::fromUtf8(name)).toStdString(); }

 private slots:
  void storedAndDeflatedMembers_data() {
    QTest::addColumn<bool>("zip64Local");
    QTest::addRow("plain-zip") << false;
    QTest::addRow("numpy-zip64-local-headers") << true;
  }
  void storedAndDeflatedMembers() {
    QFETCH(bool, zip64Local);
    // x stored, y deflated, plus a deflated test split.
    const Bytes zip = test::makeZip({{"x_train.npy", xNpy(), false, zip64Local},
                                     {"y_train.npy", yNpy(), true, zip64Local},
                                     {"x_test.npy", xNpy(), true, zip64Local}});
    const std::string p = path(zip64Local ? "z64.npz" : "plain.npz");
    QVERIFY(test::writeBytes(p, zip));
    auto z = NpzArchive::open(p);
    QVERIFY2(z.ok(), z.ok() ? "" : z.error().message.c_str());
    QCOMPARE(z->arrayNames(), (std::vector<std::string>{"x_train", "y_train", "x_test"}));
    QCOMPARE(z->entries()[0].method, uint16_t(0));
    QCOMPARE(z->entries()[1].method, uint16_t(8));

    auto d = loadNpzDataset(p, "x_train", "y_train", Normalization::none());
    QVERIFY2(d.ok(), d.ok() ? "" : d.error().message.c_str());
    QCOMPARE(d->x.shape(), (Shape{6, 2, 2}));
    for (size_t i = 0; i < 24; ++i) QCOMPARE(d->x[i], float(i) * 0.25f - 1.0f);
    QCOMPARE(d->labels, (std::vector<int>{0, 1, 2, 0, 1, 2}));
    QCOMPARE(d->numClasses, 3);

    auto xt = z->read("x_test.npy");  // name with the extension works too
    QVERIFY(xt.ok());
    QCOMPARE(xt->values[23], 23 * 0.25f - 1.0f);
  }

  void missingArrayListsNames() {
    const std::string p = path("names.npz");
    QVERIFY(test::writeBytes(p, test::makeZip({{"images.npy", xNpy(), false}, {"classes.npy", yNpy(), true}})));
    auto d = loadNpzDataset(p, "x_train", "y_train", Normalization::none());
    QVERIFY(!d.ok());
    const std::string& m = d.error().message;
    QVERIFY2(contains(m, p), m.c_str());
    QVERIFY2(contains(m, "'x_train'"), m.c_str());
    QVERIFY2(contains(m, "images, classes"), m.c_str());
  }

  void corruptMember() {
    Bytes zip = test::makeZip({{"x.npy", xNpy(), false}, {"y.npy", yNpy(), false}});
    // Flip a byte inside x's float data (stored member): the CRC no longer matches.
    zip[30 + 5 + 128 + 3] ^= 0x40;
    QVERIFY(test::writeBytes(path("crc.npz"), zip));
    auto z = NpzArchive::open(path("crc.npz"));
    QVERIFY(z.ok());
    auto x = z->read("x");
    QVERIFY(!x.ok());
    QVERIFY2(contains(x.error().message, "CRC-32 mismatch"), x.error().message.c_str());
    QVERIFY(z->read("y").ok());

    // Garbage in a deflated member.
    Bytes zz = test::makeZip({{"x.npy", xNpy(), true}});
    for (size_t i = 40; i < 60; ++i) zz[i] = 0xFF;
    QVERIFY(test::writeBytes(path("deflate.npz"), zz));
    auto z2 = NpzArchive::open(path("deflate.npz"));
    QVERIFY(z2.ok());
    auto x2 = z2->read("x");
    QVERIFY(!x2.ok());
    QVERIFY2(contains(x2.error().message, "deflate.npz:x.npy"), x2.error().message.c_str());
  }

  void truncatedAndNotZip() {
    const Bytes zip = test::makeZip({{"x.npy", xNpy(), true}, {"y.npy", yNpy(), true}});
    QVERIFY(test::writeBytes(path("cut.npz"), Bytes(zip.begin(), zip.begin() + long(zip.size() / 2))));
    auto z = NpzArchive::open(path("cut.npz"));
    QVERIFY(!z.ok());
    QVERIFY2(contains(z.error().message, "cut.npz"), z.error().message.c_str());

    QVERIFY(test::writeBytes(path("text.npz"), test::toBytes("x,y\n1,2\n")));
    z = NpzArchive::open(path("text.npz"));
    QVERIFY(!z.ok());
    QVERIFY2(contains(z.error().message, "not an .npz"), z.error().message.c_str());
    QVERIFY(!NpzArchive::open(path("absent.npz")).ok());

    // Directory claims more data than the file has.
    Bytes lying = test::makeZip({{"x.npy", xNpy(), false}});
    const size_t eocd = lying.size() - 22;
    const size_t cd = eocd - (46 + 5);
    lying[cd + 20] = 0xFF;  // compressed size low byte
    lying[cd + 21] = 0xFF;
    QVERIFY(test::writeBytes(path("lying.npz"), lying));
    auto zl = NpzArchive::open(path("lying.npz"));
    QVERIFY(zl.ok());
    auto r = zl->read("x");
    QVERIFY(!r.ok());
    QVERIFY2(contains(r.error().message, "past the end") || contains(r.error().message, "corrupt"),
             r.error().message.c_str());
  }

  void memberThatIsNotNpy() {
    QVERIFY(test::writeBytes(path("odd.npz"), test::makeZip({{"x.npy", test::toBytes("hello"), true}})));
    auto z = NpzArchive::open(path("odd.npz"));
    QVERIFY(z.ok());
    auto r = z->read("x");
    QVERIFY(!r.ok());
    QVERIFY2(contains(r.error().message, "odd.npz:x.npy: not a NumPy"), r.error().message.c_str());
  }
};

QTEST_APPLESS_MAIN(TestDataNpz)
#include "test_data_npz.moc"
