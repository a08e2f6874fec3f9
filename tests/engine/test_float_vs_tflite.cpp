// Float inference of imported Keras models against TensorFlow's own conversion of the same
// model, run by an independent runtime.
//
// Each row pairs a Keras .h5 from ../shared/models/keras with the float .tflite its authors
// produced with the TensorFlow Lite converter (../shared/models/README.md). The engine
// imports the .h5 (loadKerasModel) and runs predict(); the .tflite runs in Arm NN 20.08
// (TfLite parser, CpuRef backend) through tests/armnn_runner in a child process, because
// Arm NN can abort the process on graphs it does not handle. Both see the same seeded
// random images in the value range the model was trained on; the outputs (softmax
// probabilities) must agree to 1e-4 of their range.
//
// A second check shows the comparison has teeth: scaling the first convolution kernel by
// 1.01 must move the engine's outputs by more than 10x the tolerance. (With i.i.d. noise
// inputs the cifar10 and mnist_dw softmax outputs saturate to ~one-hot, and then any two
// models agree; hence the smooth, varied-contrast inputs below.)
//
// tinymaix__mbnet96_0.25_f.tflite is skipped, not folded: the converter wrote Reshape's
// target shape as a SHAPE -> STRIDED_SLICE -> PACK subgraph (it depends on the batch
// dimension) and Arm NN 20.08's TfLite parser has no SHAPE operator. Folding that constant
// subgraph would mean rewriting the flatbuffer. The engine still loads and runs the .h5
// first; the skip message carries the runner's own error, and an Arm NN that can parse the
// file makes the row run normally.
#include <QtTest>

#include <QTemporaryDir>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/core/rng.h"
#include "engine/data/npy.h"
#include "engine/io/keras_model.h"
#include "engine/train/trainer.h"
#include "common/armnn_run.h"

using namespace qat;

namespace {

const QString kModels = QStringLiteral(QAT_SHARED_DIR "/models");

// The runner in a child process (tests/common/armnn_run.h), with this test's timeout.
test::ArmnnResult runArmnn(const QStringList& args) { return test::runArmnn(args, 180000); }

// (N, H, W, C) images in [lo, hi], fixed seed. Each sample is a smooth random field (a
// 5x5 grid of uniform values per channel, bilinearly upsampled) times a random contrast,
// plus 10% pixel noise. Plain i.i.d. noise drives these classifiers into saturated softmax
// outputs (top probability 0.98-1.0 for cifar10 and mnist_dw), where any two models agree
// to 1e-4; these inputs keep the top probability mostly between 0.3 and 0.9.
Tensor smoothRandomImages(const Shape& perSample, int n, float lo, float hi, uint64_t seed) {
  Tensor x(perSample.withBatch(n));
  const int h = perSample[0], w = perSample[1], c = perSample[2];
  constexpr int kGrid = 5;
  Rng rng(seed);
  float* p = x.data();
  for (int s = 0; s < n; ++s) {
    const float contrast = rng.uniform(0.2f, 1.0f);
    std::vector<float> grid(static_cast<size_t>(kGrid * kGrid * c));
    for (float& g : grid) g = rng.uniform();
    auto at = [&](int gy, int gx, int ch) { return grid[static_cast<size_t>((gy * kGrid + gx) * c + ch)]; };
    for (int y = 0; y < h; ++y) {
      const float fy = float(y) * (kGrid - 1) / float(std::max(h - 1, 1));
      const int y0 = std::min(int(fy), kGrid - 2);
      const float ay = fy - float(y0);
      for (int xx = 0; xx < w; ++xx) {
        const float fx = float(xx) * (kGrid - 1) / float(std::max(w - 1, 1));
        const int x0 = std::min(int(fx), kGrid - 2);
        const float ax = fx - float(x0);
        for (int ch = 0; ch < c; ++ch) {
          const float smooth = (1 - ay) * ((1 - ax) * at(y0, x0, ch) + ax * at(y0, x0 + 1, ch)) +
                               ay * ((1 - ax) * at(y0 + 1, x0, ch) + ax * at(y0 + 1, x0 + 1, ch));
          const float v = 0.9f * contrast * smooth + 0.1f * rng.uniform();  // in [0, 1]
          *p++ = lo + (hi - lo) * v;
        }
      }
    }
  }
  return x;
}

float maxAbsDiff(const Tensor& a, const Tensor& b) {
  float m = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a.data()[i] - b.data()[i]));
  return m;
}

// The parameter named `name` of the first layer that has one (first conv's "kernel").
Param* firstParam(Model& m, const std::string& name) {
  for (Param* p : m.params())
    if (p->name == name) return p;
  return nullptr;
}

}  // namespace

class TestFloatVsTflite : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
#ifdef QAT_ARMNN_MISSING
    QSKIP("Arm NN was not found when CMake ran: install " QAT_ARMNN_MISSING
          " (packaging/install-deps.sh does) and re-run cmake");
