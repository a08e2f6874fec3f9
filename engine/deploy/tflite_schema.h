#pragma once
// The part of TFLite's flatbuffer schema (tensorflow/lite/schema/schema.fbs, schema
// version 3) that the .tflite writer and reader use, as numbers: table field ids, enum
// values and builtin-options union indices. Internal to engine/deploy.
//
// A flatbuffer table field with id n sits at vtable offset 4 + 2·n; fields are numbered in
// declaration order and a union field takes two ids (its type byte, then its value).
//
// Builtin options used here (union BuiltinOptions index / table fields by id), from
// schema.fbs; union indices 1, 2, 5, 8, 9, 11 and 27 also as TF's converter wrote them into
// the files in ../shared/models/tflite, and every row as Arm NN 20.08's TfLite parser reads
// our files (tests/engine/test_tflite_armnn.cpp runs one graph per op):
//   op                 code  options (union idx)          fields (id: name = default)
//   ADD                  0   AddOptions (11)              0 fused_activation_function, 1 pot_scale_int16 = true
//   AVERAGE_POOL_2D      1   Pool2DOptions (5)            0 padding, 1 stride_w, 2 stride_h, 3 filter_width,
//                                                         4 filter_height, 5 fused_activation_function
//   CONCATENATION        2   ConcatenationOptions (10)    0 axis, 1 fused_activation_function
//   CONV_2D              3   Conv2DOptions (1)            0 padding, 1 stride_w, 2 stride_h,
//                                                         3 fused_activation_function, 4 dilation_w_factor = 1,
//                                                         5 dilation_h_factor = 1, 6 quantized_bias_type
//   DEPTHWISE_CONV_2D    4   DepthwiseConv2DOptions (2)   0 padding, 1 stride_w, 2 stride_h, 3 depth_multiplier,
//                                                         4 fused_activation_function, 5 dilation_w_factor = 1,
//                                                         6 dilation_h_factor = 1
//   DEQUANTIZE           6   DequantizeOptions (38)       (none)
//   FULLY_CONNECTED      9   FullyConnectedOptions (8)    0 fused_activation_function, 1 weights_format = DEFAULT,
//                                                         2 keep_num_dims, 3 asymmetric_quantize_inputs,
//                                                         4 quantized_bias_type
//   LOGISTIC            14   (none)
//   MAX_POOL_2D         17   Pool2DOptions (5)
//   MUL                 18   MulOptions (21)              0 fused_activation_function
//   RELU / RELU6     19/21   (none)
//   RESHAPE             22   ReshapeOptions (17)          0 new_shape [int]
//   SOFTMAX             25   SoftmaxOptions (9)           0 beta
//   TANH                28   (none)
//   PAD                 34   PadOptions (22)              (none)
//   MEAN                40   ReducerOptions (27)          0 keep_dims
//   SUB                 41   SubOptions (28)              0 fused_activation_function, 1 pot_scale_int16 = true
//   LEAKY_RELU          98   LeakyReluOptions (75)        0 alpha
//   QUANTIZE           114   QuantizeOptions (89)         (none)
//   HARD_SWISH         117   HardSwishOptions (91)        (none)
// Enums: Padding SAME 0, VALID 1. ActivationFunctionType NONE 0, RELU 1, RELU_N1_TO_1 2,
// RELU6 3. TensorType FLOAT32 0, INT32 2, UINT8 3, INT16 7, INT8 9, INT4 17.
#include <cstdint>
#include <optional>
#include <string_view>

#include "engine/deploy/integer_graph.h"

