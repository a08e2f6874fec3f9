#include "ui/training_controller.h"

#include <QThread>

#include <algorithm>
#include <cmath>

#include "engine/core/threading.h"

namespace qat::ui {

// ---- MetricsQueue ----------------------------------------------------------------------

void MetricsQueue::push(const BatchEvent& e) {
  std::lock_guard lock(mutex_);
  auto& b = pending_.batches;
  if (b.size() >= kMaxPending) b.erase(b.begin(), b.begin() + static_cast<long>(b.size() / 2));
  b.push_back(e);
}

void MetricsQueue::push(const EpochEvent& e) {
  std::lock_guard lock(mutex_);
  pending_.epochs.push_back(e);
}

MetricsQueue::Batch MetricsQueue::drain() {
  Batch out;
  std::lock_guard lock(mutex_);
  std::swap(out, pending_);
  return out;
}

void MetricsQueue::clear() {
  std::lock_guard lock(mutex_);
  pending_ = Batch{};
}

// ---- Observer (worker thread) ----------------------------------------------------------

// Runs inside Trainer::fit on the worker thread: records the event, then parks while the
// user has paused. The trainer checks the cancel flag before the next batch, so a cancel
// during a pause ends the run right after waking up.
class TrainingController::Observer final : public TrainObserver {
 public:
  explicit Observer(TrainingController& c) : c_(c) {}
  void onBatch(const BatchEvent& e) override {
    c_.queue_.push(e);
    std::unique_lock lock(c_.pauseMutex_);
    c_.pauseCv_.wait(lock, [this] { return !c_.paused_ || c_.cancel_.load(); });
  }
  void onEpoch(const EpochEvent& e) override { c_.queue_.push(e); }

 private:
  TrainingController& c_;
};

// ---- TrainingController ----------------------------------------------------------------

TrainingController::TrainingController(QObject* parent) : QObject(parent) {}

TrainingController::~TrainingController() {
  if (thread_) {
    cancel();
    thread_->wait();
    delete thread_;
    thread_ = nullptr;
  }
}

TrainConfig TrainingController::makeConfig(const TrainingSettings& s) {
  TrainConfig c;
  c.epochs = s.epochs;
  c.batchSize = s.batchSize;
  c.seed = s.seed;
  c.shuffle = true;
  // Built-in models end in logits (engine/models/builtin.h).
  c.loss = LossSpec{LossKind::SparseCategoricalCrossentropy, true};
  c.optimizer.kind = s.optimizer;
  c.optimizer.learningRate = static_cast<float>(s.learningRate);
  if (s.optimizer == OptimizerKind::AdamW) c.optimizer.weightDecay = 0.004f;  // Keras default
  return c;
}

bool TrainingController::start(const Model& model, std::shared_ptr<const Dataset> train,
                               std::shared_ptr<const Dataset> validation,
                               const TrainingSettings& settings, std::optional<LossSpec> loss) {
  if (thread_ || !train) return false;
  cancel_.store(false);
  {
    std::lock_guard lock(pauseMutex_);
    paused_ = false;
  }
  queue_.clear();
  outcome_ = TrainingOutcome{};

  const long n = settings.maxTrainSamples > 0
                     ? std::min<long>(settings.maxTrainSamples, static_cast<long>(train->size()))
                     : static_cast<long>(train->size());
  const long bs = std::max<long>(1, std::min<long>(settings.batchSize, n));
  totalSteps_ = n > 0 ? (n + bs - 1) / bs * settings.epochs : 0;

  // OpenMP's thread count is a per-thread setting: hand the GUI thread's value on.
  const int engineThreads = threadCount();
  thread_ = QThread::create([this, m = model.clone(), train = std::move(train),
                             validation = std::move(validation), settings, loss, engineThreads]() mutable {
    runJob(std::move(m), std::move(train), std::move(validation), settings, loss, engineThreads);
  });
  thread_->setObjectName(QStringLiteral("qat-training"));
  connect(thread_, &QThread::finished, this, &TrainingController::onThreadFinished);
  thread_->start();
  emit started();
  return true;
}

void TrainingController::runJob(Model model, std::shared_ptr<const Dataset> train,
                                std::shared_ptr<const Dataset> validation,
                                TrainingSettings settings, std::optional<LossSpec> loss,
                                int engineThreads) {
  setThreadCount(engineThreads);
  TrainingOutcome out;
  Dataset limited;
  const Dataset* trainData = train.get();
  if (settings.maxTrainSamples > 0 && static_cast<size_t>(settings.maxTrainSamples) < train->size()) {
    limited = subset(*train, static_cast<size_t>(settings.maxTrainSamples));
    trainData = &limited;
  }
  TrainConfig config = makeConfig(settings);
  if (loss) config.loss = *loss;
  Trainer trainer(model, config);
  Observer observer(*this);
  auto result = trainer.fit(*trainData, validation.get(), &observer, &cancel_);
  if (!result.ok()) {
    out.ok = false;
    out.message = QString::fromStdString(result.error().message);
  } else {
    out.ok = true;
    out.summary = std::move(result.value());
    out.cancelled = out.summary.cancelled;
    // A cancelled epoch was not validated: evaluate the weights the run ended with, so
    // the panel can report the accuracy of the model the document now holds.
    if (validation) {
      if (!out.summary.epochs.empty() && out.summary.epochs.back().validation && !out.cancelled) {
        out.finalValidation = out.summary.epochs.back().validation;
      } else if (out.summary.steps > 0) {
        auto v = trainer.evaluate(*validation);
        if (v.ok()) out.finalValidation = v.value();
      }
    }
    out.message = (out.cancelled ? tr("Stopped after %1 steps (%2 s, %3 samples/s).")
                                 : tr("Trained %1 steps in %2 s (%3 samples/s)."))
                      .arg(out.summary.steps)
                      .arg(out.summary.seconds, 0, 'f', 1)
                      .arg(std::lround(out.summary.samplesPerSec));
    out.model = std::move(model);
  }
  outcome_ = std::move(out);
}

void TrainingController::cancel() {
  // Set the flag under the pause mutex so a paused observer cannot miss the wake-up.
  std::lock_guard lock(pauseMutex_);
  cancel_.store(true);
  pauseCv_.notify_all();
}

void TrainingController::setPaused(bool paused) {
  {
    std::lock_guard lock(pauseMutex_);
    if (paused_ == paused || (!thread_ && paused)) return;
    paused_ = paused;
  }
  pauseCv_.notify_all();
  emit pausedChanged(paused);
}

bool TrainingController::isPaused() const {
  std::lock_guard lock(pauseMutex_);
  return paused_;
}

void TrainingController::onThreadFinished() {
  thread_->wait();
  delete thread_;
  thread_ = nullptr;
  bool wasPaused = false;
  {
    std::lock_guard lock(pauseMutex_);
    std::swap(wasPaused, paused_);
  }
  if (wasPaused) emit pausedChanged(false);
  emit finished(outcome_.ok, outcome_.message);
}

TrainingOutcome TrainingController::takeOutcome() { return std::move(outcome_); }

}  // namespace qat::ui
