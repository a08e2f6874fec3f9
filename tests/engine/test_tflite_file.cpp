// .tflite writer and reader: the file layout our writer produces (checked on the raw
// flatbuffer, independently of our reader), round trips of our own graphs and of files
// written by TensorFlow's converter, INT4 packing, damaged files, and the C header export.
// Running the files in an independent runtime is test_tflite_armnn.
#include <QtTest>

#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <flatbuffers/flatbuffers.h>

#include <map>
#include <set>

#include "common/deploy_graphs.h"
#include "engine/data/file_io.h"
#include "engine/deploy/tflite_file.h"
#include "engine/deploy/tflite_schema.h"

using namespace qat;
using namespace qat::deploy;

namespace {

const QString kTflite = QStringLiteral(QAT_SHARED_DIR "/models/tflite");

// Raw access to a flatbuffer table by field id (4 + 2·id), no schema views.
struct RawTable : flatbuffers::Table {
  template <class T>
  T field(int id, T def) const { return GetField<T>(static_cast<flatbuffers::voffset_t>(4 + 2 * id), def); }
  template <class P>
  P ptr(int id) const { return GetPointer<P>(static_cast<flatbuffers::voffset_t>(4 + 2 * id)); }
  bool has(int id) const { return CheckField(static_cast<flatbuffers::voffset_t>(4 + 2 * id)); }
};
using RawTables = flatbuffers::Vector<flatbuffers::Offset<RawTable>>;
using Ints = flatbuffers::Vector<int32_t>;

// "CONV_2D×3, MEAN×1" from the README's ops column → counts by name.
std::map<std::string, int> parseOpList(const QString& cell) {
  std::map<std::string, int> m;
  for (const QString& item : cell.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
    const QStringList p = item.trimmed().split(QChar(0x00D7));
    if (p.size() == 2) m[p[0].toStdString()] = p[1].toInt();
  }
  return m;
}

// The README table of ../shared/models: file name → ops column, for the tflite rows.
std::map<QString, QString> readmeOps() {
  std::map<QString, QString> rows;
  QFile f(QStringLiteral(QAT_SHARED_DIR "/models/README.md"));
  if (!f.open(QIODevice::ReadOnly)) return rows;
  for (const QString& line : QString::fromUtf8(f.readAll()).split(QLatin1Char('\n'))) {
    const QStringList c = line.split(QLatin1Char('|'));
    if (c.size() > 9 && c[1].trimmed() == QStringLiteral("tflite")) rows[c[2].trimmed()] = c[8].trimmed();
  }
  return rows;
}

std::map<std::string, int> opCounts(const IntegerGraph& g) {
  std::map<std::string, int> m;
  for (const GraphOp& op : g.ops) ++m[std::string(opKindName(op.kind))];
  return m;
}

std::vector<uint8_t> fileBytes(const QString& path) {
  auto b = readFileBytes(path.toStdString());
  return b ? *b : std::vector<uint8_t>();
}

}  // namespace

