#include "ui/training_panel.h"

#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QVBoxLayout>

#include <cmath>
#include <limits>

#include "ui/live_plots.h"
#include "ui/project_document.h"
#include "ui/training_settings_form.h"

namespace qat::ui {

using project::RunKind;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

QString formatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return QStringLiteral("–");
  const long s = std::lround(seconds);
  if (s >= 3600)
    return QStringLiteral("%1:%2:%3").arg(s / 3600).arg(s / 60 % 60, 2, 10, QLatin1Char('0')).arg(s % 60, 2, 10, QLatin1Char('0'));
  return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

// An accuracy in [0, 1] as "87.25 %", or "–" when the run did not measure it (-1).
QString percent(double accuracy) {
  return accuracy < 0 ? QStringLiteral("–") : QStringLiteral("%1 %").arg(100 * accuracy, 0, 'f', 2);
}

QString startText(RunKind kind) {
  switch (kind) {
    case RunKind::Float: return TrainingPanel::tr("Train");
    case RunKind::PostTraining: return TrainingPanel::tr("Calibrate");
    case RunKind::Qat: return TrainingPanel::tr("Train QAT");
  }
  return {};
}

}  // namespace

TrainingPanel::TrainingPanel(ProjectDocument* document, QWidget* parent)
    : QWidget(parent), document_(document), firstLoss_(kNaN), lastLoss_(kNaN) {
  buildUi();
  refreshTimer_.setInterval(kRefreshIntervalMs);
  connect(&refreshTimer_, &QTimer::timeout, this, &TrainingPanel::drain);

  connect(document_, &ProjectDocument::trainingSettingsChanged, this, &TrainingPanel::updateButtons);
  connect(document_, &ProjectDocument::quantizeConfigChanged, this, &TrainingPanel::updateButtons);
  connect(document_, &ProjectDocument::dataChanged, this, &TrainingPanel::updateDataInfo);
  connect(document_, &ProjectDocument::modelChanged, this, [this] {
    lastRunId_ = 0;
    result_->setText(tr("No run yet."));
    updateButtons();
  });
  connect(document_, &ProjectDocument::trainingStarted, this, &TrainingPanel::onStarted);
  connect(document_, &ProjectDocument::trainingPausedChanged, this, [this](bool paused) {
    if (paused) progressText_->setText(tr("Paused after the current batch. Resume to go on."));
    updateButtons();
  });
  connect(document_, &ProjectDocument::trainingFinished, this, &TrainingPanel::onFinished);
  connect(document_, &ProjectDocument::evaluationFinished, this, &TrainingPanel::onEvaluationFinished);
  connect(document_, &ProjectDocument::runAdded, this, &TrainingPanel::showRun);
  connect(document_, &ProjectDocument::runChanged, this, [this](int id) {
    if (id == lastRunId_) showRun(id);  // re-evaluated (Run ▸ Evaluate) or renamed
  });
  connect(document_, &ProjectDocument::runRemoved, this, [this](int id) {
    if (id != lastRunId_) return;
    lastRunId_ = 0;
    result_->setText(tr("No run yet."));
  });

  updateDataInfo();
  updateButtons();
}

