#include "ui/training_panel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

#include <cmath>
#include <limits>

#include "ui/live_plots.h"
#include "ui/project_document.h"

namespace qat::ui {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

QString formatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return QStringLiteral("–");
  const long s = std::lround(seconds);
  if (s >= 3600)
    return QStringLiteral("%1:%2:%3").arg(s / 3600).arg(s / 60 % 60, 2, 10, QLatin1Char('0')).arg(s % 60, 2, 10, QLatin1Char('0'));
  return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

}  // namespace

TrainingPanel::TrainingPanel(ProjectDocument* document, QWidget* parent)
    : QWidget(parent), document_(document), firstLoss_(kNaN), lastLoss_(kNaN) {
  buildUi();
  refreshTimer_.setInterval(kRefreshIntervalMs);
  connect(&refreshTimer_, &QTimer::timeout, this, &TrainingPanel::drain);

  connect(document_, &ProjectDocument::trainingSettingsChanged, this,
          &TrainingPanel::syncSettingsFromDocument);
  connect(document_, &ProjectDocument::dataChanged, this, &TrainingPanel::updateDataInfo);
  connect(document_, &ProjectDocument::modelChanged, this, [this] {
    result_->setText(tr("Model not trained yet."));
    updateButtons();
  });
  connect(document_, &ProjectDocument::trainingStarted, this, &TrainingPanel::onStarted);
  connect(document_, &ProjectDocument::trainingPausedChanged, this, [this](bool paused) {
    if (paused) progressText_->setText(tr("Paused after the current batch. Resume to go on."));
    updateButtons();
  });
  connect(document_, &ProjectDocument::trainingFinished, this, &TrainingPanel::onFinished);

  syncSettingsFromDocument();
  updateDataInfo();
  updateButtons();
}

void TrainingPanel::buildUi() {
  // ---- settings column ----
  auto* settingsBox = new QGroupBox(tr("Training settings"), this);
  auto* form = new QFormLayout(settingsBox);
  epochs_ = new QSpinBox(settingsBox);
  epochs_->setRange(1, 1000);
  batchSize_ = new QSpinBox(settingsBox);
  batchSize_->setRange(1, 65536);
  learningRate_ = new QDoubleSpinBox(settingsBox);
  learningRate_->setDecimals(6);
  learningRate_->setRange(1e-6, 10.0);
  learningRate_->setSingleStep(1e-4);
  optimizer_ = new QComboBox(settingsBox);
  optimizer_->addItem(tr("Adam"), static_cast<int>(OptimizerKind::Adam));
  optimizer_->addItem(tr("AdamW"), static_cast<int>(OptimizerKind::AdamW));
  optimizer_->addItem(tr("SGD"), static_cast<int>(OptimizerKind::SGD));
  seed_ = new QSpinBox(settingsBox);
  seed_->setRange(0, std::numeric_limits<int>::max());
  maxSamples_ = new QSpinBox(settingsBox);
  maxSamples_->setRange(0, std::numeric_limits<int>::max());
  maxSamples_->setSingleStep(1000);
  maxSamples_->setSpecialValueText(tr("all"));
  maxSamples_->setToolTip(tr("Train on the first N samples of the training set (0 = all)."));
  form->addRow(tr("&Epochs:"), epochs_);
  form->addRow(tr("&Batch size:"), batchSize_);
  form->addRow(tr("&Learning rate:"), learningRate_);
  form->addRow(tr("&Optimizer:"), optimizer_);
  form->addRow(tr("&Seed:"), seed_);
  form->addRow(tr("Training &samples:"), maxSamples_);

  trainButton_ = new QPushButton(tr("Train"), this);
  trainButton_->setToolTip(tr("Train the model with these settings (F5)"));
  pauseButton_ = new QPushButton(tr("Pause"), this);
  pauseButton_->setCheckable(true);
  stopButton_ = new QPushButton(tr("Stop"), this);
  stopButton_->setToolTip(tr("Stop after the current batch; the model keeps the weights it has (Shift+F5)"));
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(trainButton_);
  buttons->addWidget(pauseButton_);
  buttons->addWidget(stopButton_);

  blocker_ = new QLabel(this);
  blocker_->setWordWrap(true);
  blocker_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  blocker_->setStyleSheet(QStringLiteral("color: #b00020"));
  blocker_->hide();
  dataInfo_ = new QLabel(this);
  dataInfo_->setWordWrap(true);
  result_ = new QLabel(tr("Model not trained yet."), this);
  result_->setWordWrap(true);
  result_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* left = new QVBoxLayout;
  left->addWidget(settingsBox);
  left->addLayout(buttons);
  left->addWidget(blocker_);
  left->addSpacing(8);
  left->addWidget(dataInfo_);
  left->addWidget(result_);
  left->addStretch(1);

  // ---- progress and plots ----
  progress_ = new QProgressBar(this);
  progress_->setRange(0, 1000);
  progress_->setValue(0);
  progress_->setTextVisible(true);
  progressText_ = new QLabel(tr("Ready."), this);
  lossPlot_ = new LossPlot(this);
  accuracyPlot_ = new AccuracyPlot(this);
  auto* plots = new QSplitter(Qt::Vertical, this);
  plots->addWidget(lossPlot_);
  plots->addWidget(accuracyPlot_);
  plots->setStretchFactor(0, 3);
  plots->setStretchFactor(1, 2);
  plots->setChildrenCollapsible(false);

  auto* right = new QVBoxLayout;
  right->addWidget(progress_);
  right->addWidget(progressText_);
  right->addWidget(plots, 1);

  auto* top = new QHBoxLayout(this);
  auto* leftHolder = new QWidget(this);
  leftHolder->setLayout(left);
  leftHolder->setMaximumWidth(300);
  left->setContentsMargins(0, 0, 0, 0);
  top->addWidget(leftHolder);
  top->addLayout(right, 1);

  auto push = [this] { pushSettingsToDocument(); };
  connect(epochs_, &QSpinBox::valueChanged, this, push);
  connect(batchSize_, &QSpinBox::valueChanged, this, push);
  connect(learningRate_, &QDoubleSpinBox::valueChanged, this, push);
  connect(optimizer_, &QComboBox::currentIndexChanged, this, push);
  connect(seed_, &QSpinBox::valueChanged, this, push);
  connect(maxSamples_, &QSpinBox::valueChanged, this, push);
  connect(trainButton_, &QPushButton::clicked, this, &TrainingPanel::startTraining);
  connect(pauseButton_, &QPushButton::clicked, this, &TrainingPanel::togglePause);
  connect(stopButton_, &QPushButton::clicked, this, &TrainingPanel::stopTraining);
}

