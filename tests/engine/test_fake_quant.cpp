// Fake-quant math: nudged grids against hand-computed values, the fast element loops
// bit for bit against a plain scalar reference (random data and exact .5 ties), the
// straight-through mask at the nudged bounds, range gradients and channel statistics.
#include <QtTest>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/core/rng.h"
#include "engine/quant/quant_kernels.h"
#include "engine/quant/quantizer.h"

// The reference must round like the formula: no fused multiply-add.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

using namespace qat;
using namespace qat::quant;

namespace {

// quantizer.h's formula, literally.
float refFakeQuant(float x, const Grid& g) {
  const float c = std::min(std::max(x, g.nudgedMin), g.nudgedMax);
  return std::floor((c - g.nudgedMin) / g.scale + 0.5f) * g.scale + g.nudgedMin;
}

Grid makeGrid(float lo, float hi, int bits, bool narrow, bool pow2) { return nudgedGrid(lo, hi, bits, narrow, pow2); }

std::vector<float> fq(const std::vector<float>& x, std::span<const Grid> g) {
  std::vector<float> y(x.size());
  fakeQuantForward(x.data(), y.data(), x.size(), g);
  return y;
}

}  // namespace

class TestFakeQuant : public QObject {
  Q_OBJECT
 private slots:
  void nudgedGridHandComputed_data() {
    QTest::addColumn<float>("lo");
    QTest::addColumn<float>("hi");
    QTest::addColumn<int>("bits");
    QTest::addColumn<bool>("narrow");
    QTest::addColumn<bool>("pow2");
    QTest::addColumn<float>("scale");
    QTest::addColumn<int>("zp");
    QTest::addColumn<float>("nudgedMin");
    QTest::addColumn<float>("nudgedMax");
    // scale 3/255, zp = 0 + 1/scale = 85, nudged = (0−85)·s, (255−85)·s
    QTest::addRow("asym8 [-1,2]") << -1.f << 2.f << 8 << false << false << 3.f / 255 << 85 << -1.f << 2.f;
    // ±1 narrow: scale 2/254, zp = 1 + 127 = 128 (int8 = q − 128 in [−127, 127])
    QTest::addRow("sym8 narrow ±1") << -1.f << 1.f << 8 << true << false << 2.f / 254 << 128 << -1.f << 1.f;
    // ±1 not narrow: zp from min = 1/fl(2/255) = 127.4999… in float → 127 (as TensorFlow);
    // this is why symmetric quantizers use tfmot's [−a, a·127/128] range when not narrow.
    QTest::addRow("sym8 ±1") << -1.f << 1.f << 8 << false << false << 2.f / 255 << 127 << -254.f / 255
                             << 256.f / 255;
    // tfmot's symmetric non-narrow range [−1, 127/128]: scale 1/128, zp exactly 128
    QTest::addRow("sym8 tfmot ratio") << -1.f << 127.f / 128 << 8 << false << false << 1.f / 128 << 128 << -1.f
                                      << 127.f / 128;
    // 4 bits: scale 3/15 = 0.2, zp 5
    QTest::addRow("asym4 [-1,2]") << -1.f << 2.f << 4 << false << false << 0.2f << 5 << -1.f << 2.f;
    // zp from min 0.3/(1.3/255) = 58.85 → 59: nudged −59·s, 196·s
    QTest::addRow("zp rounds") << -0.3f << 1.f << 8 << false << false << 1.3f / 255 << 59 << -59 * 1.3f / 255
                               << 196 * 1.3f / 255;
    // widened to contain 0
    QTest::addRow("[0.5,2] -> [0,2]") << 0.5f << 2.f << 8 << false << false << 2.f / 255 << 0 << 0.f << 2.f;
    QTest::addRow("[-3,-1] -> [-3,0]") << -3.f << -1.f << 8 << false << false << 3.f / 255 << 255 << -3.f << 0.f;
    // min == max: tiny positive scale, range 0..0, zp mid-grid
    QTest::addRow("0..0") << 0.f << 0.f << 8 << false << false << 1e-8f << 128 << 0.f << 0.f;
    QTest::addRow("0..0 narrow") << 0.f << 0.f << 8 << true << false << 1e-8f << 128 << 0.f << 0.f;
    // pow2: 3/255 → 2^-6; zp = 1/2^-6 = 64; nudged −64/64, 191/64
    QTest::addRow("pow2 asym8") << -1.f << 2.f << 8 << false << true << 0.015625f << 64 << -1.f << 2.984375f;
    // pow2 4-bit: 0.2 → 0.25, zp 4, nudged −1, 11/4
    QTest::addRow("pow2 asym4") << -1.f << 2.f << 4 << false << true << 0.25f << 4 << -1.f << 2.75f;
    // already a power of two stays: [−1, 1] narrow 2-bit: qmax 3, scale 2/2 = 1, zp 2
    QTest::addRow("pow2 exact") << -1.f << 1.f << 2 << true << true << 1.f << 2 << -1.f << 1.f;
    // 16 bits
    QTest::addRow("asym16") << -1.f << 1.f << 16 << false << false << 2.f / 65535 << 32768 << -32768 * 2.f / 65535
                            << 32767 * 2.f / 65535;
  }
  void nudgedGridHandComputed() {
    QFETCH(float, lo);
    QFETCH(float, hi);
    QFETCH(int, bits);
    QFETCH(bool, narrow);
    QFETCH(bool, pow2);
    QFETCH(float, scale);
    QFETCH(int, zp);
    QFETCH(float, nudgedMin);
    QFETCH(float, nudgedMax);
    const Grid g = nudgedGrid(lo, hi, bits, narrow, pow2);
    QCOMPARE(g.qmin, narrow ? 1 : 0);
    QCOMPARE(g.qmax, (1 << bits) - 1);
    QCOMPARE(g.zeroPoint, zp);
    QVERIFY2(std::abs(g.scale - scale) <= 1e-6f * scale, qPrintable(QString::number(g.scale, 'g', 9)));
    QVERIFY2(std::abs(g.nudgedMin - nudgedMin) <= 1e-6f, qPrintable(QString::number(g.nudgedMin, 'g', 9)));
    QVERIFY2(std::abs(g.nudgedMax - nudgedMax) <= 1e-6f, qPrintable(QString::number(g.nudgedMax, 'g', 9)));
    // Real 0 is on the grid and quantizes to exactly 0.
    const float zero = 0.0f;
    float y = 1.0f;
    fakeQuantForward(&zero, &y, 1, std::span(&g, 1));
    QCOMPARE(y, 0.0f);
  }