void TrainingPanel::buildUi() {
  // ---- settings column ----
  auto* settingsBox = new QGroupBox(tr("Run settings"), this);
  auto* settingsLayout = new QVBoxLayout(settingsBox);
  form_ = new TrainingSettingsForm(document_, settingsBox);
  settingsLayout->addWidget(form_);

  trainButton_ = new QPushButton(tr("Train"), this);
  pauseButton_ = new QPushButton(tr("Pause"), this);
  pauseButton_->setCheckable(true);
  stopButton_ = new QPushButton(tr("Stop"), this);
  stopButton_->setToolTip(tr("Stop after the current batch; the run keeps the weights it reached and is "
                             "evaluated and added (Shift+F5)"));
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
  auto* resultBox = new QGroupBox(tr("Last run"), this);
  auto* resultLayout = new QVBoxLayout(resultBox);
  result_ = new QLabel(tr("No run yet."), resultBox);
  result_->setWordWrap(true);
  result_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  resultLayout->addWidget(result_);

  auto* left = new QVBoxLayout;
  left->addWidget(settingsBox);
  left->addLayout(buttons);
  left->addWidget(blocker_);
  left->addWidget(dataInfo_);
  left->addWidget(resultBox);
  left->addStretch(1);

  // ---- progress and plots ----
  progress_ = new QProgressBar(this);
  progress_->setRange(0, 1000);
  progress_->setValue(0);
  progress_->setTextVisible(true);
  progressText_ = new QLabel(tr("Ready."), this);
  message_ = new QLabel(this);
  message_->setWordWrap(true);
  message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  message_->setStyleSheet(QStringLiteral("color: #b00020"));
  message_->hide();
  lossPlot_ = new LossPlot(this);
  epochPlot_ = new EpochPlot(this);
  auto* plots = new QSplitter(Qt::Vertical, this);
  plots->addWidget(lossPlot_);
  plots->addWidget(epochPlot_);
  plots->setStretchFactor(0, 3);
  plots->setStretchFactor(1, 2);
  plots->setChildrenCollapsible(false);

  auto* right = new QVBoxLayout;
  right->addWidget(progress_);
  right->addWidget(progressText_);
  right->addWidget(message_);
  right->addWidget(plots, 1);

  auto* top = new QHBoxLayout(this);
  auto* leftHolder = new QWidget(this);
  leftHolder->setLayout(left);
  leftHolder->setMaximumWidth(320);
  left->setContentsMargins(0, 0, 0, 0);
  top->addWidget(leftHolder);
  top->addLayout(right, 1);

  connect(trainButton_, &QPushButton::clicked, this, &TrainingPanel::startTraining);
  connect(pauseButton_, &QPushButton::clicked, this, &TrainingPanel::togglePause);
  connect(stopButton_, &QPushButton::clicked, this, &TrainingPanel::stopTraining);
}

void TrainingPanel::updateDataInfo() {
  const Dataset* train = document_->trainData();
  const Dataset* val = document_->validationData();
  if (!train) {
    dataInfo_->setText(tr("<b>No data loaded.</b> Choose a data set in the Data panel."));
  } else {
    dataInfo_->setText(tr("Data: %1 training samples, %2 validation samples.")
                           .arg(train->size())
                           .arg(val ? val->size() : 0));
  }
  updateButtons();
}

void TrainingPanel::updateButtons() {
  const bool running = document_->isTraining();
  const RunKind kind = document_->trainingSettings().kind;
  // Why the run cannot start (input shape, classes, nothing ticked ...), shown under the
  // disabled button rather than as a failed run.
  const QString blocker = running ? QString() : document_->runBlocker(kind);
  trainButton_->setText(startText(kind));
  trainButton_->setEnabled(!running && blocker.isEmpty());
  trainButton_->setToolTip(blocker.isEmpty() ? tr("Start a run with these settings (F5)") : blocker);
  blocker_->setText(blocker);
  blocker_->setVisible(!blocker.isEmpty() && document_->hasModel() && document_->trainData());
  pauseButton_->setEnabled(running);
  stopButton_->setEnabled(running);
  const bool paused = running && document_->isTrainingPaused();
  pauseButton_->setChecked(paused);
  pauseButton_->setText(paused ? tr("Resume") : tr("Pause"));
  form_->setEditable(!running);
}

void TrainingPanel::showMessage(const QString& message) {
  message_->setText(message);
  message_->setVisible(!message.isEmpty());
}

void TrainingPanel::startTraining() {
  QString error;
  if (!document_->startTraining(&error)) showMessage(error);
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
  // The worker also runs Run ▸ Evaluate, which trains nothing: the plots keep the last
  // run's curves until this job's first metrics arrive (or a run without steps ends).
  plotsResetPending_ = true;
  epochsPlanned_ = document_->trainingSettings().epochs;
  firstLoss_ = lastLoss_ = kNaN;
  const long total = document_->trainingTotalSteps();
  // Without a step count (calibration, evaluation) the bar only says that work is going on.
  progress_->setRange(0, total > 0 ? 1000 : 0);
  progress_->setValue(0);
  progressText_->setText(total > 0 ? tr("Starting…") : tr("Working…"));
  showMessage({});
  refreshTimer_.start();
  updateButtons();
}

void TrainingPanel::resetPlots() {
  plotsResetPending_ = false;
  lossPlot_->reset(document_->trainingTotalSteps());
  epochPlot_->reset(epochsPlanned_);
}

