#pragma once
// ProjectDocument: the one object through which the GUI reaches the engine.
//
// It owns the engine Model, the data sets, the training settings, the QUndoStack and the
// TrainingController. Views hold a pointer to the document, read through const
// accessors and change things only by calling its methods; every change is announced by
// a signal. Nothing here is a singleton: main() creates the document and passes it in.
//
// Training runs on a copy of the model (see TrainingController); when a run ends the
// trained parameters are copied back into the document's model, so node ids and layer
// objects stay the same across runs (later per-layer quantize configs key on them).
#include <QObject>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

#include "engine/data/dataset.h"
#include "engine/graph/model.h"
#include "engine/train/loss.h"
#include "ui/training_controller.h"

class QUndoStack;

namespace qat::ui {

class ProjectDocument : public QObject {
  Q_OBJECT
 public:
  explicit ProjectDocument(QObject* parent = nullptr);
  ~ProjectDocument() override;

  // ---- model ----
  // Replaces the model with a built-in example ("fashion-mlp", ...). Refused while
  // training. On error the current model is kept and `error` says why.
  bool newFromBuiltin(const QString& name, quint64 seed = 42, QString* error = nullptr);
  // Opens a Keras .h5 model; a weights-only file (kerasFileKind) needs its architecture
  // JSON (model.to_json()). The file's training_config, when present, sets the loss and
  // the default optimizer and learning rate. Refused while training. On error the
  // current model is kept and `error` holds the loader's message (file, layer, what to do).
  bool openKerasModel(const QString& h5Path, const QString& architectureJson = {}, QString* error = nullptr);
  bool hasModel() const { return model_ != nullptr; }
  const Model& model() const { return *model_; }  // requires hasModel()
  QString modelName() const { return modelName_; }      // "fashion-mlp", "model.h5"
  QString modelSource() const { return modelSource_; }  // "builtin:fashion-mlp", the file path
  qint64 parameterCount() const;
  // What the import of the current model could not reproduce (empty for built-ins).
  QStringList modelWarnings() const { return modelWarnings_; }
  // The loss training uses: the Keras file's, else the one that fits the output layer
  // (defaultLossFor: logits for the built-ins, probabilities after a softmax).
  const LossSpec& loss() const { return loss_; }

  // ---- data ----
  // The data sets are immutable once handed over; training shares them with the worker.
  void setData(std::shared_ptr<const Dataset> train, std::shared_ptr<const Dataset> validation);
  // Loads the Fashion-MNIST training set (for training) and test set (for validation)
  // from `dir` (default QAT_FASHION_MNIST_DIR), pixels scaled to [0, 1]. On error the
  // current data is kept and `error` says what is missing and how to install it.
  bool loadFashionMnist(QString* error = nullptr, const QString& dir = fashionMnistDir());
  static QString fashionMnistDir();
  const Dataset* trainData() const { return train_.get(); }
  const Dataset* validationData() const { return validation_.get(); }

  // ---- training ----
  const TrainingSettings& trainingSettings() const { return settings_; }
  void setTrainingSettings(const TrainingSettings& s);
  // Why training cannot start, "" when it can: no model, no data, or a model that does
  // not fit the data (several inputs/outputs, input shape, class count, a loss that needs
  // float targets). A running training is not a blocker (see isTraining).
  QString trainingBlocker() const;
  // Starts a run with the current settings. Fails (with `error`) when trainingBlocker()
  // says why, or while a run is going.
  bool startTraining(QString* error = nullptr);
  void stopTraining();
  void setTrainingPaused(bool paused);
  bool isTraining() const { return controller_->isRunning(); }
  bool isTrainingPaused() const { return controller_->isPaused(); }
  long trainingTotalSteps() const { return controller_->totalSteps(); }
  // Live metrics of the current run; the training view drains it on a timer.
  MetricsQueue& trainingMetrics() { return controller_->metrics(); }
  // The last finished run (model moved out), or null before the first one.
  const TrainingOutcome* lastTrainingOutcome() const {
    return lastOutcome_ ? &*lastOutcome_ : nullptr;
  }

  QUndoStack* undoStack() const { return undoStack_; }

 signals:
  void modelChanged();    // a different model (structure and weights)
  void weightsChanged();  // same structure, new parameter values (after training)
  void dataChanged();
  void trainingSettingsChanged();
  void trainingStarted();
  void trainingPausedChanged(bool paused);
  // ok = false: the run failed (message = the engine's error, e.g. a NaN loss) and the
  // model keeps the weights it had before the run. A stopped run is ok.
  void trainingFinished(bool ok, const QString& message);

 private:
  void onTrainingFinished();
  void setModel(std::unique_ptr<Model> model, const QString& name, const QString& source, LossSpec loss,
                QStringList warnings);

  std::unique_ptr<Model> model_;
  QString modelName_, modelSource_;
  QStringList modelWarnings_;
  LossSpec loss_;
  std::shared_ptr<const Dataset> train_, validation_;
  TrainingSettings settings_;
  std::optional<TrainingOutcome> lastOutcome_;
  QUndoStack* undoStack_;              // child QObject
  TrainingController* controller_;     // child QObject
};

}  // namespace qat::ui
