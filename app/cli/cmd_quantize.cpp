// qat-cli quantize: post-training quantization and QAT fine-tuning of a float model.
// qat-cli config-template: the editable per-layer quantize config of a model.
#include <algorithm>
#include <filesystem>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "model_source.h"
#include "reporter.h"
#include "engine/core/threading.h"
#include "engine/deploy/freeze.h"
#include "engine/deploy/verify.h"
#include "engine/project/evaluation.h"
#include "engine/project/pipeline.h"
#include "engine/project/project.h"
#include "engine/quant/checkpoint.h"
#include "engine/quant/scheme.h"

namespace qat::cli {
namespace {

std::vector<OptionSpec> schemeOptions() {
  return {
      {"config", "FILE", "per-layer quantize config (JSON, see config-template); overrides the scheme", ""},
      {"scheme", "NAME", "default8 (tfmot's W8A8) or w<bits>a<bits>, e.g. w4a8, w8a16", "default8"},
      {"bn-mode", "MODE", "BatchNorm after Conv/Dense: tfmot (fold at export) or fold (fold during QAT)", "tfmot"},
      {"freeze-bn-step", "N", "fold mode: training steps after which BN statistics freeze (-1 never)", "-1"},
      {"layers", "LIST", "quantize only these layers: names, classes (Conv2D), re:<regex> or globs, comma-separated",
       ""},
      {"skip-unsupported", "", "leave layers the scheme cannot quantize in float instead of failing", ""},
  };
}

// The quantize config the options ask for: --config, else the scheme over --layers.
Expected<quant::QuantizeConfig> configFromArgs(const Args& a, const Model& model, Reporter& rep) {
  if (a.has("config")) return quant::readQuantizeConfig(a.get("config"));
  auto scheme = quant::schemeFromName(a.get("scheme"));
  if (!scheme.ok()) return scheme.error();
  const auto mode = quant::bnModeFromName(a.get("bn-mode"));
  if (!mode) return makeError("--bn-mode must be tfmot or fold, not '" + a.get("bn-mode") + "'");
  scheme->bnMode = *mode;
  std::string err;
  scheme->freezeBnStep = a.getInt("freeze-bn-step", err);
  if (!err.empty()) return makeError(err);
  auto r = quant::makeSchemeConfig(model, *scheme, quant::parseLayerSelection(a.get("layers")),
                                   a.has("skip-unsupported"));
  if (!r.ok()) return r.error();
  for (const auto& w : r->warnings) rep.event("warning", {{"message", w}}, "warning: " + w);
  return std::move(r->config);
}

// ---- --project: the run goes into a QAT Studio project file

// How a project records --model: "builtin:NAME" as given, a file as its absolute path.
std::string modelSourceOf(const std::string& spec) {
  if (spec.rfind("builtin:", 0) == 0) return spec;
  std::error_code ec;
  const auto abs = std::filesystem::absolute(spec, ec);
  return ec ? spec : abs.lexically_normal().string();
}

bool sameModelSource(const std::string& a, const std::string& b) {
  if (a == b) return true;
  if (a.rfind("builtin:", 0) == 0 || b.rfind("builtin:", 0) == 0) return false;
  std::error_code ea, eb;
  const auto ca = std::filesystem::weakly_canonical(a, ea), cb = std::filesystem::weakly_canonical(b, eb);
  return !ea && !eb && ca == cb;
}

// "a.idx,b.idx" with each part made absolute, so the project opens from any folder.
std::string absolutePaths(const std::string& list) {
  std::string out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    if (!out.empty()) out += ',';
    out += modelSourceOf(list.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The project's record of --data / --test-data (data_source.h forms).
project::DataRef dataRefOf(const Args& a) {
  project::DataRef ref;
  auto split = [](const std::string& spec, std::string& kind, std::string& rest) {
    const auto colon = spec.find(':');
    kind = "";
    rest = spec;
    if (colon != std::string::npos && colon > 1) {
      kind = spec.substr(0, colon);
      rest = spec.substr(colon + 1);
    } else if (spec.ends_with(".npz")) {
      kind = "npz";
    } else if (spec.ends_with(".h5") || spec.ends_with(".hdf5")) {
      kind = "h5";
    } else if (spec.ends_with(".csv")) {
      kind = "csv";
    } else {
      kind = "images";
    }
    if (kind == "h5") kind = "hdf5";
    if (kind == "images") kind = "image-folder";
  };
  const std::string spec = a.get("data");
  if (spec == "fashion-mnist") {
    ref.kind = "fashion-mnist";
  } else {
    std::string rest;
    split(spec, ref.kind, rest);
    ref.trainPath = absolutePaths(rest);
  }
  if (a.has("test-data")) {
    std::string kind, rest;
    split(a.get("test-data"), kind, rest);
    ref.testPath = absolutePaths(rest);
  }
  ref.options["normalize"] = a.get("normalize");
  for (const char* o : {"x-name", "y-name", "label-column"}) {
    std::string key = o;
    std::replace(key.begin(), key.end(), '-', '_');
    if (a.has(o)) ref.options[key] = a.get(o);
  }
  return ref;
}

// The project to add the run to: loaded (its model must come from --model), or a new one.
Expected<project::Project> openProjectArg(const std::string& path, const std::string& modelSpec,
                                          const Model& floatModel, const Args& a, bool& created) {
  created = false;
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    auto p = project::loadProject(path);
    if (!p.ok()) return p.error();
    if (!sameModelSource(p->modelSource, modelSourceOf(modelSpec)))
      return makeError("The project " + path + " was made from the model '" + p->modelSource + "', not '" +
                       modelSourceOf(modelSpec) + "' (--model). Give --model " + p->modelSource +
                       " or another --project file.");
    return p;
  }
  project::Project p;
  p.modelSource = modelSourceOf(modelSpec);
  p.modelName = floatModel.name;
  p.model = floatModel.clone();
  p.data = dataRefOf(a);
  created = true;
  return p;
}

nlohmann::json runSettings(const Args& a, const TrainConfig& cfg, const quant::QuantizeConfig& qc) {
  return {{"model", a.get("model")},
          {"epochs", cfg.epochs},
          {"batch_size", cfg.batchSize},
          {"learning_rate", cfg.optimizer.learningRate},
          {"optimizer", optimizerName(cfg.optimizer.kind)},
          {"schedule", a.get("schedule")},
          {"loss", lossName(cfg.loss.kind)},
          {"from_logits", cfg.loss.fromLogits},
          {"seed", cfg.seed},
          {"scheme", qc.scheme},
          {"bn_mode", quant::bnModeName(qc.bnMode)},
          {"freeze_bn_step", qc.freezeBnStep},
          {"calib_batches", a.get("calib-batches")},
          {"max_samples", a.get("max-samples")},
          {"config_file", a.get("config")}};
}

EvalResult evalResultOf(const project::RunMetrics& m, double accuracy) {
  EvalResult r;
  r.accuracy = accuracy;
  r.loss = m.loss;
  r.samples = m.samples;
  return r;
}

std::string accuracyLine(const char* what, const EvalResult& r) {
  char line[160];
  std::snprintf(line, sizeof line, "%-22s accuracy %.4f  (loss %.4f, %zu samples)", what, r.accuracy, r.loss,
                r.samples);
  return line;
}

}  // namespace

int runQuantize(int argc, char** argv, int first) {
  std::vector<OptionSpec> options = trainingOptions();
  for (OptionSpec& o : options) {
    if (o.name == "lr") o.defaultValue = "0.0001";  // fine-tuning from trained weights
    if (o.name == "model") o.help += ", or a QAT checkpoint to continue";
  }
  for (auto& o : schemeOptions()) options.push_back(o);
  options.push_back({"calib-batches", "N", "batches of training data for post-training calibration (0: none)", "32"});
  options.push_back({"out", "FILE", "save the QAT checkpoint (.h5; opens in Keras as the float model)", ""});
  options.push_back({"config-out", "FILE", "save the quantize config used (JSON)", ""});
  options.push_back({"project", "FILE",
                     "add this run (config, history, metrics, checkpoint) to a QAT Studio project; a missing "
                     "file is created with the model and a float baseline run",
                     ""});
  options.push_back({"run-name", "NAME", "the run's name in the --project (default: '<ptq|qat> <id>')", ""});
  Args a("quantize",
         "Quantizes a float model: post-training calibration over --calib-batches batches, then\n"
         "--epochs of quantization-aware training (0: post-training quantization only).\n"
         "Reports float, post-training and QAT (fake-quant) test accuracy.",
         options);
  if (auto e = a.parse(argc, argv, first)) {
    std::cerr << "qat-cli quantize: " << *e << "\n";
    return kExitUsage;
  }
  if (a.has("help")) {
    std::cout << a.help();
    return kExitOk;
  }
  Reporter rep(a.has("json"));
  std::string err;
  const int threads = static_cast<int>(a.getInt("threads", err));
  const long maxSamples = a.getInt("max-samples", err);
  const long calibBatches = a.getInt("calib-batches", err);
  if (!err.empty() || calibBatches < 0) {
    std::cerr << "qat-cli quantize: " << (err.empty() ? "--calib-batches must be >= 0" : err) << "\n";
    return kExitUsage;
  }
  setThreadCount(threads);

  // The model: a float model to quantize, or a checkpoint to continue.
  Model floatModel;
  std::optional<quant::QuantizedModel> quantized;
  std::optional<TrainingConfigInfo> fileTraining;
  const std::string modelSpec = a.get("model");
  if (modelSpec.rfind("builtin:", 0) != 0 && quant::isCheckpoint(modelSpec)) {
    auto ck = quant::loadCheckpoint(modelSpec);
    if (!ck.ok()) return rep.fail(ck.error().message);
    floatModel = std::move(ck->floatModel);
    quantized.emplace(std::move(ck->quantized));
    fileTraining = ck->training;
  } else {
    std::vector<std::string> warnings;
    auto m = loadModelArg(modelSpec, a.get("seed"), a.get("architecture"), &warnings, &fileTraining);
    if (!m.ok()) return rep.fail(m.error().message);
    floatModel = std::move(m.value());
    for (const auto& w : warnings) rep.event("warning", {{"message", w}}, "warning: " + w);
  }
  TrainConfig cfg;
  if (auto e = readTrainConfig(a, floatModel, fileTraining, cfg)) {
    std::cerr << "qat-cli quantize: " << *e << "\n";
    return kExitUsage;
  }
  auto data = loadDataArgs(a, floatModel);
  if (!data.ok()) return rep.fail(data.error().message);
  if (maxSamples > 0 && static_cast<size_t>(maxSamples) < data->train.size())
    data->train = subset(data->train, static_cast<size_t>(maxSamples));
  // Samples for the ranges the int8 graph needs but QAT leaves unquantized (freeze.h).
  const Tensor rangeSamples = subset(data->train, 256).x;

  // --project: opened (or started) before any work, so a wrong project fails at once.
  std::optional<project::Project> proj;
  bool projectCreated = false;
  const std::string projectPath = a.get("project");
  if (a.has("project")) {
    auto p = openProjectArg(projectPath, modelSpec, floatModel, a, projectCreated);
    if (!p.ok()) return rep.fail(p.error().message);
    proj.emplace(std::move(p.value()));
  }

  nlohmann::json summary{{"model", floatModel.name}};
  // Evaluates `trainer`'s model on the test split (if any) and reports it under `key`.
  auto evaluateTest = [&](Trainer& trainer, const char* key, const char* label) -> Status {
    if (!data->test) return {};
    auto r = trainer.evaluate(*data->test);
    if (!r.ok()) return r.error();
    summary[key] = toJson(*r);
    if (!rep.json()) std::cout << accuracyLine(label, *r) << std::endl;
    return {};
  };

  if (!quantized) {
    // The config first: a bad one fails before the float evaluation is spent.
    auto qc = configFromArgs(a, floatModel, rep);
    if (!qc.ok()) return rep.fail(qc.error().message);
    auto q = quant::quantizeModel(floatModel, qc.value());
    if (!q.ok()) return rep.fail(q.error().message);
    if (!projectCreated) {
      Trainer floatEval(floatModel, cfg);
      if (Status s = evaluateTest(floatEval, "float", "float"); !s.ok()) return rep.fail(s.error().message);
    }
    quantized.emplace(std::move(q.value()));
  }
  if (projectCreated) {
    // A new project starts with the float model as its baseline run.
    project::Run base;
    base.kind = project::RunKind::Float;
    base.name = "float baseline";
    base.settings = {{"model", modelSpec}, {"loss", lossName(cfg.loss.kind)}, {"from_logits", cfg.loss.fromLogits}};
    if (data->test) {
      auto ev = project::evaluateFloat(floatModel, cfg.loss, *data->test);
      if (!ev.ok()) return rep.fail(ev.error().message);
      base.metrics = ev->metrics;
      base.confusion = std::move(ev->confusion);
      const EvalResult r = evalResultOf(base.metrics, base.metrics.floatAccuracy);
      summary["float"] = toJson(r);
      if (!rep.json()) std::cout << accuracyLine("float", r) << std::endl;
    }
    auto image = project::kerasModelImage(floatModel);
    if (!image.ok()) return rep.fail(image.error().message);
    base.modelImage = std::move(image.value());
    proj->config = quantized->config;
    proj->addRun(std::move(base));
  }
  for (const auto& w : quantized->warnings) rep.event("warning", {{"message", w}}, "warning: " + w);
  const quant::QuantSummary qs = quant::summarize(*quantized, floatModel);
  rep.event("quantized",
            {{"quantized_layers", qs.quantizedLayers},
             {"float_layers", qs.floatLayers},
             {"fake_quant_nodes", qs.fakeQuantNodes},
             {"weight_bytes", qs.weightBits / 8},
             {"float_weight_bytes", qs.floatBits / 8}},
            "quantized " + std::to_string(qs.quantizedLayers) + " layers (" + std::to_string(qs.floatLayers) +
                " left float); weights " + std::to_string(qs.weightBits / 8) + " bytes vs " +
                std::to_string(qs.floatBits / 8) + " in float");

  Trainer trainer(quantized->model, cfg);
  std::optional<TrainSummary> trained;
  if (calibBatches > 0) {
    auto seen = trainer.calibrate(data->train, static_cast<int>(calibBatches));
    if (!seen.ok()) return rep.fail(seen.error().message);
    summary["calibration_samples"] = seen.value();
    if (Status s = evaluateTest(trainer, "post_training", "post-training (PTQ)"); !s.ok())
      return rep.fail(s.error().message);
  }
  if (cfg.epochs > 0) {
    rep.event("start",
              {{"model", floatModel.name}, {"train_samples", data->train.size()}, {"threads", threadCount()}},
              "quantization-aware training on " + std::to_string(data->train.size()) + " samples, " +
                  std::to_string(threadCount()) + " threads");
    auto fit = trainer.fit(data->train, nullptr, &rep);
    if (!fit.ok()) return rep.fail(fit.error().message);
    trained = fit.value();
    summary["steps"] = fit->steps;
    summary["samples_per_sec"] = fit->samplesPerSec;
    summary["train_seconds"] = fit->seconds;
    summary["epochs"] = nlohmann::json::array();
    for (const auto& e : fit->epochs) summary["epochs"].push_back(toJson(e));
    if (Status s = evaluateTest(trainer, "qat", "QAT (fake-quant)"); !s.ok()) return rep.fail(s.error().message);
  }
  // "fake_quant": the accuracy of the model as it is saved (QAT, else PTQ, else as loaded).
  if (summary.contains("qat")) summary["fake_quant"] = summary["qat"];
  else if (summary.contains("post_training")) summary["fake_quant"] = summary["post_training"];
  else if (Status s = evaluateTest(trainer, "fake_quant", "fake-quant"); !s.ok()) return rep.fail(s.error().message);
  // "integer": the same model frozen to the int8 graph the export writes, run by the
  // integer interpreter (TFLite's arithmetic). A model the export cannot express is
  // reported, not an error: the checkpoint is still useful.
  // With --project the same numbers come from project::evaluateQuantized, which the
  // studio shows too (it also measures the float twin, confusion and layer errors).
  std::optional<project::Evaluation> evaluation;
  if (proj && data->test) {
    Model trainedFloat = floatModel.clone();
    if (Status s = quant::copyFloatWeights(*quantized, trainedFloat); !s.ok()) return rep.fail(s.error().message);
    project::EvaluationOptions eo;
    eo.rangeSamples = &rangeSamples;
    auto ev = project::evaluateQuantized(*quantized, trainedFloat, cfg.loss, *data->test, eo);
    if (!ev.ok()) return rep.fail(ev.error().message);
    evaluation.emplace(std::move(ev.value()));
    const project::RunMetrics& m = evaluation->metrics;
    if (m.integerAccuracy < 0) {
      rep.event("warning", {{"message", m.integerError}}, "warning: no integer evaluation: " + m.integerError);
    } else {
      summary["integer"] = {{"accuracy", m.integerAccuracy}, {"samples", m.samples}};
      char line[96];
      std::snprintf(line, sizeof line, "%-22s accuracy %.4f", "integer (int8 graph)", m.integerAccuracy);
      if (!rep.json()) std::cout << line << std::endl;
    }
  } else if (data->test) {
    deploy::FreezeOptions fo;
    fo.rangeSamples = &rangeSamples;
    auto graph = deploy::freezeQuantized(*quantized, fo);
    if (!graph.ok()) {
      rep.event("warning", {{"message", graph.error().message}},
                "warning: no integer evaluation: " + graph.error().message);
    } else {
      auto acc = deploy::graphAccuracy(*graph, *data->test);
      if (!acc.ok()) return rep.fail(acc.error().message);
      summary["integer"] = {{"accuracy", *acc}, {"samples", data->test->size()}};
      char line[96];
      std::snprintf(line, sizeof line, "%-22s accuracy %.4f", "integer (int8 graph)", *acc);
      if (!rep.json()) std::cout << line << std::endl;
    }
  }
  if (a.has("out")) {
    if (Status s = quant::saveCheckpoint(*quantized, floatModel, a.get("out")); !s.ok())
      return rep.fail(s.error().message);
    summary["outputs"]["checkpoint"] = a.get("out");
    if (!rep.json()) std::cout << "saved " << a.get("out") << std::endl;
  }
  if (a.has("config-out")) {
    if (Status s = quant::writeQuantizeConfig(quantized->config, a.get("config-out")); !s.ok())
      return rep.fail(s.error().message);
    summary["outputs"]["config"] = a.get("config-out");
  }
  if (proj) {
    project::Run run;
    run.kind = cfg.epochs > 0 ? project::RunKind::Qat : project::RunKind::PostTraining;
    run.name = a.get("run-name");
    run.config = quantized->config;
    run.settings = runSettings(a, cfg, quantized->config);
    if (trained) run.history = project::historyOf(*trained);
    if (evaluation) {
      run.metrics = evaluation->metrics;
      run.confusion = std::move(evaluation->confusion);
      run.layerErrors = std::move(evaluation->layerErrors);
    }
    auto image = project::checkpointImage(*quantized, floatModel);
    if (!image.ok()) return rep.fail(image.error().message);
    run.modelImage = std::move(image.value());
    const project::Run& added = proj->addRun(std::move(run));
    const int runId = added.id;
    const std::string runName = added.name;
    if (Status s = project::saveProject(*proj, projectPath); !s.ok()) return rep.fail(s.error().message);
    summary["project"] = {{"path", projectPath},
                          {"created", projectCreated},
                          {"run_id", runId},
                          {"run_name", runName},
                          {"runs", proj->runs.size()}};
    if (!rep.json())
      std::cout << (projectCreated ? "created " : "updated ") << projectPath << ": run " << runId << " '" << runName
                << "' added (" << proj->runs.size() << " runs)" << std::endl;
  }
  rep.summary(summary);
  return kExitOk;
}

int runConfigTemplate(int argc, char** argv, int first) {
  std::vector<OptionSpec> options = schemeOptions();
  options.erase(options.begin());  // --config: this command writes one
  options.push_back(architectureOption());
  options.push_back({"out", "FILE", "write the config here instead of standard output", ""});
  Args a("config-template",
         "Writes the per-layer quantize config a scheme gives MODEL, as JSON to edit and pass to\n"
         "'qat-cli quantize --config'. usage: qat-cli config-template MODEL [options]",
         options);
  if (auto e = a.parse(argc, argv, first)) {
    std::cerr << "qat-cli config-template: " << *e << "\n";
    return kExitUsage;
  }
  if (a.has("help")) {
    std::cout << a.help();
    return kExitOk;
  }
  if (a.positional().size() != 1) {
    std::cerr << "qat-cli config-template: give exactly one model (a .h5 file or builtin:NAME)\n";
    return kExitUsage;
  }
  Reporter rep(false);
  auto model = loadModelArg(a.positional()[0], "42", a.get("architecture"));
  if (!model.ok()) return rep.fail(model.error().message);
  auto qc = configFromArgs(a, *model, rep);
  if (!qc.ok()) return rep.fail(qc.error().message);
  if (a.has("out")) {
    if (Status s = quant::writeQuantizeConfig(qc.value(), a.get("out")); !s.ok()) return rep.fail(s.error().message);
    return kExitOk;
  }
  std::cout << quant::toJson(qc.value()).dump(2) << std::endl;
  return kExitOk;
}

}  // namespace qat::cli
