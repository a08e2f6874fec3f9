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
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/graph/model.h"
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

// What the user chose in the training panel; becomes a TrainConfig per run.
struct TrainingSettings {
  int epochs = 5;
  int batchSize = 64;
  double learningRate = 1e-3;
  OptimizerKind optimizer = OptimizerKind::Adam;
  quint64 seed = 42;
  int maxTrainSamples = 0;  // 0: the whole training set
  bool operator==(const TrainingSettings&) const = default;
};

// Result of one run, available after finished().
struct TrainingOutcome {
  bool ok = false;
  bool cancelled = false;
  QString message;             // the engine's error (e.g. a NaN loss) or a short summary
  TrainSummary summary;
  std::optional<EvalResult> finalValidation;  // the model as it ended, on the validation set
  std::optional<Model> model;  // the trained copy (absent on error)
};

class TrainingController : public QObject {
  Q_OBJECT
 public:
  explicit TrainingController(QObject* parent = nullptr);
  ~TrainingController() override;  // cancels and joins a running worker

  // Starts a run on a copy of `model`. Returns false (and emits nothing) if a run is
  // already going. `validation` may be null. `loss` defaults to makeConfig's.
  bool start(const Model& model, std::shared_ptr<const Dataset> train,
             std::shared_ptr<const Dataset> validation, const TrainingSettings& settings,
             std::optional<LossSpec> loss = std::nullopt);
  void cancel();
  void setPaused(bool paused);
  bool isRunning() const { return thread_ != nullptr; }
  bool isPaused() const;
  // Total optimizer steps of the current run (epochs × batches per epoch), for progress.
  long totalSteps() const { return totalSteps_; }

  MetricsQueue& metrics() { return queue_; }
  // Moves the outcome of the last finished run out; call from a finished() handler.
  TrainingOutcome takeOutcome();

  static TrainConfig makeConfig(const TrainingSettings& s);

 signals:
  void started();
  void pausedChanged(bool paused);
  void finished(bool ok, const QString& message);

 private:
  class Observer;
  void onThreadFinished();
  void runJob(Model model, std::shared_ptr<const Dataset> train,
              std::shared_ptr<const Dataset> validation, TrainingSettings settings,
              std::optional<LossSpec> loss, int engineThreads);

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
