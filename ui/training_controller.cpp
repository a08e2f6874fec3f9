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

TrainConfig TrainingController::makeConfig(const TrainingSettings& s, const LossSpec& loss, long stepsPerEpoch) {
  TrainConfig c;
  c.epochs = s.epochs;
  c.batchSize = s.batchSize;
  c.seed = s.seed;
  c.shuffle = true;
  c.loss = loss;
  c.optimizer.kind = s.optimizer;
  c.optimizer.learningRate = static_cast<float>(s.learningRate);
  if (s.optimizer == OptimizerKind::AdamW) c.optimizer.weightDecay = 0.004f;  // Keras default
  c.schedule.kind = s.schedule;
  // Step: ×0.1 once per epoch; Cosine: decays over the whole run (no warm-up).
  c.schedule.stepSize = static_cast<int>(std::max<long>(1, stepsPerEpoch));
  return c;
}

bool TrainingController::start(TrainingJob job, long totalSteps) {
  if (thread_ || !job) return false;
  cancel_.store(false);
  {
    std::lock_guard lock(pauseMutex_);
    paused_ = false;
  }
  queue_.clear();
  outcome_ = TrainingOutcome{};
  totalSteps_ = totalSteps;

  // OpenMP's thread count is a per-thread setting: hand the GUI thread's value on.
  const int engineThreads = threadCount();
  thread_ = QThread::create([this, job = std::move(job), engineThreads]() {
    setThreadCount(engineThreads);
    Observer observer(*this);
    outcome_ = job(observer, cancel_);
  });
  thread_->setObjectName(QStringLiteral("qat-training"));
  connect(thread_, &QThread::finished, this, &TrainingController::onThreadFinished);
  thread_->start();
  emit started();
  return true;
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
