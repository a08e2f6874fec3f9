#pragma once
// TrainingController: runs qat::Trainer::fit on a worker QThread and hands the result back
// on the GUI thread.
//
// Ownership and threads:
//   - start() deep-copies the model (Model::clone) into a job; the worker trains the copy,
//     so the GUI thread may keep reading the document's model during a run. The data sets
//     are immutable and shared (shared_ptr<const Dataset>); the worker builds its own
//     training subset from them.
//   - The worker's TrainObserver runs ON THE WORKER THREAD. It pushes every BatchEvent and
//     EpochEvent into the MetricsQueue (a mutex-protected buffer, no signal per batch);
//     views drain it from a GUI timer (pull model, see TrainingPanel).
//   - Cancel is a std::atomic<bool> that Trainer::fit checks before every batch. Pause
//     blocks the observer on a condition variable after a batch; cancel wakes it.
//   - When the thread has finished, finished() is emitted on the GUI thread and
//     takeOutcome() moves the trained model out (the document copies the weights back).
#include <QObject>
#include <QString>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/graph/model.h"
#include "engine/project/pipeline.h"
#include "engine/train/trainer.h"

class QThread;

namespace qat::ui {

// Metrics from the worker thread to the GUI. Producers push; one consumer drains.
class MetricsQueue {
 public:
  struct Batch {
    std::vector<BatchEvent> batches;
    std::vector<EpochEvent> epochs;
    bool empty() const { return batches.empty() && epochs.empty(); }
  };

  void push(const BatchEvent& e);
  void push(const EpochEvent& e);
  // Everything pushed since the last drain, in order. O(1) under the lock (swaps buffers).
  Batch drain();
  void clear();

  // If nobody drains (no view open), the oldest half of the batch events is dropped when
  // this many are waiting, so a long headless run cannot grow memory without bound.
  static constexpr size_t kMaxPending = 1 << 16;

 private:
  std::mutex mutex_;
  Batch pending_;
};

// What the user chose in the training panel; becomes a project::RunRequest per run.
struct TrainingSettings {
  project::RunKind kind = project::RunKind::Float;  // what Run ▸ Train starts
  int epochs = 5;
  int batchSize = 64;
  double learningRate = 1e-3;
  OptimizerKind optimizer = OptimizerKind::Adam;
  ScheduleKind schedule = ScheduleKind::Constant;  // Cosine: to 0 over the run; Step: ×0.1 each epoch
  quint64 seed = 42;
  int maxTrainSamples = 0;     // 0: the whole training set
  int calibrationBatches = 32; // PTQ / QAT: calibration batches before training
  int evaluationSamples = 0;   // test samples each run is evaluated on (0: all)
  bool operator==(const TrainingSettings&) const = default;
};

// Result of one job, available after finished().
struct TrainingOutcome {
  bool ok = false;
  bool cancelled = false;
  QString message;             // the engine's error (e.g. a NaN loss) or a short summary
  TrainSummary summary;
  std::optional<EvalResult> finalValidation;  // the model as it ended, on the validation set
  std::optional<project::RunResult> run;      // a run job's result (absent on error)
  std::vector<project::Run> evaluated;        // an evaluation job's refreshed / new runs
};

// A job runs on the worker thread with the controller's observer (metrics queue, pause)
// and cancel flag, and returns its outcome.
using TrainingJob = std::function<TrainingOutcome(TrainObserver& observer, const std::atomic<bool>& cancel)>;

class TrainingController : public QObject {
  Q_OBJECT
 public:
  explicit TrainingController(QObject* parent = nullptr);
  ~TrainingController() override;  // cancels and joins a running worker

  // Starts `job` on the worker thread. totalSteps: optimizer steps it will take (for the
  // progress bar; 0 when unknown). Returns false (and emits nothing) if a job is going.
  bool start(TrainingJob job, long totalSteps);
  void cancel();
  void setPaused(bool paused);
  bool isRunning() const { return thread_ != nullptr; }
  bool isPaused() const;
  // Total optimizer steps of the current run (epochs × batches per epoch), for progress.
  long totalSteps() const { return totalSteps_; }

  MetricsQueue& metrics() { return queue_; }
  // Moves the outcome of the last finished run out; call from a finished() handler.
  TrainingOutcome takeOutcome();

  // The engine's training set-up for the settings: loss, optimizer, schedule over
  // `stepsPerEpoch` steps per epoch.
  static TrainConfig makeConfig(const TrainingSettings& s, const LossSpec& loss, long stepsPerEpoch);

 signals:
  void started();
  void pausedChanged(bool paused);
  void finished(bool ok, const QString& message);

 private:
  class Observer;
  void onThreadFinished();

  MetricsQueue queue_;
  std::atomic<bool> cancel_{false};
  mutable std::mutex pauseMutex_;
  std::condition_variable pauseCv_;
  bool paused_ = false;  // guarded by pauseMutex_
  QThread* thread_ = nullptr;  // owned; deleted in onThreadFinished / destructor
  long totalSteps_ = 0;
  TrainingOutcome outcome_;  // written by the worker, read after the thread finished
};

}  // namespace qat::ui
