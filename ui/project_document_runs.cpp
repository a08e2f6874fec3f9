// ProjectDocument, second half: data, runs on the worker, the project file.
#include <QFileInfo>
#include <QUndoStack>

#include <algorithm>
#include <cmath>

#include "engine/project/pipeline.h"
#include "engine/train/defaults.h"
#include "ui/data_panel.h"
#include "ui/project_document.h"

namespace qat::ui {
namespace {

QString fromStd(const std::string& s) { return QString::fromStdString(s); }

QString kindLabel(project::RunKind k) {
  switch (k) {
    case project::RunKind::Float: return QStringLiteral("Float");
    case project::RunKind::PostTraining: return QStringLiteral("PTQ");
    case project::RunKind::Qat: return QStringLiteral("QAT");
  }
  return {};
}

// The settings a run stores (Run::settings), in the CLI's vocabulary.
nlohmann::json settingsJson(const TrainingSettings& s, const quant::QuantizeConfig& c, project::RunKind kind) {
  nlohmann::json j{{"epochs", s.epochs},
                   {"batch_size", s.batchSize},
                   {"learning_rate", s.learningRate},
                   {"optimizer", std::string(optimizerName(s.optimizer))},
                   {"seed", s.seed},
                   {"max_train_samples", s.maxTrainSamples}};
  if (kind != project::RunKind::Float) {
    j["scheme"] = c.scheme;
    j["bn_mode"] = std::string(quant::bnModeName(c.bnMode));
    j["calibration_batches"] = s.calibrationBatches;
  }
  return j;
}

// Settings and loss travel in the project's UI state (they are the document's, not the
// engine project's).
nlohmann::json documentState(const TrainingSettings& s, const LossSpec& loss) {
  return {{"kind", std::string(project::runKindName(s.kind))},
          {"epochs", s.epochs},
          {"batch_size", s.batchSize},
          {"learning_rate", s.learningRate},
          {"optimizer", std::string(optimizerName(s.optimizer))},
          {"schedule", int(s.schedule)},
          {"seed", s.seed},
          {"max_train_samples", s.maxTrainSamples},
          {"calibration_batches", s.calibrationBatches},
          {"evaluation_samples", s.evaluationSamples},
          {"loss", std::string(lossName(loss.kind))},
          {"from_logits", loss.fromLogits}};
}

void readDocumentState(const nlohmann::json& j, TrainingSettings& s, LossSpec& loss) {
  if (!j.is_object()) return;
  if (auto k = project::runKindFromName(j.value("kind", std::string()))) s.kind = *k;
  s.epochs = std::max(1, j.value("epochs", s.epochs));
  s.batchSize = std::max(1, j.value("batch_size", s.batchSize));
  s.learningRate = j.value("learning_rate", s.learningRate);
  if (auto o = optimizerFromName(j.value("optimizer", std::string()))) s.optimizer = *o;
  const int sched = j.value("schedule", int(s.schedule));
  if (sched >= 0 && sched <= int(ScheduleKind::Cosine)) s.schedule = ScheduleKind(sched);
  s.seed = j.value("seed", s.seed);
  s.maxTrainSamples = std::max(0, j.value("max_train_samples", s.maxTrainSamples));
  s.calibrationBatches = std::max(0, j.value("calibration_batches", s.calibrationBatches));
  s.evaluationSamples = std::max(0, j.value("evaluation_samples", s.evaluationSamples));
  if (auto k = lossFromName(j.value("loss", std::string()))) loss = {*k, j.value("from_logits", loss.fromLogits)};
}

constexpr const char* kDocumentStateKey = "document";
constexpr const char* kBaselineKey = "baseline";  // Run::settings flag of Evaluate's float run

}  // namespace

// ---- data -----------------------------------------------------------------------------

void ProjectDocument::setData(std::shared_ptr<const Dataset> train, std::shared_ptr<const Dataset> validation,
                              const project::DataRef& ref) {
  train_ = std::move(train);
  validation_ = std::move(validation);
  if (!(project_.data == ref)) {
    project_.data = ref;
    if (hasModel_) setModified(true);
  }
  emit dataChanged();
}

QString ProjectDocument::fashionMnistDir() { return QStringLiteral(QAT_FASHION_MNIST_DIR); }

bool ProjectDocument::loadFashionMnist(QString* error, const QString& dir) {
  project::DataRef ref;
  ref.kind = "fashion-mnist";
  if (dir != fashionMnistDir()) ref.trainPath = dir.toStdString();
  return loadData(ref, error);
}

bool ProjectDocument::loadData(const project::DataRef& ref, QString* error) {
  // The data panel's loader: the same validation split (the last samples, as Keras) and
  // the same normalisation statistics as when the data was first loaded.
  Shape inputShape;
  if (hasModel_ && !project_.model.inputs().empty()) inputShape = project_.model.node(project_.model.inputs()[0]).shape;
  auto loaded = ui::loadData(ref, inputShape);
  if (!loaded.ok()) {
    if (error) *error = fromStd(loaded.error().message);
    return false;
  }
  setData(std::move(loaded->train), std::move(loaded->validation), loaded->ref);
  return true;
}

// ---- runs -------------------------------------------------------------------------------

void ProjectDocument::setTrainingSettings(const TrainingSettings& s) {
  if (s == settings_) return;
  settings_ = s;
  emit trainingSettingsChanged();
}

QString ProjectDocument::trainingBlocker() const { return runBlocker(settings_.kind); }

QString ProjectDocument::runBlocker(project::RunKind kind) const {
  if (!hasModel_) return tr("Open a model first (File ▸ Open Model… or File ▸ New from example).");
  if (!train_ || train_->size() == 0) return tr("No training data is loaded.");
  const Model& m = project_.model;
  if (m.inputs().size() != 1 || m.outputs().size() != 1)
    return tr("Training needs a model with one input and one output; this model has %1 inputs and %2 outputs.")
        .arg(m.inputs().size())
        .arg(m.outputs().size());
  const Shape& want = m.node(m.inputs()[0]).shape;
  const Shape got = train_->sampleShape();
  if (got != want)
    return tr("This model cannot be trained on the loaded data: its input '%1' expects samples of shape %2, "
              "but the training data (%3) has samples of shape %4.")
        .arg(fromStd(m.node(m.inputs()[0]).layer->name()), fromStd(want.str()), fromStd(train_->source),
             fromStd(got.str()));
  const bool classifier =
      loss_.kind == LossKind::SparseCategoricalCrossentropy || loss_.kind == LossKind::CategoricalCrossentropy;
  if (!classifier && train_->hasLabels())
    return tr("This model's loss (%1) needs float targets, but the training data has class labels.")
        .arg(fromStd(std::string(lossName(loss_.kind))));
  const int outputs = m.node(m.outputs()[0]).shape.back();
  if (train_->hasLabels() && train_->numClasses > outputs)
    return tr("This model's output has %1 values per sample, but the training data has %2 classes.")
        .arg(outputs)
        .arg(train_->numClasses);
  if (kind != project::RunKind::Float &&
      std::none_of(project_.config.layers.begin(), project_.config.layers.end(),
                   [](const auto& e) { return e.second.quantize && (!e.second.weights.empty() || e.second.output); }))
    return tr("No layer is ticked for quantization: tick layers in the graph or apply a preset.");
  return {};
}

bool ProjectDocument::startTraining(QString* error) { return startRun(settings_.kind, error); }

bool ProjectDocument::startRun(project::RunKind kind, QString* error) {
  auto fail = [&](QString message) {
    if (error) *error = std::move(message);
    return false;
  };
  if (QString blocker = runBlocker(kind); !blocker.isEmpty()) return fail(blocker);
  if (isTraining()) return fail(tr("A run is already going."));
  if (settings_.epochs < 1 || settings_.batchSize < 1 || !(settings_.learningRate > 0))
    return fail(tr("Epochs, batch size and learning rate must be positive."));

  const long n = settings_.maxTrainSamples > 0
                     ? std::min<long>(settings_.maxTrainSamples, static_cast<long>(train_->size()))
                     : static_cast<long>(train_->size());
  const long bs = std::max<long>(1, std::min<long>(settings_.batchSize, n));
  const long stepsPerEpoch = (n + bs - 1) / bs;

  project::RunRequest request;
  request.kind = kind;
  request.name = QStringLiteral("%1 %2").arg(kindLabel(kind)).arg(project_.nextRunId).toStdString();
  request.config = project_.config;
  request.train = TrainingController::makeConfig(settings_, loss_, stepsPerEpoch);
  if (kind == project::RunKind::PostTraining) request.train.epochs = 0;
  request.calibrationBatches = kind == project::RunKind::Float ? 0 : settings_.calibrationBatches;
  request.evaluation.maxSamples = static_cast<size_t>(settings_.evaluationSamples);
  request.settings = settingsJson(settings_, project_.config, kind);

  // std::function needs a copyable callable: the model copy travels in a shared_ptr.
  auto model = std::make_shared<const Model>(project_.model.clone());
  const size_t limit = static_cast<size_t>(settings_.maxTrainSamples);
  TrainingJob job = [model, request, train = train_, validation = validation_, limit](
                        TrainObserver& observer, const std::atomic<bool>& cancel) {
    TrainingOutcome out;
    Dataset limited;
    const Dataset* trainData = train.get();
    if (limit > 0 && limit < train->size()) {
      limited = subset(*train, limit);
      trainData = &limited;
    }
    auto r = project::executeRun(*model, request, *trainData, validation.get(), &observer, &cancel);
    if (!r.ok()) {
      out.message = fromStd(r.error().message);
      return out;
    }
    out.ok = true;
    out.summary = r->training;
    out.cancelled = r->cancelled;
    const project::RunMetrics& m = r->run.metrics;
    if (m.samples > 0) {
      EvalResult v;
      v.accuracy = request.kind == project::RunKind::Float ? m.floatAccuracy : m.fakeQuantAccuracy;
      v.loss = m.loss;
      v.samples = m.samples;
      out.finalValidation = v;
    }
    if (request.kind == project::RunKind::PostTraining)
      out.message = tr("Calibrated over %1 batches.").arg(request.calibrationBatches);
    else
      out.message = (out.cancelled ? tr("Stopped after %1 steps (%2 s, %3 samples/s).")
                                   : tr("Trained %1 steps in %2 s (%3 samples/s)."))
                        .arg(out.summary.steps)
                        .arg(out.summary.seconds, 0, 'f', 1)
                        .arg(std::lround(out.summary.samplesPerSec));
    out.run = std::move(r.value());
    return out;
  };
  currentKind_ = kind;
  jobIsEvaluation_ = false;
  if (!controller_->start(std::move(job), kind == project::RunKind::PostTraining ? 0 : stepsPerEpoch * settings_.epochs))
    return fail(tr("The training worker could not be started."));
  return true;
}

bool ProjectDocument::startEvaluation(QString* error) {
  auto fail = [&](QString message) {
    if (error) *error = std::move(message);
    return false;
  };
  if (!hasModel_) return fail(tr("Open a model first."));
  if (!validation_) return fail(tr("No test data is loaded: load a data set with a test split in the training panel."));
  if (isTraining()) return fail(tr("A run is going; evaluate when it has finished."));

  // The float baseline (refreshed in place when it exists) and the active run.
  std::optional<project::Run> baseline;
  for (const project::Run& r : project_.runs)
    if (r.kind == project::RunKind::Float && r.settings.value(kBaselineKey, false)) baseline = r;
  if (!baseline) {
    baseline.emplace();
    baseline->kind = project::RunKind::Float;
    baseline->name = tr("Float baseline").toStdString();
    baseline->created = project::nowIso8601();
    baseline->settings[kBaselineKey] = true;
  }
  std::optional<project::Run> active;
  if (const project::Run* r = run(activeRunId_); r && r->id != baseline->id) active = *r;

  auto model = std::make_shared<const Model>(project_.model.clone());
  project::EvaluationOptions options;
  options.maxSamples = static_cast<size_t>(settings_.evaluationSamples);
  TrainingJob job = [model, baseline = std::move(*baseline), active = std::move(active), loss = loss_,
                     test = validation_, options](TrainObserver&, const std::atomic<bool>&) mutable {
    TrainingOutcome out;
    Model floatModel = model->clone();
    auto e = project::evaluateFloat(floatModel, loss, *test, options);
    if (!e.ok()) {
      out.message = fromStd(e.error().message);
      return out;
    }
    baseline.metrics = e->metrics;
    baseline.confusion = e->confusion;
    auto image = project::kerasModelImage(floatModel);
    if (!image.ok()) {
      out.message = fromStd(image.error().message);
      return out;
    }
    baseline.modelImage = std::move(image.value());
    out.evaluated.push_back(std::move(baseline));
    if (active) {
      if (Status s = project::reevaluateRun(*active, loss, *test, options); !s.ok()) {
        out.message = fromStd(s.error().message);
        return out;
      }
      out.evaluated.push_back(std::move(*active));
    }
    out.ok = true;
    out.message = tr("Evaluated on %1 test samples.").arg(out.evaluated.front().metrics.samples);
    return out;
  };
  jobIsEvaluation_ = true;
  if (!controller_->start(std::move(job), 0)) return fail(tr("The evaluation worker could not be started."));
  return true;
}

void ProjectDocument::stopTraining() { controller_->cancel(); }

void ProjectDocument::setTrainingPaused(bool paused) { controller_->setPaused(paused); }

void ProjectDocument::onWorkerFinished() {
  TrainingOutcome outcome = controller_->takeOutcome();
  const bool ok = outcome.ok;
  const QString message = outcome.message;
  if (jobIsEvaluation_) {
    for (project::Run& r : outcome.evaluated) {
      if (project::Run* existing = project_.findRun(r.id); existing && r.id != 0) {
        *existing = std::move(r);
        emit runChanged(existing->id);
      } else {
        const int id = project_.addRun(std::move(r)).id;
        emit runAdded(id);
      }
    }
    if (ok) setModified(true);
    lastOutcome_ = std::move(outcome);
    emit activeRunChanged(activeRunId_);
    emit evaluationFinished(ok, message);
    return;
  }
  bool weightsMoved = false;
  if (ok && outcome.run) {
    project::RunResult& result = *outcome.run;
    if (result.trainedFloat && result.training.steps > 0) {
      // Same architecture (the worker trained a clone), so parameters line up one to one.
      std::vector<Param*> dst = project_.model.params();
      std::vector<Param*> src = result.trainedFloat->params();
      QAT_ASSERT(dst.size() == src.size());
      for (size_t i = 0; i < dst.size(); ++i) {
        QAT_ASSERT(dst[i]->value.size() == src[i]->value.size());
        std::copy_n(src[i]->value.data(), src[i]->value.size(), dst[i]->value.data());
      }
      weightsMoved = true;
    }
    if (result.cancelled) result.run.name += tr(" (stopped)").toStdString();
    const int id = project_.addRun(std::move(result.run)).id;
    outcome.run.reset();
    activeRunId_ = id;
    setModified(true);
    emit runAdded(id);
    emit activeRunChanged(id);
  }
  lastOutcome_ = std::move(outcome);
  if (weightsMoved) emit weightsChanged();
  emit trainingFinished(ok, message);
}

void ProjectDocument::setActiveRun(int id) {
  if (id == activeRunId_ || (id != 0 && !project_.findRun(id))) return;
  activeRunId_ = id;
  emit activeRunChanged(id);
}

bool ProjectDocument::renameRun(int id, const QString& name) {
  project::Run* r = project_.findRun(id);
  if (!r || name.trimmed().isEmpty() || fromStd(r->name) == name.trimmed()) return false;
  r->name = name.trimmed().toStdString();
  setModified(true);
  emit runChanged(id);
  return true;
}

bool ProjectDocument::deleteRun(int id) {
  if (!project_.removeRun(id)) return false;
  if (activeRunId_ == id) {
    activeRunId_ = project_.runs.empty() ? 0 : project_.runs.back().id;
    emit activeRunChanged(activeRunId_);
  }
  setModified(true);
  emit runRemoved(id);
  return true;
}

std::map<int, double> ProjectDocument::activeLayerErrors() const {
  std::map<int, double> out;
  const project::Run* r = run(activeRunId_);
  if (!r || !hasModel_) return out;
  for (const project::LayerError& e : r->layerErrors)
    if (int n = project_.model.find(e.layer); n >= 0) out[n] = e.sqnrDb;
  return out;
}

// ---- project file ---------------------------------------------------------------------------

void ProjectDocument::setModified(bool modified) {
  if (modified == modified_) return;
  modified_ = modified;
  emit modifiedChanged(modified);
}

QString ProjectDocument::projectName() const {
  if (!projectPath_.isEmpty()) return QFileInfo(projectPath_).completeBaseName();
  return hasModel_ ? modelName() : tr("Untitled");
}

void ProjectDocument::setUiState(nlohmann::json state) { project_.uiState = std::move(state); }

project::Project ProjectDocument::snapshot() const {
  project::Project p;
  p.modelSource = project_.modelSource;
  p.modelName = project_.modelName;
  p.model = project_.model.clone();
  p.config = project_.config;
  p.runs = project_.runs;
  p.nextRunId = project_.nextRunId;
  p.data = project_.data;
  p.uiState = project_.uiState;
  p.uiState[kDocumentStateKey] = documentState(settings_, loss_);
  p.uiState[kDocumentStateKey]["active_run"] = activeRunId_;
  return p;
}

bool ProjectDocument::saveProject(const QString& path, QString* error) {
  if (!hasModel_) {
    if (error) *error = tr("There is no model to save.");
    return false;
  }
  if (Status s = project::saveProject(snapshot(), path.toStdString()); !s.ok()) {
    if (error) *error = fromStd(s.error().message);
    return false;
  }
  if (projectPath_ != path) {
    projectPath_ = path;
    emit projectPathChanged(path);
  }
  undoStack_->setClean();
  setModified(false);
  return true;
}

bool ProjectDocument::openProject(const QString& path, QString* error, QString* warning) {
  if (isTraining()) {
    if (error) *error = tr("Stop the training run before opening another project.");
    return false;
  }
  auto loaded = project::loadProject(path.toStdString());
  if (!loaded.ok()) {
    if (error) *error = fromStd(loaded.error().message);
    return false;
  }
  project::Project p = std::move(loaded.value());
  TrainingSettings settings = settings_;
  LossSpec loss = defaultLossFor(p.model);
  readDocumentState(p.uiState.value(kDocumentStateKey, nlohmann::json()), settings, loss);
  const project::DataRef data = p.data;
  int lastRun = p.runs.empty() ? 0 : p.runs.back().id;
  // The run the user was looking at, when it still exists.
  if (const int active = p.uiState.value(kDocumentStateKey, nlohmann::json::object()).value("active_run", 0);
      active > 0 && p.findRun(active))
    lastRun = active;

  project_ = std::move(p);
  hasModel_ = true;
  modelWarnings_.clear();
  loss_ = loss;
  nodeInfo_.clear();
  for (int n = 0; n < project_.model.size(); ++n) nodeInfo_.push_back(quant::classifyNode(project_.model, n));
  selection_.clear();
  activeRunId_ = lastRun;
  lastOutcome_.reset();
  undoStack_->clear();
  projectPath_ = path;
  setTrainingSettings(settings);
  emit projectPathChanged(path);
  emit modelChanged();
  emit quantizeConfigChanged({});
  emit selectionChanged();
  emit activeRunChanged(activeRunId_);
  for (const project::Run& r : project_.runs) emit runAdded(r.id);
  if (!data.kind.empty()) {
    QString dataError;
    if (!loadData(data, &dataError) && warning)
      *warning = tr("The project's data could not be reloaded: %1").arg(dataError);
  }
  setModified(false);
  return true;
}

void ProjectDocument::adoptRecoveredProject(const QString& originalPath) {
  if (projectPath_ != originalPath) {
    projectPath_ = originalPath;
    emit projectPathChanged(originalPath);
  }
  setModified(true);
}

}  // namespace qat::ui
