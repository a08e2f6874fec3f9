// Frozen layers (Keras trainable=false): training leaves a frozen Dense and a frozen
// BatchNormalization (weights and moving statistics) bit-identical while the rest
// learns; a frozen BN normalises with its moving statistics even in training and its
// backward is the inference one; the flag survives clone and the Keras round trip, and
// is read from real files that have it.
#include <QtTest>

#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/gradcheck.h"
#include "common/model_compare.h"
#include "engine/io/hdf5_util.h"
#include "engine/io/keras_model.h"
#include "engine/io/model_outline.h"
#include "engine/layers/batch_normalization.h"
#include "engine/layers/dense.h"
#include "engine/train/trainer.h"

using namespace qat;
using Json = nlohmann::json;

namespace {

// input(6) -> frozen_dense -> frozen_bn -> dense -> bn -> logits(3)
Model makeModel() {
  Model m;
  m.name = "frozen_mix";
  int x = m.addInput("input", Shape{6});
  x = m.add<Dense>({x}, "frozen_dense", DenseOptions{8, true, ActivationFn::Relu});
  x = m.add<BatchNormalization>({x}, "frozen_bn");
  x = m.add<Dense>({x}, "dense", DenseOptions{8, true, ActivationFn::Relu});
  x = m.add<BatchNormalization>({x}, "bn");
  x = m.add<Dense>({x}, "logits", DenseOptions{3, true, ActivationFn::Linear});
  m.setOutputs({x});
  QAT_ASSERT(m.build().ok());
  Rng rng(3);
  m.initialize(rng);
  // Moving statistics away from the (0, 1) defaults, so "unchanged" means something.
  for (const char* name : {"frozen_bn", "bn"}) {
    auto& bn = static_cast<BatchNormalization&>(*m.node(m.find(name)).layer);
    for (size_t i = 0; i < bn.movingMean().value.size(); ++i) {
      bn.movingMean().value[i] = rng.uniform(-0.5f, 0.5f);
      bn.movingVariance().value[i] = rng.uniform(0.5f, 2.0f);
      bn.gamma().value[i] = rng.uniform(0.5f, 1.5f);
      bn.beta().value[i] = rng.uniform(-0.2f, 0.2f);
    }
  }
  m.node(m.find("frozen_dense")).layer->setTrainable(false);
  m.node(m.find("frozen_bn")).layer->setTrainable(false);
  return m;
}

Dataset makeData(int n) {
  Dataset d;
  d.x = Tensor(Shape{n, 6});
  Rng rng(11);
  for (int i = 0; i < n; ++i) {
    const int c = i % 3;
    for (int k = 0; k < 6; ++k) d.x[size_t(i) * 6 + size_t(k)] = rng.normal(k % 3 == c ? 1.5f : 0.0f, 1.0f);
    d.labels.push_back(c);
  }
  d.numClasses = 3;
  d.source = "synthetic";
  return d;
}

// Values of every parameter of a layer, in params() order.
std::vector<std::vector<float>> snapshot(const Model& m, const std::string& layer) {
  std::vector<std::vector<float>> out;
  for (const Param* p : std::as_const(*m.node(m.find(layer)).layer).params())
    out.emplace_back(p->value.data(), p->value.data() + p->value.size());
  return out;
}

bool bitIdentical(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].size() != b[i].size() || std::memcmp(a[i].data(), b[i].data(), a[i].size() * sizeof(float)) != 0)
      return false;
  return true;
}

}  // namespace

class TestFrozenLayers : public QObject {
  Q_OBJECT
 private slots:
  void trainingLeavesFrozenLayersAlone() {
    Model m = makeModel();
    const auto frozenDense = snapshot(m, "frozen_dense"), frozenBn = snapshot(m, "frozen_bn");
    const auto dense = snapshot(m, "dense"), bn = snapshot(m, "bn"), logits = snapshot(m, "logits");
    // The optimizer only sees the params of layers that are not frozen: dense (2), bn
    // gamma/beta (2), logits (2).
    QCOMPARE(m.trainableParams().size(), size_t(6));
    TrainConfig cfg;
    cfg.epochs = 3;
    cfg.batchSize = 16;
    cfg.loss = {LossKind::SparseCategoricalCrossentropy, true};
    cfg.optimizer.learningRate = 0.01f;
    Trainer trainer(m, cfg);
    auto r = trainer.fit(makeData(96));
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    QCOMPARE(r->steps, 18L);
    QVERIFY(bitIdentical(snapshot(m, "frozen_dense"), frozenDense));
    QVERIFY(bitIdentical(snapshot(m, "frozen_bn"), frozenBn));  // gamma, beta, moving_mean, moving_variance
    // Everything else learned; bn's moving statistics followed the batches.
    QVERIFY(!bitIdentical(snapshot(m, "dense"), dense));
    QVERIFY(!bitIdentical(snapshot(m, "logits"), logits));
    const auto bnAfter = snapshot(m, "bn");
    for (size_t k = 0; k < 4; ++k) QVERIFY2(bnAfter[k] != bn[k], std::to_string(k).c_str());
  }

