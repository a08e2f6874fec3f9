// The interpreter's rounding modes (RoundingMode in engine/deploy/interpreter.h): their
// arithmetic on hand-worked cases (single rounding against exact arithmetic, ties half to
// even vs away from zero, an FC in Arm NN's float order), the fast kernels bit-identical to
// the scalar reference in every mode (conv, depthwise, FC, every GEMM path), and a frozen
// model run fast and reference in every mode.
#include <QtTest>

#include <cmath>

#include "engine/deploy/freeze.h"
#include "engine/deploy/int_kernels.h"
#include "engine/deploy/int_kernels_float.h"
#include "engine/deploy/interpreter.h"
#include "engine/layers/padding.h"
#include "engine/models/builtin.h"
#include "engine/quant/scheme.h"
#include "engine/train/trainer.h"

using namespace qat;
using namespace qat::deploy;
namespace k = qat::deploy::kernels;

namespace {

std::vector<int8_t> randomInt8(size_t n, Rng& rng, int lo = -128, int hi = 127) {
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(lo + int(rng.uniform(0.0f, 0.9999f) * float(hi - lo + 1)));
  return v;
}

std::vector<k::GemmPath> paths() {
  std::vector<k::GemmPath> p = {k::GemmPath::Auto, k::GemmPath::Outer, k::GemmPath::Int16};
  if (k::vnniAvailable()) p.push_back(k::GemmPath::Vnni);
  return p;
}

}  // namespace

class TestInterpreterRounding : public QObject {
  Q_OBJECT
 private slots:
  // The rounding modes' arithmetic on cases worked out by hand.
  void roundingModesArithmetic() {
    // TfliteSingleRounding = round(x·q31 / 2^(31 − shift)) with ties toward +∞, checked
    // against exact long double arithmetic; somewhere it differs from the double rounding.
    const QuantizedMultiplier m = quantizeMultiplier(0.3137);
    int differ = 0;
    for (int32_t x = -5000; x <= 5000; ++x) {
      const long double exact = static_cast<long double>(x) * m.q31 / std::ldexp(1.0L, 31 - m.shift);
      const int32_t single = k::mulByQuantizedMultiplier(x, m, RoundingMode::TfliteSingleRounding);
      QCOMPARE(single, static_cast<int32_t>(std::floor(exact + 0.5L)));
      differ += single != k::mulByQuantizedMultiplier(x, m, RoundingMode::TfliteReference);
    }
    QVERIFY(differ > 0);
    // A tie: 5 · 0.5 = 2.5. TFLite's SRDHM rounds it up to 3; MLAS (float multiplier) rounds
    // half to even: 2; 7 · 0.5 = 3.5 → 4 both; −5 · 0.5 → −2 (MLAS), −2 (TFLite: SRDHM's
    // ties go toward +∞).
    k::Requant r;
    r.mult = {quantizeMultiplier(0.5)};
    r.multF = {0.5f};
    QCOMPARE(k::requantize(5, r, 0), 3);
    r.mode = RoundingMode::FloatMultiplierHalfEven;
    QCOMPARE(k::requantize(5, r, 0), 2);
    QCOMPARE(k::requantize(7, r, 0), 4);
    QCOMPARE(k::requantize(-5, r, 0), -2);
    r.act = {-10, 100};
    QCOMPARE(k::requantize(-500, r, 0), -10);  // clamped before the conversion
    // Arm NN: round(v / s) + zp, ties away from zero; onnxruntime's QuantizeLinear: ties to
    // even. 0.25f / 0.1f is 2.5 in float (the exact 2.49999996 rounds to it): 3 and 2.
    QCOMPARE(k::quantizeHalfAway(0.25f, 0.1f, 0), 3);
    QCOMPARE(k::quantizeHalfEven(0.25f, 0.1f, 0), 2);
    QCOMPARE(k::quantizeHalfAway(-0.5f, 1.0f, 3), 2);
    QCOMPARE(k::quantizeHalfEven(-0.5f, 1.0f, 3), 3);
    QCOMPARE(k::quantizeHalfAway(1000.0f, 1.0f, 0), 127);
    // A FULLY_CONNECTED of one unit in Arm NN's float arithmetic: x = (10 − 2)·0.5 = 4,
    // (−6 − 2)·0.5 = −4; w = 3·0.25 = 0.75, 1·0.25; sum = 3 − 1 + bias 8·0.125 = 3.0;
    // q = round(3.0 / 0.4) = round(7.5) = 8 (half away), + zp −1 = 7.
    k::ConvShape none;
    const k::DequantConv p = k::makeDequantConv(2, none, 2, 1, {3, 1}, {0.25f}, {8}, {0.125f}, 0.5f, 2, 0.4f, -1, {});
    std::vector<int8_t> x = {10, -6}, y(1);
    k::fullyConnectedDequantRef(1, 2, 1, p, x.data(), y.data());
    QCOMPARE(int(y[0]), 7);
    std::vector<float> scratch;
    k::fullyConnectedDequantFast(1, 2, 1, p, x.data(), y.data(), scratch);
    QCOMPARE(int(y[0]), 7);
  }