  void degenerateAndNonFiniteRangesGiveNoNaN() {
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    for (auto [lo, hi] : std::vector<std::pair<float, float>>{
             {0.f, 0.f}, {1e-44f, 1e-44f}, {0.f, 1e-43f}, {nan, 1.f}, {-inf, inf}, {nan, nan}}) {
      const Grid g = nudgedGrid(lo, hi, 8, false);
      QVERIFY(g.scale > 0 && std::isfinite(g.scale));
      QVERIFY(std::isfinite(g.nudgedMin) && std::isfinite(g.nudgedMax));
      const std::vector<float> x{-3.f, -1e-30f, 0.f, 1e-30f, 5.f};
      for (float v : fq(x, std::span(&g, 1))) QVERIFY(std::isfinite(v));
    }
    // A NaN value stays NaN (a diverged model must stay visible to NaN checks).
    const Grid a = nudgedGrid(-1.f, 1.f, 8, false);
    const auto yn = fq({1.f, nan, 0.5f}, std::span(&a, 1));
    QVERIFY(std::isnan(yn[1]) && !std::isnan(yn[0]) && !std::isnan(yn[2]));
    const Grid z = nudgedGrid(0.f, 0.f, 8, true);
    for (float v : fq({-3.f, 0.f, 2.f, 1e-9f}, std::span(&z, 1))) QCOMPARE(v, 0.0f);
  }

