// The layers added for wider Keras coverage: Conv1D, Max/AveragePooling1D, the global 1-D
// poolings, UpSampling2D, Cropping2D, PReLU, Permute (Conv2DTranspose: test_conv2d_transpose).
// Forward values computed by hand, gradient checks on tiny shapes, build errors, and a
// Keras HDF5 save/load round trip of models using every new layer.
#include <QtTest>

#include <algorithm>

#include "common/gradcheck.h"
#include "common/model_compare.h"
#include "engine/io/keras_model.h"
#include "engine/layers/average_pooling1d.h"
#include "engine/layers/conv1d.h"
#include "engine/layers/conv2d_transpose.h"
#include "engine/layers/cropping2d.h"
#include "engine/layers/global_average_pooling1d.h"
#include "engine/layers/global_max_pooling1d.h"
#include "engine/layers/max_pooling1d.h"
#include "engine/layers/permute.h"
#include "engine/layers/prelu.h"
#include "engine/layers/up_sampling2d.h"

using namespace qat;

namespace {

Tensor make(Shape s, std::initializer_list<float> v) {
  Tensor t(std::move(s));
  QAT_ASSERT(t.size() == v.size());
  std::copy(v.begin(), v.end(), t.data());
  return t;
}

Tensor random(Shape s, uint64_t seed) {
  Tensor t(std::move(s));
  Rng rng(seed);
  test::fillUniform(t, rng);
  return t;
}

// Distinct values 0.05 apart in random order: a finite-difference step of 0.01 never
// changes which element is a maximum.
Tensor distinct(Shape s, uint64_t seed) {
  Tensor t(std::move(s));
  std::vector<float> v(t.size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = -1.0f + 0.05f * float(i);
  Rng rng(seed);
  std::shuffle(v.begin(), v.end(), rng.engine());
  std::copy(v.begin(), v.end(), t.data());
  return t;
}

// Uniform in [-1, 1] but at least 0.05 away from 0 (the kink of PReLU).
Tensor awayFromZero(Shape s, uint64_t seed) {
  Tensor t = random(std::move(s), seed);
  for (size_t i = 0; i < t.size(); ++i)
    if (std::abs(t[i]) < 0.05f) t[i] = t[i] < 0 ? t[i] - 0.05f : t[i] + 0.05f;
  return t;
}

// Builds `l` for x's per-sample shape and runs an inference forward.
Tensor run(Layer& l, const Tensor& x) {
  auto s = l.build({x.shape().withoutBatch()});
  if (!s.ok()) qFatal("%s", s.error().message.c_str());
  const Tensor* p = &x;
  Tensor y;
  l.forward(TensorList(&p, 1), y, RunContext{});
  return y;
}

std::vector<float> values(const Tensor& t) { return {t.data(), t.data() + t.size()}; }

std::string buildError(Layer& l, const Shape& in) {
  auto s = l.build({in});
  return s.ok() ? std::string() : s.error().message;
}

#define CHECK_GRADS(layer, ...)                                \
  do {                                                         \
    auto r_ = test::buildAndCheck(layer, {__VA_ARGS__});       \
    QVERIFY2(r_.ok, r_.worst.c_str());                         \
    QVERIFY(r_.checked > 10);                                  \
  } while (0)

}  // namespace

class TestLayersExtra : public QObject {
  Q_OBJECT
 private slots:
  // ------------------------------------------------------------------ Conv1D
  void conv1dForwardHandComputed_data() {
    QTest::addColumn<int>("padding");
    QTest::addColumn<int>("stride");
    QTest::addColumn<int>("dilation");
    QTest::addColumn<std::vector<float>>("expect");
    // x = [1, 2, 3, 4], kernel [2, 1], bias 0.5: y[t] = 2·x[a] + 1·x[b] + 0.5
    QTest::addRow("valid") << int(Conv1DPadding::Valid) << 1 << 1 << std::vector<float>{4.5f, 7.5f, 10.5f};
    QTest::addRow("valid stride 2") << int(Conv1DPadding::Valid) << 2 << 1 << std::vector<float>{4.5f, 10.5f};
    // same, k = 2: one zero at the end (TF puts the odd pad after).
    QTest::addRow("same") << int(Conv1DPadding::Same) << 1 << 1 << std::vector<float>{4.5f, 7.5f, 10.5f, 8.5f};
    // causal: one zero at the start, y[t] = 2·x[t−1] + x[t].
    QTest::addRow("causal") << int(Conv1DPadding::Causal) << 1 << 1 << std::vector<float>{1.5f, 4.5f, 7.5f, 10.5f};
    // causal, dilation 2: y[t] = 2·x[t−2] + x[t].
    QTest::addRow("causal dilated") << int(Conv1DPadding::Causal) << 1 << 2
                                    << std::vector<float>{1.5f, 2.5f, 5.5f, 8.5f};
  }
  void conv1dForwardHandComputed() {
    QFETCH(int, padding);
    QFETCH(int, stride);
    QFETCH(int, dilation);
    QFETCH(std::vector<float>, expect);
    Conv1DOptions o;
    o.filters = 1;
    o.kernelSize = 2;
    o.stride = stride;
    o.dilation = dilation;
    o.padding = Conv1DPadding(padding);
    Conv1D c("conv1d", o);
    QVERIFY(c.build({Shape{4, 1}}).ok());
    QCOMPARE(c.kernel().value.shape(), (Shape{2, 1, 1}));  // Keras (k, in, filters)
    c.kernel().value[0] = 2;
    c.kernel().value[1] = 1;
    c.bias().value[0] = 0.5f;
    const Tensor y = run(c, make(Shape{1, 4, 1}, {1, 2, 3, 4}));
    QCOMPARE(y.shape(), (Shape{1, int(expect.size()), 1}));
    QCOMPARE(values(y), expect);
  }
  void conv1dMixesChannels() {
    // 2 input channels, 2 filters, k = 1: a per-step matrix product (kernel (1, 2, 2)).
    Conv1D c("c", {2, 1, 1, 1, Conv1DPadding::Valid, false, ActivationFn::Linear});
    QVERIFY(c.build({Shape{2, 2}}).ok());
    const float k[] = {1, 2, 3, 4};  // k[0, in, out]
    std::copy(k, k + 4, c.kernel().value.data());
    const Tensor y = run(c, make(Shape{1, 2, 2}, {1, 10, -1, 2}));
    // step 0: [1, 10] · [[1, 2], [3, 4]] = [31, 42]; step 1: [-1, 2] -> [5, 6]
    QCOMPARE(values(y), (std::vector<float>{31, 42, 5, 6}));
  }
  void conv1dGradCheck_data() {
    QTest::addColumn<int>("padding");
    QTest::addColumn<int>("stride");
    QTest::addColumn<int>("dilation");
    QTest::addColumn<int>("act");
    QTest::addRow("valid") << int(Conv1DPadding::Valid) << 1 << 1 << int(ActivationFn::Linear);
    QTest::addRow("same stride 2 tanh") << int(Conv1DPadding::Same) << 2 << 1 << int(ActivationFn::Tanh);
    QTest::addRow("causal dilated") << int(Conv1DPadding::Causal) << 1 << 2 << int(ActivationFn::Linear);
  }
  void conv1dGradCheck() {
    QFETCH(int, padding);
    QFETCH(int, stride);
    QFETCH(int, dilation);
    QFETCH(int, act);
    Conv1D c("c", {3, 3, stride, dilation, Conv1DPadding(padding), true, ActivationFn(act)});
    CHECK_GRADS(c, random(Shape{2, 6, 2}, 3));
  }
  void conv1dErrors() {
    Conv1D c("conv1d_7", {2, 5, 1, 1, Conv1DPadding::Valid, true, ActivationFn::Linear});
    QVERIFY(buildError(c, Shape{4, 2}).find("longer than the input sequence") != std::string::npos);
    const std::string e = buildError(c, Shape{8, 8, 2});
    QVERIFY2(e.rfind("Layer 'conv1d_7' (Conv1D): needs a per-sample input of rank 2", 0) == 0, e.c_str());
    Conv1D d("d", {2, 3, 2, 2, Conv1DPadding::Same, true, ActivationFn::Linear});
    QVERIFY(buildError(d, Shape{8, 2}).find("dilation_rate") != std::string::npos);
  }

