#include "ui/training_settings_form.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QSignalBlocker>
#include <QSpinBox>

#include <algorithm>
#include <limits>

#include "ui/project_document.h"

namespace qat::ui {

using project::RunKind;

TrainingSettingsForm::TrainingSettingsForm(ProjectDocument* document, QWidget* parent)
    : QWidget(parent), document_(document) {
  form_ = new QFormLayout(this);
  form_->setContentsMargins(0, 0, 0, 0);
  form_->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  constexpr int kIntMax = std::numeric_limits<int>::max();

  kind_ = new QComboBox(this);
  kind_->addItem(tr("Float training"), static_cast<int>(RunKind::Float));
  kind_->addItem(tr("PTQ calibration"), static_cast<int>(RunKind::PostTraining));
  kind_->addItem(tr("QAT"), static_cast<int>(RunKind::Qat));
  kind_->setToolTip(tr("Float: train the float model (the new baseline). PTQ: quantize a copy with the "
                       "config and calibrate its ranges. QAT: calibrate, then train the quantized copy."));
  epochs_ = new QSpinBox(this);
  epochs_->setRange(1, 1000);
  batchSize_ = new QSpinBox(this);
  batchSize_->setRange(1, 65536);
  optimizer_ = new QComboBox(this);
  optimizer_->addItem(tr("Adam"), static_cast<int>(OptimizerKind::Adam));
  optimizer_->addItem(tr("AdamW"), static_cast<int>(OptimizerKind::AdamW));
  optimizer_->addItem(tr("SGD"), static_cast<int>(OptimizerKind::SGD));
  learningRate_ = new QDoubleSpinBox(this);
  learningRate_->setDecimals(6);
  learningRate_->setRange(1e-6, 10.0);
  learningRate_->setSingleStep(1e-4);
  schedule_ = new QComboBox(this);
  schedule_->addItem(tr("Constant"), static_cast<int>(ScheduleKind::Constant));
  schedule_->addItem(tr("Step (×0.1 each epoch)"), static_cast<int>(ScheduleKind::Step));
  schedule_->addItem(tr("Cosine (to 0)"), static_cast<int>(ScheduleKind::Cosine));
  freezeBn_ = new QSpinBox(this);
  freezeBn_->setRange(-1, kIntMax);
  freezeBn_->setSingleStep(100);
  freezeBn_->setSpecialValueText(tr("never"));
  // Arrow clicks and typing would otherwise make one undo step per change.
  freezeBn_->setKeyboardTracking(false);
  calibration_ = new QSpinBox(this);
  calibration_->setRange(0, 100000);
  calibration_->setToolTip(tr("Batches of training data run through the quantized model to set its "
                              "ranges before QAT or as the whole PTQ run."));
  seed_ = new QSpinBox(this);
  seed_->setRange(0, kIntMax);
  maxSamples_ = new QSpinBox(this);
  maxSamples_->setRange(0, kIntMax);
  maxSamples_->setSingleStep(1000);
  maxSamples_->setSpecialValueText(tr("all"));
  maxSamples_->setToolTip(tr("Train on the first N samples of the training set (0 = all)."));
  evaluationSamples_ = new QSpinBox(this);
  evaluationSamples_->setRange(0, kIntMax);
  evaluationSamples_->setSingleStep(1000);
  evaluationSamples_->setSpecialValueText(tr("all"));
  evaluationSamples_->setToolTip(tr("Test samples each finished run is evaluated on, in every mode (0 = all)."));

  form_->addRow(tr("&Run:"), kind_);
  form_->addRow(tr("&Epochs:"), epochs_);
  form_->addRow(tr("&Batch size:"), batchSize_);
  form_->addRow(tr("&Optimizer:"), optimizer_);
  form_->addRow(tr("&Learning rate:"), learningRate_);
  form_->addRow(tr("Sc&hedule:"), schedule_);
  form_->addRow(tr("BN &freeze step:"), freezeBn_);
  form_->addRow(tr("&Calibration batches:"), calibration_);
  form_->addRow(tr("&Seed:"), seed_);
  form_->addRow(tr("Training &samples:"), maxSamples_);
  form_->addRow(tr("&Test samples:"), evaluationSamples_);

  auto push = [this] { pushToDocument(); };
  connect(kind_, &QComboBox::currentIndexChanged, this, push);
  connect(epochs_, &QSpinBox::valueChanged, this, push);
  connect(batchSize_, &QSpinBox::valueChanged, this, push);
  connect(optimizer_, &QComboBox::currentIndexChanged, this, push);
  connect(learningRate_, &QDoubleSpinBox::valueChanged, this, push);
  connect(schedule_, &QComboBox::currentIndexChanged, this, push);
  connect(calibration_, &QSpinBox::valueChanged, this, push);
  connect(seed_, &QSpinBox::valueChanged, this, push);
  connect(maxSamples_, &QSpinBox::valueChanged, this, push);
  connect(evaluationSamples_, &QSpinBox::valueChanged, this, push);
  connect(freezeBn_, &QSpinBox::valueChanged, this, [this](int step) {
    if (step != document_->quantizeConfig().freezeBnStep) document_->setFreezeBnStep(step);
  });

  connect(document_, &ProjectDocument::trainingSettingsChanged, this, &TrainingSettingsForm::syncFromDocument);
  connect(document_, &ProjectDocument::quantizeConfigChanged, this, &TrainingSettingsForm::syncFromDocument);
  connect(document_, &ProjectDocument::modelChanged, this, &TrainingSettingsForm::syncFromDocument);
  connect(document_, &ProjectDocument::dataChanged, this, [this] {
    // "All" is the special value; a larger count than the data has means all anyway.
    const Dataset* train = document_->trainData();
    maxSamples_->setMaximum(train ? static_cast<int>(std::min<size_t>(train->size(), kIntMax)) : kIntMax);
  });
  syncFromDocument();
}

void TrainingSettingsForm::syncFromDocument() {
  const TrainingSettings& s = document_->trainingSettings();
  const QSignalBlocker b0(kind_), b1(epochs_), b2(batchSize_), b3(optimizer_), b4(learningRate_), b5(schedule_),
      b6(freezeBn_), b7(calibration_), b8(seed_), b9(maxSamples_), b10(evaluationSamples_);
  kind_->setCurrentIndex(kind_->findData(static_cast<int>(s.kind)));
  epochs_->setValue(s.epochs);
  batchSize_->setValue(s.batchSize);
  optimizer_->setCurrentIndex(optimizer_->findData(static_cast<int>(s.optimizer)));
  learningRate_->setValue(s.learningRate);
  schedule_->setCurrentIndex(schedule_->findData(static_cast<int>(s.schedule)));
  calibration_->setValue(s.calibrationBatches);
  seed_->setValue(static_cast<int>(std::min<quint64>(s.seed, std::numeric_limits<int>::max())));
  maxSamples_->setValue(s.maxTrainSamples);
  evaluationSamples_->setValue(s.evaluationSamples);
  const quant::QuantizeConfig& config = document_->quantizeConfig();
  freezeBn_->setValue(static_cast<int>(std::clamp<long>(config.freezeBnStep, -1, std::numeric_limits<int>::max())));
  // The freeze step only acts on folded Conv/Dense + BatchNorm pairs.
  const bool fold = config.bnMode == quant::BnMode::Fold;
  freezeBn_->setEnabled(fold && kind_->isEnabled());
  freezeBn_->setToolTip(fold ? tr("Optimizer steps after which BatchNorm statistics stop updating "
                                  "(the folded weights settle for the integer export).")
                             : tr("Only in the fold BatchNorm mode (chosen in the layer inspector)."));
  updateRows();
}

void TrainingSettingsForm::pushToDocument() {
  TrainingSettings s = document_->trainingSettings();  // keeps fields this form does not show
  s.kind = static_cast<RunKind>(kind_->currentData().toInt());
  s.epochs = epochs_->value();
  s.batchSize = batchSize_->value();
  s.optimizer = static_cast<OptimizerKind>(optimizer_->currentData().toInt());
  s.learningRate = learningRate_->value();
  s.schedule = static_cast<ScheduleKind>(schedule_->currentData().toInt());
  s.calibrationBatches = calibration_->value();
  s.seed = static_cast<quint64>(seed_->value());
  s.maxTrainSamples = maxSamples_->value();
  s.evaluationSamples = evaluationSamples_->value();
  document_->setTrainingSettings(s);
  updateRows();
}

void TrainingSettingsForm::updateRows() {
  const auto kind = static_cast<RunKind>(kind_->currentData().toInt());
  const bool trains = kind != RunKind::PostTraining;
  for (QWidget* w : {static_cast<QWidget*>(epochs_), static_cast<QWidget*>(optimizer_),
                     static_cast<QWidget*>(learningRate_), static_cast<QWidget*>(schedule_)})
    form_->setRowVisible(w, trains);
  form_->setRowVisible(freezeBn_, kind == RunKind::Qat);
  form_->setRowVisible(calibration_, kind != RunKind::Float);
}

bool TrainingSettingsForm::isRowShown(QWidget* field) const {
  int row = -1;
  QFormLayout::ItemRole role;
  form_->getWidgetPosition(field, &row, &role);
  return row >= 0 && form_->isRowVisible(row);
}

void TrainingSettingsForm::setEditable(bool editable) {
  for (QWidget* w : {static_cast<QWidget*>(kind_), static_cast<QWidget*>(epochs_), static_cast<QWidget*>(batchSize_),
                     static_cast<QWidget*>(optimizer_), static_cast<QWidget*>(learningRate_),
                     static_cast<QWidget*>(schedule_), static_cast<QWidget*>(calibration_),
                     static_cast<QWidget*>(seed_), static_cast<QWidget*>(maxSamples_),
                     static_cast<QWidget*>(evaluationSamples_)})
    w->setEnabled(editable);
  freezeBn_->setEnabled(editable && document_->quantizeConfig().bnMode == quant::BnMode::Fold);
}

}  // namespace qat::ui
