#include "engine/train/trainer.h"

#include <chrono>
#include <cmath>
#include <numeric>

#include "engine/train/metrics.h"

namespace qat {
namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Gathers float targets for the rows in `idx`; builds one-hot rows from labels when the
// loss wants one-hot targets but the data set has integer labels.
void gatherLossTargets(const Dataset& d, std::span<const int> idx, LossKind kind, int classes,
                   Tensor& out) {
  if (kind == LossKind::SparseCategoricalCrossentropy) return;
  if (!d.targets.empty()) {
    gatherTargets(d, idx, out);
    return;
  }
  const int n = static_cast<int>(idx.size());
  out.resize(Shape{n, classes});
  out.zero();
  for (int i = 0; i < n; ++i)
    out[static_cast<size_t>(i) * classes + static_cast<size_t>(d.labels[static_cast<size_t>(idx[static_cast<size_t>(i)])])] = 1.0f;
}

}  // namespace

Trainer::Trainer(Model& model, TrainConfig config)
    : model_(model), config_(config), executor_(model) {}

Status Trainer::checkData(const Dataset& d, const char* role) const {
  if (model_.inputs().size() != 1 || model_.outputs().size() != 1)
    return makeError("Training needs a model with one input and one output; '" + model_.name + "' has " +
                     std::to_string(model_.inputs().size()) + " inputs and " +
                     std::to_string(model_.outputs().size()) + " outputs.");
  if (d.size() == 0) return makeError(std::string("The ") + role + " data set is empty.");
  const Shape& want = model_.node(model_.inputs()[0]).shape;
  const Shape got = d.x.shape().withoutBatch();
  if (got != want)
    return makeError(std::string("The ") + role + " data (" + d.source + ") has samples of shape " +
                     got.str() + " but the model input '" +
                     model_.node(model_.inputs()[0]).layer->name() + "' expects " + want.str() +
                     ". Choose a data set that matches the model, or resize the images on load.");
  const Shape& out = model_.node(model_.outputs()[0]).shape;
  const int classes = out.back();
  const bool sparse = config_.loss.kind == LossKind::SparseCategoricalCrossentropy;
  if (sparse || (config_.loss.kind == LossKind::CategoricalCrossentropy && d.targets.empty())) {
    if (d.labels.size() != d.size())
      return makeError(std::string("The ") + role + " data (" + d.source + ") has no class labels.");
    for (size_t i = 0; i < d.labels.size(); ++i)
      if (d.labels[i] < 0 || d.labels[i] >= classes)
        return makeError(std::string("The ") + role + " data (" + d.source + ") has label " +
                         std::to_string(d.labels[i]) + " at sample " + std::to_string(i) +
                         " but the model's output has only " + std::to_string(classes) + " classes.");
  } else if (d.targets.empty() || d.targets.size() / d.size() != out.numel()) {
    return makeError(std::string("The ") + role + " data (" + d.source + ") needs targets of shape " +
                     out.str() + " per sample for the " + std::string(lossName(config_.loss.kind)) + " loss.");
  }
  return {};
}

double Trainer::batchLoss(const Tensor& pred, const std::vector<int>& labels, const Tensor& targets,
                          Tensor& grad) {
  return computeLoss(config_.loss, pred, labels, targets, grad);
}