void TrainingPanel::syncSettingsFromDocument() {
  const TrainingSettings& s = document_->trainingSettings();
  const QSignalBlocker b1(epochs_), b2(batchSize_), b3(learningRate_), b4(optimizer_), b5(seed_),
      b6(maxSamples_);
  epochs_->setValue(s.epochs);
  batchSize_->setValue(s.batchSize);
  learningRate_->setValue(s.learningRate);
  optimizer_->setCurrentIndex(optimizer_->findData(static_cast<int>(s.optimizer)));
  seed_->setValue(static_cast<int>(std::min<quint64>(s.seed, std::numeric_limits<int>::max())));
  maxSamples_->setValue(s.maxTrainSamples);
}

void TrainingPanel::pushSettingsToDocument() {
  TrainingSettings s;
  s.epochs = epochs_->value();
  s.batchSize = batchSize_->value();
  s.learningRate = learningRate_->value();
  s.optimizer = static_cast<OptimizerKind>(optimizer_->currentData().toInt());
  s.seed = static_cast<quint64>(seed_->value());
  s.maxTrainSamples = maxSamples_->value();
  document_->setTrainingSettings(s);
}

void TrainingPanel::updateDataInfo() {
  const Dataset* train = document_->trainData();
  const Dataset* val = document_->validationData();
  if (!train) {
    dataInfo_->setText(tr("<b>No training data loaded.</b>"));
  } else {
    dataInfo_->setText(tr("Data: %1 training samples, %2 validation samples %3.")
                           .arg(train->size())
                           .arg(val ? val->size() : 0)
                           .arg(val ? tr("(Fashion-MNIST test set)") : QString()));
    maxSamples_->setMaximum(static_cast<int>(train->size()));
  }
  updateButtons();
}

void TrainingPanel::updateButtons() {
  const bool running = document_->isTraining();
  // Why the model cannot be trained on the loaded data (input shape, classes ...), shown
  // under the disabled Train button rather than as a failed run.
  const QString blocker = running ? QString() : document_->trainingBlocker();
  trainButton_->setEnabled(!running && blocker.isEmpty());
  trainButton_->setToolTip(blocker.isEmpty() ? tr("Train the model with these settings (F5)") : blocker);
  blocker_->setText(blocker);
  blocker_->setVisible(!blocker.isEmpty() && document_->hasModel() && document_->trainData());
  pauseButton_->setEnabled(running);
  stopButton_->setEnabled(running);
  const bool paused = running && document_->isTrainingPaused();
  pauseButton_->setChecked(paused);
  pauseButton_->setText(paused ? tr("Resume") : tr("Pause"));
  for (QWidget* w : {static_cast<QWidget*>(epochs_), static_cast<QWidget*>(batchSize_),
                     static_cast<QWidget*>(learningRate_), static_cast<QWidget*>(optimizer_),
                     static_cast<QWidget*>(seed_), static_cast<QWidget*>(maxSamples_)})
    w->setEnabled(!running);
}

