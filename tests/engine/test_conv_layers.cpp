// Conv2D, DepthwiseConv2D, SeparableConv2D layers: hand-computed forwards, gradient
// checks over strides / dilation / padding / activations, Keras initializer fans, errors.
#include <QtTest>

#include <algorithm>
#include <cmath>

#include "common/gradcheck.h"
#include "engine/layers/conv2d.h"
#include "engine/layers/depthwise_conv2d.h"
#include "engine/layers/separable_conv2d.h"

using namespace qat;

namespace {

Tensor image(int n, int h, int w, int c, std::initializer_list<float> values) {
  Tensor t(Shape{n, h, w, c});
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

Tensor run(Layer& l, const Tensor& x, bool training = false) {
  const Tensor* p = &x;
  Tensor y;
  l.forward(TensorList(&p, 1), y, RunContext{training, nullptr});
  return y;
}

void setValues(Param& p, std::initializer_list<float> v) {
  QCOMPARE(p.value.size(), v.size());
  std::copy(v.begin(), v.end(), p.value.data());
}

Tensor randomInput(Shape s, uint64_t seed) {
  Tensor t(std::move(s));
  Rng rng(seed);
  test::fillUniform(t, rng);
  return t;
}

// |v| <= limit for all, and the largest close to the limit (a uniform draw fills it).
bool glorotLike(const Tensor& t, int fanIn, int fanOut) {
  const float limit = std::sqrt(6.0f / float(fanIn + fanOut));
  float m = 0;
  for (size_t i = 0; i < t.size(); ++i) m = std::max(m, std::abs(t[i]));
  return m <= limit && m > 0.8f * limit;
}

}  // namespace

Q_DECLARE_METATYPE(Conv2DOptions)
Q_DECLARE_METATYPE(DepthwiseConv2DOptions)
Q_DECLARE_METATYPE(SeparableConv2DOptions)
Q_DECLARE_METATYPE(Shape)

class TestConvLayers : public QObject {
  Q_OBJECT
 private slots:
  // ---- Conv2D ----
  void conv2dValidHandComputed() {
    Conv2D c("conv", {1, 2, 2, 1, 1, 1, 1, Padding::Valid, true, ActivationFn::Linear});
    QCOMPARE(c.build({Shape{3, 3, 1}}).value(), (Shape{2, 2, 1}));
    setValues(c.kernel(), {1, 2, 3, 4});  // (2, 2, 1, 1)
    c.bias().value[0] = 0.5f;
    const Tensor y = run(c, image(1, 3, 3, 1, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
    // y00 = 1·1 + 2·2 + 3·4 + 4·5, y01 = 1·2 + 2·3 + 3·5 + 4·6, ...
    QCOMPARE(y[0], 37.5f);
    QCOMPARE(y[1], 47.5f);
    QCOMPARE(y[2], 67.5f);
    QCOMPARE(y[3], 77.5f);
  }
  void conv2dSameReluHandComputed() {
    // 3x3 box sum with zero padding, bias −20, ReLU.
    Conv2D c("conv", {1, 3, 3, 1, 1, 1, 1, Padding::Same, true, ActivationFn::Relu});
    QCOMPARE(c.build({Shape{3, 3, 1}}).value(), (Shape{3, 3, 1}));
    c.kernel().value.fill(1.0f);
    c.bias().value[0] = -20.0f;
    const Tensor x = image(1, 3, 3, 1, {1, 2, 3, 4, 5, 6, 7, 8, 9});
    const float want[] = {0, 1, 0, 7, 25, 13, 4, 19, 8};  // sums 12 21 16 27 45 33 24 39 28
    for (bool training : {false, true}) {
      const Tensor y = run(c, x, training);
      for (int i = 0; i < 9; ++i) QCOMPARE(y[size_t(i)], want[i]);
    }
  }
  void conv2dTwoChannelsStride2() {
    // 4x4x2 input, 1x1 kernel mixing channels, stride 2: picks pixels (0,0) (0,2) (2,0) (2,2).
    Conv2D c("conv", {1, 1, 1, 2, 2, 1, 1, Padding::Valid, false, ActivationFn::Linear});
    QCOMPARE(c.build({Shape{4, 4, 2}}).value(), (Shape{2, 2, 1}));
    setValues(c.kernel(), {1, -1});
    Tensor x(Shape{1, 4, 4, 2});
    for (int p = 0; p < 16; ++p) {
      x[size_t(2 * p)] = float(p);
      x[size_t(2 * p + 1)] = float(p * p);
    }
    const Tensor y = run(c, x);
    const int picked[] = {0, 2, 8, 10};
    for (int i = 0; i < 4; ++i) QCOMPARE(y[size_t(i)], float(picked[i] - picked[i] * picked[i]));
  }

  void conv2dGradCheck_data() {
    QTest::addColumn<Conv2DOptions>("opt");
    QTest::addColumn<Shape>("in");
    // filters, kh, kw, sh, sw, dh, dw, padding, bias, activation
    QTest::addRow("3x3-valid") << Conv2DOptions{3, 3, 3, 1, 1, 1, 1, Padding::Valid, true, ActivationFn::Linear} << Shape{2, 5, 5, 2};
    QTest::addRow("3x3-same-tanh") << Conv2DOptions{2, 3, 3, 1, 1, 1, 1, Padding::Same, true, ActivationFn::Tanh} << Shape{2, 4, 5, 2};
    QTest::addRow("stride2-same-odd") << Conv2DOptions{2, 3, 3, 2, 2, 1, 1, Padding::Same, true, ActivationFn::Linear} << Shape{2, 5, 7, 2};
    QTest::addRow("dilation2-same") << Conv2DOptions{2, 3, 3, 1, 1, 2, 2, Padding::Same, true, ActivationFn::Swish} << Shape{1, 6, 5, 2};
    QTest::addRow("2x3-nobias") << Conv2DOptions{3, 2, 3, 1, 2, 1, 1, Padding::Valid, false, ActivationFn::Linear} << Shape{2, 4, 6, 2};
    QTest::addRow("1x1-elu") << Conv2DOptions{3, 1, 1, 1, 1, 1, 1, Padding::Valid, true, ActivationFn::Elu} << Shape{2, 3, 3, 4};
    // 3x3 stride 1 with channel counts that are multiples of 8: the Winograd path.
    QTest::addRow("winograd-same-tanh") << Conv2DOptions{8, 3, 3, 1, 1, 1, 1, Padding::Same, true, ActivationFn::Tanh} << Shape{1, 4, 3, 8};
    QTest::addRow("4x4-same-sigmoid") << Conv2DOptions{2, 4, 4, 1, 1, 1, 1, Padding::Same, true, ActivationFn::Sigmoid} << Shape{1, 5, 4, 2};
  }
  void conv2dGradCheck() {
    QFETCH(Conv2DOptions, opt);
    QFETCH(Shape, in);
    Conv2D c("conv", opt);
    auto r = test::buildAndCheck(c, {randomInput(in, 17)});
    QVERIFY2(r.ok, r.worst.c_str());
    QVERIFY(r.checked > 40);
  }

  void conv2dInitializer() {
    Conv2D c("conv", {8, 3, 3});
    QVERIFY(c.build({Shape{10, 10, 4}}).ok());
    QCOMPARE(c.kernel().value.shape(), (Shape{3, 3, 4, 8}));
    QCOMPARE(c.bias().value.shape(), (Shape{8}));
    c.bias().value.fill(1.0f);
    Rng rng(1);
    c.initialize(rng);
    QVERIFY(glorotLike(c.kernel().value, 9 * 4, 9 * 8));
    for (size_t i = 0; i < 8; ++i) QCOMPARE(c.bias().value[i], 0.0f);
    QCOMPARE(c.params().size(), size_t(2));
    QCOMPARE(c.params()[0]->name, std::string("kernel"));
  }

  void conv2dErrors() {
    Conv2D big("conv_big", {4, 5, 5});
    auto s = big.build({Shape{4, 4, 1}});
    QVERIFY(!s.ok());
    QVERIFY(s.error().message.find("conv_big") != std::string::npos);
    QVERIFY(s.error().message.find("valid") != std::string::npos);
    // The same kernel fits with 'same' padding.
    Conv2D same("conv_same", {4, 5, 5, 1, 1, 1, 1, Padding::Same});
    QCOMPARE(same.build({Shape{4, 4, 1}}).value(), (Shape{4, 4, 4}));
    Conv2D zero("conv_zero", {0, 3, 3});
    s = zero.build({Shape{8, 8, 1}});
    QVERIFY(!s.ok());
    QVERIFY(s.error().message.find("conv_zero") != std::string::npos);
    QVERIFY(s.error().message.find("filters") != std::string::npos);
    Conv2D dil("conv_dil", {2, 3, 3, 2, 2, 2, 2, Padding::Same});
    QVERIFY(!dil.build({Shape{8, 8, 1}}).ok());
    Conv2D rank("conv_rank", {2, 3, 3});
    s = rank.build({Shape{8, 8}});
    QVERIFY(!s.ok());
    QVERIFY(s.error().message.find("conv_rank") != std::string::npos);
  }

  // ---- DepthwiseConv2D ----
  void depthwiseHandComputed() {
    DepthwiseConv2D d("dw", {2, 2, 1, 1, 1, 1, Padding::Valid, 2, false, ActivationFn::Linear});
    QCOMPARE(d.build({Shape{3, 3, 2}}).value(), (Shape{2, 2, 4}));
    QCOMPARE(d.depthwiseKernel().value.shape(), (Shape{2, 2, 2, 2}));
    // kernel[kh][kw][c][m]: (c0,m0) all ones, (c0,m1) top-left 1, (c1,m0) bottom-right 1,
    // (c1,m1) top-right −1.
    Tensor& k = d.depthwiseKernel().value;
    k.zero();
    auto at = [](int kh, int kw, int c, int m) { return size_t(((kh * 2 + kw) * 2 + c) * 2 + m); };
    for (int kh = 0; kh < 2; ++kh)
      for (int kw = 0; kw < 2; ++kw) k[at(kh, kw, 0, 0)] = 1;
    k[at(0, 0, 0, 1)] = 1;
    k[at(1, 1, 1, 0)] = 1;
    k[at(0, 1, 1, 1)] = -1;
    Tensor x(Shape{1, 3, 3, 2});
    for (int p = 0; p < 9; ++p) {
      x[size_t(2 * p)] = float(p + 1);           // channel 0: 1..9
      x[size_t(2 * p + 1)] = 10.0f * float(p + 1);  // channel 1: 10..90
    }
    const Tensor y = run(d, x);
    const float want[4][4] = {{12, 1, 50, -20}, {16, 2, 60, -30}, {24, 4, 80, -50}, {28, 5, 90, -60}};
    for (int o = 0; o < 4; ++o)
      for (int j = 0; j < 4; ++j) QCOMPARE(y[size_t(o * 4 + j)], want[o][j]);
  }

  void depthwiseGradCheck_data() {
    QTest::addColumn<DepthwiseConv2DOptions>("opt");
    QTest::addColumn<Shape>("in");
    // kh, kw, sh, sw, dh, dw, padding, multiplier, bias, activation
    QTest::addRow("3x3-same") << DepthwiseConv2DOptions{3, 3, 1, 1, 1, 1, Padding::Same, 1, true, ActivationFn::Linear} << Shape{2, 5, 4, 3};
    QTest::addRow("mult2-valid-tanh") << DepthwiseConv2DOptions{3, 3, 1, 1, 1, 1, Padding::Valid, 2, true, ActivationFn::Tanh} << Shape{2, 5, 5, 2};
    QTest::addRow("stride2-same-odd") << DepthwiseConv2DOptions{3, 3, 2, 2, 1, 1, Padding::Same, 2, true, ActivationFn::Linear} << Shape{2, 5, 7, 2};
    QTest::addRow("dilation2") << DepthwiseConv2DOptions{3, 2, 1, 1, 2, 2, Padding::Same, 1, false, ActivationFn::Swish} << Shape{1, 6, 6, 3};
  }
  void depthwiseGradCheck() {
    QFETCH(DepthwiseConv2DOptions, opt);
    QFETCH(Shape, in);
    DepthwiseConv2D d("dw", opt);
    auto r = test::buildAndCheck(d, {randomInput(in, 23)});
    QVERIFY2(r.ok, r.worst.c_str());
    QVERIFY(r.checked > 40);
  }

  void depthwiseInitializerAndErrors() {
    DepthwiseConv2D d("dw", {3, 3, 1, 1, 1, 1, Padding::Same, 2});
    QVERIFY(d.build({Shape{6, 6, 40}}).ok());
    Rng rng(2);
    d.initialize(rng);
    QVERIFY(glorotLike(d.depthwiseKernel().value, 9 * 40, 9 * 2));
    DepthwiseConv2D big("dw_big", {7, 7});
    auto s = big.build({Shape{5, 9, 2}});
    QVERIFY(!s.ok());
    QVERIFY(s.error().message.find("dw_big") != std::string::npos);
    DepthwiseConv2D zero("dw_zero", {3, 3, 1, 1, 1, 1, Padding::Same, 0});
    s = zero.build({Shape{5, 5, 2}});
    QVERIFY(!s.ok());
    QVERIFY(s.error().message.find("dw_zero") != std::string::npos);
  }

  // ---- SeparableConv2D ----
  void separableHandComputed() {
    SeparableConv2D s("sep", {2, 2, 2, 1, 1, 1, 1, Padding::Valid, 1, true, ActivationFn::Linear});
    QCOMPARE(s.build({Shape{3, 3, 1}}).value(), (Shape{2, 2, 2}));
    QCOMPARE(s.pointwiseKernel().value.shape(), (Shape{1, 1, 1, 2}));
    s.depthwiseKernel().value.fill(1.0f);     // 2x2 box sums: 12 16 24 28
    setValues(s.pointwiseKernel(), {2, -1});  // channel 0: 2·mid + 1, channel 1: −mid
    setValues(s.bias(), {1, 0});
    const Tensor y = run(s, image(1, 3, 3, 1, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
    const float mid[] = {12, 16, 24, 28};
    for (int o = 0; o < 4; ++o) {
      QCOMPARE(y[size_t(2 * o)], 2 * mid[o] + 1);
      QCOMPARE(y[size_t(2 * o + 1)], -mid[o]);
    }
  }

  // Separable == DepthwiseConv2D (no bias) followed by a 1x1 Conv2D with the same weights.
  void separableEqualsComposition() {
    SeparableConv2DOptions so{5, 3, 3, 2, 2, 1, 1, Padding::Same, 2, true, ActivationFn::Relu};
    SeparableConv2D s("sep", so);
    DepthwiseConv2D d("dw", {3, 3, 2, 2, 1, 1, Padding::Same, 2, false, ActivationFn::Linear});
    Conv2D p("pw", {5, 1, 1, 1, 1, 1, 1, Padding::Valid, true, ActivationFn::Relu});
    const Shape in{7, 6, 3};
    QVERIFY(s.build({in}).ok());
    QVERIFY(d.build({in}).ok());
    QVERIFY(p.build({d.outputShape()}).ok());
    Rng rng(4);
    s.initialize(rng);
    for (size_t i = 0; i < s.bias().value.size(); ++i) s.bias().value[i] = rng.uniform(-0.5f, 0.5f);
    d.depthwiseKernel().value = s.depthwiseKernel().value;
    p.kernel().value = s.pointwiseKernel().value;
    p.bias().value = s.bias().value;
    const Tensor x = randomInput(in.withBatch(2), 9);
    const Tensor ys = run(s, x, true), yc = run(p, run(d, x));
    QCOMPARE(ys.shape(), yc.shape());
    for (size_t i = 0; i < ys.size(); ++i) QVERIFY(std::abs(ys[i] - yc[i]) < 1e-5f);
  }

  void separableGradCheck_data() {
    QTest::addColumn<SeparableConv2DOptions>("opt");
    QTest::addColumn<Shape>("in");
    // filters, kh, kw, sh, sw, dh, dw, padding, multiplier, bias, activation
    QTest::addRow("3x3-same") << SeparableConv2DOptions{3, 3, 3, 1, 1, 1, 1, Padding::Same, 1, true, ActivationFn::Linear} << Shape{2, 4, 4, 2};
    QTest::addRow("mult2-stride2-tanh") << SeparableConv2DOptions{2, 3, 3, 2, 2, 1, 1, Padding::Same, 2, true, ActivationFn::Tanh} << Shape{2, 5, 5, 2};
    QTest::addRow("valid-nobias") << SeparableConv2DOptions{2, 2, 2, 1, 1, 1, 1, Padding::Valid, 1, false, ActivationFn::Linear} << Shape{1, 4, 5, 3};
  }
  void separableGradCheck() {
    QFETCH(SeparableConv2DOptions, opt);
    QFETCH(Shape, in);
    SeparableConv2D s("sep", opt);
    auto r = test::buildAndCheck(s, {randomInput(in, 31)});
    QVERIFY2(r.ok, r.worst.c_str());
    QVERIFY(r.checked > 40);
  }

  void separableInitializerAndErrors() {
    SeparableConv2D s("sep", {16, 3, 3, 1, 1, 1, 1, Padding::Same, 2});
    QVERIFY(s.build({Shape{6, 6, 8}}).ok());
    auto ps = s.params();
    QCOMPARE(ps.size(), size_t(3));
    QCOMPARE(ps[0]->name, std::string("depthwise_kernel"));
    QCOMPARE(ps[1]->name, std::string("pointwise_kernel"));
    QCOMPARE(ps[2]->name, std::string("bias"));
    QCOMPARE(ps[0]->value.shape(), (Shape{3, 3, 8, 2}));
    QCOMPARE(ps[1]->value.shape(), (Shape{1, 1, 16, 16}));
    Rng rng(3);
    s.initialize(rng);
    QVERIFY(glorotLike(ps[0]->value, 9 * 8, 9 * 2));
    QVERIFY(glorotLike(ps[1]->value, 16, 16));
    SeparableConv2D zero("sep_zero", {0, 3, 3});
    auto r = zero.build({Shape{6, 6, 8}});
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.find("sep_zero") != std::string::npos);
    SeparableConv2D big("sep_big", {4, 3, 3});
    r = big.build({Shape{2, 6, 8}});
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.find("sep_big") != std::string::npos);
  }
};

QTEST_APPLESS_MAIN(TestConvLayers)
#include "test_conv_layers.moc"
