#pragma once
// Exact comparison of two models (graph, layer options, parameters bit for bit) and of
// their inference outputs, for round-trip tests of model file formats. No Qt needed.
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "engine/graph/executor.h"
#include "engine/io/keras_layers.h"

namespace qat::test {

// "" when `a` and `b` have the same nodes (name, kind, options as Keras JSON, inputs,
// shape), the same model inputs/outputs and bit-identical parameters; else the first
// difference found.
inline std::string modelDifference(const Model& a, const Model& b) {
  if (a.size() != b.size())
    return "node count " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
  if (a.inputs() != b.inputs()) return "model inputs differ";
  if (a.outputs() != b.outputs()) return "model outputs differ";
  for (int i = 0; i < a.size(); ++i) {
    const Node& x = a.node(i);
    const Node& y = b.node(i);
    const std::string at = "node " + std::to_string(i) + " '" + x.layer->name() + "': ";
    if (x.layer->name() != y.layer->name()) return at + "name vs '" + y.layer->name() + "'";
    if (x.layer->op() != y.layer->op()) return at + "layer kind differs";
    if (x.inputs != y.inputs) return at + "inputs differ";
    if (x.shape != y.shape) return at + "shape " + x.shape.str() + " vs " + y.shape.str();
    auto cx = layerToKeras(*x.layer), cy = layerToKeras(*y.layer);
    if (!cx.ok() || !cy.ok()) return at + "cannot describe layer";
    if (cx->dump() != cy->dump()) return at + "options " + cx->dump() + " vs " + cy->dump();
    const auto px = std::as_const(*x.layer).params();
    const auto py = std::as_const(*y.layer).params();
    if (px.size() != py.size()) return at + "parameter count differs";
    for (size_t k = 0; k < px.size(); ++k) {
      if (px[k]->name != py[k]->name) return at + "param " + px[k]->name + " vs " + py[k]->name;
      if (px[k]->trainable != py[k]->trainable) return at + px[k]->name + ": trainable flag differs";
      if (px[k]->value.shape() != py[k]->value.shape()) return at + px[k]->name + ": shape differs";
      if (std::memcmp(px[k]->value.data(), py[k]->value.data(), px[k]->value.size() * sizeof(float)) != 0)
        return at + px[k]->name + ": values differ";
    }
  }
  return {};
}

// Runs both models in inference mode on the same inputs; "" when every output is
// bit-identical.
inline std::string outputDifference(Model& a, Model& b, const std::vector<Tensor>& inputs) {
  std::vector<const Tensor*> in;
  for (const Tensor& t : inputs) in.push_back(&t);
  Executor ea(a), eb(b);
  RunContext ctx;
  auto oa = ea.forward(in, ctx);
  auto ob = eb.forward(in, ctx);
  if (oa.size() != ob.size()) return "output count differs";
  for (size_t k = 0; k < oa.size(); ++k) {
    if (oa[k]->shape() != ob[k]->shape()) return "output " + std::to_string(k) + " shape differs";
    if (std::memcmp(oa[k]->data(), ob[k]->data(), oa[k]->size() * sizeof(float)) != 0)
      return "output " + std::to_string(k) + " values differ";
  }
  return {};
}

// Random inputs for every model input, batch `n`.
inline std::vector<Tensor> randomInputs(const Model& m, int n, Rng& rng) {
  std::vector<Tensor> out;
  for (int id : m.inputs()) {
    Tensor t(m.node(id).shape.withBatch(n));
    for (size_t i = 0; i < t.size(); ++i) t[i] = rng.uniform(-1.0f, 1.0f);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace qat::test
