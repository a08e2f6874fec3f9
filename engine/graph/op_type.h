#pragma once
// Every layer kind the engine knows, and its Keras class name. The enum and the name
// table are kept in sync by a static_assert.
#include <array>
#include <optional>
#include <string_view>

namespace qat {

enum class OpType {
  Input,
  Dense,
  Conv2D,
  DepthwiseConv2D,
  SeparableConv2D,
  BatchNormalization,
  Activation,
  ReLU,
  LeakyReLU,
  Softmax,
  MaxPooling2D,
  AveragePooling2D,
  GlobalAveragePooling2D,
  GlobalMaxPooling2D,
  Flatten,
  Reshape,
  Dropout,
  ZeroPadding2D,
  Add,
  Subtract,
  Multiply,
  Concatenate,
  Rescaling,
  Conv1D,
  Conv2DTranspose,
  MaxPooling1D,
  AveragePooling1D,
  GlobalAveragePooling1D,
  GlobalMaxPooling1D,
  UpSampling2D,
  Cropping2D,
  PReLU,
  Permute,
  // Quantization nodes (engine/quant/); they exist only in quantized models, never in
  // Keras files.
  FakeQuant,         // an activation/output/input quantizer as its own node
  QuantizeWrapper,   // a layer whose weights are fake-quantized
  FoldedBatchNorm,   // Conv2D/DepthwiseConv2D/Dense + BatchNormalization folded for QAT
  Count
};

inline constexpr std::array<std::string_view, static_cast<size_t>(OpType::Count)> kOpTypeNames = {
    "InputLayer",        "Dense",
    "Conv2D",            "DepthwiseConv2D",
    "SeparableConv2D",   "BatchNormalization",
    "Activation",        "ReLU",
    "LeakyReLU",         "Softmax",
    "MaxPooling2D",      "AveragePooling2D",
    "GlobalAveragePooling2D", "GlobalMaxPooling2D",
    "Flatten",           "Reshape",
    "Dropout",           "ZeroPadding2D",
    "Add",               "Subtract",
    "Multiply",          "Concatenate",
    "Rescaling",         "Conv1D",
    "Conv2DTranspose",   "MaxPooling1D",
    "AveragePooling1D",  "GlobalAveragePooling1D",
    "GlobalMaxPooling1D", "UpSampling2D",
    "Cropping2D",        "PReLU",
    "Permute",           "FakeQuant",
    "QuantizeWrapper",   "FoldedBatchNorm",
};
static_assert(kOpTypeNames.size() == static_cast<size_t>(OpType::Count),
              "kOpTypeNames must list one name per OpType");

inline std::string_view opTypeName(OpType t) { return kOpTypeNames[static_cast<size_t>(t)]; }

inline bool isQuantizationOp(OpType t) {
  return t == OpType::FakeQuant || t == OpType::QuantizeWrapper || t == OpType::FoldedBatchNorm;
}

inline std::optional<OpType> opTypeFromName(std::string_view name) {
  for (size_t i = 0; i < kOpTypeNames.size(); ++i)
    if (kOpTypeNames[i] == name) return static_cast<OpType>(i);
  return std::nullopt;
}

}  // namespace qat