Expected<TrainSummary> Trainer::fit(const Dataset& trainIn, const Dataset* validationIn,
                                    TrainObserver* observer, const std::atomic<bool>* cancel) {
  // Keras' validation_split: the last fraction of the data, before shuffling.
  Dataset splitTrain, splitVal;
  const Dataset* train = &trainIn;
  const Dataset* validation = validationIn;
  if (!validation && config_.validationSplit > 0.0f) {
    const size_t nVal = static_cast<size_t>(std::floor(trainIn.size() * config_.validationSplit));
    std::vector<int> a(trainIn.size() - nVal), b(nVal);
    std::iota(a.begin(), a.end(), 0);
    std::iota(b.begin(), b.end(), static_cast<int>(a.size()));
    splitTrain = take(trainIn, a);
    splitVal = take(trainIn, b);
    train = &splitTrain;
    validation = nVal > 0 ? &splitVal : nullptr;
  }
  QAT_TRY(checkData(*train, "training"));
  if (validation) QAT_TRY(checkData(*validation, "validation"));
  if (config_.batchSize <= 0) return makeError("The batch size must be positive.");

  const int classes = model_.node(model_.outputs()[0]).shape.back();
  Optimizer opt(config_.optimizer, model_.trainableParams());
  Rng rng(config_.seed);
  RunContext ctx{true, &rng};
  const int n = static_cast<int>(train->size());
  const int bs = std::min(config_.batchSize, n);
  const int batches = (n + bs - 1) / bs;
  const long totalSteps = static_cast<long>(batches) * config_.epochs;
  std::vector<int> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);

  TrainSummary summary;
  const auto runStart = Clock::now();
  double trainSeconds = 0;
  long trainedSamples = 0;
  for (int epoch = 0; epoch < config_.epochs; ++epoch) {
    if (config_.shuffle) std::shuffle(order.begin(), order.end(), rng.engine());
    const auto epochStart = Clock::now();
    double lossSum = 0;
    long hits = 0, seen = 0;
    for (int b = 0; b < batches; ++b) {
      if (cancel && cancel->load()) {
        summary.cancelled = true;
        break;
      }
      const int begin = b * bs, count = std::min(bs, n - begin);
      std::span<const int> idx(order.data() + begin, static_cast<size_t>(count));
      gatherBatch(*train, idx, xBatch_, yBatch_);
      gatherLossTargets(*train, idx, config_.loss.kind, classes, tBatch_);

      model_.zeroGrad();
      const Tensor* xin = &xBatch_;
      const Tensor& pred = *executor_.forward({xin}, ctx)[0];
      const double loss = batchLoss(pred, yBatch_, tBatch_, grad_);
      const long step = summary.steps;
      if (!std::isfinite(loss))
        return makeError("Training stopped at epoch " + std::to_string(epoch + 1) + ", step " +
                         std::to_string(step + 1) + " (batch " + std::to_string(b + 1) + " of " +
                         std::to_string(batches) + "): the loss became " +
                         (std::isnan(loss) ? "NaN" : "infinite") +
                         ". Lower the learning rate, check the input data for NaN/Inf values, "
                         "or normalise the inputs.");
      const Tensor* g = &grad_;
      executor_.backward({g}, ctx);
      const float lr = scheduledRate(config_.schedule, config_.optimizer.learningRate, step, totalSteps);
      opt.step(lr);
      ++summary.steps;

      const int batchHits = yBatch_.empty() ? 0 : countTopK(pred, yBatch_, 1);
      lossSum += loss * count;
      hits += batchHits;
      seen += count;
      if (observer) {
        const double el = secondsSince(epochStart);
        BatchEvent ev;
        ev.epoch = epoch;
        ev.step = step;
        ev.batch = b;
        ev.batchesPerEpoch = batches;
        ev.loss = loss;
        ev.accuracy = static_cast<double>(batchHits) / count;
        ev.samplesPerSec = seen / std::max(el, 1e-9);
        const long stepsLeft = totalSteps - summary.steps;
        ev.etaSeconds = stepsLeft * (el / (b + 1));
        ev.learningRate = lr;
        observer->onBatch(ev);
      }
    }
    const double epochSeconds = secondsSince(epochStart);
    trainSeconds += epochSeconds;
    trainedSamples += seen;
    if (seen == 0) break;
    EpochEvent ev;
    ev.epoch = epoch;
    ev.loss = lossSum / seen;
    ev.accuracy = static_cast<double>(hits) / seen;
    ev.seconds = epochSeconds;
    ev.samplesPerSec = seen / std::max(epochSeconds, 1e-9);
    if (validation && !summary.cancelled) {
      auto v = evaluate(*validation);
      if (!v.ok()) return v.error();
      ev.validation = v.value();
    }
    summary.epochs.push_back(ev);
    if (observer) observer->onEpoch(ev);
    if (summary.cancelled) break;
  }
  summary.seconds = secondsSince(runStart);
  summary.samplesPerSec = trainedSamples / std::max(trainSeconds, 1e-9);
  return summary;
}

