// Keras model graphs: Functional configs in any order, Keras 1 / 2 / 3 connection
// formats, nested models flattened with their weights resolved in Keras order,
// structural errors; models built in code survive save -> load with bit-identical outputs.
#include <QtTest>

#include <map>

#include <nlohmann/json.hpp>

#include "common/model_compare.h"
#include "engine/io/hdf5_util.h"
#include "engine/io/keras_model.h"
#include "engine/layers/activation.h"
#include "engine/layers/add.h"
#include "engine/layers/average_pooling2d.h"
#include "engine/layers/batch_normalization.h"
#include "engine/layers/concatenate.h"
#include "engine/layers/conv2d.h"
#include "engine/layers/dense.h"
#include "engine/layers/depthwise_conv2d.h"
#include "engine/layers/dropout.h"
#include "engine/layers/flatten.h"
#include "engine/layers/global_average_pooling2d.h"
#include "engine/layers/global_max_pooling2d.h"
#include "engine/layers/leaky_relu.h"
#include "engine/layers/max_pooling2d.h"
#include "engine/layers/multiply.h"
#include "engine/layers/relu.h"
#include "engine/layers/rescaling.h"
#include "engine/layers/reshape.h"
#include "engine/layers/separable_conv2d.h"
#include "engine/layers/softmax.h"
#include "engine/layers/subtract.h"
#include "engine/layers/zero_padding2d.h"

using namespace qat;
using Json = nlohmann::json;

namespace {

// One weight dataset: value[i] = base + i / 1024 (exact in float).
struct W {
  std::string name;  // weight_names entry, also the dataset path inside the layer group
  std::vector<uint64_t> dims;
  float base;
};
float weightValue(const W& w, size_t i) { return w.base + static_cast<float>(i) / 1024.0f; }

// Writes a Keras weights layout: layer_names, and per layer a group with weight_names and
// datasets. `modelConfig` non-empty: a full model file (root model_config, model_weights).
std::string writeKerasFile(const QTemporaryDir& dir, const std::string& file,
                           const std::vector<std::pair<std::string, std::vector<W>>>& layers,
                           const std::string& modelConfig = "", const std::string& backend = "") {
  const std::string path = dir.filePath(QString::fromStdString(file)).toStdString();
  auto f = h5::File::create(path);
  QAT_ASSERT(f.ok());
  {
    auto root = f->root();
    std::optional<h5::Group> mw;
    if (!modelConfig.empty()) {
      QAT_ASSERT(root->writeStringAttr("model_config", modelConfig).ok());
      QAT_ASSERT(root->writeStringAttr("keras_version", "2.2.4").ok());
      if (!backend.empty()) QAT_ASSERT(root->writeStringAttr("backend", backend).ok());
      mw.emplace(std::move(root->createGroup("model_weights").value()));
    }
    const h5::Group& w = mw ? *mw : root.value();
    std::vector<std::string> names;
    for (const auto& [layer, ws] : layers) names.push_back(layer);
    QAT_ASSERT(w.writeStringListAttr("layer_names", names).ok());
    for (const auto& [layer, ws] : layers) {
      auto g = w.createGroup(layer);
      std::vector<std::string> wn;
      for (const W& x : ws) {
        wn.push_back(x.name);
        uint64_t n = 1;
        for (uint64_t d : x.dims) n *= d;
        std::vector<float> v(n);
        for (size_t i = 0; i < n; ++i) v[i] = weightValue(x, i);
        QAT_ASSERT(g->writeFloats(x.name, x.dims, v.data()).ok());
      }
      QAT_ASSERT(g->writeStringListAttr("weight_names", wn).ok());
    }
  }
  QAT_ASSERT(f->close().ok());
  return path;
}

std::string writeText(const QTemporaryDir& dir, const std::string& file, const std::string& text) {
  const std::string path = dir.filePath(QString::fromStdString(file)).toStdString();
  QFile f(QString::fromStdString(path));
  QAT_ASSERT(f.open(QIODevice::WriteOnly));
  f.write(text.data(), static_cast<qint64>(text.size()));
  return path;
}

// True when `p` holds exactly the values writeKerasFile wrote for `w`.
bool holds(const Param& p, const W& w) {
  for (size_t i = 0; i < p.value.size(); ++i)
    if (p.value[i] != weightValue(w, i)) return false;
  return p.value.size() > 0;
}

const Param& param(const Model& m, const std::string& layer, const std::string& name) {
  const int id = m.find(layer);
  QAT_ASSERT(id >= 0);
  for (const Param* p : std::as_const(*m.node(id).layer).params())
    if (p->name == name) return *p;
  QAT_ASSERT(false);
  return *std::as_const(*m.node(id).layer).params()[0];
}

// Keras 3 Functional, layers listed out of order, a nested Sequential with a frozen
// Dense and a BatchNorm, Keras 3 keras_history connections, single-ref input_layers.
const char* kKeras3Nested = R"({"module": "keras", "class_name": "Functional", "config": {"name": "functional",
  "trainable": true, "layers": [
  {"module": "keras.layers", "class_name": "Dense", "config": {"name": "head", "units": 3, "activation": "softmax",
   "use_bias": true, "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}}},
   "registered_name": null, "build_config": {"input_shape": [null, 4]}, "name": "head", "inbound_nodes": [{"args":
   [{"class_name": "__keras_tensor__", "config": {"shape": [null, 4], "dtype": "float32",
   "keras_history": ["block", 1, 0]}}], "kwargs": {}}]},
  {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 6], "dtype": "float32",
   "sparse": false, "name": "x"}, "registered_name": null, "name": "x", "inbound_nodes": []},
  {"module": "keras", "class_name": "Sequential", "config": {"name": "block", "trainable": true, "layers": [
     {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 6], "name": "block_in"}},
     {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d1", "units": 4, "trainable": false}},
     {"module": "keras.layers", "class_name": "BatchNormalization", "config": {"name": "bn", "axis": -1}}]},
   "name": "block", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config":
   {"keras_history": ["x", 0, 0]}}], "kwargs": {"training": false}}]}],
  "input_layers": ["x", 0, 0], "output_layers": ["head", 0, 0]}})";

