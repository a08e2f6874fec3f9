#pragma once
// ProjectDocument: the one object through which the GUI reaches the engine.
//
// It owns the engine project (project::Project: the float model, the quantize config
// being edited, the runs, the data reference, UI state), the data sets, the training
// settings, the QUndoStack and the TrainingController. Views hold a pointer to the
// document, read through const accessors and change things only by calling its methods;
// every change is announced by a signal. Nothing here is a singleton: main() creates the
// document and passes it in.
//
// Edits of the quantize config go through the undo stack (QUndoCommands in
// ui/config_commands.h): ticking layers, presets, inspector edits, BN mode. Selection is
// shared by the graph view and the inspector and is not undoable.
//
// Runs (Run menu): a Float run trains the float model on a copy and copies the weights
// back (the new baseline); a PTQ run quantizes a copy with the current config and
// calibrates it; a QAT run calibrates and then trains it. Every run ends with an
// evaluation in all modes (project::executeRun) and is added to the project's runs.
#include <QObject>
#include <QString>
#include <QStringList>

#include <map>
#include <memory>
#include <optional>

#include "engine/data/dataset.h"
#include "engine/graph/model.h"
#include "engine/project/project.h"
#include "engine/quant/quantize_config.h"
#include "engine/quant/scheme.h"
#include "engine/train/loss.h"
#include "ui/training_controller.h"

class QUndoStack;

namespace qat::ui {

// The inspector's presets: the scheme's quantizers for the layer, or float.
enum class QuantPreset { Default8, W4A8, W8A16, Float };
QString presetName(QuantPreset p);  // "Default 8-bit", "W4A8", "W8A16", "Float"
inline constexpr QuantPreset kAllPresets[] = {QuantPreset::Default8, QuantPreset::W4A8, QuantPreset::W8A16,
                                              QuantPreset::Float};

class ProjectDocument : public QObject {
  Q_OBJECT
 public:
  explicit ProjectDocument(QObject* parent = nullptr);
  ~ProjectDocument() override;

  // ---- model ----
  // Replaces the model with a built-in example ("fashion-mlp", ...). Refused while
  // training. On error the current model is kept and `error` says why. A new model gets
  // the default 8-bit config over every supported layer and no runs.
  bool newFromBuiltin(const QString& name, quint64 seed = 42, QString* error = nullptr);
  // Opens a Keras .h5 model; a weights-only file (kerasFileKind) needs its architecture
  // JSON (model.to_json()). The file's training_config, when present, sets the loss and
  // the default optimizer and learning rate. Refused while training. On error the
  // current model is kept and `error` holds the loader's message (file, layer, what to do).
  bool openKerasModel(const QString& h5Path, const QString& architectureJson = {}, QString* error = nullptr);
  bool hasModel() const { return hasModel_; }
  const Model& model() const { return project_.model; }  // requires hasModel()
  QString modelName() const { return QString::fromStdString(project_.modelName); }      // "fashion-mlp", "model.h5"
  QString modelSource() const { return QString::fromStdString(project_.modelSource); }  // "builtin:fashion-mlp", the file path
  qint64 parameterCount() const;
  // What the import of the current model could not reproduce (empty for built-ins).
  QStringList modelWarnings() const { return modelWarnings_; }
  // The loss training uses: the Keras file's, else the one that fits the output layer.
  const LossSpec& loss() const { return loss_; }
  // Node id of a layer name, -1 when the model has none.
  int nodeOfLayer(const QString& layer) const;
  QString layerName(int node) const;
  QString layerClass(int node) const;  // engine class name ("Conv2D")

