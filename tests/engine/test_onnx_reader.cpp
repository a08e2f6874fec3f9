// ONNX QDQ reader: files written by the exporter read back into IntegerGraphs.
//  * round trip write → read → interpret: the graph read back gives bit for bit the outputs
//    of the graph that was written, and has the same ops, options and tensors (order and
//    generated names aside), for every hand-built graph of common/deploy_graphs.h and the
//    built-in models (quantized and calibrated, float and int8 I/O; and their float graphs);
//  * damaged files (every truncation, random bit flips) come back as errors naming the
//    file, or as graphs that still run, never as a crash;
//  * nodes outside the writer's subset are refused naming the node and its op type.
#include <QtTest>

#include <QTemporaryDir>
#include <cstring>

#include "common/deploy_graphs.h"
#include "common/freeze_test_util.h"
#include "engine/deploy/freeze.h"
#include "engine/deploy/interpreter.h"
#include "engine/deploy/onnx_file.h"
#include "engine/deploy/onnx_proto.h"
#include "engine/train/trainer.h"

using namespace qat;
using namespace qat::deploy;

namespace {

using Bytes = std::vector<uint8_t>;

// Inputs for every graph input: int8 values (as floats) for int8 inputs, reals in [−1, 2]
// for float ones (beyond the usual [0, 1] so clamping at the int8 range is exercised).
std::vector<Tensor> randomInputs(const IntegerGraph& g, int n, uint64_t seed) {
  Rng rng(seed);
  std::vector<Tensor> ins;
  for (int t : g.inputs) {
    std::vector<int> dims = g.tensors[size_t(t)].shape;
    dims[0] = n;
    Tensor x{Shape(dims)};
    const bool int8 = g.tensors[size_t(t)].type == ElementType::Int8;
    for (size_t i = 0; i < x.size(); ++i) x[i] = int8 ? std::round(rng.uniform(-128.0f, 127.0f)) : rng.uniform(-1.0f, 2.0f);
    ins.push_back(std::move(x));
  }
  return ins;
}

Expected<std::vector<Tensor>> runOn(const IntegerGraph& g, const std::vector<Tensor>& ins) {
  auto interp = Interpreter::create(g);
  if (!interp.ok()) return interp.error();
  interp->setKeepTensors(false);
  return interp->run(ins);
}

std::string tensorDifference(const GraphTensor& a, const GraphTensor& b, bool compareData) {
  if (a.shape != b.shape) return "shape";
  if (a.type != b.type) return "type";
  if (a.quant.scale != b.quant.scale || a.quant.zeroPoint != b.quant.zeroPoint) return "scales / zero points";
  if (a.quant.scale.size() > 1 && a.quant.quantizedDimension != b.quant.quantizedDimension) return "quantized dimension";
  if (compareData && a.data != b.data) return "data";
  return {};
}

// SAME and VALID are the same geometry when SAME needs no padding (1×1 kernels, exact fits).
bool samePadding(const IntegerGraph& g, const GraphOp& a, const GraphOp& b) {
  if (a.padding == b.padding) return true;
  if (a.kind == OpKind::FullyConnected || a.kind == OpKind::Mean) return true;
  const auto& x = g.tensors[size_t(a.inputs[0])].shape;
  const bool pool = a.kind == OpKind::AveragePool2D || a.kind == OpKind::MaxPool2D;
  const auto& w = pool ? x : g.tensors[size_t(a.inputs[1])].shape;
  const int kh = pool ? a.filterH : w[1], kw = pool ? a.filterW : w[2];
  auto none = [](int in, int k, int s, int d) { return ((in + s - 1) / s - 1) * s + (k - 1) * d + 1 - in <= 0; };
  return none(x[1], kh, a.strideH, a.dilationH) && none(x[2], kw, a.strideW, a.dilationW);
}

// First structural difference between the written graph `a` and the one read back `b`:
// op by op kind, builtin options and the tensors each reads and writes (constants with
// their data; RESHAPE's shape input only by shape, its batch entry is −1 when read back).
std::string structureDifference(const IntegerGraph& a, const IntegerGraph& b) {
  if (a.ops.size() != b.ops.size())
    return "op count " + std::to_string(a.ops.size()) + " vs " + std::to_string(b.ops.size());
  for (size_t i = 0; i < a.ops.size(); ++i) {
    const GraphOp& x = a.ops[i];
    const GraphOp& y = b.ops[i];
    const std::string o = "op " + std::to_string(i) + " (" + std::string(opKindName(x.kind)) + "): ";
    if (x.kind != y.kind) return o + "kind " + std::string(opKindName(y.kind));
    if (!samePadding(a, x, y)) return o + "padding";
    if (x.strideH != y.strideH || x.strideW != y.strideW || x.dilationH != y.dilationH || x.dilationW != y.dilationW)
      return o + "strides / dilations";
    if (x.filterH != y.filterH || x.filterW != y.filterW || x.depthMultiplier != y.depthMultiplier) return o + "window";
    if (x.activation != y.activation) return o + "fused activation";
    const int rank = int(a.tensors[size_t(x.outputs[0])].shape.size());
    if (x.kind == OpKind::Concatenation && (x.axis + rank) % rank != (y.axis + rank) % rank) return o + "axis";
    if (x.keepDims != y.keepDims || x.alpha != y.alpha || x.beta != y.beta) return o + "keep_dims / alpha / beta";
    if (x.inputs.size() != y.inputs.size() || x.outputs.size() != 1 || y.outputs.size() != 1) return o + "arity";
    for (size_t k = 0; k < x.inputs.size(); ++k) {
      const bool data = x.kind != OpKind::Reshape;
      const std::string d = tensorDifference(a.tensors[size_t(x.inputs[k])], b.tensors[size_t(y.inputs[k])], data);
      if (!d.empty()) return o + "input " + std::to_string(k) + " " + d;
    }
    const std::string d = tensorDifference(a.tensors[size_t(x.outputs[0])], b.tensors[size_t(y.outputs[0])], false);
    if (!d.empty()) return o + "output " + d;
  }
  if (a.inputs.size() != b.inputs.size() || a.outputs.size() != b.outputs.size()) return "graph inputs / outputs";
  for (size_t k = 0; k < a.inputs.size(); ++k)
    if (auto d = tensorDifference(a.tensors[size_t(a.inputs[k])], b.tensors[size_t(b.inputs[k])], false); !d.empty())
      return "graph input " + std::to_string(k) + ": " + d;
  if (a.name != b.name) return "graph name";
  if (a.notes != b.notes) return "notes";
  return {};
}

// Write, read back, compare structure and the interpreter's outputs bit for bit on n inputs.
void roundTrip(const IntegerGraph& g, int n, const char* what) {
  auto bytes = onnxQdqBytes(g);
  QVERIFY2(bytes.ok(), bytes.ok() ? "" : bytes.error().message.c_str());
  auto r = parseOnnxQdq(*bytes, std::string(what) + ".onnx");
  QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
  const std::string diff = structureDifference(g, *r);
  QVERIFY2(diff.empty(), diff.c_str());
  const auto ins = randomInputs(g, n, 99);
  auto ya = runOn(g, ins), yb = runOn(*r, ins);
  QVERIFY2(ya.ok(), ya.ok() ? "" : ya.error().message.c_str());
  QVERIFY2(yb.ok(), yb.ok() ? "" : yb.error().message.c_str());
  QCOMPARE(ya->size(), yb->size());
  for (size_t k = 0; k < ya->size(); ++k) {
    QCOMPARE((*ya)[k].shape(), (*yb)[k].shape());
    QVERIFY((*ya)[k].size() > 0);
    QVERIFY2(std::memcmp((*ya)[k].data(), (*yb)[k].data(), (*ya)[k].size() * sizeof(float)) == 0,
             "outputs differ between the written graph and the graph read back");
  }
}

IntegerGraph quantizedBuiltin(const std::string& name, bool int8Io) {
  Model m = qat::test::builtin(name);
  quant::QuantizedModel q = qat::test::quantizeWith(m, quant::BnMode::Fold);
  Trainer t(q.model, TrainConfig{});
  QAT_ASSERT(t.calibrate(qat::test::randomData(m, 64, 3), 1).ok());
  FreezeOptions fo;
  fo.int8Io = int8Io;
  auto g = freezeQuantized(q, fo);
  if (!g.ok()) qFatal("%s", g.error().message.c_str());
  return std::move(g.value());
}

// A hand-made model: graph input x (1, 4) float → one node → output y.
Bytes oneNodeModel(const std::string& opType, const std::string& nodeName, const std::vector<onnx::Attribute>& attrs,
                   const std::string& domain = "") {
  ProtoWriter graph;
  ProtoWriter node = onnx::nodeProto(opType, {"x"}, {"y"}, nodeName, attrs);
  if (!domain.empty()) node.addString(7, domain);
  graph.addMessage(1, node);
  graph.addString(2, "hand_made");
  graph.addMessage(11, onnx::valueInfo("x", onnx::Float, {-1, 4}));
  graph.addMessage(12, onnx::valueInfo("y", onnx::Float, {-1, 4}));
  return onnx::modelProto(graph).take();
}

}  // namespace

