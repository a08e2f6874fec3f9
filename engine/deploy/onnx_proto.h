#pragma once
// ONNX messages (onnx.proto, IR version 7 / opset 13) encoded with ProtoWriter. Field
// numbers as in onnx.proto:
//   ModelProto       1 ir_version, 2 producer_name, 7 graph, 8 opset_import
//   OperatorSetId    1 domain, 2 version
//   GraphProto       1 node, 2 name, 5 initializer, 10 doc_string, 11 input, 12 output
//   NodeProto        1 input, 2 output, 3 name, 4 op_type, 5 attribute
//   AttributeProto   1 name, 2 f, 3 i, 8 ints, 20 type (FLOAT 1, INT 2, INTS 7)
//   TensorProto      1 dims, 2 data_type, 8 name, 9 raw_data (little-endian values)
//   ValueInfoProto   1 name, 2 type → TypeProto 1 tensor_type → 1 elem_type, 2 shape →
//                    TensorShapeProto 1 dim → Dimension 1 dim_value | 2 dim_param
// onnx.proto is proto2, so repeated scalars (dims, ints) are written unpacked, one field
// per value, as the reference implementation writes them.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/deploy/protobuf_writer.h"

namespace qat::deploy::onnx {

// TensorProto.DataType values.
enum DataType : int { Float = 1, Uint8 = 2, Int8 = 3, Int32 = 6, Int64 = 7 };

struct Attribute {
  enum Kind { Int, Float, Ints };
  std::string name;
  Kind kind = Int;
  int64_t i = 0;
  float f = 0.0f;
  std::vector<int64_t> ints;

  static Attribute ofInt(std::string n, int64_t v) { return {std::move(n), Int, v, 0.0f, {}}; }
  static Attribute ofFloat(std::string n, float v) { return {std::move(n), Float, 0, v, {}}; }
  static Attribute ofInts(std::string n, std::vector<int64_t> v) {
    return {std::move(n), Ints, 0, 0.0f, std::move(v)};
  }
};

// A constant: `raw` holds the values little-endian, numel(dims) of them (dims empty: a scalar).
ProtoWriter tensorProto(const std::string& name, DataType type, const std::vector<int64_t>& dims,
                        std::span<const uint8_t> raw);

ProtoWriter nodeProto(const std::string& opType, const std::vector<std::string>& inputs,
                      const std::vector<std::string>& outputs, const std::string& name,
                      const std::vector<Attribute>& attributes);

// A graph input or output; a negative dim is written as the symbolic dimension `symbol`.
ProtoWriter valueInfo(const std::string& name, DataType type, const std::vector<int64_t>& dims,
                      const std::string& symbol = "N");

// ModelProto around an encoded GraphProto: ir_version 7, opset_import {"" : 13},
// producer_name "QAT Studio".
ProtoWriter modelProto(const ProtoWriter& graph);

inline constexpr int64_t kIrVersion = 7;
inline constexpr int64_t kOpsetVersion = 13;

}  // namespace qat::deploy::onnx
