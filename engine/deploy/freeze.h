#pragma once
// freeze: a quantized model (engine/quant) → the integer graph TFLite's converter would
// produce from the equivalent tfmot model (QUANT_SPEC.md §4):
//  * BatchNorm folded into the preceding Conv/DepthwiseConv/Dense (both BN modes; a
//    FoldedBatchNorm gives its foldedWeights()), ReLU/ReLU6 fused as fused_activation_function
//    when the producer is CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED / ADD / SUB / MUL;
//  * activation scales and zero points from the FakeQuant nodes' grids (int8 = q − 128 for
//    the 0..255 grid), weights int8 from the weight quantizers' grids (per-channel for
//    conv and depthwise), int32 biases with scale input_scale · weight_scale[c];
//  * fixed output parameters for SOFTMAX / LOGISTIC (1/256, −128) and TANH (1/128, 0);
//  * the input tensor's scale for ops that TFLite requires to keep it (MAX_POOL_2D,
//    AVERAGE_POOL_2D, RESHAPE, PAD, CONCATENATION with a shared quantizer);
//  * QUANTIZE at the model input and DEQUANTIZE at the output (float I/O), unless int8Io.
// Also: a BatchNorm that cannot fold (after a ReLU) runs as a 1×1 DEPTHWISE_CONV_2D; a
// ZeroPadding2D equal to 'same' padding folds into the next convolution; an int8 →
// int8 QUANTIZE requantizes where a quantizer's scale differs from what an op produced
// (average pooling, concatenation inputs); float layers inside a quantized model are
// refused (the int8 export runs every computing layer in int8). Each such decision adds
// one sentence to IntegerGraph::notes for the export report.
// Layers with no TFLite integer equivalent, or tensors without a quantizer where one is
// needed, are refused with an error naming the layer and class and what to change.
#include "engine/deploy/integer_graph.h"
#include "engine/quant/quantize_model.h"

namespace qat::deploy {

struct FreezeOptions {
  bool int8Io = false;  // int8 input/output tensors instead of float with QUANTIZE/DEQUANTIZE
  // Inputs (N, ...) of the model's (single) input, used only to measure the range of
  // tensors the QAT model leaves unquantized but the int8 graph needs a scale for: the
  // pre-activation values of a Conv/Dense with an in-layer softmax, sigmoid or tanh
  // (tfmot quantizes before those activations; the studio's schemes put no quantizer
  // there). Without samples such layers are refused naming them. Not owned.
  const Tensor* rangeSamples = nullptr;
  // A BatchNormalization folded into a Dense at freeze (tfmot BN mode) leaves weights whose
  // channels were scaled differently. Per tensor (default, like TFLite's converter, and
  // what Arm NN 20.08 can run) loses precision when the BN scales differ a lot between
  // channels; per channel keeps it but needs a runtime with per-channel FULLY_CONNECTED.
  bool perChannelFoldedDense = false;
};

Expected<IntegerGraph> freezeQuantized(const quant::QuantizedModel& model, const FreezeOptions& options = {});

// The float graph of a float model (float32 tensors and weights, BN folded, activations
// fused) for float .tflite export and the float reference of the interpreter.
Expected<IntegerGraph> freezeFloat(const Model& model);

}  // namespace qat::deploy
