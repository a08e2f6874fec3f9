// qat-cli train: float training of a built-in or Keras model on a data set.
#include <iostream>

#include "args.h"
#include "commands.h"
#include "model_source.h"
#include "reporter.h"
#include "engine/core/threading.h"
#include "engine/data/data_source.h"
#include "engine/train/defaults.h"
#include "engine/train/trainer.h"

namespace qat::cli {

std::vector<OptionSpec> trainingOptions() {
  return {
      {"model", "MODEL", "builtin:NAME (" + builtinNamesList() + ") or a Keras .h5 file", "builtin:fashion-cnn"},
      architectureOption(),
      {"data", "DATA", dataSpecHelp(), "fashion-mnist"},
      {"test-data", "DATA", "held-out test set (default: the data set's own test split, if any)", ""},
      {"x-name", "NAME", "array / data set holding the inputs (npz, h5)", ""},
      {"y-name", "NAME", "array / data set holding the labels (npz, h5)", ""},
      {"label-column", "COL", "label column of a CSV file (name or 0-based index)", ""},
      {"normalize", "MODE", "input normalisation: scale01 | none | meanstd", "scale01"},
      {"epochs", "N", "training epochs", "1"},
      {"batch-size", "N", "samples per step", "64"},
      {"lr", "RATE", "learning rate", "0.001"},
      {"optimizer", "NAME", "sgd | adam | adamw", "adam"},
      {"momentum", "M", "SGD momentum", "0"},
      {"nesterov", "", "Nesterov momentum for SGD", ""},
      {"weight-decay", "W", "L2 (sgd, adam) or decoupled (adamw) weight decay", "0"},
      {"schedule", "NAME", "learning-rate schedule: constant | step | cosine", "constant"},
      {"warmup-steps", "N", "cosine schedule: linear warm-up steps", "0"},
      {"step-size", "N", "step schedule: steps between decays", "1000"},
      {"gamma", "G", "step schedule: decay factor", "0.1"},
      {"seed", "N", "random seed (initialisation, shuffling, dropout)", "42"},
      {"validation-split", "F", "fraction of the training data held out for validation (0 = none)", "0"},
      {"max-samples", "N", "train on the first N samples only (0 = all)", "0"},
      {"threads", "N", "worker threads (0 = all cores)", "0"},
      {"json", "", "print one JSON object per event and a final summary", ""},
  };
}

// Fills a TrainConfig from the shared training options; returns a usage error message.
// A Keras file's training_config (loss, optimizer, learning rate) is the default where the
// user gave no option; options always win.
std::optional<std::string> readTrainConfig(const Args& a, const Model& model,
                                           const std::optional<TrainingConfigInfo>& fromFile,
                                           TrainConfig& cfg) {
  std::string err;
  cfg.epochs = static_cast<int>(a.getInt("epochs", err));
  cfg.batchSize = static_cast<int>(a.getInt("batch-size", err));
  cfg.seed = static_cast<uint64_t>(a.getInt("seed", err));
  cfg.validationSplit = static_cast<float>(a.getDouble("validation-split", err));
  cfg.optimizer.learningRate = static_cast<float>(a.getDouble("lr", err));
  cfg.optimizer.momentum = static_cast<float>(a.getDouble("momentum", err));
  cfg.optimizer.nesterov = a.has("nesterov");
  cfg.optimizer.weightDecay = static_cast<float>(a.getDouble("weight-decay", err));
  cfg.schedule.warmupSteps = static_cast<int>(a.getInt("warmup-steps", err));
  cfg.schedule.stepSize = static_cast<int>(a.getInt("step-size", err));
  cfg.schedule.gamma = static_cast<float>(a.getDouble("gamma", err));
  if (!err.empty()) return err;
  if (cfg.epochs < 0) return std::string("--epochs must be >= 0");
  if (cfg.batchSize <= 0) return std::string("--batch-size must be positive");
  if (cfg.validationSplit < 0 || cfg.validationSplit >= 1) return std::string("--validation-split must be in [0, 1)");
  if (!(cfg.optimizer.learningRate > 0)) return std::string("--lr must be positive");
  auto opt = optimizerFromName(a.get("optimizer"));
  if (!opt) return "unknown optimizer '" + a.get("optimizer") + "' (use sgd, adam or adamw)";
  cfg.optimizer.kind = *opt;
  cfg.loss = defaultLossFor(model);
  if (fromFile) {
    if (auto k = lossFromName(fromFile->loss)) cfg.loss = {*k, fromFile->fromLogits};
    auto fileOpt = optimizerFromName(fromFile->optimizer);
    if (!a.has("optimizer") && fileOpt) cfg.optimizer.kind = *fileOpt;
    if (!a.has("lr") && fromFile->learningRate && *fromFile->learningRate > 0)
      cfg.optimizer.learningRate = static_cast<float>(*fromFile->learningRate);
  }
  auto sched = scheduleFromName(a.get("schedule"));
  if (!sched) return "unknown schedule '" + a.get("schedule") + "' (use constant, step or cosine)";
  cfg.schedule.kind = *sched;
  return std::nullopt;
}

int runTrain(int argc, char** argv, int first) {
  Args a("train",
         "Trains a model in float on a data set, prints a progress line per epoch and the final\n"
         "test accuracy, and optionally saves the trained model.",
         [] {
           auto o = trainingOptions();
           o.push_back({"out", "FILE", "save the trained model to this .h5 file", ""});
           return o;
         }());
  if (auto e = a.parse(argc, argv, first)) {
    std::cerr << "qat-cli train: " << *e << "\n";
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
  if (!err.empty()) {
    std::cerr << "qat-cli train: " << err << "\n";
    return kExitUsage;
  }
  setThreadCount(threads);

  std::vector<std::string> warnings;
  std::optional<TrainingConfigInfo> fileTraining;
  auto model = loadModelArg(a.get("model"), a.get("seed"), a.get("architecture"), &warnings, &fileTraining);
  if (!model.ok()) return rep.fail(model.error().message);
  for (const auto& w : warnings) rep.event("warning", {{"message", w}}, "warning: " + w);
  TrainConfig cfg;
  if (auto e = readTrainConfig(a, *model, fileTraining, cfg)) {
    std::cerr << "qat-cli train: " << *e << "\n";
    return kExitUsage;
  }
  auto data = loadDataArgs(a, *model);
  if (!data.ok()) return rep.fail(data.error().message);
  if (maxSamples > 0 && static_cast<size_t>(maxSamples) < data->train.size())
    data->train = subset(data->train, static_cast<size_t>(maxSamples));

  rep.event("start",
            {{"model", model->name}, {"params", model->paramCount()}, {"train_samples", data->train.size()},
             {"test_samples", data->test ? data->test->size() : 0}, {"threads", threadCount()}},
            "training " + model->name + " (" + std::to_string(model->paramCount()) + " params) on " +
                std::to_string(data->train.size()) + " samples, " + std::to_string(threadCount()) +
                " threads");
  Trainer trainer(*model, cfg);
  auto result = trainer.fit(data->train, nullptr, &rep);
  if (!result.ok()) return rep.fail(result.error().message);

  nlohmann::json summary{{"model", model->name},
                         {"steps", result->steps},
                         {"train_seconds", result->seconds},
                         {"samples_per_sec", result->samplesPerSec},
                         {"epochs", nlohmann::json::array()}};
  for (const auto& e : result->epochs) summary["epochs"].push_back(toJson(e));
  if (data->test) {
    auto test = trainer.evaluate(*data->test);
    if (!test.ok()) return rep.fail(test.error().message);
    summary["test"] = toJson(*test);
    char line[160];
    std::snprintf(line, sizeof line, "test accuracy %.4f  (loss %.4f, %zu samples)", test->accuracy,
                  test->loss, test->samples);
    if (!rep.json()) std::cout << line << std::endl;
  }
  if (a.has("out")) {
    auto saved = saveModelArg(*model, a.get("out"));
    if (!saved.ok()) return rep.fail(saved.error().message);
    summary["outputs"] = {{"model", a.get("out")}};
    if (!rep.json()) std::cout << "saved " << a.get("out") << std::endl;
  }
  rep.summary(summary);
  return kExitOk;
}

}  // namespace qat::cli