namespace qat::deploy::tfl {

// Vtable offset of the field with id `id`.
constexpr uint16_t vt(int id) { return static_cast<uint16_t>(4 + 2 * id); }

// Table fields (ids as in schema.fbs).
namespace model { enum : int { kVersion = 0, kOperatorCodes = 1, kSubgraphs = 2, kDescription = 3, kBuffers = 4 }; }
namespace subgraph { enum : int { kTensors = 0, kInputs = 1, kOutputs = 2, kOperators = 3, kName = 4 }; }
namespace tensor {
enum : int { kShape = 0, kType = 1, kBuffer = 2, kName = 3, kQuantization = 4, kIsVariable = 5, kSparsity = 6,
             kShapeSignature = 7 };
}
namespace quant {
enum : int { kMin = 0, kMax = 1, kScale = 2, kZeroPoint = 3, kDetailsType = 4, kDetails = 5, kQuantizedDimension = 6 };
}
namespace op {
enum : int { kOpcodeIndex = 0, kInputs = 1, kOutputs = 2, kOptionsType = 3, kOptions = 4, kCustomOptions = 5 };
}
namespace opcode { enum : int { kDeprecatedBuiltinCode = 0, kCustomCode = 1, kVersion = 2, kBuiltinCode = 3 }; }
namespace buffer { enum : int { kData = 0, kOffset = 1, kSize = 2 }; }

constexpr uint32_t kSchemaVersion = 3;
constexpr const char* kFileIdentifier = "TFL3";
// Codes at or above this do not fit deprecated_builtin_code (a byte).
constexpr int32_t kPlaceholderForGreaterOpCodes = 127;

enum TensorType : int8_t { kFloat32 = 0, kInt32 = 2, kUInt8 = 3, kInt64 = 4, kInt16 = 7, kInt8 = 9, kInt4 = 17 };
enum Padding : int8_t { kSame = 0, kValid = 1 };
enum Activation : int8_t { kActNone = 0, kActRelu = 1, kActReluN1To1 = 2, kActRelu6 = 3 };

// Builtin-options union indices (0 = NONE).
enum OptionsType : uint8_t {
  kNoOptions = 0, kConv2DOptions = 1, kDepthwiseConv2DOptions = 2, kPool2DOptions = 5, kFullyConnectedOptions = 8,
  kSoftmaxOptions = 9, kConcatenationOptions = 10, kAddOptions = 11, kReshapeOptions = 17, kMulOptions = 21,
  kPadOptions = 22, kReducerOptions = 27, kSubOptions = 28, kDequantizeOptions = 38, kLeakyReluOptions = 75,
  kQuantizeOptions = 89, kHardSwishOptions = 91
};

// What an OpKind is in the file: builtin code, options table, and the operator version the
// TF converter writes for the int8 (quantized) and float variants.
struct OpInfo {
  OpKind kind;
  int32_t code;
  std::string_view name;
  OptionsType options;
  int versionInt8;
  int versionFloat;
};

// Every OpKind, one row each (kept in OpKind order; a static_assert in the writer checks).
inline constexpr OpInfo kOps[] = {
    {OpKind::Conv2D, 3, "CONV_2D", kConv2DOptions, 3, 1},
    {OpKind::DepthwiseConv2D, 4, "DEPTHWISE_CONV_2D", kDepthwiseConv2DOptions, 3, 1},
    {OpKind::FullyConnected, 9, "FULLY_CONNECTED", kFullyConnectedOptions, 4, 1},
    {OpKind::AveragePool2D, 1, "AVERAGE_POOL_2D", kPool2DOptions, 2, 1},
    {OpKind::MaxPool2D, 17, "MAX_POOL_2D", kPool2DOptions, 2, 1},
    {OpKind::Mean, 40, "MEAN", kReducerOptions, 2, 1},
    {OpKind::Reshape, 22, "RESHAPE", kReshapeOptions, 1, 1},
    {OpKind::Softmax, 25, "SOFTMAX", kSoftmaxOptions, 2, 1},
    {OpKind::Logistic, 14, "LOGISTIC", kNoOptions, 2, 1},
    {OpKind::Tanh, 28, "TANH", kNoOptions, 2, 1},
    {OpKind::Add, 0, "ADD", kAddOptions, 2, 1},
    {OpKind::Sub, 41, "SUB", kSubOptions, 2, 1},
    {OpKind::Mul, 18, "MUL", kMulOptions, 2, 1},
    {OpKind::Concatenation, 2, "CONCATENATION", kConcatenationOptions, 2, 1},
    {OpKind::Pad, 34, "PAD", kPadOptions, 2, 1},
    {OpKind::Quantize, 114, "QUANTIZE", kQuantizeOptions, 2, 1},
    {OpKind::Dequantize, 6, "DEQUANTIZE", kDequantizeOptions, 2, 1},
    {OpKind::LeakyRelu, 98, "LEAKY_RELU", kLeakyReluOptions, 2, 1},
    {OpKind::HardSwish, 117, "HARD_SWISH", kHardSwishOptions, 1, 1},
    {OpKind::Relu, 19, "RELU", kNoOptions, 2, 1},
    {OpKind::Relu6, 21, "RELU6", kNoOptions, 2, 1},
};
inline constexpr int kOpCount = static_cast<int>(sizeof(kOps) / sizeof(kOps[0]));

inline const OpInfo& opInfo(OpKind k) { return kOps[static_cast<int>(k)]; }
inline const OpInfo* opInfoForCode(int32_t code) {
  for (const OpInfo& o : kOps)
    if (o.code == code) return &o;
  return nullptr;
}

// Names of the builtin operators the reader may meet but the IntegerGraph does not model,
// for error messages ("SHAPE", "STRIDED_SLICE", ...). Empty when unknown.
std::string_view builtinName(int32_t code);

}  // namespace qat::deploy::tfl