#endif
  }

  void runnerErrors() {
    test::ArmnnResult r = runArmnn({});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(QStringLiteral("usage")), qPrintable(r.err));

    QTemporaryDir dir;
    const QString in = dir.filePath(QStringLiteral("x.npy"));
    QVERIFY(writeNpy(in.toStdString(), Tensor(Shape{2, 4}, 0.5f)).ok());
    r = runArmnn({dir.filePath(QStringLiteral("missing.tflite")), in, dir.filePath(QStringLiteral("y.npy"))});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains(QStringLiteral("missing.tflite")), qPrintable(r.err));

    // Wrong per-sample size for a real model: refused with the model's input shape.
    const QString tfl = kModels + QStringLiteral("/tflite/tinymaix__mnist_valid_f.tflite");
    if (!QFileInfo::exists(tfl)) QSKIP("../shared/models is not present");
    r = runArmnn({tfl, in, dir.filePath(QStringLiteral("y.npy"))});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains(QStringLiteral("(1, 28, 28, 1)")), qPrintable(r.err));
  }

  void floatAgreesWithTflite_data() {
    QTest::addColumn<QString>("h5");
    QTest::addColumn<QString>("tflite");
    QTest::addColumn<float>("lo");  // input value range the model was trained on
    QTest::addColumn<float>("hi");
    QTest::addColumn<QString>("unsupported");  // why Arm NN 20.08 cannot run the .tflite ("" = it can)
    // TinyMaix trains on images scaled to [0, 1] (tools/h5_to_tflite.py norm_type "0to1").
    QTest::newRow("tinymaix cifar10") << QStringLiteral("tinymaix__cifar10.h5")
                                      << QStringLiteral("tinymaix__cifar10_f.tflite") << 0.0f << 1.0f << QString();
    QTest::newRow("tinymaix mnist_dw") << QStringLiteral("tinymaix__mnist_dw.h5")
                                       << QStringLiteral("tinymaix__mnist_dw_f.tflite") << 0.0f << 1.0f << QString();
    QTest::newRow("tinymaix mnist_valid") << QStringLiteral("tinymaix__mnist_valid.h5")
                                          << QStringLiteral("tinymaix__mnist_valid_f.tflite") << 0.0f << 1.0f
                                          << QString();
    QTest::newRow("tinymaix mbnet96_0.25")
        << QStringLiteral("tinymaix__mbnet96_0.25.h5") << QStringLiteral("tinymaix__mbnet96_0.25_f.tflite") << 0.0f
        << 1.0f
        << QStringLiteral("the converter computed Reshape's target shape with SHAPE -> STRIDED_SLICE -> PACK, and the "
                          "Arm NN 20.08 TfLite parser has no SHAPE operator (constant subgraph not folded here)");
    // MLPerf Tiny's ResNet-8 takes raw CIFAR-10 pixels, no scaling (train.py, model_converter.py).
    QTest::newRow("mlcommons resnet8") << QStringLiteral("mlcommons_tiny__pretrainedResnet.h5")
                                       << QStringLiteral("mlcommons_tiny__pretrainedResnet.tflite") << 0.0f << 255.0f
                                       << QString();
  }

  void floatAgreesWithTflite() {
    QFETCH(QString, h5);
    QFETCH(QString, tflite);
    QFETCH(float, lo);
    QFETCH(float, hi);
    QFETCH(QString, unsupported);
    const QString h5Path = kModels + QStringLiteral("/keras/") + h5;
    const QString tflPath = kModels + QStringLiteral("/tflite/") + tflite;
    if (!QFileInfo::exists(h5Path) || !QFileInfo::exists(tflPath))
      QSKIP("../shared/models is not present (QAT_SHARED_DIR)");

    auto loaded = loadKerasModel(h5Path.toStdString());
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().message.c_str());
    Model& model = *loaded;
    QCOMPARE(model.inputs().size(), size_t(1));
    const Shape inShape = model.node(model.inputs()[0]).shape;

    QCOMPARE(inShape.rank(), 3);  // (H, W, C) images
    constexpr int kSamples = 16;
    const Tensor x = smoothRandomImages(inShape, kSamples, lo, hi, 20240601);
    const Tensor ours = predict(model, x, kSamples);

    QTemporaryDir dir;
    const QString inNpy = dir.filePath(QStringLiteral("x.npy"));
    const QString outNpy = dir.filePath(QStringLiteral("y.npy"));
    QVERIFY(writeNpy(inNpy.toStdString(), x).ok());
    const test::ArmnnResult r = runArmnn({tflPath, inNpy, outNpy});
    if (r.exitCode != 0 && !unsupported.isEmpty())
      QSKIP(qPrintable(QStringLiteral("Arm NN 20.08 cannot run %1: %2. Runner said: %3")
                           .arg(tflite, unsupported, r.err.left(300))));
    QVERIFY2(r.exitCode == 0, qPrintable(r.err + QLatin1Char('\n') + r.out));
    auto theirs = readNpy(outNpy.toStdString());
    QVERIFY2(theirs.ok(), theirs.ok() ? "" : theirs.error().message.c_str());
    QCOMPARE(theirs->dim(0), kSamples);
    QCOMPARE(theirs->size(), ours.size());

    const auto [mn, mx] = std::minmax_element(theirs->data(), theirs->data() + theirs->size());
    const float range = *mx - *mn;
    const float tol = 1e-4f * (range > 1e-3f ? range : 1.0f);
    const float diff = maxAbsDiff(ours, *theirs);
    qInfo("%s vs %s: max |engine - Arm NN| = %.3g (output range %.4g, tolerance %.3g); %s", qPrintable(h5),
          qPrintable(tflite), double(diff), double(range), double(tol), qPrintable(r.out));
    QVERIFY2(diff <= tol, qPrintable(QStringLiteral("max |difference| %1 > %2").arg(double(diff)).arg(double(tol))));

    // The comparison must be able to fail: a 1% change of the first kernel shows up.
    Param* kernel = firstParam(model, "kernel");
    QVERIFY(kernel);
    for (size_t i = 0; i < kernel->value.size(); ++i) kernel->value.data()[i] *= 1.01f;
    const float perturbed = maxAbsDiff(predict(model, x, kSamples), *theirs);
    qInfo("  first kernel x1.01: max |difference| = %.3g", double(perturbed));
    QVERIFY2(perturbed > 10 * tol, qPrintable(QStringLiteral("perturbed difference only %1").arg(double(perturbed))));
  }
};

QTEST_APPLESS_MAIN(TestFloatVsTflite)
#include "test_float_vs_tflite.moc"
