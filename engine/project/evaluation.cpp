// Evaluation in the studio's three modes and the analyses of the compare view.
//
// Accuracy and loss are computed exactly as Trainer::evaluate does (same batches, same
// loss function, top-1 with ties toward the lower class), in one pass that also fills the
// confusion matrix. The integer mode freezes the model to the int8 graph the export
// writes and runs the integer interpreter (deploy::graphAccuracy).
//
// Layer SQNR: for each float layer output f and the quantized model's value q at the same
// point (QuantizedModel::nodeOf, fake quant on, inference mode), over all samples:
//   SQNR = 10·log10(Σ f² / Σ (f − q)²)  dB
// identical outputs (Σ (f − q)² = 0) give kSqnrIdentical; the value is clamped to
// ±kSqnrIdentical so it always fits in JSON.
#include "engine/project/evaluation.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/deploy/freeze.h"
#include "engine/deploy/verify.h"
#include "engine/graph/executor.h"
#include "engine/train/metrics.h"

namespace qat::project {
namespace {

constexpr int kSqnrBatch = 64;  // samples per forward pass of the SQNR (bounds memory)

// Predicted class of one output row: argmax, or for a single column (binary) value > 0.5,
// as countTopK decides.
int predictedClass(const float* row, int columns) {
  if (columns == 1) return row[0] > 0.5f ? 1 : 0;
  return argmaxRow(row, columns);
}

int classCount(int columns) { return columns == 1 ? 2 : columns; }

// What Trainer::checkData checks, for the model and data evaluated here.
Status checkData(const Model& model, const Dataset& d, const LossSpec& loss) {
  if (model.inputs().size() != 1 || model.outputs().size() != 1)
    return makeError("Evaluation needs a model with one input and one output; '" + model.name + "' has " +
                     std::to_string(model.inputs().size()) + " inputs and " +
                     std::to_string(model.outputs().size()) + " outputs.");
  if (d.size() == 0) return makeError("The test data set is empty.");
  const Shape& want = model.node(model.inputs()[0]).shape;
  if (d.sampleShape() != want)
    return makeError("The test data (" + d.source + ") has samples of shape " + d.sampleShape().str() +
                     " but the model input expects " + want.str() + ".");
  const int columns = model.node(model.outputs()[0]).shape.back();
  const bool needLabels = loss.kind == LossKind::SparseCategoricalCrossentropy ||
                          (loss.kind == LossKind::CategoricalCrossentropy && d.targets.empty());
  if (needLabels && d.labels.size() != d.size())
    return makeError("The test data (" + d.source + ") has no class labels.");
  for (size_t i = 0; i < d.labels.size(); ++i)
    if (d.labels[i] < 0 || d.labels[i] >= classCount(columns))
      return makeError("The test data (" + d.source + ") has label " + std::to_string(d.labels[i]) +
                       " at sample " + std::to_string(i) + ", but the model has " + std::to_string(columns) +
                       " outputs.");
  if (!needLabels && d.labels.empty() && d.targets.empty())
    return makeError("The test data (" + d.source + ") has neither labels nor targets.");
  return {};
}

struct PassResult {
  double loss = 0;
  double accuracy = -1;  // -1 without labels
  ConfusionMatrix confusion;
};

// One inference pass over `d` in batches: mean loss, top-1 accuracy and the confusion matrix.
Expected<PassResult> evaluatePass(Model& model, const LossSpec& loss, const Dataset& d, int batchSize,
                                  bool fakeQuant) {
  QAT_TRY(checkData(model, d, loss));
  if (batchSize <= 0) return makeError("The evaluation batch size must be positive.");
  Executor executor(model);
  RunContext ctx{false, nullptr};
  ctx.fakeQuant = fakeQuant;
  const int columns = model.node(model.outputs()[0]).shape.back();
  const int n = static_cast<int>(d.size());
  const bool labels = d.hasLabels();
  PassResult r;
  if (labels) {
    r.confusion.classes = classCount(columns);
    r.confusion.counts.assign(static_cast<size_t>(r.confusion.classes) * static_cast<size_t>(r.confusion.classes), 0);
  }
  Tensor xb, tb, grad;
  std::vector<int> yb, idx;
  double lossSum = 0;
  long hits = 0;
  for (int begin = 0; begin < n; begin += batchSize) {
    const int count = std::min(batchSize, n - begin);
    idx.resize(static_cast<size_t>(count));
    std::iota(idx.begin(), idx.end(), begin);
    gatherBatch(d, idx, xb, yb);
    // Loss targets as the trainer forms them: labels, float targets, or one-hot labels.
    if (loss.kind != LossKind::SparseCategoricalCrossentropy) {
      if (!d.targets.empty()) {
        gatherTargets(d, idx, tb);
      } else {
        tb.resize(Shape{count, columns});
        tb.zero();
        for (int i = 0; i < count; ++i)
          tb[static_cast<size_t>(i) * static_cast<size_t>(columns) + static_cast<size_t>(yb[static_cast<size_t>(i)])] = 1;
      }
    }
    const Tensor* xin = &xb;
    const Tensor& pred = *executor.forward({xin}, ctx)[0];
    lossSum += computeLoss(loss, pred, yb, tb, grad) * count;
    if (labels) {
      hits += countTopK(pred, yb, 1);
      for (int i = 0; i < count; ++i) {
        const int p = predictedClass(pred.data() + static_cast<size_t>(i) * static_cast<size_t>(columns), columns);
        ++r.confusion.counts[static_cast<size_t>(yb[static_cast<size_t>(i)]) * static_cast<size_t>(r.confusion.classes) +
                             static_cast<size_t>(p)];
      }
    }
  }
  r.loss = lossSum / n;
  if (labels) r.accuracy = static_cast<double>(hits) / n;
  return r;
}

// The first maxSamples samples of `test` (0: all), copied only when it is cut.
const Dataset& limited(const Dataset& test, size_t maxSamples, Dataset& storage) {
  if (maxSamples == 0 || maxSamples >= test.size()) return test;
  storage = subset(test, maxSamples);
  return storage;
}

}  // namespace

ConfusionMatrix confusionMatrix(const Tensor& predictions, const std::vector<int>& labels) {
  ConfusionMatrix m;
  QAT_ASSERT(predictions.rank() == 2 && static_cast<size_t>(predictions.dim(0)) == labels.size());
  const int columns = predictions.dim(1);
  m.classes = classCount(columns);
  m.counts.assign(static_cast<size_t>(m.classes) * static_cast<size_t>(m.classes), 0);
  for (size_t i = 0; i < labels.size(); ++i) {
    QAT_ASSERT(labels[i] >= 0 && labels[i] < m.classes);
    const int p = predictedClass(predictions.data() + i * static_cast<size_t>(columns), columns);
    ++m.counts[static_cast<size_t>(labels[i]) * static_cast<size_t>(m.classes) + static_cast<size_t>(p)];
  }
  return m;
}

Expected<std::vector<LayerError>> layerSqnr(Model& floatModel, quant::QuantizedModel& quantized, const Tensor& x) {
  if (quantized.nodeOf.size() != static_cast<size_t>(floatModel.size()))
    return makeError("Layer errors: the quantized model was not made from '" + floatModel.name + "' (" +
                     std::to_string(quantized.nodeOf.size()) + " mapped layers, the model has " +
                     std::to_string(floatModel.size()) + ")");
  if (floatModel.inputs().size() != 1 || quantized.model.inputs().size() != 1)
    return makeError("Layer errors need a model with one input.");
  const Shape& want = floatModel.node(floatModel.inputs()[0]).shape;
  if (x.rank() == 0 || x.dim(0) == 0 || x.shape().withoutBatch() != want)
    return makeError("Layer errors: the samples have shape " + x.shape().str() + ", the model input expects (N, " +
                     want.str() + ")");

  const size_t nodes = static_cast<size_t>(floatModel.size());
  std::vector<double> signal(nodes, 0.0), noise(nodes, 0.0);
  Executor ef(floatModel), eq(quantized.model);
  RunContext ctxFloat{false, nullptr};
  RunContext ctxQuant{false, nullptr};
  ctxQuant.fakeQuant = true;
  const int n = x.dim(0);
  const size_t row = x.size() / static_cast<size_t>(n);
  Tensor xb;
  for (int begin = 0; begin < n; begin += kSqnrBatch) {
    const int count = std::min(kSqnrBatch, n - begin);
    xb.resize(want.withBatch(count));
    std::copy_n(x.data() + static_cast<size_t>(begin) * row, static_cast<size_t>(count) * row, xb.data());
    const Tensor* xin = &xb;
    ef.forward({xin}, ctxFloat);
    eq.forward({xin}, ctxQuant);
    for (size_t i = 0; i < nodes; ++i) {
      const int j = quantized.nodeOf[i];
      if (j < 0 || floatModel.node(static_cast<int>(i)).layer->op() == OpType::Input) continue;
      const Tensor& f = ef.activation(static_cast<int>(i));
      const Tensor& q = eq.activation(j);
      if (f.size() != q.size())
        return makeError("Layer errors: '" + floatModel.node(static_cast<int>(i)).layer->name() +
                         "' has output shape " + f.shape().str() + " in the float model but " + q.shape().str() +
                         " in the quantized model");
      double s = 0, e = 0;
      for (size_t k = 0; k < f.size(); ++k) {
        const double a = f[k], d = double(f[k]) - double(q[k]);
        s += a * a;
        e += d * d;
      }
      signal[i] += s;
      noise[i] += e;
    }
  }
  std::vector<LayerError> out;
  for (size_t i = 0; i < nodes; ++i) {
    const int j = quantized.nodeOf[i];
    if (j < 0 || floatModel.node(static_cast<int>(i)).layer->op() == OpType::Input) continue;
    double db = kSqnrIdentical;
    if (noise[i] > 0) {
      db = signal[i] > 0 ? 10.0 * std::log10(signal[i] / noise[i]) : -kSqnrIdentical;
      db = std::clamp(db, -kSqnrIdentical, kSqnrIdentical);
    }
    out.push_back({floatModel.node(static_cast<int>(i)).layer->name(), db});
  }
  return out;
}

Expected<Evaluation> evaluateFloat(Model& model, const LossSpec& loss, const Dataset& test,
                                   const EvaluationOptions& options) {
  Dataset storage;
  const Dataset& data = limited(test, options.maxSamples, storage);
  auto pass = evaluatePass(model, loss, data, options.batchSize, true);
  if (!pass.ok()) return pass.error();
  Evaluation e;
  e.metrics.floatAccuracy = pass->accuracy;
  e.metrics.loss = pass->loss;
  e.metrics.samples = data.size();
  e.metrics.floatWeightBytes = e.metrics.weightBytes = model.paramCount() * sizeof(float);
  e.confusion = std::move(pass->confusion);
  return e;
}

Expected<Evaluation> evaluateQuantized(quant::QuantizedModel& quantized, const Model& floatModel,
                                       const LossSpec& loss, const Dataset& test,
                                       const EvaluationOptions& options) {
  Dataset storage;
  const Dataset& data = limited(test, options.maxSamples, storage);
  Evaluation e;
  auto twin = evaluatePass(quantized.model, loss, data, options.batchSize, false);
  if (!twin.ok()) return twin.error();
  auto fq = evaluatePass(quantized.model, loss, data, options.batchSize, true);
  if (!fq.ok()) return fq.error();
  e.metrics.floatAccuracy = twin->accuracy;
  e.metrics.fakeQuantAccuracy = fq->accuracy;
  e.metrics.loss = fq->loss;
  e.metrics.samples = data.size();
  e.confusion = std::move(fq->confusion);
  const quant::QuantSummary qs = quant::summarize(quantized, floatModel);
  e.metrics.weightBytes = qs.weightBits / 8;
  e.metrics.floatWeightBytes = qs.floatBits / 8;

  if (options.integer) {
    // A model the export cannot express (or the interpreter cannot run) has no integer
    // accuracy; the reason is part of the result, not an error.
    const Tensor firstSamples = options.rangeSamples ? Tensor() : subset(data, 256).x;
    deploy::FreezeOptions fo;
    fo.rangeSamples = options.rangeSamples ? options.rangeSamples : &firstSamples;
    auto graph = deploy::freezeQuantized(quantized, fo);
    if (!graph.ok()) {
      e.metrics.integerError = graph.error().message;
    } else if (!data.hasLabels()) {
      e.metrics.integerError = "the test data has no class labels";
    } else {
      auto acc = deploy::graphAccuracy(graph.value(), data);
      if (acc.ok()) e.metrics.integerAccuracy = acc.value();
      else e.metrics.integerError = acc.error().message;
    }
  }
  if (options.layerErrors && options.layerErrorSamples > 0) {
    Model reference = floatModel.clone();
    auto errors = layerSqnr(reference, quantized, subset(data, options.layerErrorSamples).x);
    if (!errors.ok()) return errors.error();
    e.layerErrors = std::move(errors.value());
  }
  return e;
}

}  // namespace qat::project
