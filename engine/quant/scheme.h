#pragma once
// Quantization schemes: the rules that turn a float model into a QuantizeConfig, like
// tfmot's Default8BitQuantizeRegistry and its layout transforms (QUANT_SPEC.md §3).
//
// Per layer class (QuantRole):
//   Weighted     Conv2D, DepthwiseConv2D, SeparableConv2D, Conv1D: kernels LastValue,
//                per-axis, symmetric, narrow range; Dense: the same per-tensor.
//                Output → activation quantizer A (MovingAverage, asymmetric).
//   Output       ReLU, LeakyReLU, Add, Subtract, Multiply, Concatenate, UpSampling2D,
//                Average/GlobalAveragePooling (1-D and 2-D), Rescaling → A.
//   Activation   `Activation`: A after relu/relu6/swish/gelu/elu/selu/softplus/hard_sigmoid,
//                none after linear/softmax/sigmoid/tanh (TFLite gives those fixed
//                output parameters).
//   PassThrough  Cropping2D, ZeroPadding2D, Dropout, Flatten, Permute, Reshape,
//                Max/GlobalMaxPooling (1-D and 2-D), Softmax: no quantizer (the values
//                are a subset or re-arrangement of already quantized ones).
//   BatchNorm    after a linear Conv/DepthwiseConv/Dense: foldable (no quantizer between
//                them); standalone: an output-only config (A on its output), which tfmot
//                rejects but users add by hand.
//   Unsupported  Conv2DTranspose, PReLU: no integer kernel in the export path yet.
// Layout rules: a weighted layer with an in-layer softmax/sigmoid/tanh gets no output
// quantizer; X → BN leaves X's output unquantized; X → ReLU/Activation(relu…) (as X's
// only consumer) moves the quantizer after the activation (TFLite fuses it); a producer
// feeding only a Concatenate gives its quantizer up to the Concatenate's shared one.
// Model inputs get AllValues (asymmetric).
#include <regex>
#include <string>
#include <vector>

#include "engine/graph/model.h"
#include "engine/quant/quantize_config.h"

namespace qat::quant {

enum class QuantRole { Input, Weighted, Output, Activation, PassThrough, BatchNorm, Unsupported };
std::string_view quantRoleName(QuantRole r);

struct NodeQuantInfo {
  QuantRole role = QuantRole::PassThrough;
  std::string reason;  // Unsupported: why, and what the user can do
};
NodeQuantInfo classifyNode(const Model& model, int node);

// Bit widths and BatchNorm handling. Names: "default8" (W8A8, tfmot's registry),
// "w4a8", "w8a16", any "w<2..16>a<2..16>" (tfmot's experimental n-bit scheme).
struct SchemeOptions {
  std::string name = "default8";
  int weightBits = 8;
  int activationBits = 8;
  BnMode bnMode = BnMode::Tfmot;
  long freezeBnStep = -1;
};
Expected<SchemeOptions> schemeFromName(const std::string& name);

// Which layers to quantize. Entries, comma-separated on the command line:
//   an exact layer name ("conv2d_1"), a layer class ("Conv2D", matched against the
//   engine class name), or a pattern: "re:<ECMAScript regex>" matched against the whole
//   layer name, or a glob with * and ? ("block1_*").
// Empty: every layer.
struct LayerSelection {
  std::vector<std::string> entries;
  bool all() const { return entries.empty(); }
};
LayerSelection parseLayerSelection(const std::string& commaSeparated);
// Node ids the selection picks (inputs excluded). Errors: an entry that matches no
// layer (names the entry and lists a few layer names), an invalid regex.
Expected<std::vector<int>> selectNodes(const Model& model, const LayerSelection& selection);

// The scheme's config for the selected layers (others get quantize=false).
// Unsupported layers: when selected explicitly by name, an error naming layer and class
// that says how to proceed; when picked up by a class/pattern/whole-model selection, also
// an error, unless skipUnsupported, which leaves them float and adds a warning.
struct SchemeResult {
  QuantizeConfig config;
  std::vector<std::string> warnings;
};
Expected<SchemeResult> makeSchemeConfig(const Model& model, const SchemeOptions& scheme,
                                        const LayerSelection& selection = {}, bool skipUnsupported = false);

// Chains the export (and fold mode) fuse into one op: a weighted layer with a linear
// activation whose only consumer is a BatchNormalization, optionally followed by a ReLU /
// Activation(relu|relu6) that is the BN's only consumer; also weighted → ReLU without BN.
// Node ids in order; for the graph view's groups.
std::vector<std::vector<int>> fusedGroups(const Model& model);

// The default weight / activation quantizer specs of a scheme (for the GUI's presets).
QuantizerSpec schemeWeightSpec(const SchemeOptions& s, bool perAxis);
QuantizerSpec schemeActivationSpec(const SchemeOptions& s);

}  // namespace qat::quant