  void forwardHandComputed() {
    // pow2 4-bit grid of [−1, 2]: scale 0.25, nudged [−1, 2.75]; the quotients are exact,
    // so the .5 ties are real ties and round up (floor(t + 0.5)).
    const Grid g = nudgedGrid(-1.f, 2.f, 4, false, true);
    const std::vector<float> x{0.125f, -0.625f, -0.875f, 0.1f, 3.f, -2.f, 2.75f, -1.f, 0.f, 1.3f};
    const std::vector<float> want{0.25f, -0.5f, -0.75f, 0.f, 2.75f, -1.f, 2.75f, -1.f, 0.f, 1.25f};
    const auto y = fq(x, std::span(&g, 1));
    for (size_t i = 0; i < x.size(); ++i) QCOMPARE(y[i], want[i]);
    // Asymmetric 8-bit [−1, 2]: values snap to multiples of 3/255 from −1.
    const Grid a = nudgedGrid(-1.f, 2.f, 8, false);
    const auto ya = fq({0.f, 2.5f, -1.5f, 1.f, 0.0058f, 0.0060f}, std::span(&a, 1));
    QCOMPARE(ya[0], 0.f);
    QCOMPARE(ya[1], a.nudgedMax);
    QCOMPARE(ya[2], a.nudgedMin);
    QVERIFY(std::abs(ya[3] - 1.f) < 1e-6f);
    QCOMPARE(ya[4], 0.f);                          // 0.0058 < s/2 = 0.005882: back to 0
    QVERIFY(std::abs(ya[5] - 3.f / 255) < 1e-6f);  // 0.0060 > s/2: one step up
    // Symmetric narrow 8-bit ±1: 0.25 → 32/127.
    const Grid s = nudgedGrid(-1.f, 1.f, 8, true);
    const auto ys = fq({0.25f, -0.25f, 1.f, -1.f, -7.f}, std::span(&s, 1));
    QVERIFY(std::abs(ys[0] - 32.f / 127) < 1e-6f);
    QVERIFY(std::abs(ys[1] + 32.f / 127) < 1e-6f);
    QCOMPARE(ys[2], s.nudgedMax);
    QCOMPARE(ys[3], s.nudgedMin);
    QCOMPARE(ys[4], s.nudgedMin);
  }

  void perAxisUsesEachChannelsGrid() {
    // (4, 3): channel c of row r is element 3r + c.
    const Grid g[3] = {nudgedGrid(-1.f, 1.f, 8, true, false), nudgedGrid(0.f, 3.75f, 4, false, true),
                       nudgedGrid(-0.5f, 0.25f, 8, false, false)};
    const std::vector<float> x{0.3f, 3.3f, 0.1f, -2.f, 5.f, -0.6f, 0.77f, 0.1f, 0.3f, -0.01f, 1.6f, 0.2f};
    const auto y = fq(x, g);
    QCOMPARE(g[1].scale, 0.25f);  // [0, 3.75] 4-bit: 3.75/15 = 0.25 (already pow2), zp 0
    for (size_t i = 0; i < x.size(); ++i) QCOMPARE(y[i], refFakeQuant(x[i], g[i % 3]));
    QCOMPARE(y[1], 3.25f);  // 3.3/0.25 = 13.2 → 13
    QCOMPARE(y[4], 3.75f);  // clamped to 15·0.25
    QCOMPARE(y[10], 1.5f);  // 6.4 → 6
  }

