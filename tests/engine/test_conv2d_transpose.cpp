// Conv2DTranspose: hand-computed outputs, a direct scalar reference (the scatter
// definition with Keras' output sizes and TF's padding, written here independently of the
// conv kernels the layer runs on), gradient checks, build errors.
#include <QtTest>

#include <algorithm>

#include "common/gradcheck.h"
#include "engine/layers/conv2d_transpose.h"

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

// ---- Conv2DTranspose reference: the scatter definition, written independently ----
struct TConvCase {
  int N, H, W, C, F, KH, KW, sh, sw, dh, dw;
  Padding padding;
  int opH, opW;  // -1: output_padding None
};

// Keras' deconv_output_length.
int deconvLength(int in, int k, int s, int d, Padding p, int op) {
  const int ek = (k - 1) * d + 1;
  if (op < 0) return p == Padding::Valid ? in * s + std::max(ek - s, 0) : in * s;
  return (in - 1) * s + ek - 2 * (p == Padding::Same ? ek / 2 : 0) + op;
}

// y[n, h·s − pad + kh·d, w·s − pad + kw·d, f] += x[n, h, w, c] · k[kh, kw, f, c], plus bias,
// with TF's 'same' padding of the conv that maps the output back onto x (extra at the end).
Tensor tconvRef(const TConvCase& t, const Tensor& x, const Tensor& k, const Tensor& b) {
  const int OH = deconvLength(t.H, t.KH, t.sh, t.dh, t.padding, t.opH);
  const int OW = deconvLength(t.W, t.KW, t.sw, t.dw, t.padding, t.opW);
  int padT = 0, padL = 0;
  if (t.padding == Padding::Same) {
    padT = std::max((t.H - 1) * t.sh + (t.KH - 1) * t.dh + 1 - OH, 0) / 2;
    padL = std::max((t.W - 1) * t.sw + (t.KW - 1) * t.dw + 1 - OW, 0) / 2;
  }
  Tensor y(Shape{t.N, OH, OW, t.F});
  std::vector<double> acc(y.size(), 0.0);
  for (int n = 0; n < t.N; ++n)
    for (int oh = 0; oh < OH; ++oh)
      for (int ow = 0; ow < OW; ++ow)
        for (int f = 0; f < t.F; ++f) acc[((size_t(n) * OH + oh) * OW + ow) * t.F + f] = b[size_t(f)];
  for (int n = 0; n < t.N; ++n)
    for (int h = 0; h < t.H; ++h)
      for (int w = 0; w < t.W; ++w)
        for (int c = 0; c < t.C; ++c)
          for (int kh = 0; kh < t.KH; ++kh)
            for (int kw = 0; kw < t.KW; ++kw) {
              const int oh = h * t.sh - padT + kh * t.dh, ow = w * t.sw - padL + kw * t.dw;
              if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
              for (int f = 0; f < t.F; ++f)
                acc[((size_t(n) * OH + oh) * OW + ow) * t.F + f] +=
                    double(x[((size_t(n) * t.H + h) * t.W + w) * t.C + c]) *
                    k[((size_t(kh) * t.KW + kw) * t.F + f) * t.C + c];
            }
  for (size_t i = 0; i < y.size(); ++i) y[i] = float(acc[i]);
  return y;
}

Conv2DTransposeOptions tconvOptions(const TConvCase& t) {
  Conv2DTransposeOptions o;
  o.filters = t.F;
  o.kernelH = t.KH;
  o.kernelW = t.KW;
  o.strideH = t.sh;
  o.strideW = t.sw;
  o.dilationH = t.dh;
  o.dilationW = t.dw;
  o.padding = t.padding;
  if (t.opH >= 0) o.outputPadding = std::array<int, 2>{t.opH, t.opW};
  return o;
}

}  // namespace

Q_DECLARE_METATYPE(TConvCase)

