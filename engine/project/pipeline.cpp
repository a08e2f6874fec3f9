#include "engine/project/pipeline.h"

#include <utility>

#include "engine/quant/quantize_model.h"

namespace qat::project {
namespace {


void storeEvaluation(Run& run, Evaluation&& e) {
  run.metrics = std::move(e.metrics);
  run.confusion = std::move(e.confusion);
  run.layerErrors = std::move(e.layerErrors);
}

}  // namespace

nlohmann::json historyOf(const TrainSummary& s) {
  nlohmann::json h = nlohmann::json::array();
  for (const EpochEvent& e : s.epochs) {
    nlohmann::json row{{"epoch", e.epoch + 1}, {"loss", e.loss}, {"accuracy", e.accuracy},
                       {"samples_per_sec", e.samplesPerSec}, {"seconds", e.seconds}};
    if (e.validation) {
      row["val_loss"] = e.validation->loss;
      row["val_accuracy"] = e.validation->accuracy;
    }
    h.push_back(std::move(row));
  }
  return h;
}

Expected<RunResult> executeRun(const Model& floatModel, const RunRequest& request, const Dataset& train,
                               const Dataset* test, TrainObserver* observer, const std::atomic<bool>* cancel) {
  RunResult result;
  Run& run = result.run;
  run.name = request.name;
  run.kind = request.kind;
  run.created = nowIso8601();
  run.settings = request.settings;

  if (request.kind == RunKind::Float) {
    // Float training on a copy: the caller decides whether it becomes the new baseline.
    Model model = floatModel.clone();
    if (request.train.epochs > 0) {
      Trainer trainer(model, request.train);
      auto fit = trainer.fit(train, test, observer, cancel);
      if (!fit.ok()) return fit.error();
      result.training = std::move(fit.value());
      result.cancelled = result.training.cancelled;
    }
    run.history = historyOf(result.training);
    if (test) {
      auto e = evaluateFloat(model, request.train.loss, *test, request.evaluation);
      if (!e.ok()) return e.error();
      storeEvaluation(run, std::move(e.value()));
    }
    auto image = kerasModelImage(model);
    if (!image.ok()) return image.error();
    run.modelImage = std::move(image.value());
    result.trainedFloat.emplace(std::move(model));
    return result;
  }

  // PTQ / QAT: tfmot's quantize_apply on the float weights, calibration, then training.
  run.config = request.config;
  auto quantized = quant::quantizeModel(floatModel, request.config);
  if (!quantized.ok()) return quantized.error();
  quant::QuantizedModel& q = quantized.value();
  {
    Trainer trainer(q.model, request.train);
    if (request.calibrationBatches > 0) {
      auto seen = trainer.calibrate(train, request.calibrationBatches);
      if (!seen.ok()) return seen.error();
    }
    if (request.kind == RunKind::Qat && request.train.epochs > 0) {
      auto fit = trainer.fit(train, test, observer, cancel);
      if (!fit.ok()) return fit.error();
      result.training = std::move(fit.value());
      result.cancelled = result.training.cancelled;
    }
  }
  run.history = historyOf(result.training);
  // The float architecture with the run's trained weights: the reference for the
  // per-layer errors (same weights, quantizers off) and the checkpoint's float model.
  Model trainedFloat = floatModel.clone();
  if (Status s = quant::copyFloatWeights(q, trainedFloat); !s.ok()) return s.error();
  if (test) {
    EvaluationOptions options = request.evaluation;
    const Tensor rangeSamples = subset(train, 256).x;
    if (!options.rangeSamples) options.rangeSamples = &rangeSamples;
    auto e = evaluateQuantized(q, trainedFloat, request.train.loss, *test, options);
    if (!e.ok()) return e.error();
    storeEvaluation(run, std::move(e.value()));
  }
  auto image = checkpointImage(q, floatModel);
  if (!image.ok()) return image.error();
  run.modelImage = std::move(image.value());
  return result;
}

Status reevaluateRun(Run& run, const LossSpec& loss, const Dataset& test, const EvaluationOptions& options) {
  if (run.kind == RunKind::Float) {
    auto model = kerasModelFromImage(run.modelImage);
    if (!model.ok()) return model.error();
    auto e = evaluateFloat(model.value(), loss, test, options);
    if (!e.ok()) return e.error();
    storeEvaluation(run, std::move(e.value()));
    return {};
  }
  auto ck = checkpointFromImage(run.modelImage);
  if (!ck.ok()) return ck.error();
  auto e = evaluateQuantized(ck->quantized, ck->floatModel, loss, test, options);
  if (!e.ok()) return e.error();
  storeEvaluation(run, std::move(e.value()));
  return {};
}

}  // namespace qat::project
