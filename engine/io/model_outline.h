#pragma once
// ModelOutline: what a model looks like, for viewing, whether or not the studio can load
// it. One node per layer (per call for a shared layer) with its class, connections,
// output shape when known, parameter count, Keras `trainable` flag, and whether the
// studio supports it, with the loader's message when it does not.
//
// Two sources, one shape of data, so a graph view draws both with one code path:
//   outlineKerasFile  a Keras .h5 (with its architecture JSON for weights-only files),
//                     read even when layers are unsupported (Lambda, LSTM, custom
//                     classes, raw TensorFlow ops, shared layers). It fails only when the
//                     file or its model_config cannot be read or is structurally broken.
//   outlineOf         a loaded (built) Model: every node supported.
//
// Output shapes are inferred with the engine's layers as far as the graph allows; a node
// fed by an unsupported layer (or by one whose shape is unknown) has no shape. Parameter
// counts of a Keras file come from its HDF5 weight datasets (through each layer group's
// weight_names); a layer the file has no weights for counts what the engine would
// allocate for it.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/tensor.h"
#include "engine/graph/model.h"

namespace qat {

struct OutlineNode {
  std::string name;         // unique; a shared layer's later calls are "name (call 2)" ...
  std::string className;    // Keras class as written in the file ("Conv2D", "Lambda", ...)
  std::vector<int> inputs;  // producer node ids, all smaller than this node's id
  std::optional<Shape> outputShape;  // per sample; unset when it cannot be inferred
  uint64_t params = 0;
  bool trainable = true;    // false: frozen in Keras (trainable=false, itself or its model)
  bool supported = true;
  std::string reason;       // !supported: why, "Layer 'x' (Class) ..." as the loader says it
};

struct ModelOutline {
  std::string name;
  std::vector<OutlineNode> nodes;  // topological order
  std::vector<int> inputs, outputs;
  std::vector<std::string> warnings;  // what loading would warn about (ignored options ...)

  bool allSupported() const;
  uint64_t paramCount() const;
  // The reasons of the unsupported nodes, in node order.
  std::vector<std::string> problems() const;
};

Expected<ModelOutline> outlineKerasFile(const std::string& h5Path, const std::string& architectureJsonPath = "");
ModelOutline outlineOf(const Model& model);

}  // namespace qat