// Keras 1 Model: three-element connections, Merge, output_dim / bias spellings.
const char* kKeras1Merge = R"({"class_name": "Model", "config": {"name": "m1",
  "input_layers": [["in", 0, 0]], "output_layers": [["merged", 0, 0]], "layers": [
  {"class_name": "InputLayer", "name": "in", "config": {"batch_input_shape": [null, 5], "input_dtype": "float32",
   "name": "in", "sparse": false}, "inbound_nodes": []},
  {"class_name": "Dense", "name": "a", "config": {"name": "a", "output_dim": 3, "activation": "relu", "bias": true,
   "init": "glorot_uniform", "input_dim": 5}, "inbound_nodes": [[["in", 0, 0]]]},
  {"class_name": "Dense", "name": "b", "config": {"name": "b", "output_dim": 2, "activation": "linear",
   "bias": false}, "inbound_nodes": [[["in", 0, 0]]]},
  {"class_name": "Merge", "name": "merged", "config": {"name": "merged", "mode": "concat", "concat_axis": -1},
   "inbound_nodes": [[["a", 0, 0], ["b", 0, 0]]]}]}})";

// tf.keras 2: a nested Functional called as a layer (node index 1), two outputs.
const char* kKeras2NestedFunctional = R"({"class_name": "Functional", "config": {"name": "outer",
  "input_layers": [["img", 0, 0]], "output_layers": [["p", 0, 0], ["q", 0, 0]], "layers": [
  {"class_name": "InputLayer", "name": "img", "config": {"batch_input_shape": [null, 4], "name": "img"},
   "inbound_nodes": []},
  {"class_name": "Functional", "name": "inner", "config": {"name": "inner",
     "input_layers": [["inner_in", 0, 0]], "output_layers": [["e", 0, 0]], "layers": [
     {"class_name": "InputLayer", "name": "inner_in", "config": {"batch_input_shape": [null, 4], "name": "inner_in"},
      "inbound_nodes": []},
     {"class_name": "Dense", "name": "e", "config": {"name": "e", "units": 2}, "inbound_nodes": [[["inner_in", 0, 0, {}]]]}]},
   "inbound_nodes": [[["img", 0, 0, {}]]]},
  {"class_name": "Dense", "name": "p", "config": {"name": "p", "units": 1}, "inbound_nodes": [[["inner", 1, 0, {}]]]},
  {"class_name": "Activation", "name": "q", "config": {"name": "q", "activation": "tanh"},
   "inbound_nodes": [[["inner", 1, 0, {}]]]}]}})";

}  // namespace

