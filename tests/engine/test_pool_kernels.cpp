// Pooling kernels: fast against reference on many geometries, hand-computed 'same'
// average pooling (divides by the real cells only), global pooling against a full-size
// window of the windowed reference.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "engine/core/rng.h"
#include "engine/kernels/pool2d.h"

using namespace qat;

namespace {

struct PoolCase {
  int N, H, W, C, KH, KW, sH, sW;
  bool same;
};

PoolGeometry geometry(const PoolCase& c) {
  PoolGeometry g;
  g.N = c.N; g.H = c.H; g.W = c.W; g.C = c.C;
  g.KH = c.KH; g.KW = c.KW; g.strideH = c.sH; g.strideW = c.sW;
  g.setPadding(c.same ? Padding::Same : Padding::Valid);
  return g;
}

// Distinct values in random order (no ties for max pooling), in [-1, 1).
std::vector<float> distinctValues(size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = -1.0f + 2.0f * float(i) / float(n);
  std::shuffle(v.begin(), v.end(), rng.engine());
  return v;
}

std::vector<float> randomVec(size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (float& f : v) f = rng.uniform(-1.0f, 1.0f);
  return v;
}

std::string compare(const std::vector<float>& got, const std::vector<float>& want,
                    const std::string& what) {
  if (got.size() != want.size()) return what + ": size mismatch";
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::abs(double(got[i]) - want[i]) <= 1e-5 * std::max(1.0, std::abs(double(want[i])))))
      return what + "[" + std::to_string(i) + "]: fast " + std::to_string(got[i]) + " ref " +
             std::to_string(want[i]);
  return {};
}

}  // namespace

Q_DECLARE_METATYPE(PoolCase)

class TestPoolKernels : public QObject {
  Q_OBJECT
 private slots:
  void fastMatchesRef_data() {
    QTest::addColumn<PoolCase>("c");
    // N, H, W, C, KH, KW, sH, sW, same
    QTest::addRow("2x2-valid-even") << PoolCase{2, 8, 6, 5, 2, 2, 2, 2, false};
    QTest::addRow("2x2-valid-odd") << PoolCase{2, 7, 5, 3, 2, 2, 2, 2, false};
    QTest::addRow("2x2-same-odd") << PoolCase{2, 7, 5, 3, 2, 2, 2, 2, true};
    QTest::addRow("3x3-stride2-same") << PoolCase{3, 9, 8, 4, 3, 3, 2, 2, true};
    QTest::addRow("3x3-stride1-same") << PoolCase{2, 5, 6, 2, 3, 3, 1, 1, true};
    QTest::addRow("3x3-stride2-valid") << PoolCase{2, 9, 7, 3, 3, 3, 2, 2, false};
    QTest::addRow("2x3-stride1x2") << PoolCase{2, 6, 9, 3, 2, 3, 1, 2, true};
    QTest::addRow("stride-larger-than-pool") << PoolCase{2, 7, 7, 2, 2, 2, 3, 3, true};
    QTest::addRow("single-image") << PoolCase{1, 6, 6, 8, 2, 2, 2, 2, false};
    QTest::addRow("cnn-size") << PoolCase{5, 28, 28, 32, 2, 2, 2, 2, false};
  }
  void fastMatchesRef() {
    QFETCH(PoolCase, c);
    const PoolGeometry g = geometry(c);
    QVERIFY(g.OH > 0 && g.OW > 0);
    Rng rng(uint64_t(c.H * 100 + c.W * 10 + c.C));
    const auto x = distinctValues(g.inSize(), rng);
    const auto dy = randomVec(g.outSize(), rng);

    std::vector<float> yRef(g.outSize()), y(g.outSize(), 9.0f);
    std::vector<int32_t> arg(g.outSize(), -5);
    maxPool2dForwardRef(g, x.data(), yRef.data());
    maxPool2dForward(g, x.data(), y.data(), arg.data());
    std::string err = compare(y, yRef, "max forward");
    QVERIFY2(err.empty(), err.c_str());
    std::fill(y.begin(), y.end(), 9.0f);
    maxPool2dForward(g, x.data(), y.data(), nullptr);  // inference path
    err = compare(y, yRef, "max forward (no argmax)");
    QVERIFY2(err.empty(), err.c_str());
    std::vector<float> dxRef(g.inSize()), dx(g.inSize(), 9.0f);
    maxPool2dBackwardRef(g, x.data(), dy.data(), dxRef.data());
    maxPool2dBackward(g, dy.data(), arg.data(), dx.data());
    err = compare(dx, dxRef, "max backward");
    QVERIFY2(err.empty(), err.c_str());
    // The gradient is conserved: every dy lands on exactly one input cell.
    const double sdy = std::accumulate(dy.begin(), dy.end(), 0.0);
    QVERIFY(std::abs(std::accumulate(dx.begin(), dx.end(), 0.0) - sdy) < 1e-3);

    avgPool2dForwardRef(g, x.data(), yRef.data());
    avgPool2dForward(g, x.data(), y.data());
    err = compare(y, yRef, "avg forward");
    QVERIFY2(err.empty(), err.c_str());
    avgPool2dBackwardRef(g, dy.data(), dxRef.data());
    std::fill(dx.begin(), dx.end(), 9.0f);
    avgPool2dBackward(g, dy.data(), dx.data());
    err = compare(dx, dxRef, "avg backward");
    QVERIFY2(err.empty(), err.c_str());
  }

