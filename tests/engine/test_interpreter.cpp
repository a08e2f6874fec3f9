// The integer interpreter: TFLite's fixed-point helpers (QuantizeMultiplier edge cases,
// double rounding), one small hand-computed graph per kernel (expected values worked out
// in real arithmetic in the comments, chosen away from rounding ties unless the tie is
// the point), fast kernels bit-exact against the scalar reference, and a frozen
// fashion-cnn evaluated fast, reference and multi-threaded with identical results.
#include <QtTest>

#include <chrono>
#include <cmath>
#include <cstring>

#include "engine/core/threading.h"
#include "engine/deploy/freeze.h"
#include "engine/deploy/int_kernels.h"
#include "engine/deploy/interpreter.h"
#include "engine/layers/padding.h"
#include "engine/models/builtin.h"
#include "engine/quant/scheme.h"
#include "engine/train/trainer.h"

using namespace qat;
using namespace qat::deploy;
namespace k = qat::deploy::kernels;

namespace {

GraphTensor act(const std::string& name, std::vector<int> shape, float scale, int64_t zp) {
  GraphTensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.type = ElementType::Int8;
  t.quant.scale = {scale};
  t.quant.zeroPoint = {zp};
  return t;
}

GraphTensor constI8(const std::string& name, std::vector<int> shape, const std::vector<int8_t>& v,
                    std::vector<float> scales, int qdim = 0) {
  GraphTensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.type = ElementType::Int8;
  t.data.assign(reinterpret_cast<const uint8_t*>(v.data()), reinterpret_cast<const uint8_t*>(v.data()) + v.size());
  t.quant.zeroPoint.assign(scales.size(), 0);
  t.quant.scale = std::move(scales);
  t.quant.quantizedDimension = qdim;
  return t;
}

GraphTensor constI32(const std::string& name, std::vector<int> shape, const std::vector<int32_t>& v) {
  GraphTensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.type = ElementType::Int32;
  t.data.resize(v.size() * 4);
  std::memcpy(t.data.data(), v.data(), t.data.size());
  return t;
}

// One-op graph with int8 I/O: inputs are the first `nIn` tensors, the output the last.
IntegerGraph oneOp(std::vector<GraphTensor> tensors, GraphOp op, int nIn = 1) {
  IntegerGraph g;
  g.tensors = std::move(tensors);
  for (int i = 0; i < nIn; ++i) g.inputs.push_back(i);
  op.outputs = {static_cast<int>(g.tensors.size()) - 1};
  g.outputs = op.outputs;
  g.ops.push_back(op);
  return g;
}

// Runs g on int8 inputs (one sample each) and returns the int8 output values.
std::vector<int> runInt8(const IntegerGraph& g, const std::vector<std::vector<int>>& inputs) {
  auto in = Interpreter::create(g);
  if (!in.ok()) qFatal("%s", in.error().message.c_str());
  std::vector<Tensor> xs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::vector<int> shape = g.tensors[size_t(g.inputs[i])].shape;
    Tensor x{Shape(shape)};
    for (size_t j = 0; j < x.size(); ++j) x[j] = float(inputs[i][j]);
    xs.push_back(std::move(x));
  }
  auto out = in->run(xs);
  QAT_ASSERT(out.ok());
  std::vector<int> r;
  for (size_t i = 0; i < (*out)[0].size(); ++i) r.push_back(int((*out)[0][i]));
  return r;
}

std::vector<int8_t> randomInt8(size_t n, Rng& rng, int lo = -128, int hi = 127) {
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(lo + int(rng.uniform(0.0f, 0.9999f) * float(hi - lo + 1)));
  return v;
}

// Every GEMM path this CPU can run (Vnni only with AVX-VNNI).
std::vector<k::GemmPath> paths() {
  std::vector<k::GemmPath> p = {k::GemmPath::Auto, k::GemmPath::Outer, k::GemmPath::Int16};
  if (k::vnniAvailable()) p.push_back(k::GemmPath::Vnni);
  return p;
}

}  // namespace