class TestKerasGraph : public QObject {
  Q_OBJECT
 private slots:
  void keras3NestedSequential() {
    QTemporaryDir dir;
    // Keras order for the nested model: trainable weights first (bn gamma, beta), then
    // the non-trainable ones (the frozen d1, then bn's moving statistics).
    const std::vector<W> block = {{"block/bn/gamma", {4}, 2.0f},           {"block/bn/beta", {4}, 0.5f},
                                  {"block/d1/kernel", {6, 4}, -1.0f},      {"block/d1/bias", {4}, 0.25f},
                                  {"block/bn/moving_mean", {4}, 0.125f},   {"block/bn/moving_variance", {4}, 3.0f}};
    const std::vector<W> head = {{"head/kernel", {4, 3}, 1.5f}, {"head/bias", {3}, -0.5f}};
    const std::string h5 = writeKerasFile(dir, "w.h5", {{"x", {}}, {"block", block}, {"head", head}});
    const std::string js = writeText(dir, "arch.json", kKeras3Nested);
    auto r = loadKerasFile(h5, js);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    const Model& m = r->model;
    QCOMPARE(m.size(), 4);  // x, d1, bn, head: the nested model is flattened
    QCOMPARE(m.node(0).layer->name(), std::string("x"));
    QCOMPARE(m.node(1).layer->name(), std::string("d1"));
    QCOMPARE(m.node(2).layer->name(), std::string("bn"));
    QCOMPARE(m.node(3).layer->name(), std::string("head"));
    QCOMPARE(m.node(3).inputs, std::vector<int>{2});
    QCOMPARE(m.node(3).shape, (Shape{3}));
    QVERIFY(holds(param(m, "d1", "kernel"), block[2]));
    QVERIFY(holds(param(m, "d1", "bias"), block[3]));
    QVERIFY(holds(param(m, "bn", "gamma"), block[0]));
    QVERIFY(holds(param(m, "bn", "beta"), block[1]));
    QVERIFY(holds(param(m, "bn", "moving_mean"), block[4]));
    QVERIFY(holds(param(m, "bn", "moving_variance"), block[5]));
    QVERIFY(holds(param(m, "head", "kernel"), head[0]));
    // d1 is frozen (trainable=false): imported as such, no longer a warning.
    QVERIFY(!m.node(1).layer->trainable());
    QVERIFY(m.node(2).layer->trainable() && m.node(3).layer->trainable());
    for (const std::string& w : r->warnings) QVERIFY2(w.find("frozen") == std::string::npos, w.c_str());
    // The flattened model saves and reloads exactly.
    Model a = r->model.clone();
    const std::string out = dir.filePath(QStringLiteral("saved.h5")).toStdString();
    QVERIFY(saveKerasModel(a, out).ok());
    auto b = loadKerasModel(out);
    QVERIFY2(b.ok(), b.ok() ? "" : b.error().message.c_str());
    const std::string diff = test::modelDifference(a, b.value());
    QVERIFY2(diff.empty(), diff.c_str());
  }