  // ------------------------------------------------------------------ 1-D pooling
  void pooling1dForward() {
    const Tensor x = make(Shape{1, 5, 1}, {1, 3, 2, 5, 4});
    MaxPooling1D mv("mp", {2, 0, Padding::Valid});
    QCOMPARE(values(run(mv, x)), (std::vector<float>{3, 5}));
    MaxPooling1D ms("mp", {2, 0, Padding::Same});
    QCOMPARE(values(run(ms, x)), (std::vector<float>{3, 5, 4}));
    AveragePooling1D as("ap", {2, 0, Padding::Same});
    QCOMPARE(values(run(as, x)), (std::vector<float>{2, 3.5f, 4}));  // last window holds one step
    // pool 3, stride 1, same: windows [-1, 1], [0, 2], ... padded steps not counted.
    AveragePooling1D a3("ap", {3, 1, Padding::Same});
    const Tensor y = run(a3, x);
    QCOMPARE(y.shape(), (Shape{1, 5, 1}));
    const float expect[] = {2, 2, 10.0f / 3, 11.0f / 3, 4.5f};
    for (int i = 0; i < 5; ++i) QVERIFY(std::abs(y[size_t(i)] - expect[i]) < 1e-6f);
    // Channels stay separate: (1, 2, 2) -> max over the 2 steps per channel.
    MaxPooling1D mc("mp", {2, 0, Padding::Valid});
    QCOMPARE(values(run(mc, make(Shape{1, 2, 2}, {1, 9, 7, 3}))), (std::vector<float>{7, 9}));
  }
  void globalPooling1dForward() {
    const Tensor x = make(Shape{1, 3, 2}, {1, -4, 5, 2, 3, 8});
    GlobalAveragePooling1D ga("ga");
    QCOMPARE(values(run(ga, x)), (std::vector<float>{3, 2}));
    GlobalMaxPooling1D gm("gm", {true});
    const Tensor y = run(gm, x);
    QCOMPARE(y.shape(), (Shape{1, 1, 2}));  // keepdims
    QCOMPARE(values(y), (std::vector<float>{5, 8}));
  }
  void pooling1dGradCheck() {
    MaxPooling1D mp("mp", {3, 2, Padding::Same});
    CHECK_GRADS(mp, distinct(Shape{2, 7, 3}, 5));
    AveragePooling1D ap("ap", {3, 2, Padding::Same});
    CHECK_GRADS(ap, random(Shape{2, 7, 3}, 6));
    GlobalAveragePooling1D ga("ga");
    CHECK_GRADS(ga, random(Shape{2, 4, 3}, 7));
    GlobalMaxPooling1D gm("gm");
    CHECK_GRADS(gm, distinct(Shape{2, 4, 3}, 8));
  }
  void pooling1dErrors() {
    MaxPooling1D mp("max_pooling1d", {4, 0, Padding::Valid});
    QVERIFY(buildError(mp, Shape{3, 2}).find("longer than the input sequence") != std::string::npos);
    GlobalAveragePooling1D ga("g");
    QVERIFY(buildError(ga, Shape{3, 3, 2}).find("rank 2") != std::string::npos);
  }

