// .npy reader and writer: exact round trips, every supported dtype and header version,
// the error for each kind of bad file, atomic writes, and (when numpy is installed) a
// cross-check against files written and read by numpy itself.
#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <limits>

#include "common/data_files.h"
#include "engine/data/npy.h"
#include "engine/data/npz_reader.h"

using namespace qat;
using test::Bytes;


namespace {
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

class TestDataNpy : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::string path(const QString& name) const { return dir_.filePath(name).toStdString(); }

 private slots:
  void writeThenReadIsExact() {
    Tensor t(Shape{2, 3, 4, 1});
    for (size_t i = 0; i < t.size(); ++i) t[i] = std::ldexp(float(i) - 11.3f, int(i % 7) - 3);
    t[5] = -0.0f;
    t[6] = std::numeric_limits<float>::denorm_min();
    t[7] = std::numeric_limits<float>::max();
    const std::string p = path(QStringLiteral("t.npy"));
    QVERIFY(writeNpy(p, t).ok());
    auto r = readNpyArray(p);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    QCOMPARE(r->dtype, std::string("<f4"));
    QVERIFY(!r->isInteger);
    QCOMPARE(r->values.shape(), t.shape());
    QCOMPARE(std::memcmp(r->values.data(), t.data(), t.size() * 4), 0);  // bit for bit
    // numpy layout: magic, version 1.0, data 64-byte aligned, header ends with '\n'.
    const Bytes b = encodeNpy(t);
    QCOMPARE(b[0], uint8_t(0x93));
    QCOMPARE(b[6], uint8_t(1));
    const size_t dataStart = 10 + b[8] + (size_t(b[9]) << 8);
    QCOMPARE(dataStart % 64, size_t(0));
    QCOMPARE(b[dataStart - 1], uint8_t('\n'));
    QCOMPARE(b.size(), dataStart + t.size() * 4);
    const std::string header(b.begin() + 10, b.begin() + long(dataStart));
    QVERIFY2(contains(header, "'shape': (2, 3, 4, 1)"), header.c_str());

    Tensor v(Shape{3});
    v[0] = 1; v[1] = 2; v[2] = 3;
    QVERIFY(writeNpy(path(QStringLiteral("v.npy")), v).ok());
    auto rv = readNpy(path(QStringLiteral("v.npy")));
    QVERIFY(rv.ok());
    QCOMPARE(rv->shape(), (Shape{3}));
    QCOMPARE((*rv)[2], 3.0f);
  }

  void writeIsAtomic() {
    QTemporaryDir d;
    const std::string p = d.filePath(QStringLiteral("y.npy")).toStdString();
    QVERIFY(test::writeBytes(p, test::toBytes("old contents")));
    Tensor t(Shape{4}, 2.5f);
    QVERIFY(writeNpy(p, t).ok());
    QCOMPARE(QDir(d.path()).entryList(QDir::Files), QStringList{QStringLiteral("y.npy")});  // no temp left
    auto r = readNpy(p);
    QVERIFY(r.ok());
    QCOMPARE((*r)[3], 2.5f);
    auto bad = writeNpy(d.filePath(QStringLiteral("no/such/dir/y.npy")).toStdString(), t);
    QVERIFY(!bad.ok());
    QVERIFY2(contains(bad.error().message, "does not exist"), bad.error().message.c_str());
    QVERIFY(!writeNpy(p, Tensor()).ok());
  }

  void dtypes_data() {
    QTest::addColumn<QByteArray>("file");
    QTest::addColumn<bool>("integer");
    QTest::addColumn<std::vector<float>>("want");
    const auto add = [](const char* name, const std::string& descr, const Bytes& payload, int major, bool integer,
                        std::vector<float> want) {
      const std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" +
                               std::to_string(want.size()) + ",), }";
      const Bytes b = test::npyBytes(dict, payload, major);
      QTest::addRow("%s", name) << QByteArray(reinterpret_cast<const char*>(b.data()), qsizetype(b.size()))
                                << integer << want;
    };
    add("f8", "<f8", test::rawLE<double>({0.1, -2.5, 1e30}), 1, false, {0.1f, -2.5f, 1e30f});
    add("u1", "|u1", {0, 128, 255}, 1, true, {0, 128, 255});
    add("i1", "|i1", {0xFF, 0x7F}, 1, true, {-1, 127});
    add("b1", "|b1", {0, 1, 1}, 1, true, {0, 1, 1});
    add("i4", "<i4", test::rawLE<int32_t>({-7, 2147483647}), 1, true, {-7, 2147483648.0f});
    add("i8", "<i8", test::rawLE<int64_t>({9, -3, int64_t(1) << 40}), 1, true, {9, -3, 1099511627776.0f});
    add("u2", "<u2", test::rawLE<uint16_t>({65535, 1}), 1, true, {65535, 1});
    add("u8", "<u8", test::rawLE<uint64_t>({5}), 1, true, {5});
    add("v2-header", "<f4", test::rawLE<float>({1.25f, -3}), 2, false, {1.25f, -3});
    add("v3-header", "<f4", test::rawLE<float>({0.5f}), 3, false, {0.5f});
  }
  void dtypes() {
    QFETCH(QByteArray, file);
    QFETCH(bool, integer);
    QFETCH(std::vector<float>, want);
    auto r = parseNpy(std::span(reinterpret_cast<const uint8_t*>(file.constData()), size_t(file.size())), "mem.npy");
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    QCOMPARE(r->isInteger, integer);
    QCOMPARE(r->values.shape(), (Shape{int(want.size())}));
    for (size_t i = 0; i < want.size(); ++i) QCOMPARE(r->values[i], want[i]);
  }