  // ---- quantize config (every change undoable) ----
  const quant::QuantizeConfig& quantizeConfig() const { return project_.config; }
  // classifyNode for each node, computed when the model changes.
  const quant::NodeQuantInfo& nodeInfo(int node) const { return nodeInfo_[size_t(node)]; }
  // Whether the layer can be ticked; when not, `reason` says why (unsupported: the
  // scheme's reason; model inputs and pass-through layers have nothing to quantize).
  bool canQuantize(int node, QString* reason = nullptr) const;
  bool isQuantized(int node) const;  // in the config with quantize = true
  // The layer's entry in the config, if any.
  const quant::LayerQuantConfig* layerConfig(int node) const;
  // Badge text for the graph: "W8/A8", "W4/A8", "W8" (no output quantizer), "A8" (output
  // only), "float", or "" for pass-through layers and inputs.
  QString bitBadge(int node) const;
  // Undoable, one step each. Layers that cannot be quantized are skipped (ticking only).
  void setQuantized(const QList<int>& nodes, bool on);
  void applyPreset(const QList<int>& nodes, QuantPreset preset);
  // Replaces the given layers' entries (inspector edits); `text` names the undo step.
  void setLayerConfigs(const std::map<std::string, quant::LayerQuantConfig>& changes, const QString& text);
  void setBnMode(quant::BnMode mode);
  void setFreezeBnStep(long step);
  // Replaces the whole config (e.g. read from JSON); undoable.
  void setQuantizeConfig(const quant::QuantizeConfig& config, const QString& text);
  // What a preset gives one layer (the scheme's entry for it; Float: quantize = false).
  quant::LayerQuantConfig presetConfig(int node, QuantPreset preset) const;
  // Conv/Depthwise/Dense → BatchNormalization (→ ReLU/activation) chains that the export
  // and fold mode fuse into one op, as node-id lists in order; for the graph's groups.
  QList<QList<int>> fusedGroups() const;

  // ---- selection (shared by graph and inspector; not undoable) ----
  QList<int> selectedNodes() const { return selection_; }
  void setSelectedNodes(QList<int> nodes);
  QList<int> nodesOfClass(const QString& className) const;  // excluding inputs
  QStringList layerClasses() const;                          // distinct classes, sorted

  // ---- size estimate (status bar) ----
  struct SizeEstimate {
    qint64 floatBytes = 0;      // all weights float32
    qint64 quantizedBytes = 0;  // at the config's weight bit widths (float layers 32)
  };
  SizeEstimate sizeEstimate() const;

  // ---- data ----
  // The data sets are immutable once handed over; training shares them with the worker.
  // `ref` says where they came from (saved in the project so it can reload them).
  void setData(std::shared_ptr<const Dataset> train, std::shared_ptr<const Dataset> validation,
               const project::DataRef& ref = {});
  // Loads the Fashion-MNIST training set (for training) and test set (for validation)
  // from `dir` (default QAT_FASHION_MNIST_DIR), pixels scaled to [0, 1]. On error the
  // current data is kept and `error` says what is missing and how to install it.
  bool loadFashionMnist(QString* error = nullptr, const QString& dir = fashionMnistDir());
  static QString fashionMnistDir();
  // Loads the data a DataRef describes (engine/data/data_source.h): kind "fashion-mnist"
  // (trainPath: the directory, "" = default) or any other kind with trainPath / testPath
  // as loadDataSource specs ("npz:f.npz", "csv:f.csv", "images:dir", ...). options:
  //   "normalize": "scale01" | "none" | "meanstd", "x_name", "y_name", "label_column",
  //   "validation_split": fraction of the training data kept for validation when there
  //   is no test data (the last samples, as Keras).
  // Blocking; on error the current data is kept and `error` names the file.
  bool loadData(const project::DataRef& ref, QString* error = nullptr);
  const Dataset* trainData() const { return train_.get(); }
  const Dataset* validationData() const { return validation_.get(); }
  const project::DataRef& dataRef() const { return project_.data; }

  // ---- runs ----
  const TrainingSettings& trainingSettings() const { return settings_; }
  void setTrainingSettings(const TrainingSettings& s);
  // Why a run cannot start, "" when it can: no model, no data, a model that does not fit
  // the data, (PTQ/QAT) nothing ticked. A running training is not a blocker.
  QString trainingBlocker() const;
  QString runBlocker(project::RunKind kind) const;
  // Starts a run on the worker. Fails (with `error`) when runBlocker says why, or while a
  // run is going. startTraining() = startRun(trainingSettings().kind).
  bool startRun(project::RunKind kind, QString* error = nullptr);
  bool startTraining(QString* error = nullptr);
  // Run ▸ Evaluate: evaluates the float model (adding or refreshing the "Float baseline"
  // run) and re-evaluates the active run, on the worker; evaluationFinished when done.
  bool startEvaluation(QString* error = nullptr);
  void stopTraining();  // a stopped run keeps the model it reached and is still added
  void setTrainingPaused(bool paused);
  bool isTraining() const { return controller_->isRunning(); }
  bool isTrainingPaused() const { return controller_->isPaused(); }
  project::RunKind currentRunKind() const { return currentKind_; }
  long trainingTotalSteps() const { return controller_->totalSteps(); }
  // Live metrics of the current run; the training view drains it on a timer.
  MetricsQueue& trainingMetrics() { return controller_->metrics(); }
  // The last finished run (model moved out), or null before the first one.
  const TrainingOutcome* lastTrainingOutcome() const { return lastOutcome_ ? &*lastOutcome_ : nullptr; }

