#pragma once
// Helpers shared by the freeze tests: built-in models, scheme configs, random data and
// integer-graph queries.
#include <QtGlobal>

#include "engine/data/dataset.h"
#include "engine/deploy/freeze.h"
#include "engine/deploy/integer_graph.h"
#include "engine/models/builtin.h"
#include "engine/quant/quantize_model.h"
#include "engine/quant/scheme.h"
#include "engine/train/trainer.h"

namespace qat::test {

using quant::BnMode;
using quant::QuantizedModel;

inline Model builtin(const std::string& name) {
  auto m = makeBuiltinModel(name, 7);
  QAT_ASSERT(m.ok());
  return std::move(m.value());
}

inline QuantizedModel quantizeWith(const Model& m, BnMode mode, const std::string& layers = "",
                                   const char* scheme = "default8") {
  auto s = quant::schemeFromName(scheme);
  QAT_ASSERT(s.ok());
  s->bnMode = mode;
  auto c = quant::makeSchemeConfig(m, *s, quant::parseLayerSelection(layers));
  if (!c.ok()) qFatal("%s", c.error().message.c_str());
  auto q = quant::quantizeModel(m, c->config);
  if (!q.ok()) qFatal("%s", q.error().message.c_str());
  return std::move(q.value());
}

// n inputs of the model's (first) input shape, uniform in [0, 1).
inline Tensor uniformInputs(const Model& m, int n, uint64_t seed) {
  Rng rng(seed);
  Tensor x(m.node(m.inputs()[0]).shape.withBatch(n));
  for (size_t i = 0; i < x.size(); ++i) x[i] = rng.uniform(0.0f, 1.0f);
  return x;
}

inline Dataset randomData(const Model& m, int n, uint64_t seed) {
  Dataset d;
  Rng rng(seed);
  d.x = Tensor(m.node(m.inputs()[0]).shape.withBatch(n));
  for (size_t i = 0; i < d.x.size(); ++i) d.x[i] = rng.uniform(0.0f, 1.0f);
  for (int i = 0; i < n; ++i) d.labels.push_back(static_cast<int>(rng.uniform(0.0f, 9.999f)));
  d.numClasses = 10;
  return d;
}

// Inputs x as a data set for calibration: float targets of the output shape (zeros;
// calibration computes no loss), so models with any output work.
inline Dataset unlabelledData(const Model& m, Tensor x) {
  Dataset d;
  d.targets = Tensor(m.node(m.outputs()[0]).shape.withBatch(x.dim(0)));
  d.x = std::move(x);
  return d;
}

// Post-training calibration of `q` over `batches` batches of `d`, then freeze with d.x as
// the samples for the ranges QAT leaves unmeasured: how the model tests build a graph.
inline Expected<deploy::IntegerGraph> calibrateAndFreeze(QuantizedModel& q, const Dataset& d, int batches) {
  TrainConfig tc;
  tc.loss = {LossKind::MeanSquaredError, false};
  Trainer t(q.model, tc);
  if (auto seen = t.calibrate(d, batches); !seen.ok()) return seen.error();
  deploy::FreezeOptions fo;
  fo.rangeSamples = &d.x;
  return deploy::freezeQuantized(q, fo);
}

inline const deploy::GraphOp* findOp(const deploy::IntegerGraph& g, deploy::OpKind k, int nth = 0) {
  for (const deploy::GraphOp& op : g.ops)
    if (op.kind == k && nth-- == 0) return &op;
  return nullptr;
}
inline int countOps(const deploy::IntegerGraph& g, deploy::OpKind k) {
  int n = 0;
  for (const deploy::GraphOp& op : g.ops) n += op.kind == k;
  return n;
}

}  // namespace qat::test
