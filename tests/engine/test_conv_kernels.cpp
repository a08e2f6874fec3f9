// Convolution kernels: TF padding arithmetic, and the fast conv2d / depthwise kernels
// against their reference twins on many geometries (odd sizes, strides, dilation,
// same/valid/explicit asymmetric padding, 1x1, depth multiplier 2, fewer images than threads).
#include <QtTest>

#include <cmath>
#include <string>
#include <vector>

#include "engine/core/rng.h"
#include "engine/kernels/conv2d.h"
#include "engine/kernels/depthwise_conv2d.h"
#include "engine/kernels/gemm.h"
#include "engine/kernels/microgemm.h"
#include "engine/kernels/winograd.h"

using namespace qat;

namespace {

struct ConvCase {
  int N, H, W, Cin, KH, KW, Cout, sH, sW, dH, dW;
  int mode;  // 0 valid, 1 same, 2 explicit pads below
  int pt = 0, pb = 0, pl = 0, pr = 0;
};

ConvGeometry geometry(const ConvCase& c) {
  ConvGeometry g;
  g.N = c.N; g.H = c.H; g.W = c.W; g.Cin = c.Cin;
  g.KH = c.KH; g.KW = c.KW; g.Cout = c.Cout;
  g.strideH = c.sH; g.strideW = c.sW; g.dilationH = c.dH; g.dilationW = c.dW;
  if (c.mode == 2) g.setPadding(c.pt, c.pb, c.pl, c.pr);
  else g.setPadding(c.mode == 1 ? Padding::Same : Padding::Valid);
  return g;
}

std::vector<float> randomVec(size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (float& f : v) f = rng.uniform(-1.0f, 1.0f);
  return v;
}

// "" when every element agrees to 1e-4 relative (1e-4 absolute near zero).
std::string compare(const std::vector<float>& got, const std::vector<float>& want,
                    const std::string& what) {
  if (got.size() != want.size()) return what + ": size mismatch";
  for (size_t i = 0; i < got.size(); ++i) {
    const double tol = 1e-4 * std::max(1.0, std::abs(double(want[i])));
    if (!(std::abs(double(got[i]) - want[i]) <= tol))
      return what + "[" + std::to_string(i) + "]: fast " + std::to_string(got[i]) + " ref " +
             std::to_string(want[i]);
  }
  return {};
}

void addCases(bool depthwise) {
  QTest::addColumn<ConvCase>("c");
  // N, H, W, Cin, KH, KW, Cout (depthwise: Cin·mult), sH, sW, dH, dW, mode, pads
  const int m2 = depthwise ? 2 : 1;  // depth multiplier 2 where it says Cin * m2
  QTest::addRow("3x3-same-odd") << ConvCase{2, 7, 5, 3, 3, 3, depthwise ? 3 : 4, 1, 1, 1, 1, 1};
  QTest::addRow("3x3-valid") << ConvCase{2, 6, 6, 2, 3, 3, depthwise ? 2 * m2 : 3, 1, 1, 1, 1, 0};
  QTest::addRow("stride2-same-odd") << ConvCase{3, 9, 7, 3, 3, 3, depthwise ? 6 : 5, 2, 2, 1, 1, 1};
  QTest::addRow("stride2-same-even") << ConvCase{2, 8, 6, 4, 3, 3, depthwise ? 8 : 3, 2, 2, 1, 1, 1};
  QTest::addRow("2x3-stride2-valid") << ConvCase{2, 8, 9, 3, 2, 3, depthwise ? 3 : 4, 2, 2, 1, 1, 0};
  QTest::addRow("stride-1x2") << ConvCase{2, 6, 9, 2, 3, 3, depthwise ? 4 : 3, 1, 2, 1, 1, 1};
  QTest::addRow("dilation2-same") << ConvCase{2, 9, 8, 3, 3, 3, depthwise ? 6 : 4, 1, 1, 2, 2, 1};
  QTest::addRow("dilation2-valid") << ConvCase{1, 9, 10, 2, 3, 2, depthwise ? 2 : 3, 1, 1, 2, 2, 0};
  QTest::addRow("dilation2-stride2") << ConvCase{2, 11, 9, 2, 3, 3, depthwise ? 4 : 3, 2, 2, 2, 2, 1};
  QTest::addRow("4x4-same") << ConvCase{2, 7, 6, 2, 4, 4, depthwise ? 2 : 3, 1, 1, 1, 1, 1};
  QTest::addRow("asymmetric-pads") << ConvCase{2, 5, 6, 3, 3, 2, depthwise ? 6 : 4, 1, 1, 1, 1, 2, 0, 2, 1, 0};
  QTest::addRow("asymmetric-pads-stride2") << ConvCase{2, 7, 7, 2, 3, 3, depthwise ? 2 : 5, 2, 2, 1, 1, 2, 2, 0, 0, 1};
  QTest::addRow("1x1") << ConvCase{2, 5, 4, 6, 1, 1, depthwise ? 12 : 7, 1, 1, 1, 1, 0};
  QTest::addRow("1x1-stride2") << ConvCase{2, 5, 5, 3, 1, 1, depthwise ? 3 : 4, 2, 2, 1, 1, 1};
  QTest::addRow("5x5-cin1") << ConvCase{3, 9, 8, 1, 5, 5, depthwise ? 2 : 6, 1, 1, 1, 1, 1};
  QTest::addRow("single-image") << ConvCase{1, 6, 5, 3, 3, 3, depthwise ? 3 : 4, 1, 1, 1, 1, 1};
  // Big enough to run threaded: one image for two threads, several im2col tiles.
  QTest::addRow("single-image-threaded") << ConvCase{1, 16, 15, 16, 3, 3, depthwise ? 32 : 16, 1, 1, 1, 1, 1};
  QTest::addRow("1x1-threaded") << ConvCase{3, 16, 16, 32, 1, 1, depthwise ? 32 : 24, 1, 1, 1, 1, 0};
  // Winograd F(2x2, 3x3) shapes (3x3, stride 1, channels multiples of 8) and small-K
  // microGemm shapes; under ConvAlgorithm::Im2col they also run the generic path.
  QTest::addRow("winograd-valid-odd") << ConvCase{2, 9, 7, 8, 3, 3, 8, 1, 1, 1, 1, 0};
  QTest::addRow("winograd-same-odd") << ConvCase{3, 7, 9, 16, 3, 3, depthwise ? 32 : 24, 1, 1, 1, 1, 1};
  QTest::addRow("winograd-asym-pads") << ConvCase{2, 6, 5, 8, 3, 3, 24, 1, 1, 1, 1, 2, 0, 2, 1, 0};
  QTest::addRow("winograd-tiny-output") << ConvCase{2, 3, 4, 8, 3, 3, 16, 1, 1, 1, 1, 0};
  QTest::addRow("smallk-cin1-cout32") << ConvCase{3, 10, 9, 1, 3, 3, 32, 1, 1, 1, 1, 1};
  QTest::addRow("smallk-cin3-stride2") << ConvCase{2, 9, 8, 3, 3, 3, depthwise ? 6 : 16, 2, 2, 1, 1, 1};
  QTest::addRow("many-tiles") << ConvCase{5, 14, 13, 32, 3, 3, depthwise ? 64 : 16, 1, 1, 1, 1, 1};
}

}  // namespace

