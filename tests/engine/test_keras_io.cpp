// Keras HDF5 import/export on real files written by Keras 1.2 - 3.8 (shared/models/keras):
// every file loads with the right layer count, parameter count and output shape, or is
// refused with a message naming the file, layer and class; load -> save -> load is exact;
// damaged files give an Error, never a crash.
#include <QtTest>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "common/model_compare.h"
#include "engine/io/hdf5_util.h"
#include "engine/io/keras_model.h"

using namespace qat;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

const std::string kDir = QAT_SHARED_DIR "/models/keras";

// What the README says about each file. Output shapes are the last layer's kernel width.
struct Expectation {
  bool loads;
  Shape output;                       // when it loads
  std::vector<std::string> message;   // when refused: each must appear in the error
  std::string architecture;           // JSON to pass along, "" for none
};

const std::map<std::string, Expectation>& expectations() {
  static const std::map<std::string, Expectation> m = {
      {"ann_churn_02tanishk__model.h5", {true, Shape{1}, {}, ""}},
      {"car_behavioral_cloning__model.h5", {false, {}, {"'lambda_1' (Lambda)", "Python code", "cut the model"}, ""}},
      {"cataract__squeezenet.h5", {true, Shape{3}, {}, ""}},
      {"face_classification__fer2013_mini_XCEPTION.102-0.66.hdf5", {true, Shape{7}, {}, ""}},
      {"fml_example_models__KERAS_3layer_weights.h5",
       {false, {}, {"only weights", "model.to_json()", "--architecture model.json"}, ""}},
      {"fml_example_models__hgq_jet_classifier.h5",
       {false, {}, {"'inp_q_quantizer' (FixedPointQuantizer)", "custom layer class", "Remove it"}, ""}},
      {"keras2c__example_model.h5", {false, {}, {"'lstm_1' (LSTM)", "not supported yet", "Cut the model"}, ""}},
      {"mlcommons_tiny__ad01.h5", {true, Shape{640}, {}, ""}},
      {"mlcommons_tiny__pretrainedResnet.h5", {true, Shape{10}, {}, ""}},
      {"tinymaix__cifar10.h5", {true, Shape{10}, {}, ""}},
      {"tinymaix__mbnet96_0.25.h5", {true, Shape{1000}, {}, ""}},
      {"tinymaix__mnist_dw.h5", {true, Shape{10}, {}, ""}},
      {"tinymaix__mnist_fc.h5", {true, Shape{10}, {}, ""}},
      {"tinymaix__mnist_valid.h5", {true, Shape{10}, {}, ""}},
  };
  return m;
}

// Sum of the sizes of every weight dataset in the file (model_weights, or the root of a
// weights-only file), walked with the HDF5 API independently of the loader.
uint64_t fileWeightCount(const std::string& path) {
  auto f = h5::File::openRead(path);
  if (!f.ok()) return 0;
  auto root = f->root();
  if (!root.ok()) return 0;
  std::optional<h5::Group> mw;
  if (root->isGroup("model_weights")) {
    auto g = root->group("model_weights");
    if (g.ok()) mw.emplace(std::move(g.value()));
  }
  auto list = (mw ? *mw : root.value()).listDatasets();
  if (!list.ok()) return 0;
  uint64_t n = 0;
  for (const auto& d : *list)
    if (d.numeric) n += d.numel();
  return n;
}

// Keras layers in the architecture: every entry of the (flattened) layer lists, plus
// the InputLayer Keras adds itself when a Sequential model starts without one.
int kerasLayerCount(const Json& model) {
  const Json& cfg = model["config"];
  const Json& layers = cfg.is_array() ? cfg : cfg["layers"];
  int n = 0;
  for (const Json& l : layers) {
    const std::string cls = l["class_name"];
    n += (cls == "Sequential" || cls == "Functional" || cls == "Model") ? kerasLayerCount(l) - 1 : 1;
  }
  if (model["class_name"] == "Sequential" && layers[0]["class_name"] != "InputLayer") ++n;
  return n;
}

Json architectureOf(const std::string& h5Path, const std::string& jsonPath) {
  if (!jsonPath.empty()) {
    std::ifstream in(jsonPath);
    return Json::parse(in);
  }
  auto f = h5::File::openRead(h5Path);
  auto root = f->root();
  return Json::parse(root->stringAttr("model_config").value());
}

