#pragma once
// Keras model_config <-> a flat, topologically ordered layer graph. Internal to engine/io.
//
// Reading: Sequential (a bare layer list in Keras 1 / early Keras 2, or {"name",
// "layers"}), Functional / Model with inbound_nodes in Keras 1/2 form
// [[["name", node, tensor, {kwargs}], ...]] or Keras 3 form ({"args": [...keras_history
// ...]}), in any order (sorted here, Kahn's algorithm, config order among ready layers).
// Models used as layers are flattened: their InputLayers become aliases of the tensors
// fed to them, their weights stay grouped under the outer layer's name, as in the file.
// TFOpLambda layers (tf.keras 2.4+ records of x + y, x * 0.5 ...) are rewritten as
// Add / Subtract / Multiply / Rescaling before anything else (keras_tf_op_lambda.h).
// A layer called several times (shared weights) is refused when loading.
//
// GraphMode::Outline (for viewing models that cannot be loaded, see model_outline.h)
// keeps going where loading stops: each call of a shared layer becomes its own node, a
// raw TensorFlow op that cannot be lowered stays a TFOpLambda node, a Sequential model
// without an input shape gets an input node of unknown shape; each such node carries
// the loading error as its `problem`. Broken structure (cycles, unknown layers) is
// still an error. Layer classes are not checked here (that is layerFromKeras' job).
//
// Writing: a Sequential config when the graph is a single chain, else a Functional one
// with Keras 2 inbound_nodes, every layer config in tf.keras 2.13 spelling.
#include <string>
#include <vector>

#include "engine/graph/model.h"
#include "engine/io/keras_config.h"

namespace qat::keras {

struct GraphNode {
  std::string name;       // engine layer name (the Keras name, made unique when flattening)
  std::string className;  // Keras class
  Json config;            // Keras layer config
  std::vector<int> inputs;  // producer node ids, all smaller than this node's id
  int weightGroup = -1;   // index into KerasGraph::groups, -1 for a synthesized input
  bool trainable = true;  // Keras `trainable`, including that of enclosing models
  bool isInput = false;
  std::string kerasName;  // the layer's name in the Keras config (weight names use it)
  std::string problem;    // GraphMode::Outline: why this node cannot be loaded, "" if fine
};

// One top-level Keras layer: what the HDF5 file stores under model_weights/<name>.
struct WeightGroup {
  std::string name;
  std::string className;
  std::vector<int> nodes;  // the engine nodes whose parameters it holds, in layer order
  bool nested = false;     // a model used as a layer
};

struct KerasGraph {
  std::string name;
  std::vector<GraphNode> nodes;
  std::vector<int> inputs, outputs;
  std::vector<WeightGroup> groups;
  std::vector<std::string> warnings;
};

enum class GraphMode { Load, Outline };

// `model` is the parsed model_config / to_json() object: {"class_name", "config"}.
// Errors name the layer and class; the caller prefixes the file.
Expected<KerasGraph> parseModelConfig(const Json& model, GraphMode mode = GraphMode::Load);

// The model_config for a built model (layer configs via layerToKeras).
Expected<Json> modelConfigFor(const Model& model);

}  // namespace qat::keras
