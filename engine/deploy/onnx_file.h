#pragma once
// ONNX QDQ export (QUANT_SPEC.md §6): opset 13, the integer graph written as float
// operators wrapped in QuantizeLinear / DequantizeLinear pairs (per-axis DequantizeLinear
// with `axis` for per-channel weights), NCHW inside with Transpose at the boundaries so
// the model takes and returns NHWC tensors like the Keras model. Encoded with a small
// protobuf writer (no libprotobuf): ModelProto / GraphProto / NodeProto / TensorProto /
// ValueInfoProto fields by their onnx.proto numbers.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/deploy/integer_graph.h"

namespace qat::deploy {

Expected<std::vector<uint8_t>> onnxQdqBytes(const IntegerGraph& graph);
// Written to a temporary file and renamed.
Status writeOnnxQdq(const IntegerGraph& graph, const std::string& path);

}  // namespace qat::deploy