  // ------------------------------------------------------------------ UpSampling2D
  void upSamplingNearest() {
    UpSampling2D u("up", {2, 3, Interpolation::Nearest});
    const Tensor y = run(u, make(Shape{1, 1, 2, 1}, {1, 2}));
    QCOMPARE(y.shape(), (Shape{1, 2, 6, 1}));
    QCOMPARE(values(y), (std::vector<float>{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2}));
  }
  void upSamplingBilinear() {
    // tf.image.resize([[0, 4], [8, 12]], (4, 4), 'bilinear') with half-pixel centers:
    // along each axis the weights of the outputs are 1, 3/4 + 1/4, 1/4 + 3/4, 1.
    UpSampling2D u("up", {2, 2, Interpolation::Bilinear});
    const Tensor y = run(u, make(Shape{1, 2, 2, 1}, {0, 4, 8, 12}));
    QCOMPARE(y.shape(), (Shape{1, 4, 4, 1}));
    QCOMPARE(values(y), (std::vector<float>{0, 1, 3, 4, 2, 3, 5, 6, 6, 7, 9, 10, 8, 9, 11, 12}));
    // Factor 3 along a width of 2: s = (o + 0.5) / 3 − 0.5 = −1/3, 0, 1/3, 2/3, 1, 4/3.
    UpSampling2D u3("up", {1, 3, Interpolation::Bilinear});
    const Tensor z = run(u3, make(Shape{1, 1, 2, 1}, {0, 3}));
    const float expect[] = {0, 0, 1, 2, 3, 3};
    for (int i = 0; i < 6; ++i) QVERIFY2(std::abs(z[size_t(i)] - expect[i]) < 1e-5f, std::to_string(z[size_t(i)]).c_str());
  }
  void upSamplingGradCheck_data() {
    QTest::addColumn<int>("interp");
    QTest::addRow("nearest") << int(Interpolation::Nearest);
    QTest::addRow("bilinear") << int(Interpolation::Bilinear);
  }
  void upSamplingGradCheck() {
    QFETCH(int, interp);
    UpSampling2D u("up", {2, 3, Interpolation(interp)});
    CHECK_GRADS(u, random(Shape{2, 2, 3, 2}, 9));
  }