class TestOnnxReader : public QObject {
  Q_OBJECT

 private slots:
  void handBuiltGraphs_data() {
    QTest::addColumn<QString>("which");
    for (const auto& name : ::test::singleOpNames()) QTest::newRow(name.c_str()) << QString::fromStdString(name);
    QTest::newRow("cnn") << QStringLiteral("cnn");
    QTest::newRow("cnn_w4") << QStringLiteral("cnn_w4");
  }
  void handBuiltGraphs() {
    QFETCH(QString, which);
    const std::string w = which.toStdString();
    const IntegerGraph g = w == "cnn" ? ::test::cnnGraph() : w == "cnn_w4" ? ::test::cnnGraph(7, 4) : ::test::singleOpGraph(w);
    roundTrip(g, 37, w.c_str());  // 37: more than one interpreter chunk, not a multiple of it
  }

  void builtinModels_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("kind");
    for (const char* m : {"fashion-mlp", "fashion-cnn", "bn-after-relu"})
      for (const char* k : {"int8", "int8-io", "float"})
        QTest::addRow("%s %s", m, k) << QString::fromLatin1(m) << QString::fromLatin1(k);
  }
  void builtinModels() {
    QFETCH(QString, model);
    QFETCH(QString, kind);
    const std::string name = model.toStdString();
    if (kind == QLatin1String("float")) {
      auto g = freezeFloat(qat::test::builtin(name));
      QVERIFY2(g.ok(), g.ok() ? "" : g.error().message.c_str());
      roundTrip(*g, 6, name.c_str());  // float kernels are scalar: few samples
    } else {
      const IntegerGraph g = quantizedBuiltin(name, kind == QLatin1String("int8-io"));
      QVERIFY(qat::test::countOps(g, OpKind::Conv2D) + qat::test::countOps(g, OpKind::FullyConnected) >= 2);
      roundTrip(g, 33, name.c_str());  // two interpreter chunks
    }
  }

  // readOnnxQdq reads what writeOnnxQdq wrote; a missing file is an error naming it.
  void readsTheFile() {
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("cnn.onnx")).toStdString();
    QVERIFY(writeOnnxQdq(::test::cnnGraph(), path).ok());
    auto g = readOnnxQdq(path);
    QVERIFY2(g.ok(), g.ok() ? "" : g.error().message.c_str());
    QCOMPARE(g->name, std::string("cnn"));
    QCOMPARE(int(g->ops.size()), int(::test::cnnGraph().ops.size()));
    auto missing = readOnnxQdq(path + ".missing");
    QVERIFY(!missing.ok());
    QVERIFY(missing.error().message.find("cnn.onnx.missing") != std::string::npos);
  }

  // Every cut of the file is refused with a message naming it.
  void truncatedFilesAreRefused() {
    auto bytes = onnxQdqBytes(::test::cnnGraph());
    QVERIFY(bytes.ok());
    const size_t size = bytes->size();
    int cuts = 0;
    for (size_t len = 0; len < size; len += (len < 64 || len + 64 > size) ? 1 : 37) {
      const Bytes cut(bytes->begin(), bytes->begin() + long(len));
      auto r = parseOnnxQdq(cut, "cut.onnx");
      QVERIFY2(!r.ok(), qPrintable(QStringLiteral("a file cut to %1 of %2 bytes was read").arg(len).arg(size)));
      QVERIFY2(r.error().message.rfind("cut.onnx: ", 0) == 0, r.error().message.c_str());
      ++cuts;
    }
    qInfo("%d truncations of a %zu-byte file refused", cuts, size);
  }

  // Single bit flips anywhere: an error naming the file, or a graph the interpreter accepts
  // or refuses cleanly and, when it accepts it, runs. Flips in names, weights or scales
  // leave a readable file; flips in structure must not.
  void bitFlipsNeverCrash() {
    auto bytes = onnxQdqBytes(::test::cnnGraph());
    QVERIFY(bytes.ok());
    Rng rng(2024);
    int refused = 0, read = 0;
    const auto ins = randomInputs(::test::cnnGraph(), 2, 5);
    for (int k = 0; k < 3000; ++k) {
      Bytes b = *bytes;
      const size_t pos = std::min(b.size() - 1, size_t(rng.uniform(0.0f, float(b.size()))));
      b[pos] ^= uint8_t(1u << (int(rng.uniform(0.0f, 7.999f))));
      auto r = parseOnnxQdq(b, "flipped.onnx");
      if (!r.ok()) {
        QVERIFY2(r.error().message.rfind("flipped.onnx: ", 0) == 0, r.error().message.c_str());
        ++refused;
        continue;
      }
      ++read;
      if (r->inputs.size() == 1 && r->tensors[size_t(r->inputs[0])].shape == ::test::cnnGraph().tensors[0].shape)
        (void)runOn(*r, ins);  // any result, but no crash
    }
    qInfo("3000 single-bit flips: %d refused, %d read", refused, read);
    QVERIFY(refused > 300);
    QVERIFY(read > 300);
  }

  void foreignNodesAreRefused_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("expected");
    auto add = [](const char* row, const Bytes& b, const char* expected) {
      QTest::newRow(row) << QByteArray(reinterpret_cast<const char*>(b.data()), qsizetype(b.size()))
                         << QString::fromLatin1(expected);
    };
    add("unknown op", oneNodeModel("Erf", "my_erf", {}), "node 'my_erf' (Erf): op type 'Erf' is outside the subset");
    add("custom domain", oneNodeModel("Relu", "custom_relu", {}, "com.example"),
        "node 'custom_relu' (Relu): is from operator domain 'com.example'");
    add("extra attribute", oneNodeModel("Softmax", "sm", {onnx::Attribute::ofInt("axis", 1),
                                                         onnx::Attribute::ofInt("legacy", 1)}),
        "node 'sm' (Softmax): attribute 'legacy' is outside the subset");
    add("attribute type", oneNodeModel("LeakyRelu", "lr", {onnx::Attribute::ofInts("alpha", {1})}),
        "node 'lr' (LeakyRelu): attribute 'alpha' has type 7");
    // A node of our own writer's vocabulary in a place the subset does not have it: the
    // HardSigmoid of HardSwish on its own.
    add("hard sigmoid alone", oneNodeModel("HardSigmoid", "hs", {}), "node 'hs' (HardSigmoid): the subset has HardSigmoid only");
  }
  void foreignNodesAreRefused() {
    QFETCH(QByteArray, bytes);
    QFETCH(QString, expected);
    const Bytes b(bytes.begin(), bytes.end());
    auto r = parseOnnxQdq(b, "foreign.onnx");
    QVERIFY(!r.ok());
    qInfo("%s", r.error().message.c_str());
    QVERIFY2(r.error().message.rfind("foreign.onnx: " + expected.toStdString(), 0) == 0, r.error().message.c_str());
  }

  // A node replaced in an exported model: the Softmax of the hand-built CNN renamed to an
  // op outside the subset (same length, so the protobuf stays well formed).
  void replacedNodeIsRefused() {
    auto bytes = onnxQdqBytes(::test::cnnGraph());
    QVERIFY(bytes.ok());
    // NodeProto.op_type: key 0x22 (field 4, length-delimited), length 7.
    const std::string from = "\x22\x07Softmax", to = "\x22\x07Hardmax";
    auto it = std::search(bytes->begin(), bytes->end(), from.begin(), from.end());
    QVERIFY(it != bytes->end());
    std::copy(to.begin(), to.end(), it);
    auto r = parseOnnxQdq(*bytes, "replaced.onnx");
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.find("(Hardmax): op type 'Hardmax' is outside the subset") != std::string::npos,
             r.error().message.c_str());
  }

  // Not ONNX at all, or from another opset.
  void otherFilesAreRefused() {
    auto r = parseOnnxQdq(Bytes{}, "empty.onnx");
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.rfind("empty.onnx: ", 0) == 0);
    auto tflite = Bytes{0x1c, 0, 0, 0, 'T', 'F', 'L', '3', 0x14, 0, 0x20, 0};
    QVERIFY(!parseOnnxQdq(tflite, "m.tflite").ok());
    ProtoWriter opset;
    opset.addString(1, "");
    opset.addInt(2, 9);
    ProtoWriter m;
    m.addInt(1, 4);
    m.addMessage(7, ProtoWriter());
    m.addMessage(8, opset);
    r = parseOnnxQdq(m.take(), "old.onnx");
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.find("opset 9") != std::string::npos, r.error().message.c_str());
  }
};

QTEST_APPLESS_MAIN(TestOnnxReader)
#include "test_onnx_reader.moc"
