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

// Reads an ONNX QDQ file back into the IntegerGraph it was written from (onnx_reader.cpp),
// so verification runs the integer interpreter on what the file holds: running the graph
// read back gives bit for bit the results of the graph that was written. Reads exactly the
// subset the writer produces (opset 13 to 17, default domain); any other node is refused
// with an error naming it and its op type, damaged bytes with an error naming `what` (the
// file), never a crash. Tensor order and generated names may differ from the original
// graph (an op's sourceLayer becomes its output tensor's name); weights written on a 4-bit
// grid read back as int8 values with valueBits 8.
Expected<IntegerGraph> parseOnnxQdq(const std::vector<uint8_t>& bytes, const std::string& what);
Expected<IntegerGraph> readOnnxQdq(const std::string& path);

}  // namespace qat::deploy
