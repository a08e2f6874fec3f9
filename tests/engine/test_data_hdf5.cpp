// HDF5 data set reader: files written here with the HDF5 C API (float, double, uint8
// and int64 data sets, nested groups), exact values, and the errors for a missing data
// set (listing the available ones), non-numeric data and non-HDF5 files.
#include <QTemporaryDir>
#include <QtTest>

#include <hdf5/serial/hdf5.h>

#include "common/data_files.h"
#include "engine/data/hdf5_reader.h"

using namespace qat;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Writes one data set of native type `type` with `dims` at `name` (groups must exist).
bool writeDataset(hid_t file, const char* name, hid_t type, const std::vector<hsize_t>& dims, const void* data) {
  const hid_t space = H5Screate_simple(int(dims.size()), dims.data(), nullptr);
  const hid_t ds = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const bool ok = ds >= 0 && H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0;
  if (ds >= 0) H5Dclose(ds);
  H5Sclose(space);
  return ok;
}

}  // namespace

class TestDataHdf5 : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::string file_;

 private slots:
  void initTestCase() {
    file_ = dir_.filePath(QStringLiteral("data.h5")).toStdString();
    const hid_t f = H5Fcreate(file_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    QVERIFY(f >= 0);
    std::vector<float> x(4 * 3 * 2 * 1);
    for (size_t i = 0; i < x.size(); ++i) x[i] = float(i) / 8.0f - 1.0f;
    QVERIFY(writeDataset(f, "x_train", H5T_NATIVE_FLOAT, {4, 3, 2, 1}, x.data()));
    const std::vector<int64_t> y = {2, 0, 1, 2};
    QVERIFY(writeDataset(f, "y_train", H5T_NATIVE_INT64, {4}, y.data()));
    const std::vector<double> targets = {0.5, -1.25, 3.0, 1e-3, 7, 8, 9, 10};
    QVERIFY(writeDataset(f, "targets", H5T_NATIVE_DOUBLE, {4, 2}, targets.data()));
    const hid_t g = H5Gcreate2(f, "images", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    QVERIFY(g >= 0);
    H5Gclose(g);
    const std::vector<uint8_t> pix = {0, 255, 51, 102};
    QVERIFY(writeDataset(f, "images/pixels", H5T_NATIVE_UINT8, {4, 1}, pix.data()));
    // A string data set: not numeric.
    const hid_t str = H5Tcopy(H5T_C_S1);
    H5Tset_size(str, 4);
    const char names[2][4] = {{'a', 'b', 'c', 0}, {'d', 'e', 'f', 0}};
    QVERIFY(writeDataset(f, "names", str, {2}, names));
    H5Tclose(str);
    H5Fclose(f);
  }

  void listsDatasets() {
    auto names = listHdf5Datasets(file_);
    QVERIFY2(names.ok(), names.ok() ? "" : names.error().message.c_str());
    QCOMPARE(*names, (std::vector<std::string>{"images/pixels", "names", "targets", "x_train", "y_train"}));
  }

  void loadsClassification() {
    auto d = loadHdf5Dataset(file_, "x_train", "/y_train", Normalization::none());
    QVERIFY2(d.ok(), d.ok() ? "" : d.error().message.c_str());
    QCOMPARE(d->x.shape(), (Shape{4, 3, 2, 1}));
    for (size_t i = 0; i < 24; ++i) QCOMPARE(d->x[i], float(i) / 8.0f - 1.0f);
    QCOMPARE(d->labels, (std::vector<int>{2, 0, 1, 2}));
    QCOMPARE(d->numClasses, 3);
  }

  void loadsRegressionAndUint8() {
    auto d = loadHdf5Dataset(file_, "/images/pixels", "targets", Normalization::scale01());
    QVERIFY2(d.ok(), d.ok() ? "" : d.error().message.c_str());
    QCOMPARE(d->x.shape(), (Shape{4, 1}));
    QCOMPARE(d->x[1], 1.0f);
    QCOMPARE(d->x[2], 0.2f);
    QVERIFY(d->labels.empty());
    QCOMPARE(d->targets.shape(), (Shape{4, 2}));
    QCOMPARE(d->targets[1], -1.25f);
    QCOMPARE(d->targets[3], 1e-3f);
    auto a = readHdf5Array(file_, "images/pixels");
    QVERIFY(a.ok());
    QVERIFY(a->isInteger);
    QCOMPARE(a->dtype, std::string("uint8"));
  }

  void missingDatasetListsNames() {
    auto d = loadHdf5Dataset(file_, "x_train", "y_test", Normalization::none());
    QVERIFY(!d.ok());
    const std::string& m = d.error().message;
    QVERIFY2(contains(m, file_), m.c_str());
    QVERIFY2(contains(m, "'y_test'"), m.c_str());
    QVERIFY2(contains(m, "images/pixels, names, targets, x_train, y_train"), m.c_str());
  }

  void rejectsNonNumericAndMismatch() {
    auto s = readHdf5Array(file_, "names");
    QVERIFY(!s.ok());
    QVERIFY2(contains(s.error().message, "not numbers"), s.error().message.c_str());
    // x has 4 samples, pixels has 4 rows but two columns of float targets are fine;
    // a count mismatch is not.
    const std::string other = dir_.filePath(QStringLiteral("mismatch.h5")).toStdString();
    const hid_t f = H5Fcreate(other.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const std::vector<float> x(6, 1.0f);
    const std::vector<int32_t> y = {0, 1};
    QVERIFY(writeDataset(f, "x", H5T_NATIVE_FLOAT, {3, 2}, x.data()));
    QVERIFY(writeDataset(f, "y", H5T_NATIVE_INT32, {2}, y.data()));
    H5Fclose(f);
    auto d = loadHdf5Dataset(other, "x", "y", Normalization::none());
    QVERIFY(!d.ok());
    QVERIFY2(contains(d.error().message, "x has 3 samples but y has 2"), d.error().message.c_str());
  }

  void notAnHdf5File() {
    const std::string p = dir_.filePath(QStringLiteral("fake.h5")).toStdString();
    QVERIFY(test::writeBytes(p, test::toBytes("this is not hdf5 at all")));
    auto d = loadHdf5Dataset(p, "x", "y", Normalization::none());
    QVERIFY(!d.ok());
    QVERIFY2(contains(d.error().message, "not an HDF5 file"), d.error().message.c_str());
    auto m = listHdf5Datasets(dir_.filePath(QStringLiteral("absent.h5")).toStdString());
    QVERIFY(!m.ok());
    QVERIFY(contains(m.error().message, "not found"));
    // Truncated HDF5 file.
    QFile src(QString::fromStdString(file_));
    QVERIFY(src.open(QIODevice::ReadOnly));
    const QByteArray all = src.readAll();
    const std::string cut = dir_.filePath(QStringLiteral("cut.h5")).toStdString();
    QVERIFY(test::writeBytes(cut, test::Bytes(all.begin(), all.begin() + all.size() / 3)));
    auto c = loadHdf5Dataset(cut, "x_train", "y_train", Normalization::none());
    QVERIFY(!c.ok());
    QVERIFY2(contains(c.error().message, cut), c.error().message.c_str());
  }
};

QTEST_APPLESS_MAIN(TestDataHdf5)
#include "test_data_hdf5.moc"