  // zeroGrad resets every grad that exists, the frozen layers' too (their backward still
  // accumulates into them, so without this they would grow without bound).
  void zeroGradCoversFrozenLayers() {
    Model m = makeModel();
    auto& d = static_cast<Dense&>(*m.node(m.find("frozen_dense")).layer);
    d.kernel().grad.fill(5.0f);
    d.bias().grad.fill(-2.0f);
    m.zeroGrad();
    for (size_t i = 0; i < d.kernel().grad.size(); ++i) QCOMPARE(d.kernel().grad[i], 0.0f);
    for (size_t i = 0; i < d.bias().grad.size(); ++i) QCOMPARE(d.bias().grad[i], 0.0f);
  }

  // A frozen BN in a training pass: output equals the inference output, moving statistics
  // stay, and the model's gradients (through the frozen BN, inference formula) pass a
  // numeric check in training mode.
  void frozenBatchNormUsesMovingStatistics() {
    BatchNormalization bn("bn");
    QVERIFY(bn.build({Shape{4, 4, 3}}).ok());
    Rng rng(5);
    bn.initialize(rng);
    for (size_t c = 0; c < 3; ++c) {
      bn.movingMean().value[c] = 0.3f * float(c) - 0.2f;
      bn.movingVariance().value[c] = 0.5f + float(c);
      bn.gamma().value[c] = 1.0f + 0.25f * float(c);
      bn.beta().value[c] = -0.1f * float(c);
    }
    bn.setTrainable(false);
    Tensor x(Shape{5, 4, 4, 3});
    test::fillUniform(x, rng, -2.0f, 3.0f);
    const std::vector<const Tensor*> in{&x};
    Tensor yTrain, yInfer;
    const auto mean = bn.movingMean().value, var = bn.movingVariance().value;
    bn.forward(in, yTrain, RunContext{true, &rng});
    bn.forward(in, yInfer, RunContext{false, &rng});
    QVERIFY(std::memcmp(yTrain.data(), yInfer.data(), yTrain.size() * sizeof(float)) == 0);
    QVERIFY(std::memcmp(mean.data(), bn.movingMean().value.data(), mean.size() * sizeof(float)) == 0);
    QVERIFY(std::memcmp(var.data(), bn.movingVariance().value.data(), var.size() * sizeof(float)) == 0);
    // y = (x - mean) * gamma / sqrt(var + eps) + beta, checked on one element per channel.
    for (size_t c = 0; c < 3; ++c) {
      const float expect = (x[c] - mean[c]) * bn.gamma().value[c] / std::sqrt(var[c] + bn.effectiveEpsilon()) +
                           bn.beta().value[c];
      QVERIFY(std::abs(yTrain[c] - expect) <= 1e-5f);
    }
    // Backward of the frozen layer in training mode: dx = gamma s · dy (no batch terms).
    Tensor dy(x.shape()), dx(x.shape());
    test::fillUniform(dy, rng);
    Tensor* dxp = &dx;
    bn.backward(in, yTrain, dy, std::span<Tensor* const>(&dxp, 1), RunContext{true, &rng});
    for (size_t i = 0; i < x.size(); ++i) {
      const size_t c = i % 3;
      const float expect = bn.gamma().value[c] / std::sqrt(var[c] + bn.effectiveEpsilon()) * dy[i];
      QVERIFY(std::abs(dx[i] - expect) <= 1e-5f * (1 + std::abs(expect)));
    }

    Model m = makeModel();
    Tensor mx(Shape{7, 6});
    test::fillUniform(mx, rng);
    test::GradCheckOptions o;
    o.training = true;
    const auto res = test::gradCheckModel(m, {mx}, o);
    QVERIFY2(res.ok, res.worst.c_str());
    QVERIFY(res.checked > 100);
  }

  void cloneKeepsTheFlag() {
    Model m = makeModel();
    Model c = m.clone();
    QVERIFY(!c.node(c.find("frozen_dense")).layer->trainable());
    QVERIFY(!c.node(c.find("frozen_bn")).layer->trainable());
    QVERIFY(c.node(c.find("dense")).layer->trainable());
    QCOMPARE(c.trainableParams().size(), m.trainableParams().size());
  }

  // Export writes "trainable": false; import restores the flag; nothing is warned.
  void kerasRoundTripKeepsFrozenLayers() {
    QTemporaryDir dir;
    Model m = makeModel();
    const std::string path = dir.filePath(QStringLiteral("frozen.h5")).toStdString();
    QVERIFY(saveKerasModel(m, path).ok());
    auto f = h5::File::openRead(path);
    QVERIFY(f.ok());
    const Json config = Json::parse(f->root()->stringAttr("model_config").value());
    std::map<std::string, bool> written;
    for (const Json& l : config["config"]["layers"])
      if (l["config"].contains("trainable")) written[l["config"]["name"]] = l["config"]["trainable"];
    QCOMPARE(written.size(), size_t(5));
    QCOMPARE(written["frozen_dense"], false);
    QCOMPARE(written["frozen_bn"], false);
    QCOMPARE(written["dense"], true);
    QCOMPARE(written["bn"], true);
    auto back = loadKerasFile(path);
    QVERIFY2(back.ok(), back.ok() ? "" : back.error().message.c_str());
    QVERIFY(back->warnings.empty());
    const std::string diff = test::modelDifference(m, back->model);  // includes the flag
    QVERIFY2(diff.empty(), diff.c_str());
    QVERIFY(!back->model.node(1).layer->trainable());
    QVERIFY(!back->model.node(2).layer->trainable());
    QVERIFY(back->model.node(3).layer->trainable());
  }