  // ------------------------------------------------------------------ Cropping2D
  void cropping() {
    Cropping2D c("crop", {1, 0, 0, 2});
    // (3, 4) image 0..11, keep rows 1..2, columns 0..1
    Tensor x(Shape{1, 3, 4, 1});
    for (size_t i = 0; i < x.size(); ++i) x[i] = float(i);
    const Tensor y = run(c, x);
    QCOMPARE(y.shape(), (Shape{1, 2, 2, 1}));
    QCOMPARE(values(y), (std::vector<float>{4, 5, 8, 9}));
    Cropping2D g("crop", {1, 1, 1, 0});
    CHECK_GRADS(g, random(Shape{2, 4, 3, 2}, 10));
    Cropping2D all("cropping2d_1", {2, 1, 0, 0});
    QVERIFY(buildError(all, Shape{3, 4, 1}).find("removes the whole (3, 4) input") != std::string::npos);
  }

  // ------------------------------------------------------------------ PReLU
  void preluForward() {
    PReLU p("p");
    QVERIFY(p.build({Shape{2}}).ok());
    Rng rng(1);
    p.initialize(rng);
    QCOMPARE(values(p.alpha().value), (std::vector<float>{0, 0}));  // Keras zeros
    p.alpha().value[0] = 0.25f;
    p.alpha().value[1] = 0.5f;
    QCOMPARE(values(run(p, make(Shape{2, 2}, {-2, 3, 4, -6}))), (std::vector<float>{-0.5f, 3, 4, -3}));
    // shared_axes [1, 2] on (H, W, C): one alpha per channel, shape (1, 1, C).
    PReLU s("s", {{1, 2}});
    QVERIFY(s.build({Shape{2, 2, 3}}).ok());
    QCOMPARE(s.alpha().value.shape(), (Shape{1, 1, 3}));
    for (int c = 0; c < 3; ++c) s.alpha().value[size_t(c)] = 0.1f * float(c + 1);
    Tensor x(Shape{1, 2, 2, 3}, -1.0f);
    x[3] = 2.0f;  // (0, 1, 0)
    const Tensor y = run(s, x);
    for (size_t i = 0; i < y.size(); ++i) {
      const float expect = i == 3 ? 2.0f : -0.1f * float(i % 3 + 1);
      QVERIFY(std::abs(y[i] - expect) < 1e-7f);
    }
  }
  void preluGradCheck_data() {
    QTest::addColumn<std::vector<int>>("shared");
    QTest::addRow("none") << std::vector<int>{};
    QTest::addRow("spatial") << std::vector<int>{1, 2};
    QTest::addRow("middle") << std::vector<int>{2};
  }
  void preluGradCheck() {
    QFETCH(std::vector<int>, shared);
    PReLU p("p", {shared});
    CHECK_GRADS(p, awayFromZero(Shape{3, 2, 3, 2}, 14));
  }
  void preluErrors() {
    PReLU p("p_re_lu", {{3}});
    QVERIFY(buildError(p, Shape{4, 5}).find("shared_axes entry 3 is not an axis") != std::string::npos);
  }

