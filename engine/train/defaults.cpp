#include "engine/train/defaults.h"

#include "engine/layers/activation.h"
#include "engine/layers/dense.h"

namespace qat {
namespace {

// The activation that ends the output node, if it is one we recognise.
std::optional<ActivationFn> finalActivation(const Layer& l) {
  switch (l.op()) {
    case OpType::Softmax: return ActivationFn::Softmax;
    case OpType::Activation: return static_cast<const Activation&>(l).options().activation;
    case OpType::Dense: return static_cast<const Dense&>(l).options().activation;
    default: return std::nullopt;
  }
}

}  // namespace

LossSpec defaultLossFor(const Model& model) {
  LossSpec spec{LossKind::SparseCategoricalCrossentropy, true};
  if (model.outputs().empty()) return spec;
  const Node& out = model.node(model.outputs()[0]);
  const auto act = finalActivation(*out.layer);
  if (act == ActivationFn::Softmax) {
    spec.fromLogits = false;
  } else if (act == ActivationFn::Sigmoid && out.shape.back() == 1) {
    spec = {LossKind::BinaryCrossentropy, false};
  }
  return spec;
}

}  // namespace qat