class TestInterpreter : public QObject {
  Q_OBJECT
 private slots:
  void quantizeMultiplierEdges() {
    auto m = [](double r) { return quantizeMultiplier(r); };
    QCOMPARE(m(0.0).q31, 0);
    QCOMPARE(m(0.0).shift, 0);
    QCOMPARE(m(0.5).q31, 1 << 30);  // 0.5 = 0.5 · 2^0
    QCOMPARE(m(0.5).shift, 0);
    QCOMPARE(m(1.0).q31, 1 << 30);  // 1 = 0.5 · 2^1
    QCOMPARE(m(1.0).shift, 1);
    QCOMPARE(m(0.75).q31, 1610612736);  // 0.75 · 2^31
    // A mantissa that rounds up to 1.0 becomes 0.5 with the exponent raised.
    QCOMPARE(m(1.0 - std::ldexp(1.0, -40)).q31, 1 << 30);
    QCOMPARE(m(1.0 - std::ldexp(1.0, -40)).shift, 1);
    QCOMPARE(m(std::ldexp(1.0, -32)).shift, -31);  // 0.5 · 2^-31: still representable
    QCOMPARE(m(std::ldexp(1.0, -32)).q31, 1 << 30);
    QCOMPARE(m(std::ldexp(1.0, -40)).q31, 0);  // below 2^-32: flushed to zero
    QCOMPARE(m(std::ldexp(1.0, -40)).shift, 0);
    QCOMPARE(m(std::ldexp(1.0, 40)).q31, INT32_MAX);  // saturated at 2^30
    QCOMPARE(m(std::ldexp(1.0, 40)).shift, 30);
    QCOMPARE(m(0.1).q31, 1717986918);  // round(0.8 · 2^31), 0.1 = 0.8 · 2^-3
    QCOMPARE(m(0.1).shift, -3);
  }