Q_DECLARE_METATYPE(ConvCase)

class TestConvKernels : public QObject {
  Q_OBJECT
 private slots:
  void tfPadding() {
    // same, stride 2, odd input: OH = ceil(7/2) = 4, pad_total = 3·2 + 3 − 7 = 2 -> 1 / 1
    AxisPadding a = axisPadding(Padding::Same, 7, 3, 2);
    QCOMPARE(a.out, 4); QCOMPARE(a.before, 1); QCOMPARE(a.after, 1);
    // even input: pad_total = 3·2 + 3 − 8 = 1 -> the extra row goes to the bottom
    a = axisPadding(Padding::Same, 8, 3, 2);
    QCOMPARE(a.out, 4); QCOMPARE(a.before, 0); QCOMPARE(a.after, 1);
    // even kernel, stride 1: pad_total = 3 -> 1 / 2
    a = axisPadding(Padding::Same, 5, 4, 1);
    QCOMPARE(a.out, 5); QCOMPARE(a.before, 1); QCOMPARE(a.after, 2);
    // dilation 2: effective kernel 5, pad_total 4 -> 2 / 2
    a = axisPadding(Padding::Same, 9, 3, 1, 2);
    QCOMPARE(a.out, 9); QCOMPARE(a.before, 2); QCOMPARE(a.after, 2);
    // stride larger than the kernel: no padding needed
    a = axisPadding(Padding::Same, 5, 1, 3);
    QCOMPARE(a.out, 2); QCOMPARE(a.before, 0); QCOMPARE(a.after, 0);
    // valid: (7 − 3) / 2 + 1 = 3; kernel too large -> 0
    a = axisPadding(Padding::Valid, 7, 3, 2);
    QCOMPARE(a.out, 3); QCOMPARE(a.before, 0);
    QCOMPARE(axisPadding(Padding::Valid, 4, 3, 1, 2).out, 0);
    // explicit padding through the geometry
    ConvGeometry g;
    g.N = 1; g.H = 5; g.W = 6; g.Cin = 1; g.KH = 3; g.KW = 2; g.Cout = 1;
    g.setPadding(0, 2, 1, 0);
    QCOMPARE(g.OH, 5);  // 5 + 2 − 3 + 1
    QCOMPARE(g.OW, 6);  // 6 + 1 − 2 + 1
  }

