#include "ui/project_document.h"

#include <QFileInfo>
#include <QUndoStack>

#include <algorithm>

#include "engine/data/idx_reader.h"
#include "engine/io/keras_model.h"
#include "engine/models/builtin.h"
#include "engine/train/defaults.h"

namespace qat::ui {

ProjectDocument::ProjectDocument(QObject* parent)
    : QObject(parent), undoStack_(new QUndoStack(this)), controller_(new TrainingController(this)) {
  connect(controller_, &TrainingController::started, this, &ProjectDocument::trainingStarted);
  connect(controller_, &TrainingController::pausedChanged, this,
          &ProjectDocument::trainingPausedChanged);
  connect(controller_, &TrainingController::finished, this, &ProjectDocument::onTrainingFinished);
}

// The worker only touches its own model copy and the shared data sets (which it keeps
// alive), but join it first anyway so no run outlives the document that started it.
ProjectDocument::~ProjectDocument() {
  delete controller_;  // cancels and joins
  controller_ = nullptr;
}

bool ProjectDocument::newFromBuiltin(const QString& name, quint64 seed, QString* error) {
  if (isTraining()) {
    if (error) *error = tr("Stop the training run before opening another model.");
    return false;
  }
  auto made = makeBuiltinModel(name.toStdString(), seed);
  if (!made.ok()) {
    if (error) *error = QString::fromStdString(made.error().message);
    return false;
  }
  auto model = std::make_unique<Model>(std::move(made.value()));
  LossSpec loss = defaultLossFor(*model);
  setModel(std::move(model), name, QStringLiteral("builtin:") + name, loss, {});
  return true;
}

bool ProjectDocument::openKerasModel(const QString& h5Path, const QString& architectureJson, QString* error) {
  if (isTraining()) {
    if (error) *error = tr("Stop the training run before opening another model.");
    return false;
  }
  auto file = loadKerasFile(h5Path.toStdString(), architectureJson.toStdString());
  if (!file.ok()) {
    if (error) *error = QString::fromStdString(file.error().message);
    return false;
  }
  auto model = std::make_unique<Model>(std::move(file->model));
  LossSpec loss = defaultLossFor(*model);
  if (file->training) {
    // As qat-cli train: the file's compile() set-up is the default.
    if (auto kind = lossFromName(file->training->loss)) loss = {*kind, file->training->fromLogits};
    TrainingSettings s = settings_;
    if (auto opt = optimizerFromName(file->training->optimizer)) s.optimizer = *opt;
    if (file->training->learningRate && *file->training->learningRate > 0) s.learningRate = *file->training->learningRate;
    setTrainingSettings(s);
  }
  QStringList warnings;
  for (const std::string& w : file->warnings) warnings << QString::fromStdString(w);
  setModel(std::move(model), QFileInfo(h5Path).fileName(), h5Path, loss, warnings);
  return true;
}

void ProjectDocument::setModel(std::unique_ptr<Model> model, const QString& name, const QString& source,
                               LossSpec loss, QStringList warnings) {
  model_ = std::move(model);
  modelName_ = name;
  modelSource_ = source;
  modelWarnings_ = std::move(warnings);
  loss_ = loss;
  lastOutcome_.reset();
  undoStack_->clear();
  emit modelChanged();
}

qint64 ProjectDocument::parameterCount() const {
  return model_ ? static_cast<qint64>(model_->paramCount()) : 0;
}

void ProjectDocument::setData(std::shared_ptr<const Dataset> train,
                              std::shared_ptr<const Dataset> validation) {
  train_ = std::move(train);
  validation_ = std::move(validation);
  emit dataChanged();
}

QString ProjectDocument::fashionMnistDir() { return QStringLiteral(QAT_FASHION_MNIST_DIR); }

bool ProjectDocument::loadFashionMnist(QString* error, const QString& dir) {
  const std::string d = dir.toStdString();
  auto train = qat::loadFashionMnist(d, true, Normalization::scale01());
  auto test = train.ok() ? qat::loadFashionMnist(d, false, Normalization::scale01()) : train;
  if (!train.ok() || !test.ok()) {
    if (error) {
      *error = tr("Fashion-MNIST could not be loaded from %1:\n%2\n\n"
                  "Install the Debian package dataset-fashion-mnist "
                  "(sudo apt install dataset-fashion-mnist).")
                   .arg(dir, QString::fromStdString((train.ok() ? test : train).error().message));
    }
    return false;
  }
  setData(std::make_shared<const Dataset>(std::move(train.value())),
          std::make_shared<const Dataset>(std::move(test.value())));
  return true;
}

void ProjectDocument::setTrainingSettings(const TrainingSettings& s) {
  if (s == settings_) return;
  settings_ = s;
  emit trainingSettingsChanged();
}

QString ProjectDocument::trainingBlocker() const {
  if (!model_) return tr("Open a model first (File ▸ Open Model… or File ▸ New from example).");
  if (!train_ || train_->size() == 0) return tr("No training data is loaded.");
  const Model& m = *model_;
  if (m.inputs().size() != 1 || m.outputs().size() != 1)
    return tr("Training needs a model with one input and one output; this model has %1 inputs and %2 outputs.")
        .arg(m.inputs().size())
        .arg(m.outputs().size());
  const Shape& want = m.node(m.inputs()[0]).shape;
  const Shape got = train_->sampleShape();
  if (got != want)
    return tr("This model cannot be trained on the loaded data: its input '%1' expects samples of shape %2, "
              "but the training data (%3) has samples of shape %4.")
        .arg(QString::fromStdString(m.node(m.inputs()[0]).layer->name()), QString::fromStdString(want.str()),
             QString::fromStdString(train_->source), QString::fromStdString(got.str()));
  const bool classifier = loss_.kind == LossKind::SparseCategoricalCrossentropy ||
                          loss_.kind == LossKind::CategoricalCrossentropy;
  if (!classifier && train_->hasLabels())
    return tr("This model's loss (%1) needs float targets, but the training data has class labels.")
        .arg(QString::fromUtf8(lossName(loss_.kind).data(), static_cast<qsizetype>(lossName(loss_.kind).size())));
  const int outputs = m.node(m.outputs()[0]).shape.back();
  if (train_->hasLabels() && train_->numClasses > outputs)
    return tr("This model's output has %1 values per sample, but the training data has %2 classes.")
        .arg(outputs)
        .arg(train_->numClasses);
  return {};
}

bool ProjectDocument::startTraining(QString* error) {
  auto fail = [&](QString message) {
    if (error) *error = std::move(message);
    return false;
  };
  if (QString blocker = trainingBlocker(); !blocker.isEmpty()) return fail(blocker);
  if (isTraining()) return fail(tr("A training run is already going."));
  if (settings_.epochs < 1 || settings_.batchSize < 1 || !(settings_.learningRate > 0))
    return fail(tr("Epochs, batch size and learning rate must be positive."));
  if (!controller_->start(*model_, train_, validation_, settings_, loss_))
    return fail(tr("The training worker could not be started."));
  return true;
}

void ProjectDocument::stopTraining() { controller_->cancel(); }

void ProjectDocument::setTrainingPaused(bool paused) { controller_->setPaused(paused); }

void ProjectDocument::onTrainingFinished() {
  TrainingOutcome outcome = controller_->takeOutcome();
  if (outcome.ok && outcome.model && model_) {
    // Same architecture (the worker trained a clone), so parameters line up one to one.
    std::vector<Param*> dst = model_->params();
    std::vector<Param*> src = outcome.model->params();
    QAT_ASSERT(dst.size() == src.size());
    for (size_t i = 0; i < dst.size(); ++i) {
      QAT_ASSERT(dst[i]->value.size() == src[i]->value.size());
      std::copy_n(src[i]->value.data(), src[i]->value.size(), dst[i]->value.data());
    }
  }
  const bool ok = outcome.ok;
  const QString message = outcome.message;
  const bool changed = ok && outcome.summary.steps > 0;
  outcome.model.reset();
  lastOutcome_ = std::move(outcome);
  if (changed) emit weightsChanged();
  emit trainingFinished(ok, message);
}

}  // namespace qat::ui
