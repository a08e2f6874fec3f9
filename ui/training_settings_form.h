#pragma once
// TrainingSettingsForm: the run's set-up, edited in place. Every edit is written to the
// document at once (setTrainingSettings; the BN freeze step, which belongs to the quantize
// config, through the undoable setFreezeBnStep), and the form refills itself from the
// document's trainingSettingsChanged / quantizeConfigChanged, so the document is the one
// source of truth (a reopened project, the Run menu and this form never disagree).
//
// Rows that do not apply to the chosen run kind are hidden: a PTQ calibration has no
// epochs or optimizer, only QAT freezes BatchNorm statistics, float training calibrates
// nothing.
#include <QWidget>

#include "engine/project/project.h"

class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QSpinBox;

namespace qat::ui {

class ProjectDocument;

class TrainingSettingsForm : public QWidget {
  Q_OBJECT
 public:
  explicit TrainingSettingsForm(ProjectDocument* document, QWidget* parent = nullptr);

  QComboBox* runKindBox() const { return kind_; }
  QSpinBox* epochsBox() const { return epochs_; }
  QSpinBox* batchSizeBox() const { return batchSize_; }
  QComboBox* optimizerBox() const { return optimizer_; }
  QDoubleSpinBox* learningRateBox() const { return learningRate_; }
  QComboBox* scheduleBox() const { return schedule_; }
  QSpinBox* freezeBnStepBox() const { return freezeBn_; }
  QSpinBox* calibrationBatchesBox() const { return calibration_; }
  QSpinBox* seedBox() const { return seed_; }
  QSpinBox* maxSamplesBox() const { return maxSamples_; }
  QSpinBox* evaluationSamplesBox() const { return evaluationSamples_; }
  // Whether a row is shown for the current run kind (QFormLayout hides label and field).
  bool isRowShown(QWidget* field) const;

  // Locks the form while a run is going (the worker took a copy of the settings).
  void setEditable(bool editable);

 private:
  void syncFromDocument();
  void pushToDocument();
  void updateRows();

  ProjectDocument* document_;
  QFormLayout* form_ = nullptr;
  QComboBox* kind_ = nullptr;
  QSpinBox* epochs_ = nullptr;
  QSpinBox* batchSize_ = nullptr;
  QComboBox* optimizer_ = nullptr;
  QDoubleSpinBox* learningRate_ = nullptr;
  QComboBox* schedule_ = nullptr;
  QSpinBox* freezeBn_ = nullptr;
  QSpinBox* calibration_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QSpinBox* maxSamples_ = nullptr;
  QSpinBox* evaluationSamples_ = nullptr;
};

}  // namespace qat::ui
