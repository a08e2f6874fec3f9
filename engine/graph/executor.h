#pragma once
// Executor: runs a built Model forward and backward over batches. It owns one activation
// and one gradient buffer per node and keeps them allocated across steps.
#include <vector>

#include "engine/graph/model.h"

namespace qat {

class Executor {
 public:
  explicit Executor(Model& model);

  // inputs: one tensor per model input, (N, ...input shape). Returns the model outputs;
  // the pointers stay valid until the next forward().
  std::vector<const Tensor*> forward(const std::vector<const Tensor*>& inputs, const RunContext& ctx);
  // dOutputs: dLoss/dOutput for each model output. Must follow a training forward().
  // Accumulates parameter gradients (call Model::zeroGrad() before).
  void backward(const std::vector<const Tensor*>& dOutputs, const RunContext& ctx);

  const Tensor& activation(int node) const { return *act_[static_cast<size_t>(node)]; }
  Model& model() { return model_; }

 private:
  Model& model_;
  std::vector<std::vector<int>> consumers_;
  std::vector<bool> requiresGrad_;  // node output depends on a trainable parameter
  std::vector<Tensor> actStore_;    // owned outputs (unused for input nodes)
  std::vector<const Tensor*> act_;  // each node's output: actStore_ or the caller's input
  std::vector<Tensor> grad_;        // dLoss/d(node output)
  std::vector<bool> gradSet_;       // grad_[i] holds a value in the current backward pass
  std::vector<Tensor> scratch_;     // per node: second-and-later fan-out contributions
};

}  // namespace qat