  // Every rounding mode: fast kernels bit-identical to the scalar reference (conv, depthwise,
  // FC on random shapes, every GEMM path), and a frozen model fast vs reference.
  void roundingModesFastBitExact() {
    Rng rng(17);
    const RoundingMode modes[] = {RoundingMode::TfliteReference, RoundingMode::TfliteSingleRounding,
                                  RoundingMode::FloatMultiplierHalfEven, RoundingMode::FloatDequantizedHalfAway,
                                  RoundingMode::FloatDequantizedHalfEven};
    for (RoundingMode mode : modes) {
      int checked = 0;
      for (int trial = 0; trial < 16; ++trial) {
        k::ConvShape s;
        s.N = 2;
        s.H = 5 + trial % 4;
        s.W = 6 + trial % 3;
        s.C = 1 + trial % 5 + (trial % 4 == 1 ? 20 : 0);
        s.KH = 1 + trial % 3;
        s.KW = 1 + (trial / 3) % 3;
        s.strideH = 1 + trial % 2;
        s.strideW = 1 + (trial / 2) % 2;
        s.dilationH = s.dilationW = trial % 5 == 0 && s.strideH == 1 && s.strideW == 1 ? 2 : 1;
        s.depthMultiplier = 1 + trial % 2;
        const bool same = trial % 2 == 0;
        const AxisPadding ph = axisPadding(same ? Padding::Same : Padding::Valid, s.H, s.KH, s.strideH, s.dilationH);
        const AxisPadding pw = axisPadding(same ? Padding::Same : Padding::Valid, s.W, s.KW, s.strideW, s.dilationW);
        s.OH = ph.out;
        s.OW = pw.out;
        s.padTop = ph.before;
        s.padLeft = pw.before;
        for (int kind = 0; kind < 3; ++kind) {  // conv, depthwise, FC
          const bool dw = kind == 1, fc = kind == 2;
          s.OC = dw ? s.C * s.depthMultiplier : 3 + trial % 11;
          const int depth = s.KH * s.KW * s.C, rows = 5;
          k::Requant r;
          r.mode = mode;
          r.inputOffset = -int(rng.uniform(-20.0f, 20.0f));
          r.outputOffset = int(rng.uniform(-10.0f, 10.0f));
          r.act = trial % 3 == 0 ? k::ActRange{r.outputOffset - 20, 120} : k::ActRange{};
          const float hiM = trial % 4 == 3 ? 3.0f : 0.02f;
          std::vector<float> wScales;
          for (int c = 0; c < (trial % 2 ? s.OC : 1); ++c) {
            const float m = rng.uniform(0.0005f, hiM);
            r.mult.push_back(quantizeMultiplier(m));
            r.multF.push_back(m);
            wScales.push_back(m * 0.2f);  // s_in · s_w / s_out = 0.05 · 0.2m / 0.01 = m
          }
          const auto x = randomInt8(fc ? size_t(rows) * depth : size_t(s.N) * s.H * s.W * s.C, rng);
          const auto w = randomInt8(size_t(s.OC) * (dw ? s.KH * s.KW : depth), rng, -127, 127);
          std::vector<int32_t> b(size_t(s.OC));
          for (auto& v : b) v = int(rng.uniform(-3000.0f, 3000.0f));
          const size_t outN = fc ? size_t(rows) * s.OC : size_t(s.N) * s.OH * s.OW * s.OC;
          std::vector<int8_t> ref(outN), fast(outN);
          if (mode == RoundingMode::FloatDequantizedHalfAway || mode == RoundingMode::FloatDequantizedHalfEven) {
            k::DequantConv p = k::makeDequantConv(kind, s, depth, s.OC, w, wScales, b, {}, 0.05f, -r.inputOffset,
                                                  0.01f, r.outputOffset, r.act);
            p.halfEven = mode == RoundingMode::FloatDequantizedHalfEven;
            std::vector<float> scratch;
            if (fc) {
              k::fullyConnectedDequantRef(rows, depth, s.OC, p, x.data(), ref.data());
              k::fullyConnectedDequantFast(rows, depth, s.OC, p, x.data(), fast.data(), scratch);
            } else if (dw) {
              k::depthwiseDequantRef(s, p, x.data(), ref.data());
              k::depthwiseDequantFast(s, p, x.data(), fast.data(), scratch);
            } else {
              k::convDequantRef(s, p, x.data(), ref.data());
              k::convDequantFast(s, p, x.data(), fast.data(), scratch);
            }
            QVERIFY2(ref == fast, qPrintable(QStringLiteral("%1 trial %2 kind %3").arg(QLatin1String(roundingModeName(mode))).arg(trial).arg(kind)));
            ++checked;
          } else if (dw) {
            k::depthwiseRef(s, r, x.data(), w.data(), b.data(), ref.data());
            k::depthwiseFast(s, r, x.data(), w.data(), b.data(), fast.data());
            QVERIFY2(ref == fast, qPrintable(QStringLiteral("%1 trial %2 depthwise").arg(QLatin1String(roundingModeName(mode))).arg(trial)));
            ++checked;
          } else {
            k::ConvScratch scratch;
            const auto packed = k::packWeights(w.data(), s.OC, depth);
            if (fc) k::fullyConnectedRef(rows, depth, s.OC, r, x.data(), w.data(), b.data(), ref.data());
            else k::convRef(s, r, x.data(), w.data(), b.data(), ref.data());
            for (k::GemmPath path : paths()) {
              std::fill(fast.begin(), fast.end(), int8_t(0));
              if (fc) k::fullyConnectedFast(rows, depth, s.OC, r, x.data(), packed, b.data(), fast.data(), scratch, path);
              else k::convFast(s, r, x.data(), packed, b.data(), fast.data(), scratch, path);
              QVERIFY2(ref == fast, qPrintable(QStringLiteral("%1 trial %2 kind %3 path %4")
                                                   .arg(QLatin1String(roundingModeName(mode))).arg(trial).arg(kind).arg(int(path))));
              ++checked;
            }
          }
          int distinct = 0;
          for (size_t i = 1; i < ref.size(); ++i) distinct += ref[i] != ref[0];
          QVERIFY2(distinct > 0, qPrintable(QStringLiteral("%1 trial %2 kind %3: all %4")
                                                .arg(QLatin1String(roundingModeName(mode))).arg(trial).arg(kind).arg(int(ref[0]))));
        }
      }
      qInfo("%s: %d fast/reference kernel comparisons bit-identical", roundingModeName(mode), checked);
    }
  }