  const std::vector<project::Run>& runs() const { return project_.runs; }
  const project::Run* run(int id) const { return project_.findRun(id); }
  // The run whose per-layer errors colour the graph and that Export writes by default:
  // the last one added, or the one the user picked in the compare view. 0: none.
  int activeRunId() const { return activeRunId_; }
  void setActiveRun(int id);
  bool renameRun(int id, const QString& name);
  bool deleteRun(int id);
  // Per-layer SQNR of the active run, by node id of the float model (missing: none).
  std::map<int, double> activeLayerErrors() const;

  // ---- project file ----
  QString projectPath() const { return projectPath_; }  // "" before the first save
  QString projectName() const;                           // file base name, else the model name
  bool isModified() const { return modified_; }
  // Writes the project (model, config, runs, data reference, uiState) atomically.
  bool saveProject(const QString& path, QString* error = nullptr);
  // Replaces everything with the project in `path`; reloads its data when it can (a
  // data set that cannot be found is reported in `warning`, the project still opens).
  bool openProject(const QString& path, QString* error = nullptr, QString* warning = nullptr);
  // Crash recovery (ui/autosave.h), after openProject(recovery file): the document now
  // belongs to `originalPath` ("" = never saved) and is modified, so Save writes the
  // original project, not the recovery file.
  void adoptRecoveredProject(const QString& originalPath);
  // GUI state saved in the project (splitters, panel visibility, ...), opaque here.
  const nlohmann::json& uiState() const { return project_.uiState; }
  void setUiState(nlohmann::json state);
  // A snapshot of the project for autosave (taken on the GUI thread, written anywhere).
  project::Project snapshot() const;

  QUndoStack* undoStack() const { return undoStack_; }

 signals:
  void modelChanged();    // a different model (structure and weights); config and runs reset
  void weightsChanged();  // same structure, new parameter values (after float training)
  // Config entries of these nodes changed (empty: model-wide settings or everything).
  void quantizeConfigChanged(const QList<int>& nodes);
  void selectionChanged();
  void dataChanged();
  void trainingSettingsChanged();
  void trainingStarted();
  void trainingPausedChanged(bool paused);
  // ok = false: the run failed (message = the engine's error, e.g. a NaN loss) and the
  // model keeps the weights it had before the run. A stopped run is ok.
  void trainingFinished(bool ok, const QString& message);
  void evaluationFinished(bool ok, const QString& message);
  void runAdded(int id);
  void runChanged(int id);
  void runRemoved(int id);
  void activeRunChanged(int id);
  void modifiedChanged(bool modified);
  void projectPathChanged(const QString& path);

 private:
  friend class ConfigCommand;  // applies configs without pushing another command
  void applyConfig(const quant::QuantizeConfig& config, const QList<int>& nodes);
  void pushConfig(quant::QuantizeConfig next, const QList<int>& nodes, const QString& text);
  void onWorkerFinished();
  void setModel(Model model, const QString& name, const QString& source, LossSpec loss, QStringList warnings);
  void setModified(bool modified);
  void resetConfig();
  quant::QuantizeConfig wholeModelScheme(const quant::SchemeOptions& scheme) const;
  quant::LayerQuantConfig presetEntry(int node, QuantPreset preset, const quant::QuantizeConfig& scheme) const;

  project::Project project_;
  bool hasModel_ = false;
  std::vector<quant::NodeQuantInfo> nodeInfo_;
  QStringList modelWarnings_;
  LossSpec loss_;
  QList<int> selection_;
  int activeRunId_ = 0;
  QString projectPath_;
  bool modified_ = false;
  std::shared_ptr<const Dataset> train_, validation_;
  TrainingSettings settings_;
  project::RunKind currentKind_ = project::RunKind::Float;
  bool jobIsEvaluation_ = false;
  std::optional<TrainingOutcome> lastOutcome_;
  QUndoStack* undoStack_;           // child QObject
  TrainingController* controller_;  // child QObject
};

}  // namespace qat::ui
