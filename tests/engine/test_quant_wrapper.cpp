// QuantizeWrapper: forward equals the inner layer on fake-quantized weights, the
// straight-through mask in backward, gradient accumulation, gradients through an affine
// STE surrogate, clones, build errors. Data-driven over Conv2D, DepthwiseConv2D, Dense.
#include <QtTest>

#include "common/gradcheck.h"
#include "common/quant_test_util.h"
#include "engine/layers/conv2d.h"
#include "engine/layers/dense.h"
#include "engine/layers/depthwise_conv2d.h"
#include "engine/quant/quantize_wrapper.h"

using namespace qat;
using quant::Quantizer;
using quant::QuantizeWrapper;
using QuantizerMap = std::map<std::string, std::unique_ptr<Quantizer>>;

namespace {
using test::bwd;
using test::fwd;
using test::zeroGrads;

enum Kind { kConv = 0, kDepthwise = 1, kDense = 2 };

std::unique_ptr<Layer> makeInner(int kind, int stride) {
  if (kind == kConv) {
    Conv2DOptions o;
    o.filters = 4;
    o.kernelH = o.kernelW = 3;
    o.strideH = o.strideW = stride;
    o.padding = Padding::Same;
    o.activation = ActivationFn::Tanh;  // smooth: finite differences see no kinks
    return std::make_unique<Conv2D>("conv_7", o);
  }
  if (kind == kDepthwise) {
    DepthwiseConv2DOptions o;
    o.kernelH = o.kernelW = 3;
    o.strideH = o.strideW = stride;
    o.depthMultiplier = 2;
    return std::make_unique<DepthwiseConv2D>("dw_7", o);
  }
  return std::make_unique<Dense>("dense_7", DenseOptions{4, true, ActivationFn::Tanh});
}

Shape inputShape(int kind) { return kind == kDense ? Shape{5} : Shape{5, 5, 3}; }

Tensor randomInput(int kind, uint64_t seed) {
  Tensor x(inputShape(kind).withBatch(kind == kDense ? 4 : 2));
  Rng rng(seed);
  test::fillUniform(x, rng);
  return x;
}

// Kernel grid: step 0.05 on [−0.2, 0.2], bias grid: step 0.1 on [−0.25, 0.25]; the
// weights are drawn from ±0.3 and the biases from ±0.4, so about a third lie outside.
QuantizerMap stepQuantizers(const std::string& kernelName) {
  QuantizerMap m;
  m[kernelName] = std::make_unique<test::StepQuantizer>(-0.2f, 0.2f, 0.05f);
  m["bias"] = std::make_unique<test::StepQuantizer>(-0.25f, 0.25f, 0.1f);
  return m;
}

std::string kernelName(int kind) { return kind == kDepthwise ? "depthwise_kernel" : "kernel"; }

// A built wrapper with random kernels (±0.3) and biases (±0.4).
std::unique_ptr<QuantizeWrapper> makeWrapper(int kind, int stride, QuantizerMap q) {
  auto w = std::make_unique<QuantizeWrapper>(makeInner(kind, stride), std::move(q));
  if (!w->build({inputShape(kind)}).ok()) return nullptr;
  Rng rng(17);
  w->initialize(rng);
  for (Param* p : w->inner().params()) {
    const float r = p->name == "bias" ? 0.4f : 0.3f;
    for (size_t i = 0; i < p->value.size(); ++i) p->value[i] = rng.uniform(-r, r);
  }
  return w;
}

// The inner layer alone with every quantized parameter replaced by q(w), q being the
// test's own copy of the grid.
std::unique_ptr<Layer> innerOnQuantized(const QuantizeWrapper& w, int kind) {
  auto ref = w.inner().clone();
  test::StepQuantizer qk(-0.2f, 0.2f, 0.05f), qb(-0.25f, 0.25f, 0.1f);
  for (Param* p : ref->params()) {
    const test::StepQuantizer& q = p->name == kernelName(kind) ? qk : qb;
    for (size_t i = 0; i < p->value.size(); ++i) p->value[i] = q.apply(p->value[i]);
  }
  return ref;
}

#define QVERIFY_CLOSE(a, b, rtol)                                                           \
  do {                                                                                      \
    const double r_ = test::worstRatio((a), (b), (rtol));                                   \
    QVERIFY2(r_ <= 1.0, (std::string(#a " vs " #b ": error / tolerance = ") + std::to_string(r_)).c_str()); \
  } while (0)
}  // namespace

class TestQuantWrapper : public QObject {
  Q_OBJECT

  static void addCases() {
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("stride");
    QTest::addRow("conv-s1") << int(kConv) << 1;
    QTest::addRow("conv-s2") << int(kConv) << 2;
    QTest::addRow("depthwise-m2") << int(kDepthwise) << 1;
    QTest::addRow("dense") << int(kDense) << 1;
  }

 private slots:
  // Forward = inner(q(w)); the Params keep the float shadow weights; fakeQuant=false is
  // the inner layer on w itself.
  void forwardUsesQuantizedWeights_data() { addCases(); }
  void forwardUsesQuantizedWeights() {
    QFETCH(int, kind);
    QFETCH(int, stride);
    auto w = makeWrapper(kind, stride, stepQuantizers(kernelName(kind)));
    QVERIFY(w);
    QCOMPARE(w->name(), w->inner().name());
    const Tensor shadow = w->inner().params()[0]->value;
    auto ref = innerOnQuantized(*w, kind);
    const Tensor x = randomInput(kind, 3);
    for (bool training : {false, true}) {
      RunContext ctx;
      ctx.training = training;
      Tensor y, yr;
      fwd(*w, x, y, ctx);
      fwd(*ref, x, yr, ctx);
      QVERIFY_CLOSE(y, yr, 0.0);
      QVERIFY_CLOSE(w->inner().params()[0]->value, shadow, 0.0);
      ctx.fakeQuant = false;
      auto plain = w->inner().clone();
      fwd(*w, x, y, ctx);
      fwd(*plain, x, yr, ctx);
      QVERIFY_CLOSE(y, yr, 0.0);
    }
  }

  // Backward: dx uses q(w); weights outside the grid's range get exactly zero gradient,
  // the others the inner layer's gradient w.r.t. q(w); grads accumulate over calls.
  void backwardSteAndAccumulation_data() { addCases(); }
  void backwardSteAndAccumulation() {
    QFETCH(int, kind);
    QFETCH(int, stride);
    auto w = makeWrapper(kind, stride, stepQuantizers(kernelName(kind)));
    QVERIFY(w);
    auto ref = innerOnQuantized(*w, kind);
    RunContext train;
    train.training = true;
    const Tensor x = randomInput(kind, 4);
    Tensor y, yr, dx, dxr;
    fwd(*w, x, y, train);
    fwd(*ref, x, yr, train);
    Tensor dy(y.shape());
    Rng rng(8);
    test::fillUniform(dy, rng);
    zeroGrads(*w);
    zeroGrads(*ref);
    bwd(*w, x, y, dy, dx, train);
    bwd(*ref, x, yr, dy, dxr, train);
    QVERIFY_CLOSE(dx, dxr, 1e-6);
    test::StepQuantizer qk(-0.2f, 0.2f, 0.05f), qb(-0.25f, 0.25f, 0.1f);
    auto ps = w->inner().params(), rs = ref->params();
    int blocked = 0, passed = 0;
    for (size_t k = 0; k < ps.size(); ++k) {
      const test::StepQuantizer& q = ps[k]->name == kernelName(kind) ? qk : qb;
      for (size_t i = 0; i < ps[k]->value.size(); ++i) {
        if (q.inside(ps[k]->value[i])) {
          ++passed;
          QVERIFY(std::abs(ps[k]->grad[i] - rs[k]->grad[i]) <= 1e-6f * (1 + std::abs(rs[k]->grad[i])));
        } else {
          ++blocked;
          QCOMPARE(ps[k]->grad[i], 0.0f);
        }
      }
    }
    QVERIFY(blocked > 0 && passed > blocked);
    // A second backward adds the same gradient again.
    std::vector<Tensor> once;
    for (Param* p : ps) once.push_back(p->grad);
    bwd(*w, x, y, dy, dx, train);
    for (size_t k = 0; k < ps.size(); ++k) {
      Tensor twice = once[k];
      for (size_t i = 0; i < twice.size(); ++i) twice[i] *= 2.0f;
      QVERIFY_CLOSE(ps[k]->grad, twice, 1e-6);
    }
    QVERIFY_CLOSE(dx, dxr, 1e-6);  // overwritten, not accumulated
  }

  // Finite differences through the affine STE surrogate (see quant_test_util.h): the
  // wrapper's backward is the exact derivative of its forward given the quantizer's STE.
  void gradCheckQuantized_data() { addCases(); }
  void gradCheckQuantized() {
    QFETCH(int, kind);
    QFETCH(int, stride);
    QuantizerMap q;
    for (auto& [name, sq] : stepQuantizers(kernelName(kind)))
      q[name] = std::make_unique<test::SurrogateQuantizer>(std::move(sq));
    auto w = makeWrapper(kind, stride, std::move(q));
    QVERIFY(w);
    auto r = test::gradCheckLayer(*w, {randomInput(kind, 5)});
    QVERIFY2(r.ok, r.worst.c_str());
    auto* sk = static_cast<test::SurrogateQuantizer*>(w->weightQuantizer(kernelName(kind)));
    QVERIFY(sk->blocked() > 0 && sk->passed() > 0 && sk->rounded() > 0);
  }

  // The registry's quantizers: per-axis LastValue on the kernel (C·M grids for a depthwise
  // kernel), per-tensor LastValue on the bias. Forward = the inner layer on the weights
  // fake-quantized with the quantizer's own grids; evaluation keeps the stored ranges;
  // the quantizers' state follows the inner layer's Params.
  void realQuantizers_data() { addCases(); }
  void realQuantizers() {
    QFETCH(int, kind);
    QFETCH(int, stride);
    const std::string kn = kernelName(kind);
    QuantizerMap q;
    q[kn] = test::realQuantizer(test::quantSpec("LastValue", 8, true, true, true));
    q["bias"] = test::realQuantizer(test::quantSpec("LastValue", 8, false, true, true));
    auto w = makeWrapper(kind, stride, std::move(q));
    QVERIFY(w);
    QCOMPARE(w->weightQuantizer(kn)->channels(), kind == kDepthwise ? 6 : 4);
    QCOMPARE(w->weightQuantizer("bias")->channels(), 1);
    std::vector<std::string> names;
    for (Param* p : w->params()) names.push_back(p->name);
    QCOMPARE(names, (std::vector<std::string>{kn, "bias", kn + "_min", kn + "_max", kn + "_initialized", "bias_min",
                                              "bias_max", "bias_initialized"}));
    RunContext train;
    train.training = true;
    const Tensor x = randomInput(kind, 14);
    Tensor y, yr, ye;
    fwd(*w, x, y, train);
    const auto grids = w->weightQuantizer(kn)->grids();
    QCOMPARE(int(grids.size()), w->weightQuantizer(kn)->channels());
    QVERIFY(grids[0].scale != grids[1].scale);  // one grid per output channel
    auto ref = w->inner().clone();
    for (Param* p : ref->params()) p->value = test::fakeQuantWith(*w->weightQuantizer(p->name), p->value);
    QVERIFY(test::worstRatio(ref->params()[0]->value, w->inner().params()[0]->value, 1e-4) > 1.0);
    fwd(*ref, x, yr, train);
    QVERIFY_CLOSE(y, yr, 0.0);
    fwd(*w, x, ye, RunContext{});
    QVERIFY_CLOSE(ye, y, 1e-6);
  }

  // A Fixed range narrower than the weights: the STE zeroes the gradient of every weight
  // outside the nudged range; inside, the inner layer's gradient at q(w). The unquantized
  // bias gets the inner layer's gradient.
  void fixedRangeSte_data() { addCases(); }
  void fixedRangeSte() {
    QFETCH(int, kind);
    QFETCH(int, stride);
    const std::string kn = kernelName(kind);
    QuantizerMap q;
    q[kn] = test::realQuantizer(test::quantSpec("Fixed", 8, false, false, false, -0.2f, 0.2f));
    auto w = makeWrapper(kind, stride, std::move(q));
    QVERIFY(w);
    RunContext train;
    train.training = true;
    const Tensor x = randomInput(kind, 15);
    Tensor y, yr, dx, dxr;
    fwd(*w, x, y, train);
    const quant::Quantizer& fq = *w->weightQuantizer(kn);
    const quant::Grid grid = fq.grids().at(0);
    auto ref = w->inner().clone();
    ref->params()[0]->value = test::fakeQuantWith(fq, w->inner().params()[0]->value);
    fwd(*ref, x, yr, train);
    QVERIFY_CLOSE(y, yr, 0.0);
    Tensor dy(y.shape());
    Rng rng(2);
    test::fillUniform(dy, rng);
    zeroGrads(*w);
    zeroGrads(*ref);
    bwd(*w, x, y, dy, dx, train);
    bwd(*ref, x, yr, dy, dxr, train);
    QVERIFY_CLOSE(dx, dxr, 1e-6);
    const Param& k = *w->inner().params()[0];
    const Param& kr = *ref->params()[0];
    int blocked = 0;
    for (size_t i = 0; i < k.value.size(); ++i) {
      if (k.value[i] < grid.nudgedMin || k.value[i] > grid.nudgedMax) {
        ++blocked;
        QCOMPARE(k.grad[i], 0.0f);
      } else {
        QCOMPARE(k.grad[i], kr.grad[i]);
      }
    }
    QVERIFY(blocked > 0 && blocked < int(k.value.size()));
    QVERIFY_CLOSE(w->inner().params()[1]->grad, ref->params()[1]->grad, 0.0);
  }

  void cloneIsIndependent() {
    auto w = makeWrapper(kConv, 1, stepQuantizers("kernel"));
    QVERIFY(w);
    const Tensor x = randomInput(kConv, 6);
    Tensor y0, y1, y2;
    fwd(*w, x, y0, RunContext{});
    auto c = w->clone();
    auto& cw = static_cast<QuantizeWrapper&>(*c);
    QVERIFY(&cw.inner() != &w->inner());
    QVERIFY(cw.weightQuantizer("kernel") != w->weightQuantizer("kernel"));
    QVERIFY(cw.weightQuantizer("kernel") != nullptr);
    QVERIFY(cw.params()[0] != w->params()[0]);
    // Changing the original's weights changes its output, not the clone's.
    for (size_t i = 0; i < w->inner().params()[0]->value.size(); ++i) w->inner().params()[0]->value[i] *= -1.0f;
    fwd(*w, x, y1, RunContext{});
    fwd(cw, x, y2, RunContext{});
    QVERIFY(test::worstRatio(y1, y0, 1e-3) > 1.0);
    QVERIFY_CLOSE(y2, y0, 0.0);
    // The clone trains on its own: its grads land in its own Params.
    RunContext train;
    train.training = true;
    zeroGrads(*w);
    zeroGrads(cw);
    Tensor dx, dy(y2.shape(), 1.0f);
    fwd(cw, x, y2, train);
    bwd(cw, x, y2, dy, dx, train);
    float sumOrig = 0, sumClone = 0;
    for (size_t i = 0; i < w->params()[0]->grad.size(); ++i) {
      sumOrig += std::abs(w->params()[0]->grad[i]);
      sumClone += std::abs(cw.params()[0]->grad[i]);
    }
    QCOMPARE(sumOrig, 0.0f);
    QVERIFY(sumClone > 0.0f);
  }

  void paramsAndErrors() {
    auto w = makeWrapper(kDense, 1, stepQuantizers("kernel"));
    QVERIFY(w);
    std::vector<std::string> names;
    for (Param* p : w->params()) names.push_back(p->name);
    QCOMPARE(names, (std::vector<std::string>{"kernel", "bias"}));
    QVERIFY(w->weightQuantizer("gamma") == nullptr);

    QuantizerMap q;
    q["gamma"] = std::make_unique<test::StepQuantizer>(-1.0f, 1.0f, 0.1f);
    QuantizeWrapper bad(makeInner(kDense, 1), std::move(q));
    auto s = bad.build({inputShape(kDense)});
    QVERIFY(!s.ok());
    const std::string& m = s.error().message;
    QVERIFY2(m.find("dense_7") != std::string::npos && m.find("'gamma'") != std::string::npos &&
                 m.find("kernel, bias") != std::string::npos,
             m.c_str());
  }
};

QTEST_APPLESS_MAIN(TestQuantWrapper)
#include "test_quant_wrapper.moc"