class TestConv2DTranspose : public QObject {
  Q_OBJECT
 private slots:
  void conv2dTransposeHandComputed() {
    // One input pixel, stride 2, 2x2 kernel: the output is the kernel scaled, plus bias.
    Conv2DTranspose t("ct", tconvOptions({1, 1, 1, 1, 1, 2, 2, 2, 2, 1, 1, Padding::Valid, -1, -1}));
    QVERIFY(t.build({Shape{1, 1, 1}}).ok());
    const float k[] = {1, 2, 3, 4};
    std::copy(k, k + 4, t.kernel().value.data());
    t.bias().value[0] = 0.5f;
    QCOMPARE(values(run(t, make(Shape{1, 1, 1, 1}, {2}))), (std::vector<float>{2.5f, 4.5f, 6.5f, 8.5f}));

    // x = [1, 10] along the width, kernel [1, 2, 3]: stride 1 gives the full correlation
    // [1, 12, 23, 30]; stride 2 spreads the copies: [1, 2, 3 + 10, 20, 30].
    Conv2DTranspose s1("ct", tconvOptions({1, 1, 2, 1, 1, 1, 3, 1, 1, 1, 1, Padding::Valid, -1, -1}));
    QVERIFY(s1.build({Shape{1, 2, 1}}).ok());
    const float k3[] = {1, 2, 3};
    std::copy(k3, k3 + 3, s1.kernel().value.data());
    QCOMPARE(values(run(s1, make(Shape{1, 1, 2, 1}, {1, 10}))), (std::vector<float>{1, 12, 23, 30}));
    Conv2DTranspose s2("ct", tconvOptions({1, 1, 2, 1, 1, 1, 3, 1, 2, 1, 1, Padding::Valid, -1, -1}));
    QVERIFY(s2.build({Shape{1, 2, 1}}).ok());
    std::copy(k3, k3 + 3, s2.kernel().value.data());
    QCOMPARE(values(run(s2, make(Shape{1, 1, 2, 1}, {1, 10}))), (std::vector<float>{1, 2, 13, 20, 30}));

    // TF 'same', stride 2, 3x3 ones on a 2x2 ones input: 4x4 output, the overlap (and the
    // cut-off extra) at the end: per axis the counts are [1, 1, 2, 1].
    Conv2DTranspose same("ct", tconvOptions({1, 2, 2, 1, 1, 3, 3, 2, 2, 1, 1, Padding::Same, -1, -1}));
    QVERIFY(same.build({Shape{2, 2, 1}}).ok());
    same.kernel().value.fill(1.0f);
    const Tensor y = run(same, Tensor(Shape{1, 2, 2, 1}, 1.0f));
    QCOMPARE(y.shape(), (Shape{1, 4, 4, 1}));
    QCOMPARE(values(y), (std::vector<float>{1, 1, 2, 1, 1, 1, 2, 1, 2, 2, 4, 2, 1, 1, 2, 1}));
  }
  void conv2dTransposeMatchesReference_data() {
    QTest::addColumn<TConvCase>("c");
    //                        N  H  W  C  F KH KW sh sw dh dw padding        opH opW
    QTest::addRow("valid s1") << TConvCase{2, 3, 2, 2, 3, 3, 2, 1, 1, 1, 1, Padding::Valid, -1, -1};
    QTest::addRow("valid s2") << TConvCase{1, 3, 3, 2, 2, 3, 3, 2, 2, 1, 1, Padding::Valid, -1, -1};
    QTest::addRow("valid k<s") << TConvCase{1, 2, 3, 1, 2, 1, 2, 3, 3, 1, 1, Padding::Valid, -1, -1};
    QTest::addRow("same s2") << TConvCase{2, 3, 2, 3, 2, 3, 3, 2, 2, 1, 1, Padding::Same, -1, -1};
    QTest::addRow("same s2 k4") << TConvCase{1, 2, 3, 2, 2, 4, 4, 2, 2, 1, 1, Padding::Same, -1, -1};
    QTest::addRow("same op1") << TConvCase{1, 3, 2, 2, 3, 3, 3, 2, 2, 1, 1, Padding::Same, 1, 0};
    QTest::addRow("valid op1") << TConvCase{1, 2, 2, 2, 2, 3, 2, 2, 3, 1, 1, Padding::Valid, 1, 2};
    QTest::addRow("same dilated") << TConvCase{1, 4, 3, 2, 2, 3, 2, 1, 1, 2, 2, Padding::Same, -1, -1};
    // 3x3, stride 1, 8 -> 8 channels: the underlying conv runs on the Winograd kernels.
    QTest::addRow("winograd shape") << TConvCase{1, 2, 3, 8, 8, 3, 3, 1, 1, 1, 1, Padding::Same, -1, -1};
  }
  void conv2dTransposeMatchesReference() {
    QFETCH(TConvCase, c);
    Conv2DTranspose t("ct", tconvOptions(c));
    const Tensor x = random(Shape{c.N, c.H, c.W, c.C}, 11);
    auto s = t.build({x.shape().withoutBatch()});
    QVERIFY2(s.ok(), s.ok() ? "" : s.error().message.c_str());
    QCOMPARE(t.kernel().value.shape(), (Shape{c.KH, c.KW, c.F, c.C}));  // Keras layout
    Rng rng(12);
    test::fillUniform(t.kernel().value, rng);
    test::fillUniform(t.bias().value, rng);
    const Tensor y = run(t, x);
    const Tensor ref = tconvRef(c, x, t.kernel().value, t.bias().value);
    QCOMPARE(y.shape(), ref.shape());
    for (size_t i = 0; i < y.size(); ++i)
      QVERIFY2(std::abs(y[i] - ref[i]) <= 1e-5f * (1.0f + std::abs(ref[i])),
               (std::to_string(i) + ": " + std::to_string(y[i]) + " vs " + std::to_string(ref[i])).c_str());
  }
  void conv2dTransposeGradCheck_data() { conv2dTransposeMatchesReference_data(); }
  void conv2dTransposeGradCheck() {
    QFETCH(TConvCase, c);
    Conv2DTransposeOptions o = tconvOptions(c);
    o.activation = ActivationFn::Tanh;
    Conv2DTranspose t("ct", o);
    auto r = test::buildAndCheck(t, {random(Shape{c.N, c.H, c.W, c.C}, 13)});
    QVERIFY2(r.ok, r.worst.c_str());
    QVERIFY(r.checked > 10);
  }
  void conv2dTransposeErrors() {
    // 'same', even kernel, output_padding 0: the output (H − 1) does not map back onto H.
    Conv2DTransposeOptions o;
    o.kernelH = o.kernelW = 2;
    o.padding = Padding::Same;
    o.outputPadding = std::array<int, 2>{0, 0};
    Conv2DTranspose t("conv2d_transpose_3", o);
    const std::string e = buildError(t, Shape{4, 4, 2});
    QVERIFY2(e.rfind("Layer 'conv2d_transpose_3' (Conv2DTranspose): ", 0) == 0, e.c_str());
    QVERIFY2(e.find("does not map back onto the input") != std::string::npos, e.c_str());
    o.padding = Padding::Valid;
    o.strideH = o.strideW = 2;
    o.outputPadding = std::array<int, 2>{2, 0};
    Conv2DTranspose u("u", o);
    QVERIFY(buildError(u, Shape{4, 4, 2}).find("smaller than the strides") != std::string::npos);
  }
};

QTEST_APPLESS_MAIN(TestConv2DTranspose)
#include "test_conv2d_transpose.moc"