  // 3x3 input, pool 2, stride 2, 'same': OH = OW = 2, pad_total = 1 -> the padding is
  // one row at the bottom and one column at the right.
  void sameAvgPoolHandComputed() {
    PoolGeometry g = geometry({1, 3, 3, 1, 2, 2, 2, 2, true});
    QCOMPARE(g.OH, 2);
    QCOMPARE(g.padTop, 0);
    QCOMPARE(g.padBottom, 1);
    const std::vector<float> x = {1, 2, 3,
                                  4, 5, 6,
                                  7, 8, 9};
    std::vector<float> y(4), yRef(4);
    avgPool2dForward(g, x.data(), y.data());
    avgPool2dForwardRef(g, x.data(), yRef.data());
    const std::vector<float> want = {(1 + 2 + 4 + 5) / 4.0f, (3 + 6) / 2.0f, (7 + 8) / 2.0f, 9.0f};
    for (int i = 0; i < 4; ++i) {
      QCOMPARE(y[size_t(i)], want[size_t(i)]);
      QCOMPARE(yRef[size_t(i)], want[size_t(i)]);
    }
    maxPool2dForward(g, x.data(), y.data(), nullptr);
    QCOMPARE(y, (std::vector<float>{5, 6, 8, 9}));
    // Backward: the bottom-right output is its own cell; the (0,0) window shares dy / 4.
    const std::vector<float> dy = {4, 2, 6, 1};
    std::vector<float> dx(9);
    avgPool2dBackward(g, dy.data(), dx.data());
    QCOMPARE(dx, (std::vector<float>{1, 1, 1, 1, 1, 1, 3, 3, 1}));
  }

  void globalPoolMatchesFullWindow() {
    const int N = 3, H = 5, W = 4, C = 6;
    Rng rng(11);
    const auto x = distinctValues(size_t(N) * H * W * C, rng);
    const auto dy = randomVec(size_t(N) * C, rng);
    PoolGeometry g = geometry({N, H, W, C, H, W, 1, 1, false});
    QCOMPARE(g.OH, 1);
    std::vector<float> y(size_t(N) * C), yRef(size_t(N) * C);
    std::vector<float> dx(x.size(), 9.0f), dxRef(x.size());
    std::vector<int32_t> arg(size_t(N) * C);

    globalAvgPoolForward(N, H * W, C, x.data(), y.data());
    avgPool2dForwardRef(g, x.data(), yRef.data());
    std::string err = compare(y, yRef, "gap forward");
    QVERIFY2(err.empty(), err.c_str());
    globalAvgPoolBackward(N, H * W, C, dy.data(), dx.data());
    avgPool2dBackwardRef(g, dy.data(), dxRef.data());
    err = compare(dx, dxRef, "gap backward");
    QVERIFY2(err.empty(), err.c_str());

    globalMaxPoolForward(N, H * W, C, x.data(), y.data(), arg.data());
    maxPool2dForwardRef(g, x.data(), yRef.data());
    err = compare(y, yRef, "gmp forward");
    QVERIFY2(err.empty(), err.c_str());
    std::fill(dx.begin(), dx.end(), 9.0f);
    globalMaxPoolBackward(N, H * W, C, dy.data(), arg.data(), dx.data());
    maxPool2dBackwardRef(g, x.data(), dy.data(), dxRef.data());
    err = compare(dx, dxRef, "gmp backward");
    QVERIFY2(err.empty(), err.c_str());
  }
};

QTEST_APPLESS_MAIN(TestPoolKernels)
#include "test_pool_kernels.moc"