  // ------------------------------------------------------------------ Permute
  void permute() {
    Permute p("perm", {{2, 1}});
    const Tensor y = run(p, make(Shape{1, 2, 3}, {0, 1, 2, 3, 4, 5}));
    QCOMPARE(y.shape(), (Shape{1, 3, 2}));
    QCOMPARE(values(y), (std::vector<float>{0, 3, 1, 4, 2, 5}));
    // Rank 3: dims (3, 1, 2): out[c, a, b] = in[a, b, c].
    Permute q("perm", {{3, 1, 2}});
    Tensor x(Shape{2, 2, 3, 4});
    for (size_t i = 0; i < x.size(); ++i) x[i] = float(i);
    const Tensor z = run(q, x);
    QCOMPARE(z.shape(), (Shape{2, 4, 2, 3}));
    for (int n = 0; n < 2; ++n)
      for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 3; ++b)
          for (int c = 0; c < 4; ++c)
            QCOMPARE(z[((size_t(n) * 4 + c) * 2 + a) * 3 + b], x[((size_t(n) * 2 + a) * 3 + b) * 4 + c]);
    Permute g("perm", {{2, 3, 1}});
    CHECK_GRADS(g, random(Shape{2, 2, 3, 2}, 15));
    Permute bad("permute_2", {{1, 1}});
    QVERIFY(buildError(bad, Shape{3, 4}).find("not a permutation of 1..2") != std::string::npos);
    Permute wrongRank("w", {{2, 1}});
    QVERIFY(buildError(wrongRank, Shape{3, 4, 5}).find("per-sample axes") != std::string::npos);
  }

  // ------------------------------------------------------------------ Keras file round trip
  // Every new layer inside models saved as Keras HDF5 and loaded back: same graph,
  // options and parameters bit for bit (Keras weight layouts), identical outputs.
  void kerasFileRoundTrip() {
    QTemporaryDir dir;
    Model seq;
    seq.name = "sequence";
    int x = seq.addInput("in", Shape{8, 3});
    const int conv = seq.add<Conv1D>({x}, "conv1d", Conv1DOptions{4, 3, 1, 1, Conv1DPadding::Causal, true,
                                                                  ActivationFn::Relu});
    x = seq.add<MaxPooling1D>({conv}, "max_pooling1d", Pooling1DOptions{2, 0, Padding::Valid});
    x = seq.add<PReLU>({x}, "p_re_lu", PReLUOptions{{1}});
    x = seq.add<AveragePooling1D>({x}, "average_pooling1d", Pooling1DOptions{2, 1, Padding::Same});
    x = seq.add<Permute>({x}, "permute", PermuteOptions{{2, 1}});
    x = seq.add<GlobalMaxPooling1D>({x}, "global_max_pooling1d");
    const int avg = seq.add<GlobalAveragePooling1D>({conv}, "global_average_pooling1d", GlobalPooling1DOptions{true});
    seq.setOutputs({x, avg});

    Model img;
    img.name = "image";
    int y = img.addInput("in", Shape{4, 4, 2});
    Conv2DTransposeOptions t;
    t.filters = 3;
    t.strideH = t.strideW = 2;
    t.padding = Padding::Same;
    t.outputPadding = std::array<int, 2>{1, 1};
    y = img.add<Conv2DTranspose>({y}, "conv2d_transpose", t);
    y = img.add<Cropping2D>({y}, "cropping2d", Cropping2DOptions{1, 1, 2, 0});
    y = img.add<UpSampling2D>({y}, "up_sampling2d", UpSampling2DOptions{2, 1, Interpolation::Bilinear});
    y = img.add<PReLU>({y}, "p_re_lu", PReLUOptions{{1, 2}});
    img.setOutputs({y});

    for (Model* m : {&seq, &img}) {
      QVERIFY(m->build().ok());
      Rng rng(21);
      m->initialize(rng);
      for (Param* p : m->params())  // PReLU's alpha and the biases start at zero
        for (size_t i = 0; i < p->value.size(); ++i) p->value[i] += rng.uniform(-0.2f, 0.2f);
      const std::string path = dir.filePath(QString::fromStdString(m->name + ".h5")).toStdString();
      Status st = saveKerasModel(*m, path);
      QVERIFY2(st.ok(), st.ok() ? "" : st.error().message.c_str());
      auto back = loadKerasModel(path);
      QVERIFY2(back.ok(), back.ok() ? "" : back.error().message.c_str());
      const std::string diff = test::modelDifference(*m, back.value());
      QVERIFY2(diff.empty(), diff.c_str());
      const Shape in = m->node(0).shape;
      const std::string out = test::outputDifference(*m, back.value(), {random(in.withBatch(2), 22)});
      QVERIFY2(out.empty(), out.c_str());
    }
    QCOMPARE(img.node(img.outputs()[0]).shape, (Shape{12, 6, 3}));  // (4·2 − 2)·2, 4·2 − 2, 3
  }
};

QTEST_APPLESS_MAIN(TestLayersExtra)
#include "test_layers_extra.moc"