  void fixedPointRounding() {
    QCOMPARE(k::saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MIN), INT32_MAX);
    QCOMPARE(k::saturatingRoundingDoublingHighMul(1 << 30, 1 << 30), 1 << 29);
    QCOMPARE(k::roundingDivideByPOT(5, 1), 3);    // 2.5 → 3
    QCOMPARE(k::roundingDivideByPOT(-5, 1), -3);  // −2.5 → −3 (ties away from zero)
    QCOMPARE(k::roundingDivideByPOT(-4, 1), -2);
    QCOMPARE(k::roundingDivideByPOT(7, 2), 2);    // 1.75
    const QuantizedMultiplier half = quantizeMultiplier(0.5);
    // SaturatingRoundingDoublingHighMul rounds its ties toward +∞ (gemmlowp's nudge):
    // 1.5 → 2 but −1.5 → −1.
    QCOMPARE(multiplyByQuantizedMultiplier(3, half), 2);
    QCOMPARE(multiplyByQuantizedMultiplier(-3, half), -1);
    // RoundingDivideByPOT rounds ties away from zero: −3 · 0.25 = −0.75 → SRDHM(−3, 0.5·2^31)
    // = −1 (−1.5 up), then −1/2 = −0.5 → −1.
    QCOMPARE(multiplyByQuantizedMultiplier(-3, quantizeMultiplier(0.25)), -1);
    QCOMPARE(multiplyByQuantizedMultiplier(100, half), 50);
    // 5 · 0.1: the Q31 product rounds 3.9999999 up to 4 (SRDHM), then 4/8 = 0.5 rounds
    // away to 1: TFLite's two roundings give 1 where exact rounding of 0.49999999 gives 0.
    QCOMPARE(multiplyByQuantizedMultiplier(5, quantizeMultiplier(0.1)), 1);
    QCOMPARE(multiplyByQuantizedMultiplier(1000, quantizeMultiplier(3.0)), 3000);  // left shift
  }

  // CONV_2D, per-channel weights. x (3×3×1): q [[1,−4,3],[9,5,−6],[0,8,2]], scale 0.5,
  // zero point −1; 2×2 filters, channel 0 [[3,−1],[0,−2]] scale 0.1, channel 1 all 2
  // scale 0.2; int32 biases 1 and 2. Accumulators (Σ w·(x + 1) + bias):
  //   channel 0: −2, −2, 7, 18   e.g. (0,0): 3·2 − 1·(−3) + 0·10 − 2·6 + 1 = −2
  //   channel 1: 32, 6, 54, 28   e.g. (0,0): 2·(2 − 3 + 10 + 6) + 2 = 32
  // Output scale 0.0625, zero point 3: multipliers 0.5·0.1/0.0625 = 0.8 and 1.6 (a left
  // shift), one rounding: channel 0 → −1.6, −1.6, 5.6, 14.4 → −2, −2, 6, 14 (+3);
  // channel 1 → 51.2, 9.6, 86.4, 44.8 → 51, 10, 86, 45 (+3).
  // Output scale 0.25 instead: multipliers 0.2 and 0.4 (right shifts 2 and 1) and TFLite's
  // double rounding shows: channel 0, −2 · 0.2 = −0.4 exactly 0, but SRDHM gives
  // round(−2 · 0.8) = −2 and −2/4 = −0.5 rounds away to −1; channel 1, 6 · 0.4 = 2.4 →
  // round(4.8) = 5, 5/2 = 2.5 → 3.
  void convPerChannel() {
    auto run = [](float outScale) {
      GraphOp op;
      op.kind = OpKind::Conv2D;
      op.inputs = {0, 1, 2};
      auto g = oneOp({act("x", {1, 3, 3, 1}, 0.5f, -1),
                      constI8("w", {2, 2, 2, 1}, {3, -1, 0, -2, 2, 2, 2, 2}, {0.1f, 0.2f}),
                      constI32("b", {2}, {1, 2}), act("y", {1, 2, 2, 2}, outScale, 3)},
                     op);
      g.tensors[2].quant.scale = {0.05f, 0.1f};
      g.tensors[2].quant.zeroPoint = {0, 0};
      return runInt8(g, {{1, -4, 3, 9, 5, -6, 0, 8, 2}});
    };
    QCOMPARE(run(0.0625f), (std::vector<int>{1, 54, 1, 13, 9, 89, 17, 48}));
    QCOMPARE(run(0.25f), (std::vector<int>{2, 16, 2, 6, 5, 25, 7, 14}));
  }

  // FULLY_CONNECTED with fused RELU: x q [10, −20, 30] scale 0.1 zp 5; W [[1,2,3],[−4,5,−6]]
  // scale 0.05; bias [100, −50] (scale 0.005); output scale 0.2 zp −10.
  // unit 0: 1·5 + 2·(−25) + 3·25 + 100 = 130 → 0.65 / 0.2 = 3.25 → 3 − 10 = −7;
  // unit 1: −20 − 125 − 150 − 50 = −345 → −8.625 → −9 − 10 = −19, RELU clamps to zp −10.
  void fullyConnectedRelu() {
    GraphOp op;
    op.kind = OpKind::FullyConnected;
    op.inputs = {0, 1, 2};
    op.activation = FusedActivation::Relu;
    auto g = oneOp({act("x", {1, 3}, 0.1f, 5), constI8("w", {2, 3}, {1, 2, 3, -4, 5, -6}, {0.05f}),
                    constI32("b", {2}, {100, -50}), act("y", {1, 2}, 0.2f, -10)},
                   op);
    QCOMPARE(runInt8(g, {{10, -20, 30}}), (std::vector<int>{-7, -10}));
  }

  // ADD / SUB with different input scales: a scale 0.5 zp 0, b scale 0.25 zp 10, output
  // scale 0.1 zp −5. (4, 14): 2.0 + 1.0 = 3.0 → 30 − 5 = 25; (−3, 0): −1.5 − 2.5 = −4 →
  // −45; (100, 127): 79.25 → saturates at 127; (7, −6): 3.5 − 4 = −0.5 → −5 − 5 = −10.
  // SUB: 1.0 → 5; 1.0 → 5; 20.75 → 127; 7.5 → 70.
  void addSubDifferentScales() {
    for (OpKind kind : {OpKind::Add, OpKind::Sub}) {
      GraphOp op;
      op.kind = kind;
      op.inputs = {0, 1};
      auto g = oneOp({act("a", {1, 4}, 0.5f, 0), act("b", {1, 4}, 0.25f, 10), act("y", {1, 4}, 0.1f, -5)}, op, 2);
      const std::vector<int> y = runInt8(g, {{4, -3, 100, 7}, {14, 0, 127, -6}});
      QCOMPARE(y, kind == OpKind::Add ? (std::vector<int>{25, -45, 127, -10}) : (std::vector<int>{5, 5, 127, 70}));
    }
  }

  // MUL: a scale 0.5 zp 2, b scale 0.25 zp 0, out scale 0.1 zp 0: (6, 8): 2·2 = 4 → 40;
  // (0, −6): −1 · −1.5 = 1.5 → 15.
  void mul() {
    GraphOp op;
    op.kind = OpKind::Mul;
    op.inputs = {0, 1};
    auto g = oneOp({act("a", {1, 2}, 0.5f, 2), act("b", {1, 2}, 0.25f, 0), act("y", {1, 2}, 0.1f, 0)}, op, 2);
    QCOMPARE(runInt8(g, {{6, 0}, {8, -6}}), (std::vector<int>{40, 15}));
  }

  // AVERAGE_POOL_2D 2×2 rounds half away from zero: windows sum 7 → 1.75 → 2, −7 → −2,
  // 6 → 1.5 → 2, −6 → −1.5 → −2.
  void averagePoolRounding() {
    GraphOp op;
    op.kind = OpKind::AveragePool2D;
    op.inputs = {0};
    op.filterH = op.filterW = op.strideH = op.strideW = 2;
    // (1, 2, 4, 2): channel 0 windows {1,2,2,2} and {1,1,2,2}; channel 1 the negatives.
    auto g = oneOp({act("x", {1, 2, 4, 2}, 0.1f, 0), act("y", {1, 1, 2, 2}, 0.1f, 0)}, op);
    const std::vector<int> x = {1, -1, 2, -2, 1, -1, 1, -1,   // row 0: w0 w1 | w2 w3
                                2, -2, 2, -2, 2, -2, 2, -2};  // row 1
    QCOMPARE(runInt8(g, {x}), (std::vector<int>{2, -2, 2, -2}));
    // 'same' 2×2 stride 2 on 3×3: the edge windows average only their real cells.
    GraphOp same = op;
    same.padding = PaddingKind::Same;
    auto g2 = oneOp({act("x", {1, 3, 3, 1}, 0.1f, 0), act("y", {1, 2, 2, 1}, 0.1f, 0)}, same);
    // windows {1,2,4,5} → 3, {3,6} → 4.5 → 5, {7,8} → 7.5 → 8, {9} → 9
    QCOMPARE(runInt8(g2, {{1, 2, 3, 4, 5, 6, 7, 8, 9}}), (std::vector<int>{3, 5, 8, 9}));
  }

  // MEAN over H, W (2×2, values 1, 2, 3, 5, sum 11): the keep_dims path rounds 2.75 to 3;
  // TFLite's generic path with equal parameters truncates to 2; with output scale 0.5 the
  // float path gives round(5.5) = 6.
  void meanPaths() {
    auto run = [](bool keepDims, float outScale) {
      IntegerGraph g;
      g.tensors = {act("x", {1, 2, 2, 1}, 1.0f, 0), constI32("axes", {2}, {1, 2}),
                   act("y", keepDims ? std::vector<int>{1, 1, 1, 1} : std::vector<int>{1, 1}, outScale, 0)};
      GraphOp op;
      op.kind = OpKind::Mean;
      op.inputs = {0, 1};
      op.outputs = {2};
      op.keepDims = keepDims;
      g.ops = {op};
      g.inputs = {0};
      g.outputs = {2};
      return runInt8(g, {{1, 2, 3, 5}})[0];
    };
    QCOMPARE(run(true, 1.0f), 3);
    QCOMPARE(run(false, 1.0f), 2);
    QCOMPARE(run(false, 0.5f), 6);
    QCOMPARE(run(true, 0.5f), 6);  // MBQM(11, 2) = 22, (22 + 2)/4 = 6
  }

  // SOFTMAX (output 1/256, −128): equal logits → 0.5 → 128 − 128 = 0; logits (1, 0) with
  // input scale 0.1: 0.7310586 · 256 = 187.15 → 59, 0.2689414 · 256 = 68.85 → −59; three
  // equal logits → 85.33 → −43; (127, −128) at scale 1: 256 → saturates at 127, ≈0 → −128.
  void softmaxKnownValues() {
    auto run = [](float scale, const std::vector<int>& q) {
      GraphOp op;
      op.kind = OpKind::Softmax;
      op.inputs = {0};
      const int n = int(q.size());
      return runInt8(oneOp({act("x", {1, n}, scale, 0), act("y", {1, n}, 1.0f / 256, -128)}, op), {q});
    };
    QCOMPARE(run(0.1f, {0, 0}), (std::vector<int>{0, 0}));
    QCOMPARE(run(0.1f, {10, 0}), (std::vector<int>{59, -59}));
    QCOMPARE(run(0.1f, {3, 3, 3}), (std::vector<int>{-43, -43, -43}));
    QCOMPARE(run(1.0f, {127, -128}), (std::vector<int>{127, -128}));
  }

  // LOGISTIC (1/256, −128) and TANH (1/128, 0) tables: x = 0 → 0.5 → 0 and 0 → 0;
  // x = 1 → 187.15 → 59 and 0.7615942 · 128 = 97.48 → 97; x = −1 → 68.85 → −59, −97.
  void logisticTanh() {
    for (OpKind kind : {OpKind::Logistic, OpKind::Tanh}) {
      GraphOp op;
      op.kind = kind;
      op.inputs = {0};
      const bool lg = kind == OpKind::Logistic;
      auto g = oneOp({act("x", {1, 3}, 0.5f, 0), act("y", {1, 3}, lg ? 1.0f / 256 : 1.0f / 128, lg ? -128 : 0)}, op);
      QCOMPARE(runInt8(g, {{0, 2, -2}}), lg ? (std::vector<int>{0, 59, -59}) : (std::vector<int>{0, 97, -97}));
    }
  }

  // QUANTIZE float → int8 rounds half away from zero and saturates; DEQUANTIZE is exact;
  // QUANTIZE int8 → int8 requantizes: q 10 at scale 0.2 zp 0 (2.0) → scale 0.3 zp 1:
  // 6.67 → 7 + 1 = 8.
  void quantizeDequantize() {
    int8_t q[4];
    const float x[4] = {0.15f, -0.15f, 100.0f, 0.04f};
    k::quantizeRef(4, 0.1f, 0, x, q);
    QCOMPARE(int(q[0]), 2);
    QCOMPARE(int(q[1]), -2);
    QCOMPARE(int(q[2]), 127);
    QCOMPARE(int(q[3]), 0);
    const int8_t in[2] = {-128, 127};
    float y[2];
    k::dequantizeRef(2, 0.5f, -128, in, y);
    QCOMPARE(y[0], 0.0f);
    QCOMPARE(y[1], 127.5f);
    GraphOp op;
    op.kind = OpKind::Quantize;
    op.inputs = {0};
    QCOMPARE(runInt8(oneOp({act("x", {1, 1}, 0.2f, 0), act("y", {1, 1}, 0.3f, 1)}, op), {{10}}), (std::vector<int>{8}));
  }

  // PAD fills with the zero point; CONCATENATION requantizes an input with another scale:
  // 3 at scale 0.5 → 1.5 → 2 at scale 1.
  void padAndConcat() {
    IntegerGraph g;
    g.tensors = {act("x", {1, 1, 1, 1}, 1.0f, -7), constI32("p", {4, 2}, {0, 0, 1, 0, 0, 1, 0, 0}),
                 act("y", {1, 2, 2, 1}, 1.0f, -7)};
    GraphOp pad;
    pad.kind = OpKind::Pad;
    pad.inputs = {0, 1};
    pad.outputs = {2};
    g.ops = {pad};
    g.inputs = {0};
    g.outputs = {2};
    QCOMPARE(runInt8(g, {{5}}), (std::vector<int>{-7, -7, 5, -7}));
    GraphOp cat;
    cat.kind = OpKind::Concatenation;
    cat.inputs = {0, 1};
    cat.axis = -1;
    auto g2 = oneOp({act("a", {1, 2}, 1.0f, 0), act("b", {1, 1}, 0.5f, 0), act("y", {1, 3}, 1.0f, 0)}, cat, 2);
    QCOMPARE(runInt8(g2, {{4, -5}, {3}}), (std::vector<int>{4, -5, 2}));
  }

  // LEAKY_RELU (α 0.25, scales 1): −6 → −1.5 → −2 (ties away), 5 → 5. RELU6 from scale
  // 0.1 to scale 0.05 zp −100: 7.0 → 6.0 = 120 steps → 20; −0.5 → −100.
  void leakyReluAndRelu6() {
    GraphOp op;
    op.kind = OpKind::LeakyRelu;
    op.inputs = {0};
    op.alpha = 0.25f;
    QCOMPARE(runInt8(oneOp({act("x", {1, 2}, 1.0f, 0), act("y", {1, 2}, 1.0f, 0)}, op), {{-6, 5}}),
             (std::vector<int>{-2, 5}));
    GraphOp r6;
    r6.kind = OpKind::Relu6;
    r6.inputs = {0};
    QCOMPARE(runInt8(oneOp({act("x", {1, 3}, 0.1f, 0), act("y", {1, 3}, 0.05f, -100)}, r6), {{70, -5, 30}}),
             (std::vector<int>{20, -100, -40}));
  }

  // HARD_SWISH, x·relu6(x + 3)/6, input scale 0.1, output scale 0.05: x = 0.1 → 0.05167
  // → 1; x = 4.0 → 80; x = −4.0 → 0; x = 1.0 → 13.
  void hardSwish() {
    GraphOp op;
    op.kind = OpKind::HardSwish;
    op.inputs = {0};
    const std::vector<int> y =
        runInt8(oneOp({act("x", {1, 4}, 0.1f, 0), act("y", {1, 4}, 0.05f, 0)}, op), {{1, 40, -40, 10}});
    QCOMPARE(y[0], 1);
    QCOMPARE(y[1], 80);
    QCOMPARE(y[2], 0);
    QCOMPARE(y[3], 13);  // x = 1.0: 1·4/6 = 0.667 → 13.3 steps of 0.05
  }

  // Fast kernels against the scalar reference on random shapes: bit-identical.
  void fastKernelsBitExact() {
    Rng rng(5);
    for (int trial = 0; trial < 24; ++trial) {
      k::ConvShape s;
      s.N = 2;
      s.H = 5 + trial % 4;
      s.W = 6 + trial % 3;
      s.C = 1 + trial % 5;
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
      for (bool depthwise : {false, true}) {
        s.OC = depthwise ? s.C * s.depthMultiplier : 3 + trial % 6;
        k::Requant r;
        r.inputOffset = -int(rng.uniform(-20.0f, 20.0f));
        r.outputOffset = int(rng.uniform(-10.0f, 10.0f));
        r.act = trial % 3 == 0 ? k::ActRange{r.outputOffset, 127} : k::ActRange{};
        // Mostly right shifts; every fourth trial also multipliers above one (left shifts).
        const float hiM = trial % 4 == 3 ? 3.0f : 0.02f;
        for (int c = 0; c < s.OC; ++c) r.mult.push_back(quantizeMultiplier(rng.uniform(0.0005f, hiM)));
        const auto x = randomInt8(size_t(s.N) * s.H * s.W * s.C, rng);
        const auto w = randomInt8(size_t(s.OC) * s.KH * s.KW * (depthwise ? 1 : s.C), rng, -127, 127);
        std::vector<int32_t> b(size_t(s.OC));
        for (auto& v : b) v = int(rng.uniform(-3000.0f, 3000.0f));
        const size_t outN = size_t(s.N) * s.OH * s.OW * s.OC;
        std::vector<int8_t> ref(outN), fast(outN);
        if (depthwise) {
          k::depthwiseRef(s, r, x.data(), w.data(), b.data(), ref.data());
          k::depthwiseFast(s, r, x.data(), w.data(), b.data(), fast.data());
          QVERIFY2(ref == fast, qPrintable(QStringLiteral("trial %1 depthwise").arg(trial)));
        } else {
          k::ConvScratch scratch;
          const auto packed = k::packWeights(w.data(), s.OC, s.KH * s.KW * s.C);
          k::convRef(s, r, x.data(), w.data(), b.data(), ref.data());
          for (k::GemmPath path : paths()) {
            std::fill(fast.begin(), fast.end(), int8_t(0));
            k::convFast(s, r, x.data(), packed, b.data(), fast.data(), scratch, path);
            QVERIFY2(ref == fast, qPrintable(QStringLiteral("trial %1 conv path %2").arg(trial).arg(int(path))));
          }
        }
        // The outputs are not all saturated (the comparison means something).
        int distinct = 0;
        for (size_t i = 1; i < ref.size(); ++i) distinct += ref[i] != ref[0];
        QVERIFY(distinct > 0);
      }
      // FULLY_CONNECTED, per-tensor and per-channel multipliers.
      const int rows = 3, depth = 17 + trial, units = 1 + trial % 9;
      k::Requant r;
      r.inputOffset = 7;
      r.outputOffset = -3;
      r.mult = {quantizeMultiplier(0.004)};
      if (trial % 2)
        for (int u = 1; u < units; ++u) r.mult.push_back(quantizeMultiplier(0.001 * (u + 1)));
      if (trial % 2 && units == 1) r.mult.resize(1);
      const auto x = randomInt8(size_t(rows) * depth, rng);
      const auto w = randomInt8(size_t(units) * depth, rng, -127, 127);
      std::vector<int8_t> ref(size_t(rows) * units), fast(ref.size());
      k::ConvScratch scratch;
      const auto packed = k::packWeights(w.data(), units, depth);
      k::fullyConnectedRef(rows, depth, units, r, x.data(), w.data(), nullptr, ref.data());
      for (k::GemmPath path : paths()) {
        std::fill(fast.begin(), fast.end(), int8_t(0));
        k::fullyConnectedFast(rows, depth, units, r, x.data(), packed, nullptr, fast.data(), scratch, path);
        QVERIFY2(ref == fast, qPrintable(QStringLiteral("trial %1 FC path %2").arg(trial).arg(int(path))));
      }
      // Max pooling, 'same' and 'valid', with an activation range.
      k::PoolShape ps;
      ps.N = 2;
      ps.H = 5 + trial % 3;
      ps.W = 4 + trial % 4;
      ps.C = 1 + trial % 7;
      ps.KH = 2 + trial % 2;
      ps.KW = 2;
      ps.strideH = 1 + trial % 2;
      ps.strideW = 2;
      const AxisPadding qh = axisPadding(trial % 2 ? Padding::Same : Padding::Valid, ps.H, ps.KH, ps.strideH);
      const AxisPadding qw = axisPadding(trial % 2 ? Padding::Same : Padding::Valid, ps.W, ps.KW, ps.strideW);
      ps.OH = qh.out;
      ps.OW = qw.out;
      ps.padTop = qh.before;
      ps.padLeft = qw.before;
      const auto px = randomInt8(size_t(ps.N) * ps.H * ps.W * ps.C, rng);
      std::vector<int8_t> pr(size_t(ps.N) * ps.OH * ps.OW * ps.C), pf(pr.size());
      const k::ActRange act = trial % 3 ? k::ActRange{} : k::ActRange{-20, 100};
      k::maxPoolRef(ps, act, px.data(), pr.data());
      k::maxPoolFast(ps, act, px.data(), pf.data());
      QVERIFY(pr == pf);
    }
    qInfo("GEMM paths checked: outer, int16%s", k::vnniAvailable() ? ", vnni (AVX-VNNI)" : " (no AVX-VNNI on this CPU)");
  }

  // A frozen fashion-cnn: fast kernels, reference kernels, one thread and all threads give
  // the same int8 values in every tensor; the speed of the whole-graph integer evaluation.
  void frozenModelFastEqualsReference() {
    auto m = makeBuiltinModel("fashion-cnn", 3);
    QVERIFY(m.ok());
    auto scheme = quant::schemeFromName("default8");
    auto cfg = quant::makeSchemeConfig(*m, *scheme);
    auto q = quant::quantizeModel(*m, cfg->config);
    QVERIFY(q.ok());
    Dataset d;
    Rng rng(11);
    d.x = Tensor(Shape{256, 28, 28, 1});
    for (size_t i = 0; i < d.x.size(); ++i) d.x[i] = rng.uniform(0.0f, 1.0f);
    for (int i = 0; i < 256; ++i) d.labels.push_back(i % 10);
    d.numClasses = 10;
    Trainer t(q->model, TrainConfig{});
    QVERIFY(t.calibrate(d, 2).ok());
    auto g = freezeQuantized(*q);
    QVERIFY2(g.ok(), g.ok() ? "" : g.error().message.c_str());
    auto fast = Interpreter::create(*g);
    auto ref = Interpreter::create(*g);
    QVERIFY(fast.ok() && ref.ok());
    ref->setReferenceKernels(true);
    const Tensor x = subset(d, 64).x;
    const int threads = threadCount();
    auto yf = fast->run({x});
    setThreadCount(1);
    auto yr = ref->run({x});
    setThreadCount(threads);
    QVERIFY(yf.ok() && yr.ok());
    for (size_t tI = 0; tI < g->tensors.size(); ++tI)
      QVERIFY2(fast->int8Values(int(tI)) == ref->int8Values(int(tI)), g->tensors[tI].name.c_str());
    QVERIFY(!fast->int8Values(g->ops[1].outputs[0]).empty());
    for (size_t i = 0; i < (*yf)[0].size(); ++i) QCOMPARE((*yf)[0][i], (*yr)[0][i]);

    // Speed: 10,000 samples through the fast path on all threads.
    Tensor big(Shape{10000, 28, 28, 1});
    for (size_t i = 0; i < big.size(); ++i) big[i] = x[i % x.size()];
    fast->setKeepTensors(false);
    const auto t0 = std::chrono::steady_clock::now();
    auto yb = fast->run({big});
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    QVERIFY(yb.ok());
    qInfo("fashion-cnn integer evaluation: 10,000 samples in %.2f s (%.0f samples/s, %d threads)", sec, 10000 / sec,
          threads);
    QVERIFY2(sec < 60.0, "the integer evaluation of 10,000 samples must take seconds, not minutes");
  }

  // Bad graphs are refused by create() naming the op.
  void createRefusesBadGraphs() {
    GraphOp op;
    op.kind = OpKind::AveragePool2D;
    op.inputs = {0};
    op.filterH = op.filterW = op.strideH = op.strideW = 2;
    auto g = oneOp({act("x", {1, 2, 2, 1}, 0.1f, 0), act("y", {1, 1, 1, 1}, 0.2f, 0)}, op);
    auto in = Interpreter::create(g);
    QVERIFY(!in.ok());
    QVERIFY2(in.error().message.find("AVERAGE_POOL_2D") != std::string::npos, in.error().message.c_str());
    g.tensors[1].quant.scale = {0.0f};
    auto v = validate(g);
    QVERIFY(!v.ok());
    QVERIFY2(v.error().message.find("scale") != std::string::npos, v.error().message.c_str());
    IntegerGraph cyc = oneOp({act("x", {1, 2}, 0.1f, 0), act("y", {1, 2}, 0.1f, 0)}, GraphOp{});
    cyc.ops[0].kind = OpKind::Relu;
    cyc.ops[0].inputs = {1};  // reads its own output
    QVERIFY(!validate(cyc).ok());
  }
};

QTEST_APPLESS_MAIN(TestInterpreter)
#include "test_interpreter.moc"
