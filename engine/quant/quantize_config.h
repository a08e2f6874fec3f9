#pragma once
// What to quantize and how: the studio's equivalent of tfmot's QuantizeConfig per layer,
// plus the model-wide choices (scheme, BatchNorm handling, input quantizer). Stored as
// JSON with a schema version, edited in the GUI's layer inspector and by hand
// (`qat-cli config-template m.h5 > q.json`).
//
//   {
//     "schema_version": 1,
//     "scheme": "default8",              // what filled in the layers (informational)
//     "bn_mode": "tfmot" | "fold",
//     "freeze_bn_step": -1,             // fold mode: steps until BN statistics freeze
//     "input": { quantizer } | null,    // after each model input (tfmot's QuantizeLayer)
//     "layers": {
//       "conv2d": { "quantize": true,
//                   "weights": { "kernel": { quantizer } },
//                   "output": { quantizer } | null },
//       "dropout": { "quantize": true, "weights": {}, "output": null },
//       ...
//     }
//   }
// A quantizer object is a QuantizerSpec (engine/quant/quantizer.h): {"type", "bits",
// "per_axis", "symmetric", "narrow_range", ...}. "output" quantizes the node's output
// (after its in-layer activation): tfmot's activation and output quantizers in one place.
// Layers missing from "layers" stay float.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/quant/quantizer.h"

namespace qat::quant {

inline constexpr int kQuantizeConfigSchemaVersion = 1;

// How Conv/DepthwiseConv/Dense → BatchNormalization pairs are trained:
//   Tfmot  kernel fake-quantized unfolded, BN in float; folded only at export (tfmot)
//   Fold   true folding during QAT with batch-statistics correction (FoldedBatchNorm)
enum class BnMode { Tfmot, Fold };
std::string_view bnModeName(BnMode m);
std::optional<BnMode> bnModeFromName(std::string_view name);

struct LayerQuantConfig {
  bool quantize = true;                          // false: the layer runs in float
  std::map<std::string, QuantizerSpec> weights;  // parameter name → quantizer
  std::optional<QuantizerSpec> output;           // after the layer's output; none if unset

  bool operator==(const LayerQuantConfig&) const = default;
};

struct QuantizeConfig {
  std::string scheme = "default8";
  BnMode bnMode = BnMode::Tfmot;
  long freezeBnStep = -1;
  std::optional<QuantizerSpec> input;
  std::map<std::string, LayerQuantConfig> layers;  // by layer name

  bool operator==(const QuantizeConfig&) const = default;
};

nlohmann::json toJson(const QuantizeConfig& config);
// Errors name the JSON path ("layers.conv2d.weights.kernel.bits: ...").
Expected<QuantizeConfig> quantizeConfigFromJson(const nlohmann::json& j);
Expected<QuantizeConfig> readQuantizeConfig(const std::string& path);
// Written atomically (temporary file, then rename).
Status writeQuantizeConfig(const QuantizeConfig& config, const std::string& path);

}  // namespace qat::quant