  // A frozen fashion-cnn in every rounding mode: fast and reference kernels give the same
  // int8 values in every tensor; the modes differ from each other somewhere.
  void roundingModesWholeGraph() {
    auto m = makeBuiltinModel("fashion-cnn", 3);
    QVERIFY(m.ok());
    auto scheme = quant::schemeFromName("default8");
    auto cfg = quant::makeSchemeConfig(*m, *scheme);
    auto q = quant::quantizeModel(*m, cfg->config);
    QVERIFY(q.ok());
    Dataset d;
    Rng rng(12);
    d.x = Tensor(Shape{64, 28, 28, 1});
    for (size_t i = 0; i < d.x.size(); ++i) d.x[i] = rng.uniform(0.0f, 1.0f);
    for (int i = 0; i < 64; ++i) d.labels.push_back(i % 10);
    d.numClasses = 10;
    Trainer t(q->model, TrainConfig{});
    QVERIFY(t.calibrate(d, 2).ok());
    auto g = freezeQuantized(*q);
    QVERIFY2(g.ok(), g.ok() ? "" : g.error().message.c_str());
    std::vector<std::vector<float>> outs;
    const RoundingMode modes[] = {RoundingMode::TfliteReference, RoundingMode::TfliteSingleRounding,
                                  RoundingMode::FloatMultiplierHalfEven, RoundingMode::FloatDequantizedHalfAway,
                                  RoundingMode::FloatDequantizedHalfEven};
    for (RoundingMode mode : modes) {
      auto fast = Interpreter::create(*g, mode);
      auto ref = Interpreter::create(*g, mode);
      QVERIFY(fast.ok() && ref.ok());
      QCOMPARE(fast->roundingMode(), mode);
      ref->setReferenceKernels(true);
      auto yf = fast->run({d.x});
      auto yr = ref->run({d.x});
      QVERIFY(yf.ok() && yr.ok());
      for (size_t tI = 0; tI < g->tensors.size(); ++tI)
        QVERIFY2(fast->int8Values(int(tI)) == ref->int8Values(int(tI)),
                 qPrintable(QString::fromStdString(g->tensors[tI].name) + QLatin1String(" in ") +
                            QLatin1String(roundingModeName(mode))));
      outs.emplace_back((*yf)[0].data(), (*yf)[0].data() + (*yf)[0].size());
    }
    for (size_t i = 1; i < outs.size(); ++i) QVERIFY2(outs[i] != outs[0], roundingModeName(modes[i]));
  }
};

QTEST_APPLESS_MAIN(TestInterpreterRounding)
#include "test_interpreter_rounding.moc"
