#pragma once
// Model: a DAG of layers. Nodes are stored in topological order by construction: a node
// may only consume nodes added before it. Several inputs and outputs are allowed.
#include <memory>
#include <string>
#include <vector>

#include "engine/layers/layer.h"

namespace qat {

struct Node {
  std::unique_ptr<Layer> layer;
  std::vector<int> inputs;  // producer node ids, all < this node's id
  Shape shape;              // per-sample output shape, set by Model::build()
};

class Model {
 public:
  Model() = default;
  Model(Model&&) = default;
  Model& operator=(Model&&) = default;
  Model clone() const;  // deep copy: layers, parameters and state

  std::string name = "model";

  // Adds an InputLayer node; returns its id and marks it as a model input.
  int addInput(std::string name, Shape shape);
  // Adds a layer consuming the given nodes; returns its id.
  int add(std::unique_ptr<Layer> layer, std::vector<int> inputs);
  template <class L, class... Args>
  int add(std::vector<int> inputs, Args&&... args) {
    return add(std::make_unique<L>(std::forward<Args>(args)...), std::move(inputs));
  }
  void setOutputs(std::vector<int> outputs) { outputs_ = std::move(outputs); }

  // Shape inference over all nodes; allocates parameters. Errors name the layer.
  Status build();
  void initialize(Rng& rng);  // Keras default initializers for every layer

  int size() const { return static_cast<int>(nodes_.size()); }
  Node& node(int i) { return nodes_[static_cast<size_t>(i)]; }
  const Node& node(int i) const { return nodes_[static_cast<size_t>(i)]; }
  const std::vector<int>& inputs() const { return inputs_; }
  const std::vector<int>& outputs() const { return outputs_; }
  int find(const std::string& layerName) const;  // -1 if absent
  // Consumers of each node (ids), computed on demand.
  std::vector<std::vector<int>> consumers() const;

  std::vector<Param*> params();
  // Trainable params of layers whose Layer::trainable() is true (frozen layers left out).
  std::vector<Param*> trainableParams();
  size_t paramCount() const;  // all parameters, trainable and not (Keras' "Total params")
  void zeroGrad();  // zeroes every grad, frozen layers' too

 private:
  std::vector<Node> nodes_;
  std::vector<int> inputs_, outputs_;
};

}  // namespace qat