class TestTfliteFile : public QObject {
  Q_OBJECT
 private slots:
  // The writer's bytes, read back field by field with raw offsets.
  void layoutOfWrittenFile() {
    const IntegerGraph g = test::cnnGraph();
    QVERIFY(validate(g).ok());
    auto bytes = tfliteBytes(g, {false, "unit test"});
    QVERIFY2(bytes.ok(), bytes.ok() ? "" : bytes.error().message.c_str());
    const std::vector<uint8_t>& b = *bytes;
    QCOMPARE(std::string(reinterpret_cast<const char*>(b.data()) + 4, 4), std::string("TFL3"));
    const auto* m = flatbuffers::GetRoot<RawTable>(b.data());
    QCOMPARE(m->field<uint32_t>(0, 0), 3u);
    QCOMPARE(m->ptr<const flatbuffers::String*>(3)->str(), std::string("unit test"));

    const auto* buffers = m->ptr<const RawTables*>(4);
    QVERIFY(!buffers->Get(0)->ptr<const flatbuffers::Vector<uint8_t>*>(0));  // sentinel: no data
    const auto* sg = m->ptr<const RawTables*>(2)->Get(0);
    QCOMPARE(sg->ptr<const flatbuffers::String*>(4)->str(), std::string("cnn"));
    const auto* tensors = sg->ptr<const RawTables*>(0);
    QCOMPARE(int(tensors->size()), int(g.tensors.size()));
    std::set<uint32_t> used;
    for (flatbuffers::uoffset_t i = 0; i < tensors->size(); ++i) {
      const RawTable* t = tensors->Get(i);
      const GraphTensor& gt = g.tensors[i];
      QCOMPARE(t->ptr<const flatbuffers::String*>(3)->str(), gt.name);
      const auto* shape = t->ptr<const Ints*>(0);
      QCOMPARE(std::vector<int>(shape->begin(), shape->end()), gt.shape);
      const uint32_t buf = t->field<uint32_t>(2, 0);
      const auto* sig = t->ptr<const Ints*>(7);
      if (gt.isConstant()) {
        QVERIFY(buf > 0);
        QVERIFY2(used.insert(buf).second, "each constant tensor has its own buffer");
        const auto* data = buffers->Get(buf)->ptr<const flatbuffers::Vector<uint8_t>*>(0);
        QCOMPARE(std::vector<uint8_t>(data->begin(), data->end()), gt.data);
        QCOMPARE(static_cast<size_t>(data->Data() - b.data()) % 16, size_t(0));
        QVERIFY(!sig);
      } else {
        QCOMPARE(buf, 0u);
        QVERIFY(sig);
        QCOMPARE(sig->Get(0), -1);  // dynamic batch
        for (flatbuffers::uoffset_t k = 1; k < sig->size(); ++k) QCOMPARE(sig->Get(k), gt.shape[k]);
      }
      const int8_t type = t->field<int8_t>(1, 0);
      QCOMPARE(int(type), gt.type == ElementType::Float32 ? 0 : gt.type == ElementType::Int32 ? 2 : 9);
      const RawTable* q = t->ptr<const RawTable*>(4);
      QCOMPARE(q != nullptr, gt.quant.quantized());
      if (q) {
        const auto* s = q->ptr<const flatbuffers::Vector<float>*>(2);
        const auto* z = q->ptr<const flatbuffers::Vector<int64_t>*>(3);
        QCOMPARE(std::vector<float>(s->begin(), s->end()), gt.quant.scale);
        QCOMPARE(std::vector<int64_t>(z->begin(), z->end()), gt.quant.zeroPoint);
        QCOMPARE(q->field<int32_t>(6, 0), gt.quant.quantizedDimension);
      }
    }
    QCOMPARE(int(buffers->size()), int(used.size()) + 1);

    // Operator codes: one per kind, deprecated byte == builtin code, int8 versions.
    const auto* codes = m->ptr<const RawTables*>(1);
    const std::map<int, int> expectVersion = {{114, 1}, {3, 3}, {4, 3}, {17, 2}, {0, 2}, {1, 2},
                                              {22, 1},  {9, 4}, {25, 2}, {6, 2}};
    QCOMPARE(int(codes->size()), int(expectVersion.size()));
    for (const RawTable* c : *codes) {
      const int code = c->field<int32_t>(3, 0);
      QCOMPARE(int(c->field<int8_t>(0, 0)), code);
      QVERIFY2(expectVersion.count(code), qPrintable(QString::number(code)));
      QCOMPARE(c->field<int32_t>(2, 1), expectVersion.at(code));
    }
    const auto* ops = sg->ptr<const RawTables*>(3);
    QCOMPARE(int(ops->size()), int(g.ops.size()));
    // op 1 is the first CONV_2D: Conv2DOptions (union 1) SAME, stride 1, RELU.
    const RawTable* conv = ops->Get(1);
    QCOMPARE(codes->Get(conv->field<uint32_t>(0, 0))->field<int32_t>(3, 0), 3);
    QCOMPARE(int(conv->field<uint8_t>(3, 0)), 1);
    const RawTable* co = conv->ptr<const RawTable*>(4);
    QCOMPARE(int(co->field<int8_t>(0, 0)), 0);  // SAME (the default, so not stored)
    QCOMPARE(co->field<int32_t>(1, 0), 1);
    QCOMPARE(co->field<int32_t>(2, 0), 1);
    QCOMPARE(int(co->field<int8_t>(3, 0)), 1);  // RELU
    // op 2 DEPTHWISE_CONV_2D: union 2, stride 2, depth_multiplier 2, RELU6.
    const RawTable* dw = ops->Get(2)->ptr<const RawTable*>(4);
    QCOMPARE(int(ops->Get(2)->field<uint8_t>(3, 0)), 2);
    QCOMPARE(dw->field<int32_t>(1, 0), 2);
    QCOMPARE(dw->field<int32_t>(3, 0), 2);
    QCOMPARE(int(dw->field<int8_t>(4, 0)), 3);
    // op 3 MAX_POOL_2D: Pool2DOptions (5) VALID 2x2 / 2.
    const RawTable* pool = ops->Get(3)->ptr<const RawTable*>(4);
    QCOMPARE(int(ops->Get(3)->field<uint8_t>(3, 0)), 5);
    QCOMPARE(int(pool->field<int8_t>(0, 0)), 1);
    QCOMPARE(pool->field<int32_t>(3, 0), 2);
    QCOMPARE(pool->field<int32_t>(4, 0), 2);
    // op 7 RESHAPE: ReshapeOptions (17) new_shape = output shape; op 9 SOFTMAX beta 1.
    QCOMPARE(int(ops->Get(7)->field<uint8_t>(3, 0)), 17);
    const auto* ns = ops->Get(7)->ptr<const RawTable*>(4)->ptr<const Ints*>(0);
    QCOMPARE(std::vector<int>(ns->begin(), ns->end()), (std::vector<int>{1, 16}));
    QCOMPARE(int(ops->Get(9)->field<uint8_t>(3, 0)), 9);
    QCOMPARE(ops->Get(9)->ptr<const RawTable*>(4)->field<float>(0, 0.0f), 1.0f);
    QCOMPARE(int(ops->Get(5)->field<uint8_t>(3, 0)), 11);  // ADD: AddOptions, RELU
    QCOMPARE(int(ops->Get(5)->ptr<const RawTable*>(4)->field<int8_t>(0, 0)), 1);
    const auto* in = sg->ptr<const Ints*>(1);
    const auto* out = sg->ptr<const Ints*>(2);
    QCOMPARE(std::vector<int>(in->begin(), in->end()), g.inputs);
    QCOMPARE(std::vector<int>(out->begin(), out->end()), g.outputs);
  }

