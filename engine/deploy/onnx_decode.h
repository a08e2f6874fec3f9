#pragma once
// ONNX messages decoded from protobuf bytes (the reading side of onnx_proto.h), into plain
// structs the QDQ reader (onnx_reader.cpp) maps to an IntegerGraph. Only the fields the
// reader needs are kept; unknown fields are skipped as protobuf requires. Field numbers
// as in onnx.proto:
//   ModelProto       1 ir_version, 7 graph, 8 opset_import (OperatorSetId 1 domain, 2 version)
//   GraphProto       1 node, 2 name, 5 initializer, 10 doc_string, 11 input, 12 output,
//                    15 sparse_initializer (refused)
//   NodeProto        1 input, 2 output, 3 name, 4 op_type, 5 attribute, 7 domain
//   AttributeProto   1 name, 2 f, 3 i, 4 s, 5 t, 6 g, 7 floats, 8 ints, 20 type
//   TensorProto      1 dims, 2 data_type, 4 float_data, 5 int32_data, 7 int64_data,
//                    8 name, 9 raw_data, 13 external_data, 14 data_location
//   ValueInfoProto   1 name, 2 type → TypeProto 1 tensor_type → 1 elem_type, 2 shape →
//                    TensorShapeProto 1 dim → Dimension 1 dim_value | 2 dim_param
// Repeated scalars are accepted packed or unpacked.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/core/error.h"

namespace qat::deploy::onnx {

// An initializer. `raw` holds numel(dims) values little-endian whatever field carried them
// (raw_data, or float_data / int32_data / int64_data converted), element size by type.
struct DecodedTensor {
  std::string name;
  int dataType = 0;  // TensorProto.DataType
  std::vector<int64_t> dims;
  std::vector<uint8_t> raw;
};

struct DecodedAttribute {
  std::string name;
  int type = 0;  // AttributeProto.AttributeType: FLOAT 1, INT 2, STRING 3, TENSOR 4, GRAPH 5, FLOATS 6, INTS 7
  float f = 0.0f;
  int64_t i = 0;
  std::string s;
  std::vector<float> floats;
  std::vector<int64_t> ints;
};

struct DecodedNode {
  std::string name, opType, domain;
  std::vector<std::string> inputs, outputs;  // "" marks an omitted optional input
  std::vector<DecodedAttribute> attributes;
  const DecodedAttribute* attribute(const std::string& n) const {
    for (const auto& a : attributes)
      if (a.name == n) return &a;
    return nullptr;
  }
};

// A graph input or output. dims: −1 for a symbolic or unknown dimension.
struct DecodedValueInfo {
  std::string name;
  int elemType = 0;
  bool hasShape = false;
  std::vector<int64_t> dims;
};

struct DecodedGraph {
  std::string name, docString;
  std::vector<DecodedNode> nodes;
  std::vector<DecodedTensor> initializers;
  std::vector<DecodedValueInfo> inputs, outputs;
};

struct DecodedModel {
  int64_t irVersion = 0;
  std::vector<std::pair<std::string, int64_t>> opsets;  // (domain, version)
  bool hasGraph = false;
  DecodedGraph graph;
};

// Errors say what is malformed and where (byte offset); the caller names the file.
Expected<DecodedModel> decodeModel(std::span<const uint8_t> bytes);

// "FLOAT", "INT8", ... for messages; "type 42" for unknown values.
std::string dataTypeName(int dataType);
// Bytes per element of the types the reader handles (FLOAT, INT8, UINT8, INT32, INT64); 0 otherwise.
size_t elementSize(int dataType);

}  // namespace qat::deploy::onnx
