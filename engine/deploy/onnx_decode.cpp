// Protobuf bytes → the Decoded* structs of onnx_decode.h. One function per message; each
// walks its fields with ProtoReader, checks the wire type of the fields it keeps and skips
// the others.
#include "engine/deploy/onnx_decode.h"

#include <bit>
#include <limits>

#include "engine/deploy/protobuf_reader.h"

namespace qat::deploy::onnx {

namespace {

using Field = ProtoReader::Field;

Status wrongType(const Field& f, const char* what, ProtoReader::WireType want) {
  return makeError("corrupt protobuf data at byte " + std::to_string(f.offset) + ": " + what + " (field " +
                   std::to_string(f.number) + ") is " + ProtoReader::wireTypeName(f.type) + ", expected " +
                   ProtoReader::wireTypeName(want));
}

#define QAT_WANT(f, wire, what) \
  if ((f).type != (wire)) return wrongType((f), (what), (wire))

// Calls fn(field) for every field of the message behind `r`; fn returns a Status.
template <class Fn>
Status forEachField(ProtoReader r, Fn&& fn) {
  Field f;
  for (;;) {
    auto more = r.next(f);
    if (!more.ok()) return more.error();
    if (!more.value()) return {};
    QAT_TRY(fn(r, f));
  }
}

Status decodeTensor(ProtoReader r, DecodedTensor& t) {
  std::vector<float> floatData;
  std::vector<int64_t> int32Data, int64Data;
  bool hasRaw = false, external = false;
  size_t at = 0;
  QAT_TRY(forEachField(r, [&](const ProtoReader& m, const Field& f) -> Status {
    if (at == 0) at = f.offset;
    switch (f.number) {
      case 1: return m.appendInts(f, t.dims);
      case 2:
        QAT_WANT(f, ProtoReader::Varint, "TensorProto.data_type");
        t.dataType = static_cast<int>(ProtoReader::asInt64(f));
        return {};
      case 4: return m.appendFloats(f, floatData);
      case 5: return m.appendInts(f, int32Data);
      case 7: return m.appendInts(f, int64Data);
      case 8:
        QAT_WANT(f, ProtoReader::LengthDelimited, "TensorProto.name");
        t.name = m.asString(f);
        return {};
      case 9:
        QAT_WANT(f, ProtoReader::LengthDelimited, "TensorProto.raw_data");
        t.raw.assign(f.bytes.begin(), f.bytes.end());
        hasRaw = true;
        return {};
      case 13: external = true; return {};
      case 14: external = external || (f.type == ProtoReader::Varint && f.value == 1); return {};
      default: return {};
    }
  }));
  const std::string what = "initializer '" + t.name + "'";
  if (external) return makeError(what + " keeps its data in an external file, which is not supported");
  size_t numel = 1;
  for (int64_t d : t.dims) {
    if (d < 0 || d > std::numeric_limits<int32_t>::max()) return makeError(what + " has dimension " + std::to_string(d));
    if (d != 0 && numel > std::numeric_limits<size_t>::max() / 16 / static_cast<size_t>(d))
      return makeError(what + " has too many elements");
    numel *= static_cast<size_t>(d);
  }
  const size_t elem = elementSize(t.dataType);
  if (elem == 0) return {};  // a type the reader does not use; refused where it is read
  if (!hasRaw) {
    // Typed fields: float_data for FLOAT, int32_data for INT32 and the 8-bit types,
    // int64_data for INT64, each value widened to its field's type.
    const size_t count = t.dataType == 1 ? floatData.size() : t.dataType == 7 ? int64Data.size() : int32Data.size();
    if (count != numel)
      return makeError(what + " holds " + std::to_string(count) + " values for " + std::to_string(numel) + " elements");
    t.raw.resize(numel * elem);
    for (size_t i = 0; i < numel; ++i) {
      uint64_t bits = 0;
      if (t.dataType == 1) {
        bits = std::bit_cast<uint32_t>(floatData[i]);
      } else if (t.dataType == 7) {
        bits = static_cast<uint64_t>(int64Data[i]);
      } else {
        const int64_t v = int32Data[i];
        const bool fits = t.dataType == 3 ? (v >= -128 && v <= 127)
                          : t.dataType == 2 ? (v >= 0 && v <= 255)
                                            : (v >= std::numeric_limits<int32_t>::min() &&
                                               v <= std::numeric_limits<int32_t>::max());
        if (!fits) return makeError(what + " value " + std::to_string(v) + " is out of range for " + dataTypeName(t.dataType));
        bits = static_cast<uint64_t>(v);
      }
      for (size_t k = 0; k < elem; ++k) t.raw[i * elem + k] = static_cast<uint8_t>(bits >> (8 * k));
    }
  } else if (t.raw.size() != numel * elem) {
    return makeError(what + " has " + std::to_string(t.raw.size()) + " bytes of data, its shape and type need " +
                     std::to_string(numel * elem));
  }
  return {};
}

Status decodeAttribute(ProtoReader r, DecodedAttribute& a) {
  return forEachField(r, [&](const ProtoReader& m, const Field& f) -> Status {
    switch (f.number) {
      case 1:
        QAT_WANT(f, ProtoReader::LengthDelimited, "AttributeProto.name");
        a.name = m.asString(f);
        return {};
      case 2:
        QAT_WANT(f, ProtoReader::Fixed32, "AttributeProto.f");
        a.f = ProtoReader::asFloat(f);
        return {};
      case 3:
        QAT_WANT(f, ProtoReader::Varint, "AttributeProto.i");
        a.i = ProtoReader::asInt64(f);
        return {};
      case 4:
        QAT_WANT(f, ProtoReader::LengthDelimited, "AttributeProto.s");
        a.s = m.asString(f);
        return {};
      case 7: return m.appendFloats(f, a.floats);
      case 8: return m.appendInts(f, a.ints);
      case 20:
        QAT_WANT(f, ProtoReader::Varint, "AttributeProto.type");
        a.type = static_cast<int>(ProtoReader::asInt64(f));
        return {};
      default: return {};  // t, g, strings, ...: the type says what was meant; refused by the reader
    }
  });
}

Status decodeNode(ProtoReader r, DecodedNode& n) {
  return forEachField(r, [&](const ProtoReader& m, const Field& f) -> Status {
    switch (f.number) {
      case 1:
        QAT_WANT(f, ProtoReader::LengthDelimited, "NodeProto.input");
        n.inputs.push_back(m.asString(f));
        return {};
      case 2:
        QAT_WANT(f, ProtoReader::LengthDelimited, "NodeProto.output");
        n.outputs.push_back(m.asString(f));
        return {};
      case 3:
        QAT_WANT(f, ProtoReader::LengthDelimited, "NodeProto.name");
        n.name = m.asString(f);
        return {};
      case 4:
        QAT_WANT(f, ProtoReader::LengthDelimited, "NodeProto.op_type");
        n.opType = m.asString(f);
        return {};
      case 5: {
        QAT_WANT(f, ProtoReader::LengthDelimited, "NodeProto.attribute");
        n.attributes.emplace_back();
        return decodeAttribute(m.nested(f), n.attributes.back());
      }
      case 7:
        QAT_WANT(f, ProtoReader::LengthDelimited, "NodeProto.domain");
        n.domain = m.asString(f);
        return {};
      default: return {};
    }
  });
}

// TensorShapeProto.Dimension: dim_value, or −1 for dim_param / nothing.
Status decodeShape(ProtoReader r, std::vector<int64_t>& dims) {
  return forEachField(r, [&](const ProtoReader& m, const Field& f) -> Status {
    if (f.number != 1) return {};
    QAT_WANT(f, ProtoReader::LengthDelimited, "TensorShapeProto.dim");
    int64_t value = -1;
    QAT_TRY(forEachField(m.nested(f), [&](const ProtoReader&, const Field& d) -> Status {
      if (d.number == 1) {
        QAT_WANT(d, ProtoReader::Varint, "Dimension.dim_value");
        value = ProtoReader::asInt64(d);
      }
      return {};
    }));
    dims.push_back(value);
    return {};
  });
}

Status decodeValueInfo(ProtoReader r, DecodedValueInfo& v) {
  return forEachField(r, [&](const ProtoReader& m, const Field& f) -> Status {
    if (f.number == 1) {
      QAT_WANT(f, ProtoReader::LengthDelimited, "ValueInfoProto.name");
      v.name = m.asString(f);
      return {};
    }
    if (f.number != 2) return {};
    QAT_WANT(f, ProtoReader::LengthDelimited, "ValueInfoProto.type");
    return forEachField(m.nested(f), [&](const ProtoReader& tp, const Field& tf) -> Status {
      if (tf.number != 1) return {};  // sequence / map / optional types: no elem_type, refused later
      QAT_WANT(tf, ProtoReader::LengthDelimited, "TypeProto.tensor_type");
      return forEachField(tp.nested(tf), [&](const ProtoReader& tt, const Field& ef) -> Status {
        if (ef.number == 1) {
          QAT_WANT(ef, ProtoReader::Varint, "TypeProto.Tensor.elem_type");
          v.elemType = static_cast<int>(ProtoReader::asInt64(ef));
        } else if (ef.number == 2) {
          QAT_WANT(ef, ProtoReader::LengthDelimited, "TypeProto.Tensor.shape");
          v.hasShape = true;
          return decodeShape(tt.nested(ef), v.dims);
        }
        return {};
      });
    });
  });
}

Status decodeGraph(ProtoReader r, DecodedGraph& g) {
  return forEachField(r, [&](const ProtoReader& m, const Field& f) -> Status {
    switch (f.number) {
      case 1:
        QAT_WANT(f, ProtoReader::LengthDelimited, "GraphProto.node");
        g.nodes.emplace_back();
        return decodeNode(m.nested(f), g.nodes.back());
      case 2:
        QAT_WANT(f, ProtoReader::LengthDelimited, "GraphProto.name");
        g.name = m.asString(f);
        return {};
      case 5:
        QAT_WANT(f, ProtoReader::LengthDelimited, "GraphProto.initializer");
        g.initializers.emplace_back();
        return decodeTensor(m.nested(f), g.initializers.back());
      case 10:
        QAT_WANT(f, ProtoReader::LengthDelimited, "GraphProto.doc_string");
        g.docString = m.asString(f);
        return {};
      case 11:
      case 12: {
        QAT_WANT(f, ProtoReader::LengthDelimited, f.number == 11 ? "GraphProto.input" : "GraphProto.output");
        auto& list = f.number == 11 ? g.inputs : g.outputs;
        list.emplace_back();
        return decodeValueInfo(m.nested(f), list.back());
      }
      case 15: return makeError("the graph has sparse initializers, which are not supported");
      default: return {};
    }
  });
}

}  // namespace

Expected<DecodedModel> decodeModel(std::span<const uint8_t> bytes) {
  DecodedModel model;
  Status s = forEachField(ProtoReader(bytes), [&](const ProtoReader& m, const Field& f) -> Status {
    switch (f.number) {
      case 1:
        QAT_WANT(f, ProtoReader::Varint, "ModelProto.ir_version");
        model.irVersion = ProtoReader::asInt64(f);
        return {};
      case 7:
        QAT_WANT(f, ProtoReader::LengthDelimited, "ModelProto.graph");
        if (model.hasGraph) return makeError("the model has two graphs");
        model.hasGraph = true;
        return decodeGraph(m.nested(f), model.graph);
      case 8: {
        QAT_WANT(f, ProtoReader::LengthDelimited, "ModelProto.opset_import");
        std::pair<std::string, int64_t> opset{"", 0};
        QAT_TRY(forEachField(m.nested(f), [&](const ProtoReader& o, const Field& of) -> Status {
          if (of.number == 1) {
            QAT_WANT(of, ProtoReader::LengthDelimited, "OperatorSetId.domain");
            opset.first = o.asString(of);
          } else if (of.number == 2) {
            QAT_WANT(of, ProtoReader::Varint, "OperatorSetId.version");
            opset.second = ProtoReader::asInt64(of);
          }
          return {};
        }));
        model.opsets.push_back(opset);
        return {};
      }
      default: return {};
    }
  });
  if (!s.ok()) return s.error();
  return model;
}

#undef QAT_WANT

std::string dataTypeName(int t) {
  switch (t) {
    case 1: return "FLOAT";
    case 2: return "UINT8";
    case 3: return "INT8";
    case 4: return "UINT16";
    case 5: return "INT16";
    case 6: return "INT32";
    case 7: return "INT64";
    case 8: return "STRING";
    case 9: return "BOOL";
    case 10: return "FLOAT16";
    case 11: return "DOUBLE";
    case 12: return "UINT32";
    case 13: return "UINT64";
    case 16: return "BFLOAT16";
    default: return "type " + std::to_string(t);
  }
}

size_t elementSize(int t) {
  switch (t) {
    case 1: return 4;
    case 2:
    case 3: return 1;
    case 6: return 4;
    case 7: return 8;
    default: return 0;
  }
}

}  // namespace qat::deploy::onnx