  // microGemm against the scalar reference GEMM: every row remainder (M mod 6), both
  // column panel widths, A plain and transposed, overwrite and accumulate.
  void microGemmMatchesRef_data() {
    QTest::addColumn<int>("M");
    QTest::addColumn<int>("N");
    QTest::addColumn<int>("K");
    for (int M : {1, 2, 3, 4, 5, 6, 7, 13, 36})
      for (int N : {8, 16, 24, 40, 64}) QTest::addRow("%dx%dx%d", M, N, 9 + M % 4) << M << N << 9 + M % 4;
    QTest::addRow("longK") << 9 << 32 << 500;
  }
  void microGemmMatchesRef() {
    QFETCH(int, M);
    QFETCH(int, N);
    QFETCH(int, K);
    Rng rng(uint64_t(M * 1000 + N * 10 + K));
    const auto a = randomVec(size_t(M) * K, rng), b = randomVec(size_t(K) * N, rng),
               c0 = randomVec(size_t(M) * N, rng);
    for (MicroGemmIsa isa : {MicroGemmIsa::Best, MicroGemmIsa::Avx2})
      for (bool transA : {false, true})
        for (bool acc : {false, true}) {
          // transA: A is stored (K, M) and read as its transpose.
          std::vector<float> want = c0, got = c0;
          sgemmRef(transA, false, M, N, K, 1.0f, a.data(), transA ? M : K, b.data(), N,
                   acc ? 1.0f : 0.0f, want.data(), N);
          if (transA) microGemm(M, N, K, a.data(), 1, M, b.data(), N, got.data(), N, acc, isa);
          else microGemm(M, N, K, a.data(), K, 1, b.data(), N, got.data(), N, acc, isa);
          const std::string err = compare(got, want, transA ? "transA" : "plain");
          QVERIFY2(err.empty(), err.c_str());
        }
  }

  void conv2dFastMatchesRef_data() { addCases(false); }
  void conv2dFastMatchesRef() {
    QFETCH(ConvCase, c);
    for (ConvAlgorithm algo : {ConvAlgorithm::Auto, ConvAlgorithm::Im2col}) {
      checkConv2d(c, algo);
      if (QTest::currentTestFailed()) return;
    }
  }
  void winogradIsPicked() {
    // The layers' Auto choice for the benchmark CNN's second conv is Winograd.
    QVERIFY(winogradApplies(geometry({64, 14, 14, 32, 3, 3, 64, 1, 1, 1, 1, 1})));
    QVERIFY(!winogradApplies(geometry({64, 28, 28, 1, 3, 3, 32, 1, 1, 1, 1, 1})));
    QVERIFY(!winogradApplies(geometry({2, 14, 14, 32, 3, 3, 64, 2, 2, 1, 1, 1})));
  }

 private:
  void checkConv2d(const ConvCase& c, ConvAlgorithm algo) {
    const ConvGeometry g = geometry(c);
    QVERIFY(g.OH > 0 && g.OW > 0);
    Rng rng(uint64_t(c.H * 131 + c.W * 7 + c.Cin));
    const auto x = randomVec(g.inSize(), rng), w = randomVec(g.kernelSize(), rng),
               b = randomVec(size_t(g.Cout), rng), dy = randomVec(g.outSize(), rng);
    const auto dw0 = randomVec(g.kernelSize(), rng), db0 = randomVec(size_t(g.Cout), rng);
    ConvWorkspace ws;
    const std::string tag = algo == ConvAlgorithm::Auto ? "auto " : "im2col ";

    std::vector<float> yRef(g.outSize()), yFast(g.outSize(), 123.0f);
    conv2dForwardRef(g, x.data(), w.data(), b.data(), yRef.data());
    conv2dForward(g, x.data(), w.data(), b.data(), yFast.data(), ws, algo);
    std::string err = compare(yFast, yRef, tag + "forward");
    QVERIFY2(err.empty(), err.c_str());
    conv2dForward(g, x.data(), w.data(), nullptr, yFast.data(), ws, algo);  // no bias
    for (size_t i = 0; i < yRef.size(); ++i) yRef[i] -= b[i % size_t(g.Cout)];
    err = compare(yFast, yRef, tag + "forward-nobias");
    QVERIFY2(err.empty(), err.c_str());

    // Reference gradients; dw/db start non-zero to check accumulation.
    std::vector<float> dxRef(g.inSize()), dwRef = dw0, dbRef = db0;
    conv2dBackwardInputRef(g, dy.data(), w.data(), dxRef.data());
    conv2dBackwardFilterRef(g, x.data(), dy.data(), dwRef.data(), dbRef.data());

    // All gradients in one pass; dx starts as garbage to check it is overwritten.
    std::vector<float> dx(g.inSize(), 123.0f), dw = dw0, db = db0;
    conv2dBackward(g, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(), ws, algo);
    err = compare(dx, dxRef, tag + "dx") + compare(dw, dwRef, tag + "dw") +
          compare(db, dbRef, tag + "db");
    QVERIFY2(err.empty(), err.c_str());
    // Input gradient only, then filter gradient only (different thread splits).
    std::fill(dx.begin(), dx.end(), -7.0f);
    conv2dBackward(g, x.data(), w.data(), dy.data(), dx.data(), nullptr, nullptr, ws, algo);
    err = compare(dx, dxRef, tag + "dx-only");
    QVERIFY2(err.empty(), err.c_str());
    dw = dw0;
    conv2dBackward(g, x.data(), w.data(), dy.data(), nullptr, dw.data(), nullptr, ws, algo);
    err = compare(dw, dwRef, tag + "dw-only");
    QVERIFY2(err.empty(), err.c_str());
  }