void TrainingPanel::drain() {
  MetricsQueue::Batch batch = document_->trainingMetrics().drain();
  if (batch.empty()) return;
  if (plotsResetPending_) resetPlots();
  for (const BatchEvent& e : batch.batches) {
    if (std::isnan(firstLoss_)) firstLoss_ = e.loss;
    lastLoss_ = e.loss;
    lossPlot_->addBatch(e.step, e.loss);
  }
  for (const EpochEvent& e : batch.epochs) epochPlot_->addEpoch(e);
  if (!batch.batches.empty()) {
    const BatchEvent& e = batch.batches.back();
    const long total = document_->trainingTotalSteps();
    if (total > 0) progress_->setValue(static_cast<int>(std::min(1000L, 1000 * (e.step + 1) / total)));
    const QString paused = document_->isTrainingPaused() ? tr("Paused · ") : QString();
    progressText_->setText(paused + tr("Epoch %1/%2 · step %3/%4 · loss %5 · %6 samples/s · ETA %7")
                                        .arg(e.epoch + 1)
                                        .arg(std::max(epochsPlanned_, e.epoch + 1))
                                        .arg(e.step + 1)
                                        .arg(std::max(total, e.step + 1))
                                        .arg(lossPlot_->lastSmoothed(), 0, 'f', 4)
                                        .arg(std::lround(e.samplesPerSec))
                                        .arg(formatDuration(e.etaSeconds)));
  }
  lossPlot_->replot(QCustomPlot::rpQueuedReplot);
  if (!batch.epochs.empty()) epochPlot_->replot(QCustomPlot::rpQueuedReplot);
}

void TrainingPanel::refreshNow() {
  drain();
  lossPlot_->replot();
  epochPlot_->replot();
}

void TrainingPanel::onFinished(bool ok, const QString& message) {
  refreshTimer_.stop();
  drain();  // the events of the last batches and epoch
  lossPlot_->replot(QCustomPlot::rpQueuedReplot);
  epochPlot_->replot(QCustomPlot::rpQueuedReplot);
  // A run without step metrics (PTQ): the curves on screen belong to an earlier run.
  if (plotsResetPending_) resetPlots();
  const TrainingOutcome* out = document_->lastTrainingOutcome();
  progress_->setRange(0, 1000);
  if (!ok) {
    showMessage(message.isEmpty() ? tr("The run failed.") : message);
    progressText_->setText(tr("Run failed; the model keeps its previous weights and no run was added."));
  } else {
    const bool cancelled = out && out->cancelled;
    if (!cancelled) progress_->setValue(progress_->maximum());
    progressText_->setText(cancelled ? tr("Stopped; the run keeps the weights it reached. %1").arg(message)
                                     : message);
  }
  updateButtons();
}

void TrainingPanel::onEvaluationFinished(bool ok, const QString& message) {
  refreshTimer_.stop();
  plotsResetPending_ = false;
  progress_->setRange(0, 1000);
  progress_->setValue(ok ? progress_->maximum() : 0);
  progressText_->setText(ok ? message : tr("Evaluation failed."));
  showMessage(ok ? QString() : message);
  updateButtons();
}

void TrainingPanel::showRun(int id) {
  const project::Run* run = document_->run(id);
  if (!run) return;
  lastRunId_ = id;
  const project::RunMetrics& m = run->metrics;
  QString text = tr("<b>%1</b><table>"
                    "<tr><td>Float:</td><td align='right'>%2</td></tr>"
                    "<tr><td>Fake quant:</td><td align='right'>%3</td></tr>"
                    "<tr><td>Integer:</td><td align='right'>%4</td></tr></table>")
                     .arg(QString::fromStdString(run->name).toHtmlEscaped(), percent(m.floatAccuracy),
                          percent(m.fakeQuantAccuracy), percent(m.integerAccuracy));
  if (m.samples > 0) text += tr("on %1 test samples").arg(m.samples);
  if (m.floatWeightBytes > 0)
    text += tr("<br>weights %1 KiB (float %2 KiB)")
                .arg(double(m.weightBytes) / 1024, 0, 'f', 1)
                .arg(double(m.floatWeightBytes) / 1024, 0, 'f', 1);
  if (!m.integerError.empty())
    text += QStringLiteral("<br><small>%1</small>").arg(QString::fromStdString(m.integerError).toHtmlEscaped());
  result_->setText(text);
}

}  // namespace qat::ui