  void keras1FunctionalWithMerge() {
    QTemporaryDir dir;
    const std::vector<W> a = {{"a_W:0", {5, 3}, 0.5f}, {"a_b:0", {3}, 1.0f}};
    const std::vector<W> b = {{"b_W:0", {5, 2}, -0.75f}};
    const std::string h5 = writeKerasFile(dir, "k1.h5", {{"in", {}}, {"a", a}, {"b", b}, {"merged", {}}}, kKeras1Merge);
    auto r = loadKerasFile(h5);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    const Model& m = r->model;
    QCOMPARE(m.size(), 4);
    QCOMPARE(m.node(3).layer->op(), OpType::Concatenate);
    QCOMPARE(m.node(3).inputs, (std::vector<int>{1, 2}));
    QCOMPARE(m.node(3).shape, (Shape{5}));
    QVERIFY(holds(param(m, "a", "kernel"), a[0]));
    QVERIFY(holds(param(m, "b", "kernel"), b[0]));
    QCOMPARE(r->kerasVersion, std::string("2.2.4"));
  }

  void keras2NestedFunctionalTwoOutputs() {
    QTemporaryDir dir;
    const std::vector<W> inner = {{"e/kernel:0", {4, 2}, 0.0f}, {"e/bias:0", {2}, 0.5f}};
    const std::vector<W> p = {{"p/kernel:0", {2, 1}, 3.0f}, {"p/bias:0", {1}, 0.0f}};
    const std::string h5 = writeKerasFile(dir, "k2.h5", {{"img", {}}, {"inner", inner}, {"p", p}, {"q", {}}},
                                          kKeras2NestedFunctional);
    auto r = loadKerasModel(h5);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    QCOMPARE(r->size(), 4);  // img, e, p, q
    QCOMPARE(r->outputs(), (std::vector<int>{2, 3}));
    QCOMPARE(r->node(3).inputs, std::vector<int>{1});
    QVERIFY(holds(param(r.value(), "e", "bias"), inner[1]));
    Rng rng(1);
    auto inputs = test::randomInputs(r.value(), 3, rng);
    Model copy = r->clone();
    QTemporaryDir out;
    const std::string saved = out.filePath(QStringLiteral("two_outputs.h5")).toStdString();
    QVERIFY(saveKerasModel(r.value(), saved).ok());
    auto back = loadKerasModel(saved);
    QVERIFY2(back.ok(), back.ok() ? "" : back.error().message.c_str());
    const std::string diff = test::outputDifference(copy, back.value(), inputs);
    QVERIFY2(diff.empty(), diff.c_str());
  }

