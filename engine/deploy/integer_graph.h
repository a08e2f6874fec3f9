#pragma once
// The deployable graph: what a QAT model becomes when it is frozen for an integer runtime,
// and what the exporters (.tflite, ONNX QDQ, C header) write and the integer interpreter
// runs. It mirrors TFLite's model structure (QUANT_SPEC.md §4-5): tensors with shapes,
// element types, quantization parameters and optional constant data; operators with
// TFLite's builtin options; graph inputs and outputs by tensor index.
//
// Conventions
//  * Activation shapes are NHWC with the batch first ([1, H, W, C], [1, units]); the
//    batch dimension is 1 in `shape` and dynamic at run time (TFLite's shape_signature -1).
//  * Weights in TFLite layouts: CONV_2D OHWI [O, kh, kw, I]; DEPTHWISE_CONV_2D
//    [1, kh, kw, C·M]; FULLY_CONNECTED [units, in]. (Keras keeps HWIO / (in, units):
//    freeze() transposes.)
//  * Quantized tensors: real = scale · (q − zeroPoint). Per-axis weights carry one scale
//    and zero point per channel along `quantizedDimension` (0 for CONV_2D / FC weights,
//    3 for DEPTHWISE_CONV_2D weights).
//  * Constant data is stored little-endian in `data` (int8: 1 byte per value, int32: 4,
//    float32: 4); empty for activations.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/error.h"

namespace qat::deploy {

enum class ElementType { Float32, Int8, Int32, Int4 };
std::string_view elementTypeName(ElementType t);

struct QuantParams {
  std::vector<float> scale;        // empty: not quantized (float tensor)
  std::vector<int64_t> zeroPoint;  // same length as scale
  int quantizedDimension = 0;
  bool quantized() const { return !scale.empty(); }
};

struct GraphTensor {
  std::string name;
  std::vector<int> shape;
  ElementType type = ElementType::Float32;
  QuantParams quant;
  std::vector<uint8_t> data;  // constants only
  // The grid the values were trained on: 4 for W4 weights stored as int8 values in
  // [−7, 7], 8 otherwise. The TFLite exporter writes int8 unless INT4 output is asked for.
  int valueBits = 8;
  bool isConstant() const { return !data.empty(); }
};

enum class OpKind {
  Conv2D, DepthwiseConv2D, FullyConnected, AveragePool2D, MaxPool2D, Mean, Reshape, Softmax,
  Logistic, Tanh, Add, Sub, Mul, Concatenation, Pad, Quantize, Dequantize, LeakyRelu, HardSwish,
  Relu, Relu6
};
std::string_view opKindName(OpKind k);  // TFLite's builtin name: "CONV_2D", ...

enum class FusedActivation { None, Relu, Relu6, ReluN1To1 };
enum class PaddingKind { Same, Valid };

struct GraphOp {
  OpKind kind = OpKind::Conv2D;
  std::vector<int> inputs;   // tensor indices; -1 for an omitted optional input (no bias)
  std::vector<int> outputs;  // tensor indices
  // Builtin options (only those of `kind` matter):
  PaddingKind padding = PaddingKind::Valid;         // conv, depthwise, pools
  int strideH = 1, strideW = 1;                     // conv, depthwise, pools
  int dilationH = 1, dilationW = 1;                 // conv, depthwise
  int filterH = 1, filterW = 1;                     // pools
  int depthMultiplier = 1;                          // depthwise
  FusedActivation activation = FusedActivation::None;  // conv, depthwise, FC, pools, add, sub, mul, concat
  int axis = -1;                                    // concatenation
  bool keepDims = false;                            // mean (axes are its second input tensor)
  float alpha = 0.2f;                               // leaky relu
  float beta = 1.0f;                                // softmax
  std::string sourceLayer;                          // the Keras layer it came from, for reports
};

struct IntegerGraph {
  std::string name;
  std::vector<GraphTensor> tensors;
  std::vector<GraphOp> ops;  // in execution order
  std::vector<int> inputs, outputs;
  // One sentence each for the export report: sub-8-bit weights run as int8, float
  // layers left in the graph, ...
  std::vector<std::string> notes;

  int addTensor(GraphTensor t) {
    tensors.push_back(std::move(t));
    return static_cast<int>(tensors.size()) - 1;
  }
};

// Structural checks every producer must pass before a graph is written or run: indices in
// range, each non-constant tensor produced once before use, quantization vectors of
// consistent length, constant data sizes matching shapes and types. Errors name the op
// and tensor.
Status validate(const IntegerGraph& g);

}  // namespace qat::deploy
