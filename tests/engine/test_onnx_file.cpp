// ONNX QDQ export, part 1: the protobuf encoder against known bytes, the layout helpers,
// the ModelProto read back with the test's own wire decoder, then small hand-built
// IntegerGraphs (int8 and float twins) judged by Debian's python3-onnx checker
// (full_check: strict shape inference) and run in onnxruntime against the integer
// interpreter (common/onnx_judge.h); refusals. Part 2 (test_onnx_models.cpp): frozen
// built-in and shared Keras models.
#include <QtTest>

#include "common/graph_maker.h"
#include "common/onnx_judge.h"
#include "engine/deploy/onnx_builder.h"
#include "engine/deploy/onnx_file.h"
#include "engine/deploy/protobuf_writer.h"

using namespace qat;
using namespace qat::deploy;
using test::GraphMaker;

namespace {

using B = std::vector<uint8_t>;

// ---- hand-built graphs (see graph_maker.h); q = int8 graph, else its float twin ----------
IntegerGraph convSameAsym(bool q) {  // 8×8 stride 2 SAME 3×3: pads (0, 1) per axis
  GraphMaker m(q, 11);
  const int x = m.input("input", {1, 8, 8, 3}, 2 / 255.f, 0);
  const int w = m.weights("conv_w", {5, 3, 3, 3}, 0, true, 27);
  const int b = m.bias("conv_b", 5, 2 / 255.f, w);
  const int y = m.act("conv", {1, 4, 4, 5}, 3 / 255.f, -128);
  auto& o = m.op(OpKind::Conv2D, {x, w, b}, y);
  o.padding = PaddingKind::Same;
  o.strideH = o.strideW = 2;
  o.activation = FusedActivation::Relu;
  m.output(y, "output");
  return m.g;
}

IntegerGraph depthwisePools(bool q) {
  GraphMaker m(q, 12);
  const float s = 6 / 255.f;
  const int x = m.input("input", {1, 6, 6, 4}, 2 / 255.f, 0);
  const int w = m.weights("dw_w", {1, 3, 3, 8}, 3, true, 9);
  const int b = m.bias("dw_b", 8, 2 / 255.f, w);
  const int y = m.act("dw", {1, 6, 6, 8}, s, -128);
  auto& dw = m.op(OpKind::DepthwiseConv2D, {x, w, b}, y);
  dw.padding = PaddingKind::Same;
  dw.depthMultiplier = 2;
  dw.activation = FusedActivation::Relu6;
  const int avg = m.act("avg", {1, 3, 3, 8}, s, -128);
  auto& ap = m.op(OpKind::AveragePool2D, {y}, avg);  // 3×3 stride 2 SAME on 6: pads (0, 1)
  ap.padding = PaddingKind::Same;
  ap.filterH = ap.filterW = 3;
  ap.strideH = ap.strideW = 2;
  const int mx = m.act("max", {1, 2, 2, 8}, s, -128);
  auto& mp = m.op(OpKind::MaxPool2D, {avg}, mx);
  mp.filterH = mp.filterW = 2;
  m.output(mx, "output");
  return m.g;
}

IntegerGraph cnnSoftmax(bool q) {  // conv → maxpool → flatten (RESHAPE) → FC → FC → softmax
  GraphMaker m(q, 13);
  const float s = 3 / 255.f;
  const int x = m.input("input", {1, 8, 8, 2}, 2 / 255.f, 0);
  const int w = m.weights("conv_w", {4, 3, 3, 2}, 0, true, 18);
  const int conv = m.act("conv", {1, 8, 8, 4}, s, -128);
  auto& c = m.op(OpKind::Conv2D, {x, w, m.bias("conv_b", 4, 2 / 255.f, w)}, conv);
  c.padding = PaddingKind::Same;
  c.activation = FusedActivation::Relu;
  const int pool = m.act("pool", {1, 4, 4, 4}, s, -128);
  auto& p = m.op(OpKind::MaxPool2D, {conv}, pool);
  p.filterH = p.filterW = p.strideH = p.strideW = 2;
  const int flat = m.act("flat", {1, 64}, s, -128);
  m.op(OpKind::Reshape, {pool, m.int32Const("flat_shape", {2}, {1, 64})}, flat);
  const int w1 = m.weights("fc1_w", {16, 64}, 0, false, 64);
  const int fc1 = m.act("fc1", {1, 16}, s, -128);
  m.op(OpKind::FullyConnected, {flat, w1, m.bias("fc1_b", 16, s, w1)}, fc1).activation = FusedActivation::Relu;
  const int w2 = m.weights("fc2_w", {10, 16}, 0, false, 16);
  const int logits = m.act("logits", {1, 10}, 8 / 255.f, 0);
  m.op(OpKind::FullyConnected, {fc1, w2, m.bias("fc2_b", 10, s, w2)}, logits);
  const int probs = m.act("probs", {1, 10}, 1 / 256.f, -128);
  m.op(OpKind::Softmax, {logits}, probs);
  m.output(probs, "output");
  return m.g;
}

// Element-wise ops, fixed-parameter activations, concat over channels, pad, global mean,
// and a 4-D second output (transposed back to NHWC).
IntegerGraph mixed(bool q) {
  GraphMaker m(q, 14);
  const float s = 4 / 255.f;
  const std::vector<int> shp = {1, 5, 5, 6};
  const int x = m.input("input", {1, 5, 5, 3}, 2 / 255.f, 0);
  const int w = m.weights("conv_w", {6, 1, 1, 3}, 0, true, 3);
  const int conv = m.act("conv", shp, s, 0);
  m.op(OpKind::Conv2D, {x, w, m.bias("conv_b", 6, 2 / 255.f, w)}, conv);
  const int leaky = m.act("leaky", shp, s, 0);
  m.op(OpKind::LeakyRelu, {conv}, leaky).alpha = 0.2f;
  const int hswish = m.act("hswish", shp, s, 0);
  m.op(OpKind::HardSwish, {conv}, hswish);
  const int add = m.act("add", shp, 6 / 255.f, -128);
  m.op(OpKind::Add, {leaky, hswish}, add).activation = FusedActivation::Relu;
  const int sub = m.act("sub", shp, s, 0);
  m.op(OpKind::Sub, {leaky, hswish}, sub);
  const int relu6 = m.act("relu6", shp, 6 / 255.f, -128);
  m.op(OpKind::Relu6, {sub}, relu6);
  const int mul = m.act("mul", shp, 8 / 255.f, 0);
  m.op(OpKind::Mul, {add, relu6}, mul);
  const int sig = m.act("sig", shp, 1 / 256.f, -128);
  m.op(OpKind::Logistic, {conv}, sig);
  const int tanh = m.act("tanh", shp, 1 / 128.f, 0);
  m.op(OpKind::Tanh, {conv}, tanh);
  const int cat = m.act("concat", {1, 5, 5, 18}, s, 0);
  m.op(OpKind::Concatenation, {mul, sig, tanh}, cat).axis = -1;
  const int pad = m.act("pad", {1, 7, 8, 18}, s, 0);
  m.op(OpKind::Pad, {cat, m.int32Const("paddings", {4, 2}, {0, 0, 1, 1, 0, 3, 0, 0})}, pad);
  const int mean = m.act("mean", {1, 18}, 2 / 255.f, 0);
  m.op(OpKind::Mean, {pad, m.int32Const("mean_axes", {2}, {1, 2})}, mean);
  m.output(mean, "pooled");
  m.output(pad, "padded");
  return m.g;
}

IntegerGraph int8Io(bool) {  // int8 input and output tensors, no QUANTIZE / DEQUANTIZE
  GraphMaker m(true, 15);
  const int x = m.act("input", {1, 4, 4, 2}, 0.05f, -3);
  m.g.inputs.push_back(x);
  const int w = m.weights("conv_w", {3, 3, 3, 2}, 0, true, 18);
  const int y = m.act("output", {1, 2, 2, 3}, 0.1f, 5);
  m.op(OpKind::Conv2D, {x, w, m.bias("conv_b", 3, 0.05f, w)}, y);
  m.g.outputs.push_back(y);
  return m.g;
}

// A residual block (the conv output is read by the next conv and by the ADD), a global
// AVERAGE_POOL_2D requantized to another scale, flatten, FC: the patterns onnxruntime's
// graph optimizer treats specially (see runsFusedInOnnxruntime; the int8 graph is compared
// there, with each optimization level's own rounding, not in handGraphs).
IntegerGraph residualRequant(bool q) {
  GraphMaker m(q, 16);
  const float s = 4 / 255.f;
  const int x = m.input("input", {1, 6, 6, 3}, 2 / 255.f, 0);
  const int w1 = m.weights("conv1_w", {8, 3, 3, 3}, 0, true, 27);
  const int c1 = m.act("conv1", {1, 6, 6, 8}, s, -128);
  auto& o1 = m.op(OpKind::Conv2D, {x, w1, m.bias("conv1_b", 8, 2 / 255.f, w1)}, c1);
  o1.padding = PaddingKind::Same;
  o1.activation = FusedActivation::Relu;
  const int w2 = m.weights("conv2_w", {8, 3, 3, 8}, 0, true, 72);
  const int c2 = m.act("conv2", {1, 6, 6, 8}, 3 / 255.f, 10);
  m.op(OpKind::Conv2D, {c1, w2, m.bias("conv2_b", 8, s, w2)}, c2).padding = PaddingKind::Same;
  // A fused ReLU with the zero point at −128, as freeze writes it (the range starts at 0):
  // onnxruntime drops the Relu as redundant and fuses the ADD.
  const int add = m.act("add", {1, 6, 6, 8}, 6 / 255.f, -128);
  m.op(OpKind::Add, {c1, c2}, add).activation = FusedActivation::Relu;
  const int avg = m.act("avg", {1, 1, 1, 8}, 6 / 255.f, -128);
  auto& ap = m.op(OpKind::AveragePool2D, {add}, avg);
  ap.filterH = ap.filterW = 6;
  const int rq = m.act("avg_requantized", {1, 1, 1, 8}, 2.5f / 255.f, -128);
  if (q) m.op(OpKind::Quantize, {avg}, rq);
  const int flat = m.act("flat", {1, 8}, q ? 2.5f / 255.f : s, -128);
  m.op(OpKind::Reshape, {q ? rq : avg, m.int32Const("flat_shape", {2}, {1, 8})}, flat);
  const int w3 = m.weights("fc_w", {5, 8}, 0, false, 8);
  const int fc = m.act("fc", {1, 5}, 8 / 255.f, 0);
  m.op(OpKind::FullyConnected, {flat, w3, m.bias("fc_b", 5, 2.5f / 255.f, w3)}, fc);
  m.output(fc, "output");
  return m.g;
}

IntegerGraph handGraph(const QString& name, bool q) {
  if (name == QLatin1String("residual-requant")) return residualRequant(q);
  if (name == QLatin1String("conv-same-asym")) return convSameAsym(q);
  if (name == QLatin1String("depthwise-pools")) return depthwisePools(q);
  if (name == QLatin1String("cnn-softmax")) return cnnSoftmax(q);
  if (name == QLatin1String("mixed")) return mixed(q);
  return int8Io(q);
}

// Random inputs: floats in [−1, 1]; int8 inputs as whole numbers in [−128, 127].
std::vector<Tensor> randomInputs(const IntegerGraph& g, int n, uint64_t seed, float lo = -1, float hi = 1) {
  Rng rng(seed);
  std::vector<Tensor> xs;
  for (int t : g.inputs) {
    const auto& gt = g.tensors[size_t(t)];
    Tensor x(Shape(gt.shape).withoutBatch().withBatch(n));
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = gt.type == ElementType::Int8 ? std::round(rng.uniform(-128.0f, 127.0f)) : rng.uniform(lo, hi);
    xs.push_back(std::move(x));
  }
  return xs;
}

}  // namespace