 private slots:

  void depthwiseFastMatchesRef_data() { addCases(true); }
  void depthwiseFastMatchesRef() {
    QFETCH(ConvCase, c);
    const ConvGeometry g = geometry(c);
    QVERIFY(g.OH > 0 && g.OW > 0);
    QCOMPARE(g.Cout % g.Cin, 0);
    Rng rng(uint64_t(c.H * 17 + c.W * 3 + c.Cout));
    const size_t wn = size_t(g.KH) * g.KW * g.Cout;
    const auto x = randomVec(g.inSize(), rng), w = randomVec(wn, rng),
               b = randomVec(size_t(g.Cout), rng), dy = randomVec(g.outSize(), rng);
    const auto dw0 = randomVec(wn, rng), db0 = randomVec(size_t(g.Cout), rng);
    ConvWorkspace ws;

    std::vector<float> yRef(g.outSize()), yFast(g.outSize(), 123.0f);
    depthwiseConv2dForwardRef(g, x.data(), w.data(), b.data(), yRef.data());
    depthwiseConv2dForward(g, x.data(), w.data(), b.data(), yFast.data(), ws);
    std::string err = compare(yFast, yRef, "forward");
    QVERIFY2(err.empty(), err.c_str());

    std::vector<float> dxRef(g.inSize()), dwRef = dw0, dbRef = db0;
    depthwiseConv2dBackwardInputRef(g, dy.data(), w.data(), dxRef.data());
    depthwiseConv2dBackwardFilterRef(g, x.data(), dy.data(), dwRef.data(), dbRef.data());
    std::vector<float> dx(g.inSize(), 123.0f), dw = dw0, db = db0;
    depthwiseConv2dBackward(g, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(), ws);
    err = compare(dx, dxRef, "dx") + compare(dw, dwRef, "dw") + compare(db, dbRef, "db");
    QVERIFY2(err.empty(), err.c_str());
    std::fill(dx.begin(), dx.end(), -7.0f);
    depthwiseConv2dBackward(g, x.data(), w.data(), dy.data(), dx.data(), nullptr, nullptr, ws);
    err = compare(dx, dxRef, "dx-only");
    QVERIFY2(err.empty(), err.c_str());
  }

  // A depthwise conv with multiplier 1 is a grouped conv: compare against the dense
  // reference with a block-diagonal HWIO kernel (ties the depthwise reference to the
  // conv2d one, so both references are not wrong in the same way).
  void depthwiseEqualsBlockDiagonalConv() {
    ConvCase c{2, 6, 5, 3, 3, 3, 3, 2, 1, 1, 1, 1};
    ConvGeometry g = geometry(c);
    Rng rng(5);
    const auto x = randomVec(g.inSize(), rng), wd = randomVec(size_t(9 * 3), rng);
    std::vector<float> wFull(g.kernelSize(), 0.0f);
    for (int t = 0; t < 9; ++t)
      for (int ch = 0; ch < 3; ++ch) wFull[(size_t(t) * 3 + ch) * 3 + ch] = wd[size_t(t) * 3 + ch];
    std::vector<float> yd(g.outSize()), yc(g.outSize());
    depthwiseConv2dForwardRef(g, x.data(), wd.data(), nullptr, yd.data());
    conv2dForwardRef(g, x.data(), wFull.data(), nullptr, yc.data());
    const std::string err = compare(yd, yc, "depthwise-vs-conv");
    QVERIFY2(err.empty(), err.c_str());
  }
};

QTEST_APPLESS_MAIN(TestConvKernels)
#include "test_conv_kernels.moc"
