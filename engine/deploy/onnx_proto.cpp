#include "engine/deploy/onnx_proto.h"

namespace qat::deploy::onnx {

ProtoWriter tensorProto(const std::string& name, DataType type, const std::vector<int64_t>& dims,
                        std::span<const uint8_t> raw) {
  ProtoWriter t;
  for (int64_t d : dims) t.addInt(1, d);
  t.addInt(2, type);
  t.addString(8, name);
  t.addBytes(9, raw);
  return t;
}

ProtoWriter nodeProto(const std::string& opType, const std::vector<std::string>& inputs,
                      const std::vector<std::string>& outputs, const std::string& name,
                      const std::vector<Attribute>& attributes) {
  ProtoWriter n;
  for (const auto& in : inputs) n.addString(1, in);
  for (const auto& out : outputs) n.addString(2, out);
  n.addString(3, name);
  n.addString(4, opType);
  for (const auto& a : attributes) {
    ProtoWriter pa;
    pa.addString(1, a.name);
    switch (a.kind) {
      case Attribute::Float:
        pa.addFloat(2, a.f);
        pa.addInt(20, 1);  // AttributeType FLOAT
        break;
      case Attribute::Int:
        pa.addInt(3, a.i);
        pa.addInt(20, 2);  // INT
        break;
      case Attribute::Ints:
        for (int64_t v : a.ints) pa.addInt(8, v);
        pa.addInt(20, 7);  // INTS
        break;
    }
    n.addMessage(5, pa);
  }
  return n;
}

ProtoWriter valueInfo(const std::string& name, DataType type, const std::vector<int64_t>& dims,
                      const std::string& symbol) {
  ProtoWriter shape;
  for (int64_t d : dims) {
    ProtoWriter dim;
    if (d < 0)
      dim.addString(2, symbol);  // dim_param
    else
      dim.addInt(1, d);  // dim_value
    shape.addMessage(1, dim);
  }
  ProtoWriter tensorType;
  tensorType.addInt(1, type);
  tensorType.addMessage(2, shape);
  ProtoWriter typeProto;
  typeProto.addMessage(1, tensorType);
  ProtoWriter vi;
  vi.addString(1, name);
  vi.addMessage(2, typeProto);
  return vi;
}

ProtoWriter modelProto(const ProtoWriter& graph) {
  ProtoWriter opset;
  opset.addString(1, "");
  opset.addInt(2, kOpsetVersion);
  ProtoWriter m;
  m.addInt(1, kIrVersion);
  m.addString(2, "QAT Studio");
  m.addMessage(7, graph);
  m.addMessage(8, opset);
  return m;
}

}  // namespace qat::deploy::onnx