Expected<EvalResult> Trainer::evaluate(const Dataset& data, int batchSize, bool fakeQuant) {
  QAT_TRY(checkData(data, "evaluation"));
  const auto t0 = Clock::now();
  const int classes = model_.node(model_.outputs()[0]).shape.back();
  RunContext ctx{false, nullptr};
  ctx.fakeQuant = fakeQuant;
  const int n = static_cast<int>(data.size());
  std::vector<int> idx(static_cast<size_t>(std::min(batchSize, n)));
  EvalResult r;
  double lossSum = 0;
  long hits = 0, topk = 0;
  for (int begin = 0; begin < n; begin += batchSize) {
    const int count = std::min(batchSize, n - begin);
    idx.resize(static_cast<size_t>(count));
    std::iota(idx.begin(), idx.end(), begin);
    gatherBatch(data, idx, xBatch_, yBatch_);
    gatherLossTargets(data, idx, config_.loss.kind, classes, tBatch_);
    const Tensor* xin = &xBatch_;
    const Tensor& pred = *executor_.forward({xin}, ctx)[0];
    lossSum += batchLoss(pred, yBatch_, tBatch_, grad_) * count;
    if (!yBatch_.empty()) {
      hits += countTopK(pred, yBatch_, 1);
      if (config_.topK > 1) topk += countTopK(pred, yBatch_, config_.topK);
    }
  }
  r.samples = static_cast<size_t>(n);
  r.loss = lossSum / n;
  r.accuracy = static_cast<double>(hits) / n;
  r.topK = static_cast<double>(topk) / n;
  r.seconds = secondsSince(t0);
  return r;
}

Expected<long> Trainer::calibrate(const Dataset& data, int batches) {
  QAT_TRY(checkData(data, "calibration"));
  if (batches <= 0) return makeError("The number of calibration batches must be positive.");
  Rng rng(config_.seed);
  const std::vector<int> order = shuffledIndices(data.size(), rng);
  RunContext ctx{false, nullptr};
  ctx.calibrating = true;
  ctx.fakeQuant = false;
  const long n = static_cast<long>(order.size());
  const long bs = std::min<long>(std::max(config_.batchSize, 1), n);
  long seen = 0;
  for (int b = 0; b < batches && seen < n; ++b) {
    const long count = std::min(bs, n - seen);
    gatherBatch(data, std::span<const int>(order.data() + seen, static_cast<size_t>(count)), xBatch_, yBatch_);
    const Tensor* xin = &xBatch_;
    executor_.forward({xin}, ctx);
    seen += count;
  }
  return seen;
}

Tensor predict(Model& model, const Tensor& x, int batchSize, bool fakeQuant) {
  Executor ex(model);
  RunContext ctx{false, nullptr};
  ctx.fakeQuant = fakeQuant;
  const int n = x.dim(0);
  const size_t rowIn = x.size() / static_cast<size_t>(n);
  const Shape outShape = model.node(model.outputs()[0]).shape;
  Tensor out(outShape.withBatch(n));
  const size_t rowOut = outShape.numel();
  Tensor xb;
  for (int begin = 0; begin < n; begin += batchSize) {
    const int count = std::min(batchSize, n - begin);
    xb.resize(x.shape().withoutBatch().withBatch(count));
    std::copy_n(x.data() + static_cast<size_t>(begin) * rowIn, static_cast<size_t>(count) * rowIn, xb.data());
    const Tensor* xin = &xb;
    const Tensor& y = *ex.forward({xin}, ctx)[0];
    std::copy_n(y.data(), static_cast<size_t>(count) * rowOut, out.data() + static_cast<size_t>(begin) * rowOut);
  }
  return out;
}

}  // namespace qat
