// Project files (.qatproj): model images in memory (Keras model and QAT checkpoint, which
// reload bit-identically), save → load keeps every field, saves are atomic (a failed save
// leaves the old file and no temporary behind), and load errors say what is wrong: not a
// project, a newer format, a damaged run (named), a truncated file.
#include <QtTest>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/model_compare.h"
#include "engine/io/hdf5_util.h"
#include "engine/io/keras_model.h"
#include "engine/models/builtin.h"
#include "engine/project/project.h"
#include "engine/quant/scheme.h"
#include "engine/train/trainer.h"

using namespace qat;
using namespace qat::project;
namespace fs = std::filesystem;

namespace {

Model builtin(const char* name) {
  auto m = makeBuiltinModel(name, 3);
  QAT_ASSERT(m.ok());
  return std::move(m.value());
}

// Random images in [0, 1] with random labels: enough to give quantizers real ranges.
Dataset noiseData(int n, uint64_t seed) {
  Dataset d;
  d.x = Tensor(Shape{n, 28, 28, 1});
  Rng rng(seed);
  for (size_t i = 0; i < d.x.size(); ++i) d.x[i] = rng.uniform(0.0f, 1.0f);
  for (int i = 0; i < n; ++i) d.labels.push_back(i % 10);
  d.numClasses = 10;
  d.source = "noise";
  return d;
}

// A calibrated (and for fold mode, briefly trained) quantized model.
quant::QuantizedModel quantizedOf(const Model& m, const char* scheme, quant::BnMode mode, bool train) {
  auto s = quant::schemeFromName(scheme);
  QAT_ASSERT(s.ok());
  s->bnMode = mode;
  auto cfg = quant::makeSchemeConfig(m, *s);
  QAT_ASSERT(cfg.ok());
  auto q = quant::quantizeModel(m, cfg->config);
  QAT_ASSERT(q.ok());
  TrainConfig tc;
  tc.batchSize = 16;
  tc.loss.fromLogits = true;
  Trainer t(q->model, tc);
  const Dataset d = noiseData(64, 5);
  QAT_ASSERT(t.calibrate(d, 2).ok());
  if (train) QAT_ASSERT(t.fit(d).ok());
  return std::move(q.value());
}

std::string outputsDiffer(Model& a, Model& b) {
  const Dataset d = noiseData(8, 9);
  return test::outputDifference(a, b, {d.x});
}

Run sampleRun(RunKind kind, const std::string& name, std::vector<uint8_t> image) {
  Run r;
  r.name = name;
  r.kind = kind;
  r.created = "2026-11-22T10:00:00Z";
  r.settings = {{"epochs", 2}, {"lr", 1e-4}, {"optimizer", "adam"}};
  r.history = nlohmann::json::array({{{"epoch", 1}, {"loss", 0.51}, {"accuracy", 0.8}},
                                     {{"epoch", 2}, {"loss", 0.42}, {"accuracy", 0.85}, {"val_loss", 0.5}}});
  r.metrics.floatAccuracy = 0.8712;
  r.metrics.fakeQuantAccuracy = 0.8699999999999999;  // not a short decimal: must survive exactly
  r.metrics.integerAccuracy = kind == RunKind::Float ? -1 : 0.8688;
  r.metrics.loss = 0.377;
  r.metrics.samples = 10000;
  r.metrics.integerError = kind == RunKind::Float ? "" : "";
  r.metrics.weightBytes = 101765;
  r.metrics.floatWeightBytes = 407060;
  r.layerErrors = {{"dense", 31.25}, {"logits", kSqnrIdentical}};
  r.confusion.classes = 3;
  r.confusion.counts = {5, 1, 0, 2, 7, 1, 0, 0, 9};
  r.modelImage = std::move(image);
  return r;
}

void compareProjects(const Project& a, const Project& b) {
  QCOMPARE(b.modelSource, a.modelSource);
  QCOMPARE(b.modelName, a.modelName);
  QVERIFY(b.config == a.config);
  QVERIFY(b.data == a.data);
  QCOMPARE(b.uiState, a.uiState);
  QCOMPARE(b.nextRunId, a.nextRunId);
  QCOMPARE(QString::fromStdString(test::modelDifference(a.model, b.model)), QString());
  QCOMPARE(b.runs.size(), a.runs.size());
  for (size_t i = 0; i < a.runs.size(); ++i) {
    const Run &x = a.runs[i], &y = b.runs[i];
    QCOMPARE(y.id, x.id);
    QCOMPARE(y.name, x.name);
    QVERIFY(y.kind == x.kind);
    QCOMPARE(y.created, x.created);
    QVERIFY(y.config == x.config);
    QCOMPARE(y.settings, x.settings);
    QCOMPARE(y.history, x.history);
    QVERIFY(y.metrics == x.metrics);
    QVERIFY(y.layerErrors == x.layerErrors);
    QVERIFY(y.confusion == x.confusion);
    QVERIFY(y.modelImage == x.modelImage);
  }
}

std::vector<std::string> filesIn(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

class TestProject : public QObject {
  Q_OBJECT
  fs::path dir_;
  Project project_;                      // float + PTQ + QAT runs, all fields set
  std::optional<quant::QuantizedModel> qat_;  // the model in project_.runs[2]

 private slots:
  void initTestCase() {
    dir_ = fs::temp_directory_path() / ("qat_test_project_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    Model mlp = builtin("fashion-mlp");
    project_.modelSource = "builtin:fashion-mlp";
    project_.modelName = "fashion-mlp";
    project_.data.kind = "idx";
    project_.data.trainPath = "/data/train-images.idx,/data/train-labels.idx";
    project_.data.testPath = "/data/t10k-images.idx,/data/t10k-labels.idx";
    project_.data.options = {{"normalize", "scale01"}, {"validation_split", 0.1}};
    project_.uiState = {{"splitter", {320, 900}}, {"selected_run", 3}, {"names", {"ä", "日本"}}};
    auto fimg = kerasModelImage(mlp);
    QVERIFY2(fimg.ok(), fimg.ok() ? "" : fimg.error().message.c_str());
    auto ptq = quantizedOf(mlp, "w4a8", quant::BnMode::Tfmot, false);
    qat_.emplace(quantizedOf(mlp, "default8", quant::BnMode::Tfmot, true));
    project_.config = qat_->config;
    auto pimg = checkpointImage(ptq, mlp);
    auto qimg = checkpointImage(*qat_, mlp);
    QVERIFY(pimg.ok() && qimg.ok());
    project_.model = std::move(mlp);
    project_.addRun(sampleRun(RunKind::Float, "float baseline", std::move(fimg.value())));
    project_.addRun(sampleRun(RunKind::PostTraining, "", std::move(pimg.value())));
    Run q = sampleRun(RunKind::Qat, "QAT default8", std::move(qimg.value()));
    q.config = qat_->config;
    q.metrics.integerError = "Layer 'x' (PReLU): no int8 kernel";
    q.metrics.integerAccuracy = -1;
    project_.addRun(std::move(q));
  }

  void cleanupTestCase() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void runsAndIds() {
    QCOMPARE(runKindName(RunKind::PostTraining), std::string_view("ptq"));
    for (RunKind k : {RunKind::Float, RunKind::PostTraining, RunKind::Qat}) QVERIFY(runKindFromName(runKindName(k)) == k);
    QVERIFY(!runKindFromName("int8"));
    Project p;
    Run& a = p.addRun(Run{});
    QCOMPARE(a.id, 1);
    QCOMPARE(a.name, std::string("qat 1"));
    QCOMPARE(a.created.size(), size_t(20));  // 2026-11-22T10:00:00Z
    QCOMPARE(a.created.back(), 'Z');
    Run f;
    f.kind = RunKind::Float;
    f.name = "mine";
    QCOMPARE(p.addRun(f).id, 2);
    QVERIFY(p.removeRun(2));
    QVERIFY(!p.removeRun(2));
    QCOMPARE(p.addRun(Run{}).id, 3);  // never reused
    QVERIFY(p.findRun(1) && !p.findRun(2) && p.findRun(3));
    QCOMPARE(p.findRun(3)->name, std::string("qat 3"));
    QCOMPARE(project_.runs[1].name, std::string("ptq 2"));
  }

  void modelImagesReloadBitIdentically() {
    auto img = kerasModelImage(project_.model);
    QVERIFY(img.ok());
    QVERIFY(img->size() > 800000);  // 203,530 float32 weights
    auto back = kerasModelFromImage(img.value());
    QVERIFY2(back.ok(), back.ok() ? "" : back.error().message.c_str());
    QCOMPARE(QString::fromStdString(test::modelDifference(project_.model, back.value())), QString());

    // Checkpoints, tfmot and fold BN modes (fold keeps step counters and EMA state).
    Model cnn = builtin("fashion-cnn");
    for (auto mode : {quant::BnMode::Tfmot, quant::BnMode::Fold}) {
      auto q = quantizedOf(cnn, "default8", mode, mode == quant::BnMode::Fold);
      auto ck = checkpointImage(q, cnn);
      QVERIFY2(ck.ok(), ck.ok() ? "" : ck.error().message.c_str());
      auto c = checkpointFromImage(ck.value());
      QVERIFY2(c.ok(), c.ok() ? "" : c.error().message.c_str());
      QVERIFY(c->quantized.config == q.config);
      QCOMPARE(QString::fromStdString(outputsDiffer(q.model, c->quantized.model)), QString());
    }
    // The Keras image opens as a model too, and not as a checkpoint.
    auto notCk = checkpointFromImage(img.value());
    QVERIFY(!notCk.ok());
    QVERIFY(notCk.error().message.find("not a QAT checkpoint") != std::string::npos);
    std::vector<uint8_t> junk(100, 7);
    auto bad = kerasModelFromImage(junk);
    QVERIFY(!bad.ok());
    QVERIFY(bad.error().message.find("not an HDF5 file image") != std::string::npos);
  }

  void saveLoadKeepsEveryField() {
    const std::string path = (dir_ / "roundtrip.qatproj").string();
    QVERIFY(!isProjectFile(path));
    Status s = saveProject(project_, path);
    QVERIFY2(s.ok(), s.ok() ? "" : s.error().message.c_str());
    QVERIFY(isProjectFile(path));
    auto loaded = loadProject(path);
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().message.c_str());
    compareProjects(project_, loaded.value());
    // The loaded QAT run's checkpoint evaluates exactly like the model it was made from.
    auto c = checkpointFromImage(loaded->runs[2].modelImage);
    QVERIFY2(c.ok(), c.ok() ? "" : c.error().message.c_str());
    QCOMPARE(QString::fromStdString(outputsDiffer(qat_->model, c->quantized.model)), QString());
    // Saved again unchanged, loaded again: still equal (nothing drifts through a cycle).
    QVERIFY(saveProject(loaded.value(), path).ok());
    auto again = loadProject(path);
    QVERIFY(again.ok());
    compareProjects(project_, again.value());
    // A run that could not be measured keeps its -1 and its reason.
    QCOMPARE(again->runs[2].metrics.integerAccuracy, -1.0);
    QCOMPARE(again->runs[2].metrics.integerError, std::string("Layer 'x' (PReLU): no int8 kernel"));
  }

  void failedSaveLeavesOldFile() {
    const std::string path = (dir_ / "atomic.qatproj").string();
    Project small;
    small.modelSource = "builtin:fashion-mlp";
    small.modelName = "small";
    small.model = project_.model.clone();
    QVERIFY(saveProject(small, path).ok());
    const auto before = filesIn(dir_);
    // A write limit below the project's size stands in for a full disk.
    struct rlimit old {};
    QCOMPARE(getrlimit(RLIMIT_FSIZE, &old), 0);
    auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = old;
    lim.rlim_cur = 2u << 20;  // 2 MiB; the project holds ~4 MB of model images
    QCOMPARE(setrlimit(RLIMIT_FSIZE, &lim), 0);
    Status s = saveProject(project_, path);
    QCOMPARE(setrlimit(RLIMIT_FSIZE, &old), 0);
    std::signal(SIGXFSZ, oldHandler);
    QVERIFY(!s.ok());
    qInfo("%s", s.error().message.c_str());
    QVERIFY(s.error().message.find(path) != std::string::npos);
    QVERIFY(s.error().message.find("write failed") != std::string::npos);
    QCOMPARE(filesIn(dir_), before);  // no temporary file left behind
    auto still = loadProject(path);
    QVERIFY(still.ok());
    QCOMPARE(still->modelName, std::string("small"));
    QVERIFY(still->runs.empty());

    // A folder that does not exist; a folder that is not writable (root may write anyway).
    const std::string nowhere = (dir_ / "no_such_dir" / "p.qatproj").string();
    s = saveProject(small, nowhere);
    QVERIFY(!s.ok());
    QVERIFY(s.error().message.find(nowhere) != std::string::npos);
    if (::geteuid() != 0) {
      const fs::path ro = dir_ / "readonly";
      fs::create_directories(ro);
      fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
      const std::string p = (ro / "p.qatproj").string();
      s = saveProject(small, p);
      fs::permissions(ro, fs::perms::owner_all);
      QVERIFY(!s.ok());
      QVERIFY(s.error().message.find(p) != std::string::npos);
      QVERIFY(s.error().message.find("Permission denied") != std::string::npos);
    }
  }

  void loadErrorsSayWhatIsWrong() {
    auto expectError = [](const std::string& path, std::initializer_list<const char*> parts) {
      auto p = loadProject(path);
      QVERIFY2(!p.ok(), path.c_str());
      const std::string& m = p.error().message;
      qInfo("%s", m.c_str());
      QVERIFY2(m.find(path) != std::string::npos, m.c_str());
      for (const char* part : parts) QVERIFY2(m.find(part) != std::string::npos, m.c_str());
    };
    expectError((dir_ / "missing.qatproj").string(), {"file not found"});
    const std::string text = (dir_ / "text.qatproj").string();
    std::ofstream(text) << "hello, not a project\n";
    expectError(text, {"not a QAT Studio project", "not an HDF5 file"});
    const std::string keras = (dir_ / "model.h5").string();
    QVERIFY(saveKerasModel(project_.model, keras).ok());
    expectError(keras, {"not a QAT Studio project", "Keras model"});
    QVERIFY(!isProjectFile(keras) && !isProjectFile(text));

    const std::string good = (dir_ / "edit.qatproj").string();
    auto edit = [&](const std::string& group, const char* attr, const std::string& value) {
      QVERIFY(saveProject(project_, good).ok());
      auto f = h5::File::openReadWrite(good);
      QVERIFY(f.ok());
      {
        auto root = f->root();
        QVERIFY(root.ok());
        auto g = group.empty() ? std::move(root.value()) : root->group(group).value();
        QVERIFY(g.writeStringAttr(attr, value).ok());
      }
      QVERIFY(f->close().ok());
    };
    edit("", "qat_project_version", "2");
    expectError(good, {"written by a newer QAT Studio", "version 2"});
    edit("", "qat_project_version", "one");
    expectError(good, {"damaged"});
    edit("runs/2", "run", "{not json");
    expectError(good, {"run 2 is damaged"});
    auto runJson = nlohmann::json::parse(R"({"id": 3, "name": "QAT default8", "kind": "qat"})");
    edit("runs/3", "run", runJson.dump());
    expectError(good, {"run 3 ('QAT default8') is damaged", "created"});

    // Truncated in the middle: an error naming the file, never a crash.
    QVERIFY(saveProject(project_, good).ok());
    fs::resize_file(good, fs::file_size(good) / 2);
    expectError(good, {});
  }
};

QTEST_APPLESS_MAIN(TestProject)
#include "test_project.moc"
