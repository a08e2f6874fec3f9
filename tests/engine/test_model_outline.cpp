// Model outlines: Keras files that cannot be loaded still list every layer with its
// connections, shape where it can be inferred, parameter count (from the HDF5 weight
// datasets) and the reason it is unsupported; loadable models outline as fully supported
// with the same shapes and counts as the loaded model.
#include <QtTest>

#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "engine/io/hdf5_util.h"
#include "engine/io/keras_model.h"
#include "engine/io/model_outline.h"

using namespace qat;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

const std::string kDir = QAT_SHARED_DIR "/models/keras";

const OutlineNode* findNode(const ModelOutline& o, const std::string& name) {
  for (const OutlineNode& n : o.nodes)
    if (n.name == name) return &n;
  return nullptr;
}

// Sum of the numeric datasets below model_weights/<layer> (0 when the group is absent),
// walked with the HDF5 API independently of the outline code.
uint64_t groupWeightCount(const std::string& path, const std::string& layer) {
  auto f = h5::File::openRead(path);
  if (!f.ok()) return 0;
  auto g = f->root()->group("model_weights/" + layer);
  if (!g.ok()) return 0;
  auto list = g->listDatasets();
  if (!list.ok()) return 0;
  uint64_t n = 0;
  for (const auto& d : *list)
    if (d.numeric) n += d.numel();
  return n;
}

// Top-level Keras layer names and classes of a (flat) model_config, plus the input
// Keras adds to a Sequential model that starts without one.
std::vector<std::pair<std::string, std::string>> configLayers(const std::string& path) {
  auto f = h5::File::openRead(path);
  const Json model = Json::parse(f->root()->stringAttr("model_config").value());
  const Json& cfg = model["config"];
  const Json& layers = cfg.is_array() ? cfg : cfg["layers"];
  std::vector<std::pair<std::string, std::string>> out;
  if (model["class_name"] == "Sequential" && layers[0]["class_name"] != "InputLayer")
    out.emplace_back(layers[0]["config"]["name"].get<std::string>() + "_input", "InputLayer");
  for (const Json& l : layers) out.emplace_back(l["config"]["name"], l["class_name"]);
  return out;
}

std::string writeText(const QTemporaryDir& dir, const std::string& file, const std::string& text) {
  const std::string path = dir.filePath(QString::fromStdString(file)).toStdString();
  QFile f(QString::fromStdString(path));
  QAT_ASSERT(f.open(QIODevice::WriteOnly));
  f.write(text.data(), static_cast<qint64>(text.size()));
  return path;
}

// A weights-only file: layer_names and one group per layer with `weight_names` datasets.
std::string writeWeights(const QTemporaryDir& dir, const std::map<std::string, std::vector<std::pair<std::string, std::vector<uint64_t>>>>& layers) {
  const std::string path = dir.filePath(QStringLiteral("w.h5")).toStdString();
  auto f = h5::File::create(path);
  QAT_ASSERT(f.ok());
  {
    auto root = f->root();
    std::vector<std::string> names;
    for (const auto& [layer, ws] : layers) names.push_back(layer);
    QAT_ASSERT(root->writeStringListAttr("layer_names", names).ok());
    for (const auto& [layer, ws] : layers) {
      auto g = root->createGroup(layer);
      std::vector<std::string> wn;
      for (const auto& [name, dims] : ws) {
        uint64_t n = 1;
        for (uint64_t d : dims) n *= d;
        std::vector<float> v(n, 0.5f);
        QAT_ASSERT(g->writeFloats(name, dims, v.data()).ok());
        wn.push_back(name);
      }
      QAT_ASSERT(g->writeStringListAttr("weight_names", wn).ok());
    }
  }
  QAT_ASSERT(f->close().ok());
  return path;
}