  // Transfer-learning shape (Keras 2.2): a Sequential whose first layer is a Functional
  // base model. The base's InputLayer becomes the model input; its (frozen) weights are
  // stored in one group under the base model's name.
  void sequentialStartingWithModel() {
    const char* arch = R"({"class_name": "Sequential", "config": {"name": "seq", "layers": [
      {"class_name": "Model", "config": {"name": "base", "input_layers": [["base_in", 0, 0]],
        "output_layers": [["base_conv", 0, 0]], "layers": [
        {"class_name": "InputLayer", "name": "base_in", "config": {"batch_input_shape": [null, 6, 6, 2],
         "name": "base_in"}, "inbound_nodes": []},
        {"class_name": "Conv2D", "name": "base_conv", "config": {"name": "base_conv", "filters": 3,
         "kernel_size": [3, 3], "padding": "valid", "trainable": false}, "inbound_nodes": [[["base_in", 0, 0, {}]]]}]}},
      {"class_name": "GlobalAveragePooling2D", "config": {"name": "gap"}},
      {"class_name": "Dense", "config": {"name": "cls", "units": 2, "activation": "softmax"}}]}})";
    QTemporaryDir dir;
    const std::vector<W> base = {{"base_conv/kernel:0", {3, 3, 2, 3}, -0.5f}, {"base_conv/bias:0", {3}, 0.75f}};
    const std::vector<W> cls = {{"cls/kernel:0", {3, 2}, 0.125f}, {"cls/bias:0", {2}, 1.0f}};
    const std::string h5 = writeKerasFile(dir, "tl.h5", {{"base", base}, {"gap", {}}, {"cls", cls}}, arch);
    auto r = loadKerasModel(h5);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    QCOMPARE(r->size(), 4);
    QCOMPARE(r->inputs(), std::vector<int>{0});
    QCOMPARE(r->node(0).layer->name(), std::string("base_in"));
    QCOMPARE(r->node(1).shape, (Shape{4, 4, 3}));
    QCOMPARE(r->node(3).shape, (Shape{2}));
    QVERIFY(holds(param(r.value(), "base_conv", "kernel"), base[0]));
    QVERIFY(holds(param(r.value(), "base_conv", "bias"), base[1]));
    QVERIFY(holds(param(r.value(), "cls", "kernel"), cls[0]));
    QVERIFY(!r->node(1).layer->trainable());  // base_conv: trainable=false in the file
    QVERIFY(r->node(3).layer->trainable());
  }

  // Files from the Theano backend hold flipped Conv2D kernels; Keras flips them back.
  void theanoKernelsAreFlipped() {
    const char* arch = R"({"class_name": "Sequential", "config": [{"class_name": "Convolution2D", "config": {
        "name": "c", "nb_filter": 1, "nb_row": 2, "nb_col": 3, "dim_ordering": "tf", "batch_input_shape":
        [null, 4, 4, 1]}}]})";
    const std::vector<W> c = {{"c_W:0", {2, 3, 1, 1}, 0.0f}, {"c_b:0", {1}, 0.0f}};
    QTemporaryDir dir;
    for (const char* backend : {"tensorflow", "theano"}) {
      auto r = loadKerasFile(writeKerasFile(dir, std::string(backend) + ".h5", {{"c", c}}, arch, backend));
      QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
      const Param& k = param(r->model, "c", "kernel");
      // Stored value at (h, w) is (h·3 + w)/1024; Theano files read back at (1-h, 2-w).
      const bool theano = std::string(backend) == "theano";
      for (int h = 0; h < 2; ++h)
        for (int w = 0; w < 3; ++w)
          QCOMPARE(k.value[size_t(h * 3 + w)], static_cast<float>(theano ? (1 - h) * 3 + (2 - w) : h * 3 + w) / 1024.0f);
      QCOMPARE(r->warnings.size(), size_t(theano ? 1 : 0));
    }
  }

  // Structural problems and weights that do not fit: the message names file and layer.
  void structuralErrors_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<QString>("expect");
    const std::string dense = R"({"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2},)";
    const std::string input = R"({"class_name": "InputLayer", "name": "in", "config": {"batch_input_shape": [null, 3],
        "name": "in"}, "inbound_nodes": []})";
    auto functional = [&](const std::string& layers, const std::string& out = "d") {
      return QString::fromStdString(R"({"class_name": "Functional", "config": {"name": "f", "input_layers": [["in", 0, 0]],
          "output_layers": [[")" + out + R"(", 0, 0]], "layers": [)" + layers + "]}}");
    };
    // A layer applied at several call sites shares its weights: refused, naming it.
    const QString shared = QStringLiteral("Layer 'd' (Dense) is called 2 times (shared weights), which the studio does not support yet");
    QTest::addRow("shared layer") << functional(input + "," + dense + R"("inbound_nodes": [[["in", 0, 0, {}]], [["in", 0, 0, {}]]]})")
                                  << shared;
    QTest::addRow("shared layer, chained, consumer first")
        << functional(input + R"(, {"class_name": "Dense", "name": "e", "config": {"name": "e", "units": 2},
            "inbound_nodes": [[["d", 1, 0, {}]]]},)" + dense + R"("inbound_nodes": [[["in", 0, 0, {}]], [["d", 0, 0, {}]]]})", "e")
        << shared;
    QTest::addRow("shared layer, Keras 3") << functional(input + "," + dense + R"("inbound_nodes": [
        {"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["in", 0, 0]}}], "kwargs": {}},
        {"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["in", 0, 0]}}], "kwargs": {}}]})")
                                           << shared;
    QTest::addRow("call that does not exist") << functional(input + "," + dense + R"("inbound_nodes": [[["in", 0, 0, {}]]]},
        {"class_name": "Dense", "name": "e", "config": {"name": "e", "units": 2}, "inbound_nodes": [[["d", 1, 0, {}]]]})", "e")
                                              << "uses call 1 of Layer 'd' (Dense), which does not exist";
    QTest::addRow("cycle") << functional(input + "," + dense + R"("inbound_nodes": [[["e", 0, 0, {}]]]},
        {"class_name": "Dense", "name": "e", "config": {"name": "e", "units": 2}, "inbound_nodes": [[["d", 0, 0, {}]]]})")
                           << "cycle";
    QTest::addRow("unknown producer") << functional(input + "," + dense + R"("inbound_nodes": [[["zz", 0, 0, {}]]]})")
                                      << "Layer 'd' (Dense) is connected to 'zz'";
    QTest::addRow("unconnected") << functional(input + "," + dense + R"("inbound_nodes": []})")
                                 << "Layer 'd' (Dense) is not connected";
    QTest::addRow("shape mismatch") << functional(input + R"(, {"class_name": "Add", "name": "d", "config": {"name": "d"},
        "inbound_nodes": [[["in", 0, 0, {}], ["e", 0, 0, {}]]]}, {"class_name": "Dense", "name": "e",
        "config": {"name": "e", "units": 4}, "inbound_nodes": [[["in", 0, 0, {}]]]})")
                                    << "Layer 'd' (Add)";
    QTest::addRow("no input shape") << QString::fromLatin1(R"({"class_name": "Sequential", "config": [{"class_name": "Dense",
        "config": {"name": "d", "units": 2}}]})") << "does not record its input shape";
    QTest::addRow("not a model") << QString::fromLatin1(R"({"class_name": "Dense", "config": {}})")
                                 << "not a Sequential or Functional model";
    QTest::addRow("bad json") << QString::fromLatin1(R"({"class_name": "Sequential", )") << "not valid JSON";
  }
  void structuralErrors() {
    QFETCH(QString, arch);
    QFETCH(QString, expect);
    QTemporaryDir dir;
    const std::string h5 = writeKerasFile(dir, "w.h5", {{"in", {}}, {"d", {{"d/kernel:0", {3, 2}, 0.0f}, {"d/bias:0", {2}, 0.0f}}}});
    const std::string js = writeText(dir, "a.json", arch.toStdString());
    auto r = loadKerasModel(h5, js);
    QVERIFY(!r.ok());
    const std::string& msg = r.error().message;
    QVERIFY2(msg.find(expect.toStdString()) != std::string::npos, msg.c_str());
    QVERIFY2(msg.find(dir.path().toStdString()) != std::string::npos, msg.c_str());  // names the file
  }

  void weightMismatches_data() {
    QTest::addColumn<int>("variant");
    QTest::addColumn<QString>("expect");
    QTest::addRow("shape") << 0 << "Layer 'd' (Dense): weight 'd/kernel:0' has shape (3, 5) in the file but the layer's kernel needs (3, 2)";
    QTest::addRow("count") << 1 << "Layer 'd' (Dense): the file has 1 weight(s) (d/kernel:0) but the layer needs 2 (kernel, bias)";
    QTest::addRow("missing group") << 2 << "Layer 'd' (Dense) has no weights in the file";
    QTest::addRow("nan") << 3 << "Layer 'd' (Dense): weight 'd/bias:0' contains NaN";
    QTest::addRow("extra layer") << 5 << "weights for a layer 'ghost' that the architecture does not contain";
    QTest::addRow("missing dataset") << 4 << "Layer 'd' (Dense): /model_weights/d/d/bias:0: dataset not found";
  }
  void weightMismatches() {
    QFETCH(int, variant);
    QFETCH(QString, expect);
    QTemporaryDir dir;
    const std::string arch = R"({"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "InputLayer",
        "config": {"batch_input_shape": [null, 3], "name": "in"}}, {"class_name": "Dense", "config": {"name": "d",
        "units": 2}}]}})";
    std::vector<std::pair<std::string, std::vector<W>>> layers;
    if (variant == 0) layers = {{"d", {{"d/kernel:0", {3, 5}, 0.0f}, {"d/bias:0", {2}, 0.0f}}}};
    if (variant == 1) layers = {{"d", {{"d/kernel:0", {3, 2}, 0.0f}}}};
    if (variant == 2) layers = {{"other", {{"other/kernel:0", {3, 2}, 0.0f}}}};
    if (variant == 3) layers = {{"d", {{"d/kernel:0", {3, 2}, 0.0f}, {"d/bias:0", {2}, std::nanf("")}}}};
    if (variant == 5)
      layers = {{"d", {{"d/kernel:0", {3, 2}, 0.0f}, {"d/bias:0", {2}, 0.0f}}}, {"ghost", {{"ghost/kernel:0", {2, 2}, 0.0f}}}};
    std::string h5;
    if (variant == 4) {  // weight_names lists a dataset that is not in the file
      h5 = dir.filePath(QStringLiteral("w.h5")).toStdString();
      auto f = h5::File::create(h5);
      {
        auto root = f->root();
        QVERIFY(root->writeStringAttr("model_config", arch).ok());
        auto mw = root->createGroup("model_weights");
        QVERIFY(mw->writeStringListAttr("layer_names", {"d"}).ok());
        auto d = mw->createGroup("d");
        QVERIFY(d->writeStringListAttr("weight_names", {"d/kernel:0", "d/bias:0"}).ok());
        const float k[6] = {0, 0, 0, 0, 0, 0};
        QVERIFY(d->writeFloats("d/kernel:0", {3, 2}, k).ok());
      }
      QVERIFY(f->close().ok());
    } else {
      h5 = writeKerasFile(dir, "w.h5", layers, arch);
    }
    auto r = loadKerasModel(h5);
    QVERIFY(!r.ok());
    const std::string& msg = r.error().message;
    QVERIFY2(msg.rfind(h5 + ": ", 0) == 0, msg.c_str());
    QVERIFY2(msg.find(expect.toStdString()) != std::string::npos, msg.c_str());
  }

  // A model using every layer kind, built in code: save -> load gives the same graph and
  // bit-identical inference outputs; a DAG is written as Functional, a chain as Sequential.
  void codeBuiltModelsRoundTrip() {
    Model m;
    m.name = "every_layer";
    const int in = m.addInput("image", Shape{8, 8, 3});
    int x = m.add<Rescaling>({in}, "rescale", RescalingOptions{0.5f, 0.1f});
    x = m.add<ZeroPadding2D>({x}, "pad", ZeroPadding2DOptions{1, 2, 2, 1});
    Conv2DOptions co;
    co.filters = 4;
    co.activation = ActivationFn::Relu;
    const int c = m.add<Conv2D>({x}, "conv", co);  // (9, 9, 4)
    const int bn = m.add<BatchNormalization>({c}, "bn", BatchNormalizationOptions{});
    DepthwiseConv2DOptions dw;
    dw.padding = Padding::Same;
    const int d = m.add<DepthwiseConv2D>({bn}, "dw", dw);
    SeparableConv2DOptions so;
    so.filters = 4;
    so.padding = Padding::Same;
    so.activation = ActivationFn::Tanh;
    const int s = m.add<SeparableConv2D>({d}, "sep", so);
    const int add = m.add<Add>({bn, s}, "add");
    const int sub = m.add<Subtract>({bn, s}, "sub");
    const int mul = m.add<Multiply>({add, sub}, "mul");
    x = m.add<Concatenate>({add, mul}, "cat", ConcatenateOptions{-1});  // (9, 9, 8)
    x = m.add<LeakyReLU>({x}, "leaky", LeakyReLUOptions{0.2f});
    ReLUOptions ro;
    ro.maxValue = 6.0f;
    x = m.add<ReLU>({x}, "relu6", ro);
    x = m.add<MaxPooling2D>({x}, "maxpool", Pooling2DOptions{2, 2, 0, 0, Padding::Valid});  // (4, 4, 8)
    const int ap = m.add<AveragePooling2D>({x}, "avgpool", Pooling2DOptions{2, 2, 1, 1, Padding::Same});
    const int gmp = m.add<GlobalMaxPooling2D>({ap}, "gmp", GlobalPooling2DOptions{});
    const int gap = m.add<GlobalAveragePooling2D>({ap}, "gap", GlobalPooling2DOptions{});
    x = m.add<Flatten>({ap}, "flatten");
    x = m.add<Dense>({x}, "dense", DenseOptions{8, true, ActivationFn::Linear});
    x = m.add<Add>({gmp, gap, x}, "add3");
    x = m.add<Dropout>({x}, "dropout", DropoutOptions{0.2f});
    x = m.add<Reshape>({x}, "reshape", ReshapeOptions{{2, 4}});
    x = m.add<Softmax>({x}, "softmax", SoftmaxOptions{-1});
    x = m.add<Activation>({x}, "sigmoid", ActivationOptions{ActivationFn::Sigmoid});
    x = m.add<Flatten>({x}, "flatten2");
    x = m.add<Dense>({x}, "out", DenseOptions{3, false, ActivationFn::Softmax});
    m.setOutputs({x});
    QVERIFY2(m.build().ok(), m.build().error().message.c_str());
    Rng rng(11);
    m.initialize(rng);
    for (Param* p : m.params())  // moving statistics and biases away from their defaults
      for (size_t i = 0; i < p->value.size(); ++i) p->value[i] += rng.uniform(0.1f, 0.9f);

    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("every.h5")).toStdString();
    Status st = saveKerasModel(m, path);
    QVERIFY2(st.ok(), st.ok() ? "" : st.error().message.c_str());
    auto back = loadKerasModel(path);
    QVERIFY2(back.ok(), back.ok() ? "" : back.error().message.c_str());
    const std::string diff = test::modelDifference(m, back.value());
    QVERIFY2(diff.empty(), diff.c_str());
    const auto inputs = test::randomInputs(m, 4, rng);
    const std::string outDiff = test::outputDifference(m, back.value(), inputs);
    QVERIFY2(outDiff.empty(), outDiff.c_str());
    auto cfg = Json::parse(h5::File::openRead(path)->root()->stringAttr("model_config").value());
    QCOMPARE(cfg["class_name"].get<std::string>(), std::string("Functional"));

    Model chain;
    const int ci = chain.addInput("x", Shape{6});
    int y = chain.add<Dense>({ci}, "h", DenseOptions{4, true, ActivationFn::Relu});
    y = chain.add<BatchNormalization>({y}, "norm", BatchNormalizationOptions{});
    y = chain.add<Dense>({y}, "y", DenseOptions{2, true, ActivationFn::Linear});
    chain.setOutputs({y});
    QVERIFY(chain.build().ok());
    chain.initialize(rng);
    const std::string cpath = dir.filePath(QStringLiteral("chain.h5")).toStdString();
    QVERIFY(saveKerasModel(chain, cpath).ok());
    auto cb = loadKerasModel(cpath);
    QVERIFY2(cb.ok(), cb.ok() ? "" : cb.error().message.c_str());
    QVERIFY(test::modelDifference(chain, cb.value()).empty());
    auto f = h5::File::openRead(cpath);
    auto root = f->root();
    QCOMPARE(Json::parse(root->stringAttr("model_config").value())["class_name"].get<std::string>(),
             std::string("Sequential"));
    auto mw = root->group("model_weights");
    QCOMPARE(mw->stringListAttr("layer_names").value(), (std::vector<std::string>{"h", "norm", "y"}));
    QCOMPARE(mw->group("norm")->stringListAttr("weight_names").value(),
             (std::vector<std::string>{"norm/gamma:0", "norm/beta:0", "norm/moving_mean:0", "norm/moving_variance:0"}));
  }

  void saveRefusesUnbuiltModel() {
    Model m;
    const int in = m.addInput("x", Shape{2});
    m.setOutputs({m.add<Dense>({in}, "d", DenseOptions{1, true, ActivationFn::Linear})});
    QTemporaryDir dir;
    Status s = saveKerasModel(m, dir.filePath(QStringLiteral("m.h5")).toStdString());
    QVERIFY(!s.ok());
    QVERIFY2(s.error().message.find("not built") != std::string::npos, s.error().message.c_str());
  }
};

QTEST_APPLESS_MAIN(TestKerasGraph)
#include "test_keras_graph.moc"
