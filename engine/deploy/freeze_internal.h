#pragma once
// Internal to freeze*.cpp: the walk over a (quantized or float) model that builds an
// IntegerGraph.
//
// Every model node gets a Value: either a graph tensor, or a Pending op whose output
// tensor is not created yet because its parameters are not known. A Conv/Dense stays
// pending until the node that fixes its output scale is reached: the FakeQuant after it
// (its grid gives scale and zero point), a BatchNormalization folds into it, a ReLU fuses
// into it as fused_activation_function. A pending op is emitted ("materialized") with the
// parameters of the FakeQuant that consumes it; in a quantized model, a pending op whose
// output has no quantizer cannot be emitted and is refused naming the layer.
// Only a pending value whose producer has a single consumer may be changed (folded,
// fused); any other is materialized first.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/deploy/freeze.h"
#include "engine/quant/quantizer.h"

namespace qat::deploy::detail {

struct Value;

struct Pending {
  GraphOp op;               // kind, options, sourceLayer; op.inputs: activation tensors
  std::vector<int> shape;   // output shape [1, ...]
  std::string name;         // output tensor name (the last layer fused in)
  bool ownScale = true;     // false: the output keeps the input's scale (PAD)
  // CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED. The kernel keeps the Keras layout,
  // whose innermost axis is the output channel for all three (HWIO, (kh, kw, C·M), (in,
  // units)): element i belongs to channel i % channels.
  bool weighted = false;
  std::vector<int> kernelShape;          // Keras layout
  std::vector<float> kernel;             // the values the model multiplies with
  std::vector<float> bias;               // per channel; empty: no bias
  int channels = 0;
  std::vector<quant::Grid> grids;        // quantized mode: the grids `kernel` lies on
  bool regrid = false;                   // after a BN fold: grids computed on the folded kernel
  bool perChannel = true;                // regrid per channel (conv, depthwise) or per tensor (dense)
  int weightBits = 8;
  bool narrowRange = true;
  std::string weightLayer;               // layer named in weight notes and errors
  // PAD: top, bottom, left, right (the paddings constant is created when emitted, so a
  // PAD folded into the next convolution leaves nothing behind).
  std::vector<int> pad2d;
  // CONCATENATION: the inputs, which may be pending themselves (their quantizer is the
  // concatenation's shared one).
  std::vector<Value> parts;
  int emitted = -1;  // the output tensor once emitted
};

struct Value {
  int tensor = -1;
  std::shared_ptr<Pending> pending;
  std::vector<int> shape;  // [1, ...]
  bool isPending() const { return pending && pending->emitted < 0; }
  int resolved() const { return pending ? pending->emitted : tensor; }
};

// True when node `i` is read by exactly one node and is not a model output.
bool soleConsumer(const Model& m, const std::vector<std::vector<int>>& consumers, int i);

class Freezer {
 public:
  // quantized == nullptr: float freeze of `model`.
  Freezer(const Model& model, const quant::QuantizedModel* quantized, FreezeOptions options);
  Expected<IntegerGraph> run();

  // ---- shared helpers (freeze.cpp)
  bool quantMode() const { return q_ != nullptr; }
  const Model& model() const { return m_; }
  IntegerGraph& graph() { return g_; }
  Error refuse(int node, const std::string& what) const;  // "Layer 'x' (Class): what"
  int addActivation(const std::string& name, const std::vector<int>& shape, ElementType type, QuantParams q);
  int addConstInt32(const std::string& name, const std::vector<int>& shape, const std::vector<int32_t>& v);
  int addOp(GraphOp op, const std::string& outName, const std::vector<int>& outShape, ElementType type, QuantParams q);
  const GraphTensor& tensor(int t) const { return g_.tensors[static_cast<size_t>(t)]; }
  ElementType actType() const { return quantMode() ? ElementType::Int8 : ElementType::Float32; }
  // Scale and zero point of an 8-bit (or narrower) per-tensor activation grid.
  Expected<QuantParams> gridParams(const quant::Quantizer& q, int node) const;
  // Emits `v` if pending (with `params`, or without when it needs none) and returns its tensor.
  Expected<int> materialize(const Value& v, const std::optional<QuantParams>& params, int node);
  // The tensor of `v` with exactly `params` (QUANTIZE int8 → int8 when they differ).
  Expected<int> materializeTo(const Value& v, const QuantParams& params, int node);
  int requantize(int t, const QuantParams& params, const std::string& name);

  // ---- weighted ops (freeze_weights.cpp)
  // A Conv2D / DepthwiseConv2D / Dense (plain, inside a QuantizeWrapper, or a
  // FoldedBatchNorm's conv) → pending op reading `input`.
  Expected<Value> weightedOp(int node, const Layer& layer, const Layer* wrapperOrFold, const Value& input);
  // Folds a BatchNormalization into a pending weighted op (tfmot mode / float freeze).
  Status foldBatchNorm(int node, Pending& p);
  // Standalone BatchNormalization → DEPTHWISE_CONV_2D 1×1 (multiplier 1).
  Expected<Value> standaloneBatchNorm(int node, const Value& input);
  // Creates weights, bias and output tensors of a pending weighted op.
  Expected<int> emitWeighted(Pending& p, const QuantParams& out);

  // Merges a pending DEPTHWISE_CONV_2D whose output has no quantizer with the 1×1 CONV_2D
  // reading it (a split SeparableConv2D) into one CONV_2D (freeze_weights.cpp).
  Status mergeSeparable(Pending& pw, const Pending& dw);

  // ---- measured ranges (freeze_ranges.cpp)
  // Pre-activation ranges of Conv/Dense layers with an in-layer softmax / sigmoid / tanh,
  // measured on options().rangeSamples; node → int8 parameters.
  Status measurePreActivationRanges();
  const QuantParams* preActivation(int node) const {
    auto it = preActivation_.find(node);
    return it == preActivation_.end() ? nullptr : &it->second;
  }

  // ---- other layers (freeze_layers.cpp)
  Expected<Value> visitLayer(int node, const std::vector<Value>& inputs);
  // The input as an int8 tensor (quantized mode) or float tensor, emitted if pending.
  Expected<int> tensorInput(const Value& v, int node);
  // True when pending `producer` may be changed by its consumer (single consumer, not a
  // model output).
  bool fusable(int producer) const { return soleConsumer(m_, consumers_, producer); }
  bool isGraphInput(int t) const;
  const FreezeOptions& options() const { return opt_; }
  void note(const std::string& s);

 private:
  Status visit(int node);
  Status addGraphInput(int node);
  Status finishOutputs();
  Expected<int> emitPending(Pending& p, const std::optional<QuantParams>& params, int node);

  const Model& m_;
  const quant::QuantizedModel* q_;
  FreezeOptions opt_;
  IntegerGraph g_;
  std::vector<Value> values_;
  std::vector<std::vector<int>> consumers_;
  std::map<int, QuantParams> preActivation_;
};

}  // namespace qat::deploy::detail