  // A nested model with trainable=false freezes every layer inside it.
  void frozenNestedModelFreezesItsLayers() {
    const char* arch = R"({"class_name": "Functional", "config": {"name": "outer",
      "input_layers": [["img", 0, 0]], "output_layers": [["head", 0, 0]], "layers": [
      {"class_name": "InputLayer", "name": "img", "config": {"batch_input_shape": [null, 4], "name": "img"},
       "inbound_nodes": []},
      {"class_name": "Sequential", "name": "base", "config": {"name": "base", "trainable": false, "layers": [
         {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "name": "base_in"}},
         {"class_name": "Dense", "config": {"name": "e1", "units": 3, "trainable": true}},
         {"class_name": "BatchNormalization", "config": {"name": "e_bn"}}]},
       "inbound_nodes": [[["img", 0, 0, {}]]]},
      {"class_name": "Dense", "name": "head", "config": {"name": "head", "units": 2},
       "inbound_nodes": [[["base", 1, 0, {}]]]}]}})";
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("nested.h5")).toStdString();
    {
      auto f = h5::File::create(path);
      QVERIFY(f.ok());
      {
        auto root = f->root();
        QVERIFY(root->writeStringAttr("model_config", arch).ok());
        auto mw = root->createGroup("model_weights");
        QVERIFY(mw->writeStringListAttr("layer_names", {"img", "base", "head"}).ok());
        QVERIFY(mw->createGroup("img")->writeStringListAttr("weight_names", {}).ok());
        // Frozen model: everything non-trainable, in layer order.
        auto base = mw->createGroup("base");
        const std::vector<std::pair<std::string, uint64_t>> w = {
            {"e1/kernel:0", 12}, {"e1/bias:0", 3}, {"e_bn/gamma:0", 3}, {"e_bn/beta:0", 3},
            {"e_bn/moving_mean:0", 3}, {"e_bn/moving_variance:0", 3}};
        std::vector<std::string> names;
        for (const auto& [n, size] : w) {
          names.push_back(n);
          std::vector<float> v(size, 0.5f);
          std::vector<uint64_t> dims = n == "e1/kernel:0" ? std::vector<uint64_t>{4, 3} : std::vector<uint64_t>{size};
          QVERIFY(base->writeFloats(n, dims, v.data()).ok());
        }
        QVERIFY(base->writeStringListAttr("weight_names", names).ok());
        auto head = mw->createGroup("head");
        std::vector<float> k(6, 0.25f), b(2, 0.0f);
        QVERIFY(head->writeFloats("head/kernel:0", {3, 2}, k.data()).ok());
        QVERIFY(head->writeFloats("head/bias:0", {2}, b.data()).ok());
        QVERIFY(head->writeStringListAttr("weight_names", {"head/kernel:0", "head/bias:0"}).ok());
      }  // every group closed before the file
      QVERIFY(f->close().ok());
    }
    auto r = loadKerasModel(path);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    QVERIFY(!r->node(r->find("e1")).layer->trainable());
    QVERIFY(!r->node(r->find("e_bn")).layer->trainable());
    QVERIFY(r->node(r->find("head")).layer->trainable());
    QCOMPARE(r->trainableParams().size(), size_t(2));  // head kernel and bias
  }

  // Real files: the HGQ jet classifier's quantizer layers are trainable=false in Keras.
  // The model itself does not load (custom classes), but its outline shows the flags.
  void realFileFlags() {
    const std::string path = QAT_SHARED_DIR "/models/keras/fml_example_models__hgq_jet_classifier.h5";
    if (!std::filesystem::exists(path)) QSKIP("../shared/models/keras is not present");
    auto o = outlineKerasFile(path);
    QVERIFY2(o.ok(), o.ok() ? "" : o.error().message.c_str());
    int frozen = 0, trainable = 0;
    for (const OutlineNode& n : o->nodes) {
      if (n.className == "FixedPointQuantizer") QVERIFY2(!n.trainable, n.name.c_str());
      if (n.className == "Dense") QVERIFY2(n.trainable, n.name.c_str());
      (n.trainable ? trainable : frozen) += 1;
    }
    QCOMPARE(frozen, 8);  // the 8 "trainable": false entries of its model_config
    QVERIFY(trainable > 0);
  }
};

QTEST_APPLESS_MAIN(TestFrozenLayers)
#include "test_frozen_layers.moc"
