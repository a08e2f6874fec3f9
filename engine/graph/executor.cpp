#include "engine/graph/executor.h"

#include <algorithm>
#include <memory>

namespace qat {

Executor::Executor(Model& model) : model_(model) {
  const size_t n = static_cast<size_t>(model.size());
  consumers_ = model.consumers();
  requiresGrad_.assign(n, false);
  for (size_t i = 0; i < n; ++i) {
    const Node& node = model.node(static_cast<int>(i));
    bool rg = false;
    for (const Param* p : std::as_const(*node.layer).params()) rg = rg || p->trainable;
    for (int p : node.inputs) rg = rg || requiresGrad_[static_cast<size_t>(p)];
    requiresGrad_[i] = rg;
  }
  actStore_.resize(n);
  act_.assign(n, nullptr);
  grad_.resize(n);
  gradSet_.assign(n, false);
  scratch_.resize(n);
}

std::vector<const Tensor*> Executor::forward(const std::vector<const Tensor*>& inputs,
                                             const RunContext& ctx) {
  QAT_ASSERT(inputs.size() == model_.inputs().size());
  for (size_t k = 0; k < inputs.size(); ++k) {
    const int id = model_.inputs()[k];
    QAT_ASSERT(inputs[k]->shape().withoutBatch() == model_.node(id).shape);
    act_[static_cast<size_t>(id)] = inputs[k];
  }
  std::vector<const Tensor*> in;
  for (int i = 0; i < model_.size(); ++i) {
    Node& node = model_.node(i);
    if (node.layer->op() == OpType::Input) continue;
    in.clear();
    for (int p : node.inputs) in.push_back(act_[static_cast<size_t>(p)]);
    Tensor& out = actStore_[static_cast<size_t>(i)];
    node.layer->forward(in, out, ctx);
    act_[static_cast<size_t>(i)] = &out;
  }
  std::vector<const Tensor*> outs;
  for (int o : model_.outputs()) outs.push_back(act_[static_cast<size_t>(o)]);
  return outs;
}

void Executor::backward(const std::vector<const Tensor*>& dOutputs, const RunContext& ctx) {
  QAT_ASSERT(dOutputs.size() == model_.outputs().size());
  std::fill(gradSet_.begin(), gradSet_.end(), false);
  for (size_t k = 0; k < dOutputs.size(); ++k) {
    const size_t id = static_cast<size_t>(model_.outputs()[k]);
    Tensor& g = grad_[id];
    g.resize(dOutputs[k]->shape());
    if (gradSet_[id]) {
      for (size_t j = 0; j < g.size(); ++j) g[j] += (*dOutputs[k])[j];
    } else {
      std::copy_n(dOutputs[k]->data(), g.size(), g.data());
      gradSet_[id] = true;
    }
  }
  std::vector<const Tensor*> in;
  std::vector<Tensor*> din;
  for (int i = model_.size() - 1; i >= 0; --i) {
    const size_t ui = static_cast<size_t>(i);
    Node& node = model_.node(i);
    if (!requiresGrad_[ui] || !gradSet_[ui] || node.layer->op() == OpType::Input) continue;
    in.clear();
    din.clear();
    std::vector<std::pair<size_t, Tensor*>> pending;  // scratch gradients to add after the call
    std::vector<std::unique_ptr<Tensor>> extra;       // same producer twice in one node
    for (int p : node.inputs) {
      const size_t up = static_cast<size_t>(p);
      in.push_back(act_[up]);
      if (!requiresGrad_[up] || model_.node(p).layer->op() == OpType::Input) {
        din.push_back(nullptr);
        continue;
      }
      // The first contribution writes straight into grad_[p]; later ones (fan-out, or
      // the same producer twice, as in Add(x, x)) go through scratch and are summed.
      bool alreadyPending = false;
      for (auto& pr : pending) alreadyPending = alreadyPending || pr.first == up;
      if (!gradSet_[up] && !alreadyPending) {
        grad_[up].resize(act_[up]->shape());
        din.push_back(&grad_[up]);
        pending.emplace_back(up, nullptr);
      } else {
        // Each extra contribution gets its own scratch tensor; fan-in of the same
        // producer within one node is rare, so a small local allocation is fine there.
        Tensor* s = &scratch_[up];
        if (alreadyPending) s = extra.emplace_back(std::make_unique<Tensor>()).get();
        s->resize(act_[up]->shape());
        din.push_back(s);
        pending.emplace_back(up, s);
      }
    }
    node.layer->backward(in, *act_[ui], grad_[ui], din, ctx);
    for (auto& [up, s] : pending) {
      if (s) {
        Tensor& g = grad_[up];
        for (size_t j = 0; j < g.size(); ++j) g[j] += (*s)[j];
      }
      gradSet_[up] = true;
    }
  }
}

}  // namespace qat
