#pragma once
// quantizeModel: a float model + a QuantizeConfig → the model that QAT trains and
// evaluates (tfmot's quantize_apply). The float model is not changed.
//
// What the transform builds, node by node (float layers are deep-copied with weights):
//   InputLayer                → InputLayer, then FakeQuantLayer "<input>_quant" (config.input)
//   layer, quantize=false     → the same layer (float)
//   layer with weight specs   → QuantizeWrapper(layer, {param → quantizer})
//   SeparableConv2D           → DepthwiseConv2D "<name>_depthwise" (wrapped, its output
//                               quantized like the layer's) + 1×1 Conv2D "<name>" (wrapped)
//   Conv/Dense → BN in fold mode (both quantized, the conv linear and BN its only consumer)
//                             → FoldedBatchNorm named like the BN
//   any layer with an output spec → ... then FakeQuantLayer "<name>_quant"
// Quantization nodes get names no float layer uses (a numeric suffix when needed).
//
// Every parameter that is a float weight (kernels, biases, BN γ/β/statistics) is linked
// to the float layer and Keras weight it came from, so trained weights can be written
// back to the float model (Keras export, a new config, the compare view).
#include <string>
#include <vector>

#include "engine/graph/model.h"
#include "engine/quant/quantize_config.h"

namespace qat::quant {

struct ParamLink {
  int node = -1;           // node of the quantized model
  int param = -1;          // index into that node's params()
  std::string floatLayer;  // layer name in the float model
  std::string floatParam;  // Keras weight name there ("kernel", "pointwise_kernel", ...)
};

struct QuantizedModel {
  Model model;  // built; trains and evaluates like any Model
  QuantizeConfig config;
  std::vector<ParamLink> links;
  std::vector<std::string> warnings;  // config entries that could not apply as written
  // Node of the quantized model that computes each float layer's output (by float node id).
  std::vector<int> nodeOf;
};

// Errors name the layer and what to do: a config entry for a layer the model lacks, a
// weight quantizer for a parameter the layer does not have, an unknown quantizer type.
// The float model must be built.
Expected<QuantizedModel> quantizeModel(const Model& floatModel, const QuantizeConfig& config);

// Writes the quantized model's float weights (the trained shadow weights, BN statistics)
// into `floatModel`, which must have the architecture quantizeModel was given.
Status copyFloatWeights(const QuantizedModel& quantized, Model& floatModel);

// Counts for reports and the status bar: quantized layers, and parameters stored at each
// bit width once exported (float parameters at 32).
struct QuantSummary {
  int quantizedLayers = 0;
  int floatLayers = 0;
  int fakeQuantNodes = 0;
  size_t weightBits = 0;  // Σ over float-model weights of their stored bit width
  size_t floatBits = 0;   // the same model all float32
};
QuantSummary summarize(const QuantizedModel& q, const Model& floatModel);

}  // namespace qat::quant