// Lambda, a layer after it, a side branch, a shared Dense called twice in a row, a raw
// TF op that cannot be lowered and one (+) that can.
const char* kMixed = R"({"class_name": "Functional", "config": {"name": "mixed",
  "input_layers": [["in", 0, 0]], "output_layers": [["after", 0, 0], ["mean", 0, 0], ["plus", 0, 0]], "layers": [
  {"class_name": "InputLayer", "name": "in", "config": {"batch_input_shape": [null, 4], "name": "in"}, "inbound_nodes": []},
  {"class_name": "Lambda", "name": "lam", "config": {"name": "lam", "function": ["4wEAAAAAAAAA", null, null]},
   "inbound_nodes": [[["in", 0, 0, {}]]]},
  {"class_name": "Dense", "name": "after", "config": {"name": "after", "units": 3}, "inbound_nodes": [[["lam", 0, 0, {}]]]},
  {"class_name": "Dense", "name": "side", "config": {"name": "side", "units": 4, "trainable": false},
   "inbound_nodes": [[["in", 0, 0, {}]]]},
  {"class_name": "Dense", "name": "sd", "config": {"name": "sd", "units": 4},
   "inbound_nodes": [[["side", 0, 0, {}]], [["sd", 0, 0, {}]]]},
  {"class_name": "TFOpLambda", "name": "mean", "config": {"name": "mean", "function": "math.reduce_mean"},
   "inbound_nodes": [["sd", 1, 0, {"axis": -1}]]},
  {"class_name": "TFOpLambda", "name": "plus", "config": {"name": "plus", "function": "__operators__.add"},
   "inbound_nodes": [["side", 0, 0, {"y": ["side", 0, 0], "name": null}]]}]}})";

}  // namespace