  void badFiles_data() {
    QTest::addColumn<QByteArray>("file");
    QTest::addColumn<QString>("expect");
    const auto add = [](const char* name, const Bytes& b, const char* expect) {
      QTest::addRow("%s", name) << QByteArray(reinterpret_cast<const char*>(b.data()), qsizetype(b.size()))
                                << QString::fromUtf8(expect);
    };
    const Bytes four = test::rawLE<float>({1, 2, 3, 4});
    add("not-npy", test::toBytes("PK\x03\x04 this is a zip"), "not a NumPy .npy file");
    add("garbled-header", test::npyBytes("{'descr' '<f4', 'fortran_order': False, 'shape': (4,), }", four),
        "malformed NPY header");
    add("garbage-header", test::npyBytes("\x01\x02\x03 hello", four), "malformed NPY header");
    add("missing-shape", test::npyBytes("{'descr': '<f4', 'fortran_order': False}", four), "lacks 'shape'");
    add("bad-shape", test::npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", four),
        "shape entries must be non-negative integers");
    add("fortran", test::npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", four), "Fortran");
    add("big-endian", test::npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", four),
        "big-endian");
    add("truncated", test::npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", four),
        "needs 24 bytes but only 16");
    add("extra-bytes", test::npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", four),
        "4 unexpected bytes");
    add("object", test::npyBytes("{'descr': '|O', 'fortran_order': False, 'shape': (4,), }", four), "not supported");
    add("float16", test::npyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (8,), }", four), "float16");
    add("structured", test::npyBytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,), }", four),
        "structured");
    Bytes v4 = test::npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", four);
    v4[6] = 4;
    add("version-4", v4, "version 4.0");
    Bytes longHeader = test::npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", four);
    longHeader[9] = 0x70;  // header length far beyond the file
    add("header-past-end", longHeader, "truncated");
    add("huge-shape",
        test::npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2000000000, 2000000000, 2000000000), }",
                       four),
        "too large");
  }
  void badFiles() {
    QFETCH(QByteArray, file);
    QFETCH(QString, expect);
    const std::string p = path(QStringLiteral("bad.npy"));
    QVERIFY(test::writeBytes(p, Bytes(file.begin(), file.end())));
    auto r = readNpy(p);
    QVERIFY(!r.ok());
    const std::string& m = r.error().message;
    QVERIFY2(contains(m, p), m.c_str());
    QVERIFY2(contains(m, expect.toStdString()), m.c_str());
  }

  void fortranOrderOfVectorIsFine() {
    // For rank <= 1 both orders are the same bytes.
    const Bytes b = test::npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", test::rawLE<float>({1, 2}));
    QVERIFY(parseNpy(b, "v").ok());
  }

  void labels() {
    QVERIFY(test::writeBytes(path(QStringLiteral("l.npy")),
                             test::npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }",
                                            test::rawLE<int64_t>({3, 0, 1, 3}))));
    auto l = readNpyLabels(path(QStringLiteral("l.npy")));
    QVERIFY(l.ok());
    QCOMPARE(*l, (std::vector<int>{3, 0, 1, 3}));
    QVERIFY(test::writeBytes(path(QStringLiteral("lf.npy")),
                             test::npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 1), }",
                                            test::rawLE<double>({2, 0, 1}))));
    l = readNpyLabels(path(QStringLiteral("lf.npy")));
    QVERIFY(l.ok());
    QCOMPARE(*l, (std::vector<int>{2, 0, 1}));
    QVERIFY(test::writeBytes(path(QStringLiteral("neg.npy")),
                             test::npyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }",
                                            test::rawLE<int32_t>({1, -1}))));
    l = readNpyLabels(path(QStringLiteral("neg.npy")));
    QVERIFY(!l.ok());
    QVERIFY2(contains(l.error().message, "label 1 is -1"), l.error().message.c_str());
  }

  void dataset() {
    const Bytes x = test::npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2, 2), }",
                                   {0, 51, 102, 255, 1, 2, 3, 4, 5, 6, 7, 8});
    QVERIFY(test::writeBytes(path(QStringLiteral("x.npy")), x));
    QVERIFY(test::writeBytes(path(QStringLiteral("y.npy")),
                             test::npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
                                            test::rawLE<int64_t>({1, 0, 1}))));
    auto d = loadNpyDataset(path(QStringLiteral("x.npy")), path(QStringLiteral("y.npy")), Normalization::scale01());
    QVERIFY2(d.ok(), d.ok() ? "" : d.error().message.c_str());
    QCOMPARE(d->x.shape(), (Shape{3, 2, 2}));
    QCOMPARE(d->x[3], 1.0f);
    QCOMPARE(d->x[1], 0.2f);
    QCOMPARE(d->labels, (std::vector<int>{1, 0, 1}));
    QCOMPARE(d->numClasses, 2);
    QVERIFY(!loadNpyDataset(path(QStringLiteral("x.npy")), path(QStringLiteral("l.npy")), Normalization::none()).ok());
  }

  void numpyCrossCheck() {
    const QString python = QStringLiteral("/usr/bin/python3");
    if (!QFileInfo::exists(python)) QSKIP("/usr/bin/python3 is not installed");
    QProcess probe;
    probe.start(python, {QStringLiteral("-c"), QStringLiteral("import numpy")});
    if (!probe.waitForFinished(30000) || probe.exitCode() != 0) QSKIP("numpy is not installed for /usr/bin/python3");

    // numpy writes; we read.
    const QString d = dir_.path();
    const QString script = QStringLiteral(
        "import numpy as np, sys\n"
        "d = sys.argv[1]\n"
        "x = (np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 7.5) / 3\n"
        "np.save(d + '/np_x.npy', x)\n"
        "np.save(d + '/np_y.npy', np.array([2, 0], dtype=np.int64))\n"
        "np.savez(d + '/np_plain.npz', x_train=x, y_train=np.array([1, 1], dtype=np.uint8))\n"
        "np.savez_compressed(d + '/np_comp.npz', a=x.astype(np.float64), b=np.array([3, 4], dtype=np.int32))\n"
        "t = np.load(d + '/ours.npy')\n"
        "assert t.dtype == np.float32 and t.shape == (2, 2), (t.dtype, t.shape)\n"
        "assert (t == np.array([[1.5, -2], [0.25, 1e-3]], dtype=np.float32)).all()\n");
    Tensor ours(Shape{2, 2});
    ours[0] = 1.5f; ours[1] = -2; ours[2] = 0.25f; ours[3] = 1e-3f;
    QVERIFY(writeNpy(path(QStringLiteral("ours.npy")), ours).ok());
    QProcess py;
    py.start(python, {QStringLiteral("-c"), script, d});
    QVERIFY(py.waitForFinished(60000));
    QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());

    const auto expectX = [](const Tensor& t) {
      QCOMPARE(t.shape(), (Shape{2, 3, 4}));
      for (int i = 0; i < 24; ++i) QCOMPARE(t[size_t(i)], (float(i) - 7.5f) / 3.0f);
    };
    auto x = readNpy(path(QStringLiteral("np_x.npy")));
    QVERIFY2(x.ok(), x.ok() ? "" : x.error().message.c_str());
    expectX(*x);
    auto y = readNpyLabels(path(QStringLiteral("np_y.npy")));
    QVERIFY(y.ok());
    QCOMPARE(*y, (std::vector<int>{2, 0}));
    auto plain = loadNpzDataset(path(QStringLiteral("np_plain.npz")), "x_train", "y_train", Normalization::none());
    QVERIFY2(plain.ok(), plain.ok() ? "" : plain.error().message.c_str());
    expectX(plain->x);
    QCOMPARE(plain->labels, (std::vector<int>{1, 1}));
    auto comp = NpzArchive::open(path(QStringLiteral("np_comp.npz")));
    QVERIFY(comp.ok());
    auto a = comp->read("a");
    QVERIFY2(a.ok(), a.ok() ? "" : a.error().message.c_str());
    expectX(a->values);
    auto b = comp->read("b.npy");
    QVERIFY(b.ok() && b->isInteger);
    QCOMPARE(b->values[1], 4.0f);
  }
};

QTEST_APPLESS_MAIN(TestDataNpy)
#include "test_data_npy.moc"