  void schemaNames() {
    QCOMPARE(tfl::builtinName(77), std::string_view("SHAPE"));
    QCOMPARE(tfl::builtinName(45), std::string_view("STRIDED_SLICE"));
    QCOMPARE(tfl::builtinName(83), std::string_view("PACK"));
    QCOMPARE(tfl::builtinName(117), std::string_view("HARD_SWISH"));
    QCOMPARE(tfl::builtinName(126), std::string_view("BATCH_MATMUL"));
    QCOMPARE(tfl::builtinName(161), std::string_view("RIGHT_SHIFT"));
    for (const tfl::OpInfo& o : tfl::kOps) QCOMPARE(tfl::builtinName(o.code), o.name);
    for (int k = 0; k < tfl::kOpCount; ++k) QCOMPARE(tfl::kOps[k].name, opKindName(OpKind(k)));
  }

  void roundTripOwnGraphs_data() {
    QTest::addColumn<QString>("which");
    for (const std::string& n : test::singleOpNames()) QTest::newRow(n.c_str()) << QString::fromStdString(n);
    QTest::newRow("cnn") << QStringLiteral("cnn");
  }
  void roundTripOwnGraphs() {
    QFETCH(QString, which);
    IntegerGraph g = which == QStringLiteral("cnn") ? test::cnnGraph() : test::singleOpGraph(which.toStdString());
    QVERIFY2(validate(g).ok(), validate(g).ok() ? "" : validate(g).error().message.c_str());
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("g.tflite")).toStdString();
    QVERIFY(writeTflite(g, path).ok());
    auto back = readTflite(path);
    QVERIFY2(back.ok(), back.ok() ? "" : back.error().message.c_str());
    const std::string diff = test::graphDifference(g, *back);
    QVERIFY2(diff.empty(), diff.c_str());
    // Writing the read graph again gives the same bytes.
    QCOMPARE(*tfliteBytes(*back), fileBytes(dir.filePath(QStringLiteral("g.tflite"))));
  }

  void int4Weights() {
    IntegerGraph g = test::cnnGraph(7, 4);
    const GraphTensor& w = g.tensors[2];  // conv1/kernel, values in [−7, 7]
    QCOMPARE(w.valueBits, 4);
    // Flag off: int8 tensor, same bytes.
    auto plain = parseTflite(*tfliteBytes(g), "plain");
    QVERIFY(plain.ok());
    QCOMPARE(plain->tensors[2].type, ElementType::Int8);
    QCOMPARE(plain->tensors[2].data, w.data);
    // Flag on: INT4 (17), two values per byte, low nibble first.
    auto bytes = tfliteBytes(g, {true, "int4"});
    QVERIFY(bytes.ok());
    const auto* m = flatbuffers::GetRoot<RawTable>(bytes->data());
    const RawTable* t = m->ptr<const RawTables*>(2)->Get(0)->ptr<const RawTables*>(0)->Get(2);
    QCOMPARE(int(t->field<int8_t>(1, 0)), 17);
    const auto* data = m->ptr<const RawTables*>(4)->Get(t->field<uint32_t>(2, 0))->ptr<const flatbuffers::Vector<uint8_t>*>(0);
    QCOMPARE(int(data->size()), int(w.data.size() + 1) / 2);
    for (size_t i = 0; i < w.data.size(); ++i) {
      const int nib = (data->Get(static_cast<flatbuffers::uoffset_t>(i / 2)) >> (i % 2 ? 4 : 0)) & 0xF;
      QCOMPARE(nib >= 8 ? nib - 16 : nib, int(int8_t(w.data[i])));
    }
    // Read back: a packed Int4 tensor on the 4-bit grid; written again without the flag it
    // is the original int8 tensor.
    auto back = parseTflite(*bytes, "int4");
    QVERIFY2(back.ok(), back.ok() ? "" : back.error().message.c_str());
    QCOMPARE(back->tensors[2].type, ElementType::Int4);
    QCOMPARE(back->tensors[2].valueBits, 4);
    QCOMPARE(back->tensors[2].data, std::vector<uint8_t>(data->begin(), data->end()));
    auto again = parseTflite(*tfliteBytes(*back), "unpacked");
    QVERIFY(again.ok());
    QCOMPARE(again->tensors[2].type, ElementType::Int8);
    QCOMPARE(again->tensors[2].data, w.data);
    QCOMPARE(*tfliteBytes(*back, {true, "int4"}), *bytes);  // packed stays packed
    // Values outside [−8, 7] cannot be INT4.
    g.tensors[2].data[5] = 9;
    auto bad = tfliteBytes(g, {true, ""});
    QVERIFY(!bad.ok());
    QVERIFY2(bad.error().message.find("conv1/kernel") != std::string::npos, bad.error().message.c_str());
  }

  void writerRefusals() {
    IntegerGraph g = test::singleOpGraph("softmax");
    g.ops[0].activation = FusedActivation::Relu;
    auto r = tfliteBytes(g);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.find("SOFTMAX") != std::string::npos, r.error().message.c_str());
    g = test::singleOpGraph("conv2d");
    g.tensors[1].quant.scale[2] = 0.0f;  // Arm NN aborts on a zero scale: never written
    r = tfliteBytes(g);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.find("'w'") != std::string::npos, r.error().message.c_str());
    QVERIFY(!writeTflite(test::singleOpGraph("relu"), "/nonexistent-dir/x.tflite").ok());
  }

  // Every TF-written file: op kinds and counts as the README lists them, or, for the
  // MobileNet files, the error naming the operators the studio does not model.
  void readTfWrittenFiles_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("ops");
    const auto rows = readmeOps();
    QDir dir(kTflite);
    for (const QString& f : dir.entryList({QStringLiteral("*.tflite")}, QDir::Files, QDir::Name)) {
      const auto it = rows.find(f);
      QTest::newRow(qPrintable(f)) << dir.filePath(f) << (it == rows.end() ? QString() : it->second);
    }
    if (rows.empty()) QTest::newRow("absent") << QString() << QString();
  }
  void readTfWrittenFiles() {
    QFETCH(QString, file);
    QFETCH(QString, ops);
    if (file.isEmpty()) QSKIP("../shared/models is not present (QAT_SHARED_DIR)");
    QVERIFY2(!ops.isEmpty(), "file missing from the README table");
    const auto expected = parseOpList(ops);
    auto g = readTflite(file.toStdString());
    if (expected.count("SHAPE")) {
      QVERIFY(!g.ok());
      const std::string& e = g.error().message;
      for (const char* s : {"SHAPE ×2", "STRIDED_SLICE ×2", "PACK ×2", ".tflite"})
        QVERIFY2(e.find(s) != std::string::npos, e.c_str());
      return;
    }
    QVERIFY2(g.ok(), g.ok() ? "" : g.error().message.c_str());
    QCOMPARE(opCounts(*g), expected);
    QCOMPARE(g->inputs.size(), size_t(1));
    QCOMPARE(g->outputs.size(), size_t(1));
    const bool int8 = file.contains(QStringLiteral("_q")) || file.contains(QStringLiteral("int8"));
    QCOMPARE(g->tensors[size_t(g->inputs[0])].type, int8 ? ElementType::Int8 : ElementType::Float32);
  }

  void quantParamsOfKnownTensors() {
    const QString path = kTflite + QStringLiteral("/tinymaix__mnist_valid_q.tflite");
    if (!QFileInfo::exists(path)) QSKIP("../shared/models is not present");
    auto g = readTflite(path.toStdString());
    QVERIFY(g.ok());
    QCOMPARE(g->name, std::string("main"));
    const GraphTensor& in = g->tensors[0];
    QCOMPARE(in.name, std::string("ftr0_input"));
    QCOMPARE(in.shape, (std::vector<int>{1, 28, 28, 1}));
    QCOMPARE(in.quant.zeroPoint, (std::vector<int64_t>{-128}));
    QCOMPARE(in.quant.scale.size(), size_t(1));
    QVERIFY(std::abs(in.quant.scale[0] - 1.0f / 255) < 1e-9f);
    const GraphTensor& w = g->tensors[2];  // first conv kernel, OHWI, per-channel on dim 0
    QCOMPARE(w.shape, (std::vector<int>{4, 3, 3, 1}));
    QCOMPARE(w.type, ElementType::Int8);
    QCOMPARE(w.quant.scale.size(), size_t(4));
    QCOMPARE(w.quant.quantizedDimension, 0);
    QVERIFY(std::abs(w.quant.scale[0] - 0.0123576f) < 1e-6f);
    QCOMPARE(w.data.size(), size_t(36));
    const GraphTensor& out = g->tensors[15];  // softmax output: TFLite's fixed (1/256, −128)
    QCOMPARE(out.quant.scale[0], 1.0f / 256);
    QCOMPARE(out.quant.zeroPoint[0], int64_t(-128));
    QCOMPARE(g->ops[0].kind, OpKind::Conv2D);
    QCOMPARE(g->ops[0].padding, PaddingKind::Valid);
    QCOMPARE(g->ops[0].strideH, 2);
    QCOMPARE(g->ops[0].activation, FusedActivation::Relu);
    QCOMPARE(g->ops[3].kind, OpKind::Mean);
    QCOMPARE(g->tensors[size_t(g->ops[3].inputs[1])].data.size(), size_t(8));  // axes [1, 2]
    QCOMPARE(g->ops[5].beta, 1.0f);

    const QString ad = kTflite + QStringLiteral("/mlcommons_tiny__ad01_int8.tflite");
    auto a = readTflite(ad.toStdString());
    QVERIFY(a.ok());
    QCOMPARE(a->tensors[0].quant.zeroPoint[0], int64_t(89));
    QVERIFY(std::abs(a->tensors[0].quant.scale[0] - 0.391015f) < 1e-6f);
    QCOMPARE(a->ops[0].activation, FusedActivation::Relu);  // old converter: deprecated code only
    QCOMPARE(a->ops[9].activation, FusedActivation::None);
  }

  // TF-written int8 file → our writer → reader: the identical graph.
  void roundTripTfWrittenFiles_data() {
    QTest::addColumn<QString>("file");
    for (const char* f : {"mlcommons_tiny__ad01_int8.tflite", "tinymaix__mnist_valid_q.tflite",
                          "tinymaix__mnist_dw_q.tflite", "tinymaix__cifar10_q.tflite",
                          "mlcommons_tiny__pretrainedResnet_quant.tflite", "tflite_micro__hello_world_int8.tflite",
                          "tinymaix__cifar10_f.tflite"})
      QTest::newRow(f) << kTflite + QLatin1Char('/') + QLatin1String(f);
  }
  void roundTripTfWrittenFiles() {
    QFETCH(QString, file);
    if (!QFileInfo::exists(file)) QSKIP("../shared/models is not present");
    auto g = readTflite(file.toStdString());
    QVERIFY2(g.ok(), g.ok() ? "" : g.error().message.c_str());
    auto bytes = tfliteBytes(*g);
    QVERIFY2(bytes.ok(), bytes.ok() ? "" : bytes.error().message.c_str());
    auto back = parseTflite(*bytes, "rewritten");
    QVERIFY2(back.ok(), back.ok() ? "" : back.error().message.c_str());
    const std::string diff = test::graphDifference(*g, *back);
    QVERIFY2(diff.empty(), diff.c_str());
  }

  // Truncated and bit-flipped files: an error or a valid graph, never a crash.
  void damagedFiles_data() {
    QTest::addColumn<QString>("file");
    QTest::newRow("ours: cnn") << QString();
    for (const char* f : {"tinymaix__mnist_valid_q.tflite", "tflite_micro__hello_world_int8.tflite"})
      QTest::newRow(f) << kTflite + QLatin1Char('/') + QLatin1String(f);
  }
  void damagedFiles() {
    QFETCH(QString, file);
    std::vector<uint8_t> good;
    if (file.isEmpty()) {
      good = *tfliteBytes(test::cnnGraph());
    } else {
      if (!QFileInfo::exists(file)) QSKIP("../shared/models is not present");
      good = fileBytes(file);
    }
    QVERIFY(parseTflite(good, "good").ok());
    int errors = 0, variants = 0;
    // Truncations at 150 lengths spread over the file, plus the very short ones.
    for (size_t len : {size_t(0), size_t(3), size_t(7), size_t(8), size_t(12)}) {
      errors += !parseTflite(std::vector<uint8_t>(good.begin(), good.begin() + long(std::min(len, good.size()))), "t").ok();
      ++variants;
    }
    for (int k = 1; k <= 150; ++k) {
      const size_t len = good.size() * size_t(k) / 151;
      errors += !parseTflite(std::vector<uint8_t>(good.begin(), good.begin() + long(len)), "t").ok();
      ++variants;
    }
    // 300 single and multi-byte corruptions at random places (seeded).
    Rng rng(99);
    for (int k = 0; k < 300; ++k) {
      std::vector<uint8_t> bad = good;
      const int flips = 1 + int(rng.next() % 4);
      for (int f = 0; f < flips; ++f) {
        const size_t at = size_t(rng.next() % bad.size());
        if (k % 2) bad[at] ^= uint8_t(1u << (rng.next() % 8));
        else bad[at] = uint8_t(rng.next());
      }
      auto r = parseTflite(bad, "flipped");
      if (!r.ok()) {
        ++errors;
        QVERIFY2(r.error().message.rfind("flipped: ", 0) == 0, r.error().message.c_str());
      } else {
        QVERIFY(validate(*r).ok());
      }
      ++variants;
    }
    qInfo("%d damaged variants, %d refused with an error, the rest read as valid graphs", variants, errors);
    QVERIFY(errors >= 155);  // every truncation is refused
  }

  void notTflite() {
    auto r = parseTflite(std::vector<uint8_t>(64, 0x41), "x.bin");
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.find("TFL3") != std::string::npos, r.error().message.c_str());
    QVERIFY(!readTflite("/nonexistent/model.tflite").ok());
  }

  // The C header holds the bytes, 16-byte aligned, and compiles as C and C++.
  void cHeader() {
    const std::vector<uint8_t> bytes = *tfliteBytes(test::cnnGraph());
    QTemporaryDir dir;
    const QString h = dir.filePath(QStringLiteral("model_data.h"));
    QVERIFY(writeCHeader(bytes, h.toStdString(), "g_model").ok());
    QFile f(h);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(f.readAll());
    QVERIFY(text.contains(QStringLiteral("alignas(16) const unsigned char g_model[] = {")));
    QVERIFY(text.contains(QStringLiteral("const unsigned int g_model_len = %1u;").arg(bytes.size())));
    std::vector<uint8_t> parsed;
    const QString body = text.section(QLatin1Char('{'), 1).section(QLatin1Char('}'), 0, 0);
    QRegularExpression hex(QStringLiteral("0x([0-9a-f]{2}),"));
    for (auto it = hex.globalMatch(body); it.hasNext();) parsed.push_back(uint8_t(it.next().captured(1).toUInt(nullptr, 16)));
    QCOMPARE(parsed, bytes);
    QVERIFY(!writeCHeader(bytes, h.toStdString(), "9model").ok());
    QVERIFY(!writeCHeader({}, h.toStdString(), "empty").ok());

    // Compile it into a C program that prints the length, a checksum and the alignment.
    const QString cc = QStandardPaths::findExecutable(QStringLiteral("cc"));
    if (cc.isEmpty()) QSKIP("no C compiler to compile the header with");
    const QString src = dir.filePath(QStringLiteral("main.c"));
    QFile m(src);
    QVERIFY(m.open(QIODevice::WriteOnly));
    m.write("#include <stdio.h>\n#include <stdint.h>\n#include \"model_data.h\"\n"
            "int main(void) { unsigned long s = 0; for (unsigned i = 0; i < g_model_len; ++i) s = s * 31u + g_model[i];\n"
            "  printf(\"%u %lu %d\\n\", g_model_len, s, (int)((uintptr_t)g_model % 16)); return 0; }\n");
    m.close();
    QProcess p;
    p.start(cc, {QStringLiteral("-std=c11"), QStringLiteral("-Wall"), QStringLiteral("-Werror"), src,
                 QStringLiteral("-o"), dir.filePath(QStringLiteral("prog"))});
    QVERIFY(p.waitForFinished(60000));
    QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    p.start(dir.filePath(QStringLiteral("prog")), {});
    QVERIFY(p.waitForFinished(10000));
    unsigned long sum = 0;
    for (uint8_t b : bytes) sum = sum * 31u + b;
    QCOMPARE(QString::fromLatin1(p.readAllStandardOutput()).trimmed(),
             QStringLiteral("%1 %2 0").arg(bytes.size()).arg(sum));
  }
};

QTEST_APPLESS_MAIN(TestTfliteFile)
#include "test_tflite_file.moc"