void TrainingPanel::startTraining() {
  QString error;
  if (!document_->startTraining(&error)) {
    progressText_->setText(QStringLiteral("<span style='color:#b00020'>%1</span>").arg(error.toHtmlEscaped()));
  }
}

void TrainingPanel::togglePause() {
  if (document_->isTraining()) document_->setTrainingPaused(!document_->isTrainingPaused());
  updateButtons();
}

void TrainingPanel::stopTraining() {
  if (!document_->isTraining()) return;
  document_->stopTraining();
  progressText_->setText(tr("Stopping after the current batch…"));
}

void TrainingPanel::onStarted() {
  epochsPlanned_ = document_->trainingSettings().epochs;
  firstLoss_ = lastLoss_ = kNaN;
  lossPlot_->reset(document_->trainingTotalSteps());
  accuracyPlot_->reset(epochsPlanned_);
  progress_->setValue(0);
  progressText_->setText(tr("Starting…"));
  result_->setText(tr("Training…"));
  refreshTimer_.start();
  updateButtons();
}

void TrainingPanel::drain() {
  MetricsQueue::Batch batch = document_->trainingMetrics().drain();
  if (batch.empty()) return;
  for (const BatchEvent& e : batch.batches) {
    if (std::isnan(firstLoss_)) firstLoss_ = e.loss;
    lastLoss_ = e.loss;
    lossPlot_->addBatch(e.step, e.loss);
  }
  for (const EpochEvent& e : batch.epochs) {
    accuracyPlot_->addEpoch(e.epoch, e.accuracy,
                            e.validation ? std::optional<double>(e.validation->accuracy) : std::nullopt);
  }
  if (!batch.batches.empty()) {
    const BatchEvent& e = batch.batches.back();
    const long total = std::max(1L, document_->trainingTotalSteps());
    progress_->setValue(static_cast<int>(1000 * (e.step + 1) / total));
    const QString paused = document_->isTrainingPaused() ? tr("Paused · ") : QString();
    progressText_->setText(paused + tr("Epoch %1/%2 · step %3/%4 · loss %5 · %6 samples/s · ETA %7")
                               .arg(e.epoch + 1)
                               .arg(epochsPlanned_)
                               .arg(e.step + 1)
                               .arg(total)
                               .arg(lossPlot_->lastSmoothed(), 0, 'f', 4)
                               .arg(std::lround(e.samplesPerSec))
                               .arg(formatDuration(e.etaSeconds)));
  }
  lossPlot_->replot(QCustomPlot::rpQueuedReplot);
  if (!batch.epochs.empty()) accuracyPlot_->replot(QCustomPlot::rpQueuedReplot);
}

void TrainingPanel::refreshNow() {
  drain();
  lossPlot_->replot();
  accuracyPlot_->replot();
}

void TrainingPanel::onFinished(bool ok, const QString& message) {
  refreshTimer_.stop();
  drain();  // the events of the last batches and epoch
  lossPlot_->replot(QCustomPlot::rpQueuedReplot);
  accuracyPlot_->replot(QCustomPlot::rpQueuedReplot);
  const TrainingOutcome* out = document_->lastTrainingOutcome();
  if (!ok) {
    progressText_->setText(QStringLiteral("<span style='color:#b00020'>%1</span>")
                               .arg(message.toHtmlEscaped()));
    result_->setText(tr("Training failed; the model keeps its previous weights."));
  } else {
    if (!out || !out->cancelled) progress_->setValue(progress_->maximum());
    progressText_->setText(message);
    if (out && out->finalValidation) {
      result_->setText(tr("<b>Test accuracy: %1 %</b><br>test loss %2 on %3 samples")
                           .arg(100 * out->finalValidation->accuracy, 0, 'f', 2)
                           .arg(out->finalValidation->loss, 0, 'f', 4)
                           .arg(out->finalValidation->samples));
    } else {
      result_->setText(tr("Trained (no validation data)."));
    }
  }
  updateButtons();
}

}  // namespace qat::ui
