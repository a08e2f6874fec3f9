// Image folder reader: PNGs written here with stb_image_write (Debian libstb), class
// folders sorted by name, exact pixels, grey/RGB conversion, bilinear resizing to a
// target size, and the errors for mixed sizes, corrupt files and bad options.
#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <stb/stb_image_write.h>

#include "common/data_files.h"
#include "engine/data/image_folder.h"
#include "engine/data/resize.h"

using namespace qat;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// w x h image with `comp` channels; pixel (y, x, c) = (seed + 37y + 11x + 71c) % 256.
std::vector<uint8_t> pattern(int w, int h, int comp, int seed) {
  std::vector<uint8_t> p(size_t(w * h * comp));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < comp; ++c) p[size_t((y * w + x) * comp + c)] = uint8_t((seed + 37 * y + 11 * x + 71 * c) % 256);
  return p;
}

bool writePng(const QString& path, int w, int h, int comp, const std::vector<uint8_t>& px) {
  QDir().mkpath(QFileInfo(path).path());
  return stbi_write_png(path.toUtf8().constData(), w, h, comp, px.data(), w * comp) != 0;
}

}  // namespace

class TestDataImages : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString root_;

 private slots:
  void initTestCase() {
    // root/bird (empty), root/cat (2 RGB), root/dog (1 RGB + a text file), root/.cache.
    root_ = dir_.filePath(QStringLiteral("pets"));
    QVERIFY(QDir().mkpath(root_ + QStringLiteral("/bird")));
    QVERIFY(writePng(root_ + QStringLiteral("/cat/b.png"), 4, 3, 3, pattern(4, 3, 3, 5)));
    QVERIFY(writePng(root_ + QStringLiteral("/cat/a.PNG"), 4, 3, 3, pattern(4, 3, 3, 9)));
    QVERIFY(writePng(root_ + QStringLiteral("/dog/z.png"), 4, 3, 3, pattern(4, 3, 3, 100)));
    QVERIFY(writePng(root_ + QStringLiteral("/.cache/x.png"), 9, 9, 3, pattern(9, 9, 3, 1)));
    QVERIFY(test::writeBytes((root_ + QStringLiteral("/dog/notes.txt")).toStdString(), test::toBytes("not an image")));
  }

  void loadsRgbExactly() {
    ImageFolderOptions o;
    o.channels = 3;
    auto d = loadImageFolder(root_.toStdString(), o);
    QVERIFY2(d.ok(), d.ok() ? "" : d.error().message.c_str());
    QCOMPARE(d->classNames, (std::vector<std::string>{"bird", "cat", "dog"}));
    QCOMPARE(d->numClasses, 3);
    QCOMPARE(d->labels, (std::vector<int>{1, 1, 2}));
    QCOMPARE(d->x.shape(), (Shape{3, 3, 4, 3}));
    // Files sorted by name within the class: a.PNG (seed 9), b.png (seed 5), z.png.
    const int seeds[] = {9, 5, 100};
    for (int i = 0; i < 3; ++i) {
      const std::vector<uint8_t> want = pattern(4, 3, 3, seeds[i]);
      for (size_t k = 0; k < want.size(); ++k) QCOMPARE(d->x[size_t(i) * 36 + k], float(want[k]));
    }
    QVERIFY(validateDataset(*d).ok());
  }

  void greyAndScaling() {
    const QString g = dir_.filePath(QStringLiteral("grey"));
    // A grey RGB image (r = g = b) converts to grey without change; a 1-channel PNG
    // read as RGB repeats its value in every channel.
    std::vector<uint8_t> rgb(2 * 2 * 3);
    const uint8_t vals[] = {0, 17, 200, 255};
    for (int i = 0; i < 4; ++i) rgb[size_t(i * 3)] = rgb[size_t(i * 3 + 1)] = rgb[size_t(i * 3 + 2)] = vals[i];
    QVERIFY(writePng(g + QStringLiteral("/a/rgb.png"), 2, 2, 3, rgb));
    QVERIFY(writePng(g + QStringLiteral("/b/one.png"), 2, 2, 1, {0, 17, 200, 255}));
    ImageFolderOptions o;
    o.channels = 1;
    o.norm = Normalization::scale01();
    auto d = loadImageFolder(g.toStdString(), o);
    QVERIFY2(d.ok(), d.ok() ? "" : d.error().message.c_str());
    QCOMPARE(d->x.shape(), (Shape{2, 2, 2, 1}));
    for (int i = 0; i < 4; ++i) {
      QCOMPARE(d->x[size_t(i)], float(vals[i]) / 255.0f);
      QCOMPARE(d->x[size_t(4 + i)], float(vals[i]) / 255.0f);
    }
    o.channels = 3;
    o.norm = Normalization::none();
    auto c = loadImageFolder(g.toStdString(), o);
    QVERIFY(c.ok());
    for (int i = 0; i < 4; ++i)
      for (int k = 0; k < 3; ++k) QCOMPARE(c->x[size_t(12 + i * 3 + k)], float(vals[i]));
  }

  void resizesToTarget() {
    const QString m = dir_.filePath(QStringLiteral("mixed"));
    QVERIFY(writePng(m + QStringLiteral("/a/small.png"), 4, 3, 3, pattern(4, 3, 3, 1)));
    QVERIFY(writePng(m + QStringLiteral("/b/large.png"), 10, 7, 3, pattern(10, 7, 3, 2)));
    ImageFolderOptions o;
    o.height = 5;
    o.width = 6;
    auto d = loadImageFolder(m.toStdString(), o);
    QVERIFY2(d.ok(), d.ok() ? "" : d.error().message.c_str());
    QCOMPARE(d->x.shape(), (Shape{2, 5, 6, 3}));
    // Each must equal resizeBilinear of the native pixels.
    const auto check = [&](int i, int w, int h, int seed) {
      const std::vector<uint8_t> px = pattern(w, h, 3, seed);
      std::vector<float> src(px.begin(), px.end()), want(5 * 6 * 3);
      resizeBilinear(src.data(), h, w, 3, want.data(), 5, 6);
      for (size_t k = 0; k < want.size(); ++k) QCOMPARE(d->x[size_t(i) * 90 + k], want[k]);
    };
    check(0, 4, 3, 1);
    check(1, 10, 7, 2);
    // A single image for prediction, resized the same way.
    auto one = loadImage((m + QStringLiteral("/b/large.png")).toStdString(), 3, 5, 6, Normalization::none());
    QVERIFY(one.ok());
    QCOMPARE(one->shape(), (Shape{1, 5, 6, 3}));
    QCOMPARE(std::memcmp(one->data(), d->x.data() + 90, 90 * sizeof(float)), 0);
  }

  void mixedSizesWithoutTargetIsAnError() {
    const QString m = dir_.filePath(QStringLiteral("mixed2"));
    QVERIFY(writePng(m + QStringLiteral("/a/small.png"), 4, 3, 3, pattern(4, 3, 3, 1)));
    QVERIFY(writePng(m + QStringLiteral("/b/large.png"), 10, 7, 3, pattern(10, 7, 3, 2)));
    auto d = loadImageFolder(m.toStdString(), ImageFolderOptions{});
    QVERIFY(!d.ok());
    const std::string& msg = d.error().message;
    QVERIFY2(contains(msg, "small.png") && contains(msg, "large.png"), msg.c_str());
    QVERIFY2(contains(msg, "4x3") && contains(msg, "10x7"), msg.c_str());
  }

  void corruptImages_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<bool>("withTarget");
    const QByteArray garbage("\x89PNG\r\n\x1a\nthis is not really a png at all", 40);
    QTest::addRow("garbage") << garbage << false;
    QTest::addRow("garbage-target") << garbage << true;
    // A real PNG cut in half: the header parses, the pixel data does not.
    QTemporaryDir t;
    const QString p = t.filePath(QStringLiteral("x.png"));
    QVERIFY(writePng(p, 16, 16, 3, pattern(16, 16, 3, 3)));
    QFile f(p);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray all = f.readAll();
    QTest::addRow("truncated") << all.left(all.size() / 2) << false;
  }
  void corruptImages() {
    QFETCH(QByteArray, bytes);
    QFETCH(bool, withTarget);
    QTemporaryDir t;
    QVERIFY(writePng(t.filePath(QStringLiteral("r/a/good.png")), 16, 16, 3, pattern(16, 16, 3, 3)));
    const std::string bad = t.filePath(QStringLiteral("r/b/broken.png")).toStdString();
    QDir().mkpath(t.filePath(QStringLiteral("r/b")));
    QVERIFY(test::writeBytes(bad, test::Bytes(bytes.begin(), bytes.end())));
    ImageFolderOptions o;
    if (withTarget) o.height = o.width = 8;
    auto d = loadImageFolder(t.filePath(QStringLiteral("r")).toStdString(), o);
    QVERIFY(!d.ok());
    QVERIFY2(contains(d.error().message, bad), d.error().message.c_str());
  }

  void badOptionsAndFolders() {
    ImageFolderOptions o;
    o.channels = 2;
    QVERIFY(!loadImageFolder(root_.toStdString(), o).ok());
    o.channels = 3;
    o.height = 5;  // width missing
    QVERIFY(!loadImageFolder(root_.toStdString(), o).ok());
    auto r = loadImageFolder(dir_.filePath(QStringLiteral("nowhere")).toStdString(), ImageFolderOptions{});
    QVERIFY(!r.ok());
    QVERIFY(contains(r.error().message, "folder not found"));
    const QString flat = dir_.filePath(QStringLiteral("flat"));
    QVERIFY(writePng(flat + QStringLiteral("/img.png"), 2, 2, 3, pattern(2, 2, 3, 0)));
    r = loadImageFolder(flat.toStdString(), ImageFolderOptions{});
    QVERIFY(!r.ok());
    QVERIFY2(contains(r.error().message, "no class folders"), r.error().message.c_str());
    QVERIFY(QDir().mkpath(dir_.filePath(QStringLiteral("emptyclasses/a"))));
    r = loadImageFolder(dir_.filePath(QStringLiteral("emptyclasses")).toStdString(), ImageFolderOptions{});
    QVERIFY(!r.ok());
    QVERIFY2(contains(r.error().message, "no .png"), r.error().message.c_str());
  }
};

QTEST_APPLESS_MAIN(TestDataImages)
#include "test_data_images.moc"