class TestOnnxFile : public QObject {
  Q_OBJECT

  test::OnnxJudge judge_;

 private slots:
  void initTestCase() {
    if (!judge_.checkerMissing().isEmpty()) qInfo("ONNX checker skipped: %s", qPrintable(judge_.checkerMissing()));
    if (!judge_.canRun()) qInfo("onnxruntime comparisons skipped: %s", qPrintable(test::OnnxJudge::runtimeMissing()));
  }

  // ---- protobuf encoder: bytes from the protobuf encoding documentation -----------------
  void varints_data() {
    QTest::addColumn<quint64>("value");
    QTest::addColumn<QByteArray>("bytes");
    QTest::newRow("0") << quint64(0) << QByteArray::fromHex("00");
    QTest::newRow("1") << quint64(1) << QByteArray::fromHex("01");
    QTest::newRow("127") << quint64(127) << QByteArray::fromHex("7f");
    QTest::newRow("128") << quint64(128) << QByteArray::fromHex("8001");
    QTest::newRow("150") << quint64(150) << QByteArray::fromHex("9601");
    QTest::newRow("300") << quint64(300) << QByteArray::fromHex("ac02");
    QTest::newRow("2^32") << (quint64(1) << 32) << QByteArray::fromHex("8080808010");
    QTest::newRow("max") << ~quint64(0) << QByteArray::fromHex("ffffffffffffffffff01");
  }
  void varints() {
    QFETCH(quint64, value);
    QFETCH(QByteArray, bytes);
    B out;
    ProtoWriter::appendVarint(out, value);
    QCOMPARE(QByteArray(reinterpret_cast<const char*>(out.data()), qsizetype(out.size())), bytes);
    QCOMPARE(ProtoWriter::varintSize(value), size_t(bytes.size()));
  }
  void fieldsAndNestedMessages() {
    ProtoWriter a;
    a.addInt(1, 150);  // the documentation's "Test1 { a: 150 }"
    QCOMPARE(a.bytes(), (B{0x08, 0x96, 0x01}));
    ProtoWriter s;
    s.addString(2, "testing");
    QCOMPARE(s.bytes(), (B{0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'}));
    ProtoWriter c;
    c.addMessage(3, a);  // Test3 { c: Test1 { a: 150 } }
    QCOMPARE(c.bytes(), (B{0x1a, 0x03, 0x08, 0x96, 0x01}));
    ProtoWriter p;
    p.addPackedInts(4, std::vector<int64_t>{3, 270, 86942});
    QCOMPARE(p.bytes(), (B{0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05}));
    ProtoWriter n;
    n.addInt(20, -1);  // field 20: key 0xa0 0x01; int64 −1: ten bytes
    QCOMPARE(n.bytes(), (B{0xa0, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
    ProtoWriter f;
    f.addFloat(2, 1.0f);
    f.addPackedFloats(7, std::vector<float>{-2.0f});
    QCOMPARE(f.bytes(), (B{0x15, 0x00, 0x00, 0x80, 0x3f, 0x3a, 0x04, 0x00, 0x00, 0x00, 0xc0}));
    // Length prefixes of more than 127 bytes take two varint bytes.
    ProtoWriter big;
    big.addBytes(1, B(200, 7));
    QCOMPARE(big.size(), size_t(203));
    QCOMPARE(big.bytes()[1], uint8_t(0xc8));
    QCOMPARE(big.bytes()[2], uint8_t(0x01));
  }

  // ---- layout helpers ---------------------------------------------------------------------
  void samePadsFollowTflite() {
    int64_t b = -1, a = -1;
    onnx_export::samePads(8, 3, 2, 1, b, a);  // out 4: total (4−1)·2 + 3 − 8 = 1
    QCOMPARE(b, int64_t(0));
    QCOMPARE(a, int64_t(1));
    onnx_export::samePads(7, 3, 2, 1, b, a);  // total 2: symmetric
    QCOMPARE(b, int64_t(1));
    QCOMPARE(a, int64_t(1));
    onnx_export::samePads(28, 5, 1, 1, b, a);
    QCOMPARE(b, int64_t(2));
    QCOMPARE(a, int64_t(2));
    onnx_export::samePads(6, 3, 1, 2, b, a);  // dilated: effective 5 → total 4
    QCOMPARE(b, int64_t(2));
    QCOMPARE(a, int64_t(2));
    onnx_export::samePads(5, 1, 2, 1, b, a);  // filter below stride: never negative
    QCOMPARE(b, int64_t(0));
    QCOMPARE(a, int64_t(0));
  }
  void permuteDataIsNumpyTranspose() {
    // src (2, 1, 2, 3) OHWI values 0..11 → OIHW (2, 3, 1, 2): dst[o][i][0][x] = src[o][0][x][i].
    B src(12);
    for (uint8_t i = 0; i < 12; ++i) src[i] = i;
    const B dst = onnx_export::permuteData(src, 1, {2, 1, 2, 3}, {0, 3, 1, 2});
    QCOMPARE(dst, (B{0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11}));
    // 4-byte elements move whole.
    B wide(8);
    for (uint8_t i = 0; i < 8; ++i) wide[i] = i;
    QCOMPARE(onnx_export::permuteData(wide, 4, {1, 2}, {1, 0}), wide);
    QCOMPARE(onnx_export::permuteData(wide, 2, {2, 2}, {1, 0}), (B{0, 1, 4, 5, 2, 3, 6, 7}));
  }

  // ---- the ModelProto on the wire, read with the test's own decoder -----------------------
  void modelProtoFields() {
    auto bytes = onnxQdqBytes(convSameAsym(true));
    QVERIFY2(bytes.ok(), bytes.ok() ? "" : bytes.error().message.c_str());
    bool ok = false;
    const auto model = test::readWire(*bytes, ok);
    QVERIFY(ok);
    std::map<uint32_t, std::vector<test::WireField>> f;
    for (const auto& x : model) f[x.number].push_back(x);
    QCOMPARE(f[1].at(0).value, uint64_t(7));                  // ir_version
    QCOMPARE(f[2].at(0).str(), std::string("QAT Studio"));    // producer_name
    const auto opset = test::readWire(f[8].at(0).bytes, ok);  // opset_import
    QVERIFY(ok);
    QCOMPARE(opset.at(0).number, 1u);
    QCOMPARE(opset.at(0).str(), std::string(""));
    QCOMPARE(opset.at(1).value, uint64_t(13));
    std::vector<std::string> ops;
    size_t inits = 0;
    for (const auto& g : test::readWire(f[7].at(0).bytes, ok)) {
      if (g.number == 5) ++inits;
      if (g.number != 1) continue;
      for (const auto& n : test::readWire(g.bytes, ok))
        if (n.number == 4) ops.push_back(n.str());
    }
    QVERIFY(ok);
    // input → Q → DQ → Transpose → Conv (w, b through DQ) → Relu → Q → DQ → Transpose → Identity
    const std::vector<std::string> want = {"QuantizeLinear", "DequantizeLinear", "Transpose", "DequantizeLinear",
                                           "DequantizeLinear", "Conv", "Relu", "QuantizeLinear", "DequantizeLinear",
                                           "Transpose", "Identity"};
    QCOMPARE(ops, want);
    QCOMPARE(inits, size_t(10));  // 2 activations × (scale, zp), w and b × (data, scale, zp)
  }

  // ---- hand-built graphs: checker, structure, onnxruntime vs the interpreter --------------
  void handGraphs_data() {
    QTest::addColumn<QString>("graph");
    QTest::addColumn<bool>("quantized");
    QTest::addColumn<int>("transposes");
    QTest::addColumn<double>("minEqual");  // fraction of int8 output values equal
    QTest::addColumn<int>("maxSteps");
    // Where the graphs differ from TFLite arithmetic (measured per tensor):
    //  depthwise-pools: AVERAGE_POOL_2D divides with ties away from zero, QuantizeLinear
    //    rounds the float average half to even; windows of 4 or 6 pixels give exact ties
    //    (~6 % of the averages);
    //  mixed: TFLite's LEAKY_RELU rounds twice (SaturatingRoundingDoublingHighMul, then a
    //    rounding shift by 2 for alpha 0.2), ~10 % of its values are one step off the
    //    exact product; TANH's slope at 0 maps one input step (4/255) to two output steps
    //    (1/128), so a one-step difference upstream shows as two there.
    const struct {
      const char* name;
      double minEqual;
      int maxSteps;
    } rows[] = {{"conv-same-asym", 0.995, 1}, {"depthwise-pools", 0.95, 1}, {"cnn-softmax", 0.995, 1}, {"mixed", 0.99, 2}};
    for (const auto& r : rows) {
      QTest::addRow("%s-int8", r.name) << QString::fromLatin1(r.name) << true << 2 << r.minEqual << r.maxSteps;
      QTest::addRow("%s-float", r.name) << QString::fromLatin1(r.name) << false << 2 << 1.0 << 0;
    }
    QTest::addRow("int8-io") << QStringLiteral("int8-io") << true << 2 << 0.995 << 1;
    QTest::addRow("residual-requant-float") << QStringLiteral("residual-requant") << false << 2 << 1.0 << 0;
  }
  void handGraphs() {
    QFETCH(QString, graph);
    QFETCH(bool, quantized);
    QFETCH(int, transposes);
    QFETCH(double, minEqual);
    QFETCH(int, maxSteps);
    const IntegerGraph g = handGraph(graph, quantized);
    QVERIFY2(validate(g).ok(), validate(g).ok() ? "" : validate(g).error().message.c_str());
    const auto xs = randomInputs(g, 16, 3);
    const auto ref = test::interpret(g, xs);
    const auto run = judge_.exportAndCompare(g, xs, ref);
    if (!judge_.checkerMissing().isEmpty()) QSKIP(qPrintable(judge_.checkerMissing()));
    const QJsonObject& s = run.summary;
    QCOMPARE(s[QStringLiteral("ir_version")].toInt(), 7);
    QCOMPARE(s[QStringLiteral("opset")].toObject()[QString()].toInt(), 13);
    QCOMPARE(s[QStringLiteral("producer")].toString(), QStringLiteral("QAT Studio"));
    const auto in0 = s[QStringLiteral("inputs")].toArray().at(0).toObject();
    QCOMPARE(in0[QStringLiteral("dims")].toArray().at(0).toString(), QStringLiteral("N"));
    QCOMPARE(in0[QStringLiteral("type")].toInt(), graph == QLatin1String("int8-io") ? 3 : 1);
    const QStringList ops = s[QStringLiteral("ops")].toVariant().toStringList();
    QCOMPARE(ops.count(QStringLiteral("Transpose")), transposes);
    QCOMPARE(ops.contains(QStringLiteral("DequantizeLinear")), quantized);
    // Node-level facts of the first Conv: TFLite SAME pads, per-axis weights, groups.
    for (const auto& nv : s[QStringLiteral("nodes")].toArray()) {
      const auto n = nv.toObject();
      const auto attrs = n[QStringLiteral("attrs")].toObject();
      if (graph == QLatin1String("conv-same-asym") && n[QStringLiteral("op")].toString() == QLatin1String("Conv"))
        QCOMPARE(attrs[QStringLiteral("pads")].toVariant().toList(), (QVariantList{0, 0, 1, 1}));
      if (graph == QLatin1String("depthwise-pools") && n[QStringLiteral("op")].toString() == QLatin1String("Conv"))
        QCOMPARE(attrs[QStringLiteral("group")].toInt(), 4);
      if (graph == QLatin1String("depthwise-pools") && n[QStringLiteral("op")].toString() == QLatin1String("AveragePool")) {
        QCOMPARE(attrs[QStringLiteral("pads")].toVariant().toList(), (QVariantList{0, 0, 1, 1}));
        QCOMPARE(attrs[QStringLiteral("count_include_pad")].toInt(), 0);
      }
    }
    if (quantized && graph == QLatin1String("depthwise-pools")) {
      const auto w = s[QStringLiteral("initializers")].toObject()[QStringLiteral("dw_w_int8")].toObject();
      QCOMPARE(w[QStringLiteral("dims")].toVariant().toList(), (QVariantList{8, 1, 3, 3}));
      QCOMPARE(w[QStringLiteral("type")].toInt(), 3);
    }
    if (!run.ran) QSKIP(qPrintable(test::OnnxJudge::runtimeMissing()));
    if (!quantized) return;  // float outputs were held to 1e-4 relative in exportAndCompare
    for (int k = 0; k < 2; ++k) {
      const test::Agreement& a = run.agree[k];
      qInfo("%s, onnxruntime optimizations %s: %zu of %zu output values equal (%.3f %%), max %ld step(s)",
            qPrintable(graph), test::OnnxJudge::kOpt[k], a.equal, a.values, 100.0 * a.equalFraction(), a.maxSteps);
      QVERIFY(a.values > 0);
      QVERIFY(a.maxSteps <= maxSteps);
      QVERIFY(a.equalFraction() >= minEqual);
    }
  }

  // onnxruntime at level "all" runs the export's QDQ groups as fused integer kernels
  // (QLinearConv, QLinearAdd, QLinearAveragePool, QGemm), none left as a float op between
  // DequantizeLinear and QuantizeLinear, also where a tensor has two readers (the export's
  // uint8 activations: with int8 ones onnxruntime converts only single-reader Q/DQ pairs to
  // uint8 and leaves the mixed-type groups unfused); and its outputs equal the interpreter
  // in kOnnxMode, which models the requantize it merges into the average pool.
  void runsFusedInOnnxruntime() {
    const IntegerGraph g = residualRequant(true);
    QVERIFY2(validate(g).ok(), validate(g).ok() ? "" : validate(g).error().message.c_str());
    const auto xs = randomInputs(g, 64, 5);
    const auto run = judge_.exportAndCompare(g, xs, test::interpret(g, xs, test::kOnnxUnoptimizedMode),
                                             test::interpret(g, xs, test::kOnnxMode));
    if (!run.ran) QSKIP(qPrintable(test::OnnxJudge::runtimeMissing()));
    if (!judge_.checkerMissing().isEmpty()) QSKIP(qPrintable(judge_.checkerMissing()));
    qInfo("after onnxruntime's fusion: %s", qPrintable(run.fusedOps.join(QStringLiteral(", "))));
    for (const char* floatOp : {"Conv", "Add", "AveragePool", "Gemm", "MatMul"})
      QVERIFY2(!run.fusedOps.contains(QString::fromLatin1(floatOp)), floatOp);
    QCOMPARE(run.fusedOps.count(QStringLiteral("com.microsoft:QLinearConv")), 2);
    QVERIFY(run.fusedOps.contains(QStringLiteral("com.microsoft:QLinearAdd")));
    QVERIFY(run.fusedOps.contains(QStringLiteral("com.microsoft:QLinearAveragePool")));
    for (int k = 0; k < 2; ++k) {
      const test::Agreement& a = run.agree[k];
      qInfo("optimizations %s: %zu of %zu output values equal, max %ld step(s)", test::OnnxJudge::kOpt[k], a.equal,
            a.values, a.maxSteps);
      QCOMPARE(a.values, size_t(64 * 5));
      QVERIFY(a.maxSteps <= 1);
      QVERIFY(a.equalFraction() >= 0.995);
    }
  }

  // ---- refusals ------------------------------------------------------------------------------
  void refusesWhatOnnxCannotHold() {
    IntegerGraph g = convSameAsym(true);
    // INT4 weight tensors (opset 13 has no 4-bit type): named.
    IntegerGraph g4 = g;
    for (auto& t : g4.tensors)
      if (t.name == "conv_w") {
        t.type = ElementType::Int4;
        t.data.resize((t.data.size() + 1) / 2);
      }
    auto r4 = onnxQdqBytes(g4);
    QVERIFY(!r4.ok());
    QVERIFY2(r4.error().message.find("conv_w") != std::string::npos, r4.error().message.c_str());
    QVERIFY(r4.error().message.find("INT4") != std::string::npos);
    QVERIFY(r4.error().message.find("CONV_2D") != std::string::npos);
    // Per-axis activation quantization: QuantizeLinear of an activation is per-tensor here.
    IntegerGraph ga = g;
    for (auto& t : ga.tensors)
      if (t.name == "conv") {
        t.quant.scale.assign(5, 0.01f);
        t.quant.zeroPoint.assign(5, 0);
        t.quant.quantizedDimension = 3;
      }
    auto ra = onnxQdqBytes(ga);
    QVERIFY(!ra.ok());
    QVERIFY2(ra.error().message.find("per-axis") != std::string::npos, ra.error().message.c_str());
    // Structural errors come from validate(), prefixed with what was being done.
    IntegerGraph gb = g;
    gb.outputs = {int(gb.tensors.size()) + 3};
    auto rb = onnxQdqBytes(gb);
    QVERIFY(!rb.ok());
    QVERIFY(rb.error().message.rfind("ONNX export: ", 0) == 0);
    // A failed write leaves no file behind.
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("bad.onnx")).toStdString();
    QVERIFY(!writeOnnxQdq(gb, path).ok());
    QVERIFY(!QFileInfo::exists(QString::fromStdString(path)));
  }
};

QTEST_APPLESS_MAIN(TestOnnxFile)
#include "test_onnx_file.moc"