class TestModelOutline : public QObject {
  Q_OBJECT
 private slots:
  // Hand-written: runs without ../shared.
  void mixedHandWritten() {
    QTemporaryDir dir;
    const std::string w = writeWeights(dir, {{"in", {}}, {"lam", {}},
        {"after", {{"after/kernel:0", {4, 3}}, {"after/bias:0", {3}}}},
        {"side", {{"side/kernel:0", {4, 4}}, {"side/bias:0", {4}}}},
        {"sd", {{"sd/kernel:0", {4, 4}}, {"sd/bias:0", {4}}}}, {"mean", {}}, {"plus", {}}});
    const std::string js = writeText(dir, "mixed.json", kMixed);
    auto o = outlineKerasFile(w, js);
    QVERIFY2(o.ok(), o.ok() ? "" : o.error().message.c_str());
    QCOMPARE(o->nodes.size(), size_t(8));  // sd is two nodes, one per call
    for (size_t i = 0; i < o->nodes.size(); ++i)
      for (int p : o->nodes[i].inputs) QVERIFY(p >= 0 && p < static_cast<int>(i));

    const OutlineNode* in = findNode(*o, "in");
    const OutlineNode* lam = findNode(*o, "lam");
    const OutlineNode* after = findNode(*o, "after");
    const OutlineNode* side = findNode(*o, "side");
    const OutlineNode* sd1 = findNode(*o, "sd");
    const OutlineNode* sd2 = findNode(*o, "sd (call 2)");
    const OutlineNode* mean = findNode(*o, "mean");
    const OutlineNode* plus = findNode(*o, "plus");
    for (const OutlineNode* n : {in, lam, after, side, sd1, sd2, mean, plus}) QVERIFY(n);
    auto id = [&](const OutlineNode* n) { return static_cast<int>(n - o->nodes.data()); };

    QVERIFY(in->supported && in->outputShape == Shape{4});
    QVERIFY(!lam->supported && !lam->outputShape);
    QVERIFY2(lam->reason.find("Layer 'lam' (Lambda) contains Python code") == 0, lam->reason.c_str());
    QVERIFY(after->supported && !after->outputShape);  // fine itself, fed by the Lambda
    QCOMPARE(after->inputs, std::vector<int>{id(lam)});
    QCOMPARE(after->params, uint64_t(15));
    QVERIFY(side->supported && side->outputShape == Shape{4} && !side->trainable);
    QCOMPARE(side->params, uint64_t(20));
    for (const OutlineNode* sd : {sd1, sd2}) {
      QVERIFY(!sd->supported);
      QVERIFY2(sd->reason.find("Layer 'sd' (Dense) is called 2 times (shared weights), which the studio does not "
                               "support yet") == 0, sd->reason.c_str());
    }
    QCOMPARE(sd1->inputs, std::vector<int>{id(side)});
    QCOMPARE(sd2->inputs, std::vector<int>{id(sd1)});
    QCOMPARE(sd1->params + sd2->params, uint64_t(20));  // one set of shared weights
    QCOMPARE(sd1->params, uint64_t(20));
    QVERIFY(!mean->supported && mean->className == "TFOpLambda");
    QVERIFY2(mean->reason.find("tf.math.reduce_mean") != std::string::npos, mean->reason.c_str());
    QCOMPARE(mean->inputs, std::vector<int>{id(sd2)});
    QVERIFY(plus->supported && plus->className == "Add" && plus->outputShape == Shape{4});
    QCOMPARE(plus->inputs, (std::vector<int>{id(side), id(side)}));
    QCOMPARE(o->outputs, (std::vector<int>{id(after), id(mean), id(plus)}));
    QCOMPARE(o->paramCount(), uint64_t(55));
    QVERIFY(!o->allSupported());
    QCOMPARE(o->problems().size(), size_t(4));  // lam, sd, sd (call 2), mean

    // Loading the same file refuses it, with the first problem's message.
    auto r = loadKerasFile(w, js);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.find("Layer 'mean' (TFOpLambda") != std::string::npos, r.error().message.c_str());
  }

  // A Keras 1 Sequential without any input shape: an input node of unknown shape that
  // says so; the layers are still listed.
  void sequentialWithoutInputShape() {
    QTemporaryDir dir;
    const std::string w = writeWeights(dir, {{"d", {{"d_W", {3, 2}}, {"d_b", {2}}}}});
    const std::string js = writeText(dir, "a.json", R"({"class_name": "Sequential", "config": [
        {"class_name": "Dense", "config": {"name": "d", "output_dim": 2}},
        {"class_name": "Activation", "config": {"name": "act", "activation": "relu"}}]})");
    auto o = outlineKerasFile(w, js);
    QVERIFY2(o.ok(), o.ok() ? "" : o.error().message.c_str());
    QCOMPARE(o->nodes.size(), size_t(3));
    QCOMPARE(o->nodes[0].name, std::string("d_input"));
    QVERIFY(!o->nodes[0].supported && !o->nodes[0].outputShape);
    QVERIFY2(o->nodes[0].reason.find("does not record its input shape") != std::string::npos, o->nodes[0].reason.c_str());
    QVERIFY(o->nodes[1].supported && !o->nodes[1].outputShape);
    QCOMPARE(o->nodes[1].params, uint64_t(8));  // from the file, though no shape is known
    QCOMPARE(o->nodes[2].inputs, std::vector<int>{1});
  }

  // Files that cannot be opened at all still fail, naming the file.
  void unreadableFilesFail() {
    QTemporaryDir dir;
    const std::string junk = writeText(dir, "junk.h5", "not an hdf5 file");
    auto o = outlineKerasFile(junk);
    QVERIFY(!o.ok());
    QVERIFY2(o.error().message.find(junk) != std::string::npos, o.error().message.c_str());
    const std::string w = writeWeights(dir, {{"d", {{"d/kernel:0", {3, 2}}}}});
    auto weightsOnly = outlineKerasFile(w);
    QVERIFY(!weightsOnly.ok());
    QVERIFY2(weightsOnly.error().message.find("model.to_json()") != std::string::npos, weightsOnly.error().message.c_str());
  }

  // Real files that do not load: every layer listed, the blocking ones marked.
  void realUnsupported_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("badClass");
    QTest::addColumn<int>("badCount");
    QTest::addColumn<QString>("reason");
    QTest::addRow("lambda") << "car_behavioral_cloning__model.h5" << "Lambda" << 1 << "contains Python code";
    QTest::addRow("lstm") << "keras2c__example_model.h5" << "LSTM" << 1 << "is not supported yet: recurrent";
    QTest::addRow("custom") << "fml_example_models__hgq_jet_classifier.h5" << "FixedPointQuantizer" << 8
                            << "is a custom layer class";
  }
  void realUnsupported() {
    QFETCH(QString, file);
    QFETCH(QString, badClass);
    QFETCH(int, badCount);
    QFETCH(QString, reason);
    const std::string path = kDir + "/" + file.toStdString();
    if (!fs::exists(path)) QSKIP("../shared/models/keras is not present");
    QVERIFY(!loadKerasFile(path).ok());
    auto o = outlineKerasFile(path);
    QVERIFY2(o.ok(), o.ok() ? "" : o.error().message.c_str());
    const auto layers = configLayers(path);
    QCOMPARE(o->nodes.size(), layers.size());
    int bad = 0;
    bool afterBad = false;
    for (size_t i = 0; i < layers.size(); ++i) {
      const auto& [name, cls] = layers[i];
      const OutlineNode* n = findNode(*o, name);
      QVERIFY2(n, name.c_str());
      QCOMPARE(n->className, cls);
      QCOMPARE(n->params, groupWeightCount(path, name));
      if (cls == badClass.toStdString()) {
        ++bad;
        afterBad = true;
        QVERIFY(!n->supported && !n->outputShape);
        const std::string head = "Layer '" + name + "' (" + cls + ") " + reason.toStdString();
        QVERIFY2(n->reason.find(head) == 0, n->reason.c_str());
      } else {
        QVERIFY2(n->supported, n->reason.c_str());
        // These three are chains: shapes are known up to the first unsupported layer.
        QCOMPARE(n->outputShape.has_value(), !afterBad);
      }
    }
    QCOMPARE(bad, badCount);
    QCOMPARE(o->problems().size(), size_t(badCount));
    uint64_t total = 0;
    for (const auto& [name, cls] : layers) total += groupWeightCount(path, name);
    QCOMPARE(o->paramCount(), total);
    QVERIFY(total > 0);
  }

  // Loadable files: the file's outline and the loaded model's agree.
  void loadableAgree_data() {
    QTest::addColumn<QString>("file");
    QTest::addRow("mnist_fc") << "tinymaix__mnist_fc.h5";
    QTest::addRow("mbnet") << "tinymaix__mbnet96_0.25.h5";
    QTest::addRow("squeezenet") << "cataract__squeezenet.h5";
  }
  void loadableAgree() {
    QFETCH(QString, file);
    const std::string path = kDir + "/" + file.toStdString();
    if (!fs::exists(path)) QSKIP("../shared/models/keras is not present");
    auto o = outlineKerasFile(path);
    QVERIFY2(o.ok(), o.ok() ? "" : o.error().message.c_str());
    auto m = loadKerasModel(path);
    QVERIFY(m.ok());
    const ModelOutline fromModel = outlineOf(m.value());
    QVERIFY(o->allSupported() && fromModel.allSupported());
    QCOMPARE(o->nodes.size(), fromModel.nodes.size());
    for (size_t i = 0; i < o->nodes.size(); ++i) {
      const OutlineNode& a = o->nodes[i];
      const OutlineNode& b = fromModel.nodes[i];
      QCOMPARE(a.name, b.name);
      QCOMPARE(a.inputs, b.inputs);
      QVERIFY2(a.outputShape && b.outputShape && *a.outputShape == *b.outputShape, a.name.c_str());
      QCOMPARE(a.params, b.params);
      QCOMPARE(a.trainable, b.trainable);
    }
    QCOMPARE(o->paramCount(), static_cast<uint64_t>(m->paramCount()));
    QCOMPARE(o->inputs, fromModel.inputs);
    QCOMPARE(o->outputs, fromModel.outputs);
  }
};

QTEST_APPLESS_MAIN(TestModelOutline)
#include "test_model_outline.moc"