std::vector<std::string> modelFiles() {
  std::vector<std::string> files;
  if (!fs::is_directory(kDir)) return files;
  for (const auto& e : fs::directory_iterator(kDir)) {
    const std::string ext = e.path().extension().string();
    if (ext == ".h5" || ext == ".hdf5") files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Loadable files (with the architecture JSON where one is needed).
void addLoadableRows() {
  QTest::addColumn<QString>("file");
  QTest::addColumn<QString>("json");
  for (const std::string& f : modelFiles()) {
    auto it = expectations().find(f);
    if (it != expectations().end() && it->second.loads) QTest::addRow("%s", f.c_str()) << QString::fromStdString(f) << QString();
  }
  const std::string w = "fml_example_models__KERAS_3layer_weights.h5";
  if (fs::exists(kDir + "/" + w))
    QTest::addRow("%s+json", w.c_str()) << QString::fromStdString(w)
                                        << QString::fromStdString(kDir + "/fml_example_models__KERAS_3layer.json");
}

}  // namespace

class TestKerasIO : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    if (!fs::is_directory(kDir)) QSKIP("shared/models/keras not present");
  }

  // Every file: loads as the README says, or is refused with a message naming it.
  void loadsOrExplains_data() {
    QTest::addColumn<QString>("file");
    for (const std::string& f : modelFiles()) QTest::addRow("%s", f.c_str()) << QString::fromStdString(f);
  }
  void loadsOrExplains() {
    QFETCH(QString, file);
    const std::string name = file.toStdString(), path = kDir + "/" + name;
    auto r = loadKerasFile(path);
    auto it = expectations().find(name);
    if (it == expectations().end()) {  // a file added later: either outcome, but a clear one
      if (!r.ok()) QVERIFY2(r.error().message.find(path) != std::string::npos, r.error().message.c_str());
      return;
    }
    const Expectation& e = it->second;
    if (!e.loads) {
      QVERIFY2(!r.ok(), "expected the file to be refused");
      const std::string& msg = r.error().message;
      QVERIFY2(msg.rfind(path, 0) == 0, msg.c_str());  // starts with the file
      for (const std::string& part : e.message) QVERIFY2(msg.find(part) != std::string::npos, msg.c_str());
      return;
    }
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    const Model& m = r->model;
    QCOMPARE(m.paramCount(), static_cast<size_t>(fileWeightCount(path)));
    QCOMPARE(m.size(), kerasLayerCount(architectureOf(path, "")));
    QCOMPARE(m.outputs().size(), size_t(1));
    QCOMPARE(m.node(m.outputs()[0]).shape, e.output);
    QVERIFY(!r->kerasVersion.empty());
  }

  // The weights-only file loads together with its architecture JSON.
  void weightsOnlyWithArchitecture() {
    const std::string h5 = kDir + "/fml_example_models__KERAS_3layer_weights.h5";
    const std::string js = kDir + "/fml_example_models__KERAS_3layer.json";
    if (!fs::exists(h5) || !fs::exists(js)) QSKIP("weights-only example not present");
    auto r = loadKerasFile(h5, js);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    QCOMPARE(r->model.paramCount(), static_cast<size_t>(fileWeightCount(h5)));
    QCOMPARE(r->model.size(), kerasLayerCount(architectureOf(h5, js)));
    QCOMPARE(r->model.node(r->model.outputs()[0]).shape, (Shape{5}));
    QCOMPARE(r->model.node(r->model.inputs()[0]).shape, (Shape{16}));
  }

  void trainingConfig() {
    const std::string cifar = kDir + "/tinymaix__cifar10.h5";
    auto r = loadKerasFile(cifar);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    QVERIFY(r->training.has_value());
    QCOMPARE(r->training->loss, std::string("sparse_categorical_crossentropy"));
    QCOMPARE(r->training->optimizer, std::string("adam"));
    QVERIFY(r->training->learningRate.has_value());
    QCOMPARE(static_cast<float>(*r->training->learningRate), 0.001f);
    QCOMPARE(r->training->metrics, std::vector<std::string>{"accuracy"});
    QCOMPARE(r->kerasVersion, std::string("2.9.0"));
    QCOMPARE(r->backend, std::string("tensorflow"));

    auto k3 = loadKerasFile(kDir + "/ann_churn_02tanishk__model.h5");  // Keras 3.8
    QVERIFY2(k3.ok(), k3.ok() ? "" : k3.error().message.c_str());
    QCOMPARE(k3->training->loss, std::string("binary_crossentropy"));
    QCOMPARE(static_cast<float>(*k3->training->learningRate), 0.01f);
    QCOMPARE(k3->training->optimizerParams.at("beta_2"), 0.999);
    QCOMPARE(k3->kerasVersion, std::string("3.8.0"));
  }

  // Weights land on the right parameters: spot values read with the HDF5 API directly.
  void weightsResolvedThroughWeightNames() {
    const std::string path = kDir + "/cataract__squeezenet.h5";
    auto r = loadKerasModel(path);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    auto f = h5::File::openRead(path);
    auto bn = f->root()->group("model_weights/batch_normalization_1");
    QVERIFY(bn.ok());
    std::vector<float> var(24);
    QVERIFY(bn->readFloats("batch_normalization_1/moving_variance:0", var.data(), 24).ok());
    const Layer& layer = *r->node(r->find("batch_normalization_1")).layer;
    const auto params = layer.params();
    QCOMPARE(params.size(), size_t(4));
    QCOMPARE(params[3]->name, std::string("moving_variance"));
    QVERIFY(std::memcmp(params[3]->value.data(), var.data(), 24 * sizeof(float)) == 0);
  }

  // load -> save -> load: identical graph and bit-identical weights and outputs; the
  // saved file's weight datasets add up to the model's parameter count.
  void roundTrip_data() { addLoadableRows(); }
  void roundTrip() {
    QFETCH(QString, file);
    QFETCH(QString, json);
    auto a = loadKerasModel(kDir + "/" + file.toStdString(), json.toStdString());
    QVERIFY2(a.ok(), a.ok() ? "" : a.error().message.c_str());
    QTemporaryDir dir;
    const std::string out = dir.filePath(QStringLiteral("saved.h5")).toStdString();
    Status s = saveKerasModel(a.value(), out);
    QVERIFY2(s.ok(), s.ok() ? "" : s.error().message.c_str());
    auto b = loadKerasFile(out);
    QVERIFY2(b.ok(), b.ok() ? "" : b.error().message.c_str());
    const std::string diff = test::modelDifference(a.value(), b->model);
    QVERIFY2(diff.empty(), diff.c_str());
    QCOMPARE(b->kerasVersion, std::string("2.13.1"));
    QCOMPARE(fileWeightCount(out), static_cast<uint64_t>(a->paramCount()));
    Rng rng(7);
    const auto inputs = test::randomInputs(a.value(), 2, rng);
    const std::string outDiff = test::outputDifference(a.value(), b->model, inputs);
    QVERIFY2(outDiff.empty(), outDiff.c_str());
    // A second save of the reloaded model must produce the same architecture text.
    const std::string out2 = dir.filePath(QStringLiteral("saved2.h5")).toStdString();
    QVERIFY(saveKerasModel(b->model, out2).ok());
    QCOMPARE(architectureOf(out2, ""), architectureOf(out, ""));
  }

  // Saving over an existing file replaces it; a failed save leaves it alone.
  void saveIsAtomic() {
    auto m = loadKerasModel(kDir + "/tinymaix__mnist_fc.h5");
    QVERIFY(m.ok());
    QTemporaryDir dir;
    const std::string out = dir.filePath(QStringLiteral("model.h5")).toStdString();
    QVERIFY(saveKerasModel(m.value(), out).ok());
    const auto size = fs::file_size(out);
    QVERIFY(saveKerasModel(m.value(), out).ok());  // overwrite
    QCOMPARE(fs::file_size(out), size);
    // Unsaveable (a layer name with '/'): error, old file intact, no temp file left.
    m->node(1).layer->setName("bad/name");
    Status s = saveKerasModel(m.value(), out);
    QVERIFY(!s.ok());
    QVERIFY2(s.error().message.find("bad/name") != std::string::npos, s.error().message.c_str());
    QVERIFY(loadKerasModel(out).ok());
    // Target directory missing: error naming the path.
    const std::string missing = dir.filePath(QStringLiteral("no/such/dir/m.h5")).toStdString();
    m->node(1).layer->setName("flatten");
    Status s2 = saveKerasModel(m.value(), missing);
    QVERIFY(!s2.ok());
    QVERIFY2(s2.error().message.find(missing) != std::string::npos, s2.error().message.c_str());
    int entries = 0;
    for (const auto& e : fs::directory_iterator(dir.path().toStdString())) entries += e.is_regular_file();
    QCOMPARE(entries, 1);
  }

  // ---- damaged input: always an Error (or, for flips in unused bytes, a model), never a crash

  void notHdf5AndEmpty() {
    QTemporaryDir dir;
    const std::string text = dir.filePath(QStringLiteral("model.h5")).toStdString();
    std::ofstream(text) << "this is not an HDF5 file\n";
    auto r = loadKerasModel(text);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.find("not an HDF5 file") != std::string::npos, r.error().message.c_str());
    QVERIFY(r.error().message.rfind(text, 0) == 0);

    const std::string empty = dir.filePath(QStringLiteral("empty.h5")).toStdString();
    std::ofstream(empty).close();
    auto e = loadKerasModel(empty);
    QVERIFY(!e.ok());
    QVERIFY2(e.error().message.find("empty") != std::string::npos, e.error().message.c_str());

    const std::string zip = dir.filePath(QStringLiteral("model.keras")).toStdString();
    std::ofstream(zip, std::ios::binary) << std::string("PK\x03\x04rest of a zip archive", 25);
    auto z = loadKerasModel(zip);
    QVERIFY(!z.ok());
    QVERIFY2(z.error().message.find("'.keras' archive") != std::string::npos, z.error().message.c_str());

    auto missing = loadKerasModel(dir.filePath(QStringLiteral("missing.h5")).toStdString());
    QVERIFY(!missing.ok());
    QVERIFY2(missing.error().message.find("not found") != std::string::npos, missing.error().message.c_str());
  }

  void truncatedCopies_data() {
    QTest::addColumn<QString>("file");
    for (const char* f : {"tinymaix__mnist_valid.h5", "ann_churn_02tanishk__model.h5"})
      QTest::addRow("%s", f) << QString::fromLatin1(f);
  }
  void truncatedCopies() {
    QFETCH(QString, file);
    const std::string src = kDir + "/" + file.toStdString();
    std::ifstream in(src, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("cut.h5")).toStdString();
    for (size_t len : {size_t(8), size_t(100), size_t(1000), size_t(4096), bytes.size() / 3, bytes.size() / 2,
                       bytes.size() - 1000, bytes.size() - 1}) {
      std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(len));
      auto r = loadKerasModel(path);
      QVERIFY2(!r.ok(), ("a copy cut at " + std::to_string(len) + " bytes loaded").c_str());
      QVERIFY2(r.error().message.rfind(path, 0) == 0, r.error().message.c_str());
    }
  }

  // Flipped bits all over the file (a fixed seed): each load returns promptly with an
  // Error naming the file or with a model; flips in the signature are always refused.
  void bitFlips() {
    const std::string src = kDir + "/tinymaix__mnist_valid.h5";
    std::ifstream in(src, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("flipped.h5")).toStdString();
    Rng rng(2024);
    int refused = 0, loaded = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int v = 0; v < 300; ++v) {
      std::string copy = bytes;
      // Half the variants hit the first 4 KiB, where the superblock and root headers live.
      const size_t range = v % 2 ? copy.size() : std::min<size_t>(4096, copy.size());
      const int flips = 1 + static_cast<int>(rng.next() % 4);
      for (int k = 0; k < flips; ++k) copy[rng.next() % range] ^= static_cast<char>(1u << (rng.next() % 8));
      if (v == 0) copy[1] ^= 0x20;  // damage the signature itself
      std::ofstream(path, std::ios::binary | std::ios::trunc).write(copy.data(), static_cast<std::streamsize>(copy.size()));
      auto r = loadKerasFile(path);
      if (r.ok()) {
        ++loaded;
        QVERIFY(r->model.size() > 0);
      } else {
        ++refused;
        QVERIFY2(r.error().message.rfind(path, 0) == 0, r.error().message.c_str());
      }
      if (v == 0) QVERIFY(!r.ok());
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    qInfo("bit flips: %d refused, %d loaded, %.2f s", refused, loaded, secs);
    QVERIFY(refused > 0);
  }
};

QTEST_APPLESS_MAIN(TestKerasIO)
#include "test_keras_io.moc"
