#include "engine/graph/model.h"

#include "engine/layers/input_layer.h"

namespace qat {

Model Model::clone() const {
  Model m;
  m.name = name;
  m.inputs_ = inputs_;
  m.outputs_ = outputs_;
  m.nodes_.reserve(nodes_.size());
  for (const Node& n : nodes_) m.nodes_.push_back(Node{n.layer->clone(), n.inputs, n.shape});
  return m;
}

int Model::addInput(std::string inputName, Shape shape) {
  int id = add(std::make_unique<InputLayer>(std::move(inputName), std::move(shape)), {});
  inputs_.push_back(id);
  return id;
}

int Model::add(std::unique_ptr<Layer> layer, std::vector<int> inputs) {
  const int id = size();
  for (int p : inputs) QAT_ASSERT(p >= 0 && p < id);
  nodes_.push_back(Node{std::move(layer), std::move(inputs), Shape()});
  return id;
}

Status Model::build() {
  if (inputs_.empty()) return makeError("Model '" + name + "' has no input layer");
  if (outputs_.empty()) return makeError("Model '" + name + "' has no output layer");
  for (Node& n : nodes_) {
    std::vector<Shape> in;
    for (int p : n.inputs) in.push_back(nodes_[static_cast<size_t>(p)].shape);
    const int arity = n.layer->arity();
    if (arity >= 0 && static_cast<int>(in.size()) != arity)
      return makeError("Layer '" + n.layer->name() + "' (" + std::string(opTypeName(n.layer->op())) +
                       ") expects " + std::to_string(arity) + " input(s) but is connected to " +
                       std::to_string(in.size()));
    if (arity < 0 && in.size() < 2)
      return makeError("Layer '" + n.layer->name() + "' (" + std::string(opTypeName(n.layer->op())) +
                       ") needs at least two inputs");
    auto s = n.layer->build(in);
    if (!s.ok()) return s.error();
    n.shape = s.value();
  }
  return {};
}

void Model::initialize(Rng& rng) {
  for (Node& n : nodes_) n.layer->initialize(rng);
}

int Model::find(const std::string& layerName) const {
  for (int i = 0; i < size(); ++i)
    if (nodes_[static_cast<size_t>(i)].layer->name() == layerName) return i;
  return -1;
}

std::vector<std::vector<int>> Model::consumers() const {
  std::vector<std::vector<int>> c(nodes_.size());
  for (int i = 0; i < size(); ++i)
    for (int p : nodes_[static_cast<size_t>(i)].inputs) c[static_cast<size_t>(p)].push_back(i);
  return c;
}

std::vector<Param*> Model::params() {
  std::vector<Param*> all;
  for (Node& n : nodes_)
    for (Param* p : n.layer->params()) all.push_back(p);
  return all;
}

// What the optimizer updates: trainable parameters of layers that are not frozen
// (Keras trainable=false).
std::vector<Param*> Model::trainableParams() {
  std::vector<Param*> all;
  for (Node& n : nodes_) {
    if (!n.layer->trainable()) continue;
    for (Param* p : n.layer->params())
      if (p->trainable) all.push_back(p);
  }
  return all;
}

size_t Model::paramCount() const {
  size_t total = 0;
  for (const Node& n : nodes_)
    for (const Param* p : std::as_const(*n.layer).params()) total += p->value.size();
  return total;
}

// Every gradient that exists, frozen layers' included: their layers still accumulate
// into them during backward, and nothing else would ever reset them.
void Model::zeroGrad() {
  for (Param* p : params())
    if (p->grad.size() > 0) p->grad.zero();
}

}  // namespace qat