  void fastMatchesScalarReferenceBitForBit_data() {
    QTest::addColumn<int>("channels");
    QTest::addColumn<int>("bits");
    QTest::addColumn<bool>("narrow");
    QTest::addColumn<bool>("pow2");
    QTest::addRow("per-tensor 8") << 1 << 8 << false << false;
    QTest::addRow("per-tensor 8 narrow") << 1 << 8 << true << false;
    QTest::addRow("per-tensor 4") << 1 << 4 << false << false;
    QTest::addRow("per-tensor 16") << 1 << 16 << false << false;
    QTest::addRow("per-tensor 2 pow2") << 1 << 2 << false << true;
    QTest::addRow("3 channels 8") << 3 << 8 << false << false;
    QTest::addRow("7 channels 5 narrow") << 7 << 5 << true << false;
    QTest::addRow("100 channels 8 pow2") << 100 << 8 << true << true;
    QTest::addRow("130 channels 3") << 130 << 3 << false << false;
  }
  void fastMatchesScalarReferenceBitForBit() {
    QFETCH(int, channels);
    QFETCH(int, bits);
    QFETCH(bool, narrow);
    QFETCH(bool, pow2);
    Rng rng(static_cast<uint64_t>(channels * 100 + bits));
    std::vector<Grid> grids;
    for (int c = 0; c < channels; ++c) {
      const float a = rng.uniform(-3.f, 0.5f), b = rng.uniform(-0.5f, 4.f);
      grids.push_back(makeGrid(std::min(a, b), std::max(a, b), bits, narrow, pow2));
    }
    if (channels > 2) grids[1] = makeGrid(0.f, 0.f, bits, narrow, pow2);  // a degenerate channel
    // Random values (above the threading threshold), then per channel every exact .5
    // tie x = nudgedMin + (k + 0.5)·scale and its float neighbours.
    const size_t C = static_cast<size_t>(channels);
    std::vector<float> x;
    for (size_t i = 0; i < 150007; ++i) {
      const Grid& g = grids[i % C];
      x.push_back(rng.uniform(g.nudgedMin - 0.5f, g.nudgedMax + 0.5f));
    }
    const size_t steps = std::min<size_t>(size_t(1) << bits, 4096);
    int ties = 0;
    for (size_t k = 0; k < steps; ++k)
      for (int d = -2; d <= 2; ++d)
        for (size_t c = 0; c < C; ++c) {
          while (x.size() % C != c) x.push_back(0.0f);
          const Grid& g = grids[c];
          float t = g.nudgedMin + (static_cast<float>(k) + 0.5f) * g.scale;
          for (int s = 0; s < std::abs(d); ++s) t = std::nextafter(t, d < 0 ? -1e30f : 1e30f);
          const float q = (t - g.nudgedMin) / g.scale;
          if (q - std::floor(q) == 0.5f) ++ties;
          x.push_back(t);
        }
    while (x.size() % C) x.push_back(1.0f);
    for (size_t c = 0; c < 2 * C; ++c)  // a row of +inf and one of −inf: clamped to the bounds
      x.push_back(c < C ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity());
    QVERIFY2(ties >= std::min<int>(50, static_cast<int>(steps)), qPrintable(QString::number(ties)));
    const auto y = fq(x, grids);
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const float r = refFakeQuant(x[i], grids[i % C]);
      if (std::bit_cast<uint32_t>(r) != std::bit_cast<uint32_t>(y[i]) && bad++ == 0) first = i;
    }
    QVERIFY2(bad == 0, qPrintable(QStringLiteral("%1 mismatches, first x=%2 fast %3 ref %4")
                                      .arg(bad)
                                      .arg(double(x[first]), 0, 'g', 9)
                                      .arg(double(y[first]), 0, 'g', 9)
                                      .arg(double(refFakeQuant(x[first], grids[first % C])), 0, 'g', 9)));
    // In place (y aliases x) gives the same.
    std::vector<float> inplace = x;
    fakeQuantForward(inplace.data(), inplace.data(), inplace.size(), grids);
    QVERIFY(std::memcmp(inplace.data(), y.data(), y.size() * sizeof(float)) == 0);
  }

  void steMaskAtExactNudgedBounds() {
    const Grid g[2] = {nudgedGrid(-1.f, 2.f, 8, false), nudgedGrid(-0.3f, 1.f, 8, true)};
    std::vector<float> x, want;
    // rows: (at min, at max), (just below min, just above max), (inside, inside)
    for (int row = 0; row < 3; ++row)
      for (int c = 0; c < 2; ++c) {
        const float lo = g[c].nudgedMin, hi = g[c].nudgedMax;
        const float v[3][2] = {{lo, hi}, {std::nextafter(lo, -10.f), std::nextafter(hi, 10.f)}, {0.f, 0.5f}};
        x.push_back(v[row][c]);
        want.push_back(row == 1 ? 0.f : 1.f);
      }
    std::vector<float> dy(x.size());
    for (size_t i = 0; i < dy.size(); ++i) dy[i] = float(i + 1);
    std::vector<float> dx(x.size(), -1.f);
    fakeQuantBackward(x.data(), dy.data(), dx.data(), x.size(), g);
    for (size_t i = 0; i < x.size(); ++i) QCOMPARE(dx[i], want[i] * dy[i]);
    // dx may alias dy
    fakeQuantBackward(x.data(), dy.data(), dy.data(), x.size(), g);
    for (size_t i = 0; i < x.size(); ++i) QCOMPARE(dy[i], dx[i]);
  }

  void rangeGradHandComputed() {
    const Grid g = nudgedGrid(-1.f, 2.f, 8, false);
    const std::vector<float> x{-2.f, -1.5f, 0.f, 3.f, 1.9f, 2.5f};
    const std::vector<float> dy{1.f, 2.f, 4.f, 8.f, 16.f, 32.f};
    float dmin = 10.f, dmax = -1.f;  // accumulated into
    fakeQuantRangeGrad(x.data(), dy.data(), x.size(), std::span(&g, 1), &dmin, &dmax);
    QCOMPARE(dmin, 13.f);
    QCOMPARE(dmax, 39.f);
    // Two channels: element i → channel i % 2.
    const Grid g2[2] = {g, nudgedGrid(0.f, 1.f, 8, false)};
    float dmin2[2] = {0, 0}, dmax2[2] = {0, 0};
    fakeQuantRangeGrad(x.data(), dy.data(), x.size(), g2, dmin2, dmax2);
    QCOMPARE(dmin2[0], 1.f + 0.f);    // x[0] = −2 < −1; x[2], x[4] inside
    QCOMPARE(dmax2[0], 0.f);
    QCOMPARE(dmin2[1], 2.f);          // x[1] = −1.5 < 0
    QCOMPARE(dmax2[1], 8.f + 32.f);   // 3 and 2.5 > 1
  }

  void rangeGradLargeMatchesScalarSums() {
    const size_t C = 5, n = 200000;
    std::vector<Grid> g;
    for (size_t c = 0; c < C; ++c) g.push_back(nudgedGrid(-0.5f - 0.1f * c, 0.5f + 0.2f * c, 8, false));
    Rng rng(9);
    std::vector<float> x(n), dy(n);
    for (size_t i = 0; i < n; ++i) {
      x[i] = rng.uniform(-2.f, 2.f);
      dy[i] = rng.uniform(-1.f, 1.f);
    }
    std::vector<float> dmin(C, 0.f), dmax(C, 0.f);
    fakeQuantRangeGrad(x.data(), dy.data(), n, g, dmin.data(), dmax.data());
    std::vector<double> rmin(C, 0.0), rmax(C, 0.0);
    for (size_t i = 0; i < n; ++i) {
      if (x[i] < g[i % C].nudgedMin) rmin[i % C] += dy[i];
      if (x[i] > g[i % C].nudgedMax) rmax[i % C] += dy[i];
    }
    for (size_t c = 0; c < C; ++c) {
      QVERIFY(std::abs(dmin[c] - rmin[c]) < 1e-3);
      QVERIFY(std::abs(dmax[c] - rmax[c]) < 1e-3);
    }
  }

  void channelMinMaxMatchesNaive_data() {
    QTest::addColumn<int>("channels");
    QTest::addColumn<int>("rows");
    QTest::addRow("1 x 300000") << 1 << 300000;
    QTest::addRow("3 x 100001") << 3 << 100001;
    QTest::addRow("64 x 5") << 64 << 5;
    QTest::addRow("97 x 2000") << 97 << 2000;
  }
  void channelMinMaxMatchesNaive() {
    QFETCH(int, channels);
    QFETCH(int, rows);
    const size_t C = size_t(channels), n = C * size_t(rows);
    Rng rng(4);
    std::vector<float> x(n);
    for (size_t i = 0; i < n; ++i) x[i] = rng.uniform(-1.f, 1.f) * float(1 + i % C);
    std::vector<float> mn(C), mx(C), rmn(C, 1e30f), rmx(C, -1e30f);
    channelMinMax(x.data(), n, C, mn.data(), mx.data());
    for (size_t i = 0; i < n; ++i) {
      rmn[i % C] = std::min(rmn[i % C], x[i]);
      rmx[i % C] = std::max(rmx[i % C], x[i]);
    }
    for (size_t c = 0; c < C; ++c) {
      QCOMPARE(mn[c], rmn[c]);
      QCOMPARE(mx[c], rmx[c]);
    }
    std::vector<double> mean(C);
    channelMeanAbs(x.data(), n, C, mean.data());
    double m0 = 0;
    for (size_t i = 0; i < n; i += C) m0 += std::abs(double(x[i]));
    QVERIFY(std::abs(mean[0] - m0 / rows) < 1e-9);
  }
};

QTEST_APPLESS_MAIN(TestFakeQuant)
#include "test_fake_quant.moc"
