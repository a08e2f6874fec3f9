// .tflite reader: TFLite flatbuffer → IntegerGraph (first subgraph).
//
// Untrusted input: the whole part of the file that is read afterwards (model, operator
// codes, first subgraph's tensors / operators / quantization / options, buffers) is first
// checked by flatbuffers::Verifier through the table views below, which mirror the schema
// fields by id (tflite_schema.h). Only then are fields read, and every index taken from the
// file (opcode, buffer, tensor) is range-checked before use; validate() closes it.
#include <flatbuffers/flatbuffers.h>

#include <map>

#include "engine/data/file_io.h"
#include "engine/deploy/tflite_file.h"
#include "engine/deploy/tflite_schema.h"

namespace qat::deploy {

namespace {

using namespace tfl;
using flatbuffers::Offset;
using flatbuffers::uoffset_t;
using flatbuffers::String;
using flatbuffers::Vector;
using flatbuffers::Verifier;

// Read-only views of the tables (the same layout trick as flatc's generated code: a view
// is the table's bytes, never constructed). Verify() checks every field the reader uses.
struct FbBuffer : private flatbuffers::Table {
  const Vector<uint8_t>* data() const { return GetPointer<const Vector<uint8_t>*>(vt(buffer::kData)); }
  uint64_t offset() const { return GetField<uint64_t>(vt(buffer::kOffset), 0); }
  uint64_t size() const { return GetField<uint64_t>(vt(buffer::kSize), 0); }
  bool Verify(Verifier& v) const {
    return VerifyTableStart(v) && VerifyOffset(v, vt(buffer::kData)) && v.VerifyVector(data()) &&
           VerifyField<uint64_t>(v, vt(buffer::kOffset), 8) && VerifyField<uint64_t>(v, vt(buffer::kSize), 8) &&
           v.EndTable();
  }
};

struct FbQuant : private flatbuffers::Table {
  const Vector<float>* scale() const { return GetPointer<const Vector<float>*>(vt(quant::kScale)); }
  const Vector<int64_t>* zeroPoint() const { return GetPointer<const Vector<int64_t>*>(vt(quant::kZeroPoint)); }
  uint8_t detailsType() const { return GetField<uint8_t>(vt(quant::kDetailsType), 0); }
  int32_t quantizedDimension() const { return GetField<int32_t>(vt(quant::kQuantizedDimension), 0); }
  bool Verify(Verifier& v) const {
    return VerifyTableStart(v) && VerifyOffset(v, vt(quant::kScale)) && v.VerifyVector(scale()) &&
           VerifyOffset(v, vt(quant::kZeroPoint)) && v.VerifyVector(zeroPoint()) &&
           VerifyField<uint8_t>(v, vt(quant::kDetailsType), 1) &&
           VerifyField<int32_t>(v, vt(quant::kQuantizedDimension), 4) && v.EndTable();
  }
};

struct FbTensor : private flatbuffers::Table {
  const Vector<int32_t>* shape() const { return GetPointer<const Vector<int32_t>*>(vt(tensor::kShape)); }
  int8_t type() const { return GetField<int8_t>(vt(tensor::kType), 0); }
  uint32_t buffer() const { return GetField<uint32_t>(vt(tensor::kBuffer), 0); }
  const String* name() const { return GetPointer<const String*>(vt(tensor::kName)); }
  const FbQuant* quantization() const { return GetPointer<const FbQuant*>(vt(tensor::kQuantization)); }
  bool isVariable() const { return GetField<uint8_t>(vt(tensor::kIsVariable), 0) != 0; }
  bool hasSparsity() const { return CheckField(vt(tensor::kSparsity)); }
  bool Verify(Verifier& v) const {
    return VerifyTableStart(v) && VerifyOffset(v, vt(tensor::kShape)) && v.VerifyVector(shape()) &&
           VerifyField<int8_t>(v, vt(tensor::kType), 1) && VerifyField<uint32_t>(v, vt(tensor::kBuffer), 4) &&
           VerifyOffset(v, vt(tensor::kName)) && v.VerifyString(name()) &&
           VerifyOffset(v, vt(tensor::kQuantization)) && v.VerifyTable(quantization()) &&
           VerifyField<uint8_t>(v, vt(tensor::kIsVariable), 1) && v.EndTable();
  }
};

// Any builtin-options table: fields read by id. `layout` lists the field kinds by id
// ('b' one-byte scalar, 'i' four-byte scalar, 'v' [int]).
struct FbOptions : private flatbuffers::Table {
  template <class T>
  T get(int id, T def) const { return GetField<T>(vt(id), def); }
  const Vector<int32_t>* ints(int id) const { return GetPointer<const Vector<int32_t>*>(vt(id)); }
  bool verify(Verifier& v, std::string_view layout) const {
    if (!VerifyTableStart(v)) return false;
    for (size_t id = 0; id < layout.size(); ++id) {
      const int i = static_cast<int>(id);
      const bool ok = layout[id] == 'b'   ? VerifyField<uint8_t>(v, vt(i), 1)
                      : layout[id] == 'i' ? VerifyField<uint32_t>(v, vt(i), 4)
                                          : VerifyOffset(v, vt(i)) && v.VerifyVector(ints(i));
      if (!ok) return false;
    }
    return v.EndTable();
  }
};

std::string_view optionsLayout(uint8_t type) {
  switch (type) {
    case kConv2DOptions: return "biibiib";
    case kDepthwiseConv2DOptions: return "biiibii";
    case kPool2DOptions: return "biiiib";
    case kFullyConnectedOptions: return "bbbbb";
    case kSoftmaxOptions: return "i";
    case kConcatenationOptions: return "ib";
    case kAddOptions: case kSubOptions: return "bb";
    case kMulOptions: case kReducerOptions: return "b";
    case kReshapeOptions: return "v";
    case kLeakyReluOptions: return "i";
    default: return "";  // tables without fields, or ones the reader never opens
  }
}

struct FbOperator : private flatbuffers::Table {
  uint32_t opcodeIndex() const { return GetField<uint32_t>(vt(op::kOpcodeIndex), 0); }
  const Vector<int32_t>* inputs() const { return GetPointer<const Vector<int32_t>*>(vt(op::kInputs)); }
  const Vector<int32_t>* outputs() const { return GetPointer<const Vector<int32_t>*>(vt(op::kOutputs)); }
  uint8_t optionsType() const { return GetField<uint8_t>(vt(op::kOptionsType), 0); }
  const FbOptions* options() const { return GetPointer<const FbOptions*>(vt(op::kOptions)); }
  bool Verify(Verifier& v) const {
    return VerifyTableStart(v) && VerifyField<uint32_t>(v, vt(op::kOpcodeIndex), 4) &&
           VerifyOffset(v, vt(op::kInputs)) && v.VerifyVector(inputs()) && VerifyOffset(v, vt(op::kOutputs)) &&
           v.VerifyVector(outputs()) && VerifyField<uint8_t>(v, vt(op::kOptionsType), 1) &&
           VerifyOffset(v, vt(op::kOptions)) && (!options() || options()->verify(v, optionsLayout(optionsType()))) &&
           v.EndTable();
  }
};

struct FbOperatorCode : private flatbuffers::Table {
  int8_t deprecatedCode() const { return GetField<int8_t>(vt(opcode::kDeprecatedBuiltinCode), 0); }
  const String* customCode() const { return GetPointer<const String*>(vt(opcode::kCustomCode)); }
  int32_t code() const { return GetField<int32_t>(vt(opcode::kBuiltinCode), 0); }
  bool Verify(Verifier& v) const {
    return VerifyTableStart(v) && VerifyField<int8_t>(v, vt(opcode::kDeprecatedBuiltinCode), 1) &&
           VerifyOffset(v, vt(opcode::kCustomCode)) && v.VerifyString(customCode()) &&
           VerifyField<int32_t>(v, vt(opcode::kVersion), 4) && VerifyField<int32_t>(v, vt(opcode::kBuiltinCode), 4) &&
           v.EndTable();
  }
};

struct FbSubGraph : private flatbuffers::Table {
  const Vector<Offset<FbTensor>>* tensors() const {
    return GetPointer<const Vector<Offset<FbTensor>>*>(vt(subgraph::kTensors));
  }
  const Vector<int32_t>* inputs() const { return GetPointer<const Vector<int32_t>*>(vt(subgraph::kInputs)); }
  const Vector<int32_t>* outputs() const { return GetPointer<const Vector<int32_t>*>(vt(subgraph::kOutputs)); }
  const Vector<Offset<FbOperator>>* operators() const {
    return GetPointer<const Vector<Offset<FbOperator>>*>(vt(subgraph::kOperators));
  }
  const String* name() const { return GetPointer<const String*>(vt(subgraph::kName)); }
  bool Verify(Verifier& v) const {
    return VerifyTableStart(v) && VerifyOffset(v, vt(subgraph::kTensors)) && v.VerifyVector(tensors()) &&
           v.VerifyVectorOfTables(tensors()) && VerifyOffset(v, vt(subgraph::kInputs)) && v.VerifyVector(inputs()) &&
           VerifyOffset(v, vt(subgraph::kOutputs)) && v.VerifyVector(outputs()) &&
           VerifyOffset(v, vt(subgraph::kOperators)) && v.VerifyVector(operators()) &&
           v.VerifyVectorOfTables(operators()) && VerifyOffset(v, vt(subgraph::kName)) && v.VerifyString(name()) &&
           v.EndTable();
  }
};

struct FbModel : private flatbuffers::Table {
  uint32_t version() const { return GetField<uint32_t>(vt(model::kVersion), 0); }
  const Vector<Offset<FbOperatorCode>>* operatorCodes() const {
    return GetPointer<const Vector<Offset<FbOperatorCode>>*>(vt(model::kOperatorCodes));
  }
  const Vector<Offset<FbSubGraph>>* subgraphs() const {
    return GetPointer<const Vector<Offset<FbSubGraph>>*>(vt(model::kSubgraphs));
  }
  const Vector<Offset<FbBuffer>>* buffers() const {
    return GetPointer<const Vector<Offset<FbBuffer>>*>(vt(model::kBuffers));
  }
  // Only the first subgraph is read, so only it is verified.
  bool Verify(Verifier& v) const {
    return VerifyTableStart(v) && VerifyField<uint32_t>(v, vt(model::kVersion), 4) &&
           VerifyOffset(v, vt(model::kOperatorCodes)) && v.VerifyVector(operatorCodes()) &&
           v.VerifyVectorOfTables(operatorCodes()) && VerifyOffset(v, vt(model::kSubgraphs)) &&
           v.VerifyVector(subgraphs()) && (!subgraphs() || subgraphs()->size() == 0 || v.VerifyTable(subgraphs()->Get(0))) &&
           VerifyOffset(v, vt(model::kBuffers)) && v.VerifyVector(buffers()) && v.VerifyVectorOfTables(buffers()) &&
           v.EndTable();
  }
};

template <class T>
std::vector<T> toVector(const Vector<T>* v) {
  return v ? std::vector<T>(v->begin(), v->end()) : std::vector<T>();
}

std::string_view tensorTypeName(int8_t t) {
  static constexpr std::string_view kNames[] = {"FLOAT32", "FLOAT16", "INT32",  "UINT8",  "INT64",    "STRING",
                                                "BOOL",    "INT16",   "COMPLEX64", "INT8", "FLOAT64", "COMPLEX128",
                                                "UINT64",  "RESOURCE", "VARIANT", "UINT32", "UINT16", "INT4", "BFLOAT16"};
  return t >= 0 && t < 19 ? kNames[t] : std::string_view("unknown");
}

size_t elementSize(ElementType t) { return t == ElementType::Float32 || t == ElementType::Int32 ? 4 : 1; }

// One file tensor → GraphTensor (INT4 stays packed, two values per byte, valueBits 4).
Expected<GraphTensor> readTensor(const FbTensor& ft, size_t index, const Vector<Offset<FbBuffer>>* buffers) {
  GraphTensor t;
  if (ft.name()) t.name = ft.name()->str();
  auto fail = [&](const std::string& what) {
    return makeError("tensor " + std::to_string(index) + " ('" + t.name + "'): " + what);
  };
  t.shape = toVector(ft.shape());
  size_t count = 1;
  for (int d : t.shape)
    if (d < 0 || !mulChecked(count, static_cast<size_t>(d), count)) return fail("invalid shape");
  switch (ft.type()) {
    case kFloat32: t.type = ElementType::Float32; break;
    case kInt32: t.type = ElementType::Int32; break;
    case kInt8: t.type = ElementType::Int8; break;
    case kInt4: t.type = ElementType::Int4; t.valueBits = 4; break;
    default: return fail("element type " + std::string(tensorTypeName(ft.type())) + " is not supported (float32, int32, int8, int4)");
  }
  if (ft.isVariable()) return fail("variable tensors are not supported");
  if (ft.hasSparsity()) return fail("sparse tensors are not supported");
  if (const FbQuant* q = ft.quantization()) {
    if (q->detailsType() != 0) return fail("custom quantization details are not supported");
    t.quant.scale = toVector(q->scale());
    t.quant.zeroPoint = toVector(q->zeroPoint());
    t.quant.quantizedDimension = q->quantizedDimension();
    // TF writes an empty QuantizationParameters table for float tensors.
    if (t.quant.scale.empty() != t.quant.zeroPoint.empty()) return fail("quantization has scales but no zero points, or the reverse");
  }
  const uint32_t b = ft.buffer();
  if (!buffers || b >= buffers->size()) return fail("buffer index " + std::to_string(b) + " is out of range");
  const FbBuffer* buf = buffers->Get(b);
  if (buf->offset() > 1 || buf->size() > 0)
    return fail("its data is stored outside the flatbuffer (files over 2 GB), which is not supported");
  if (buf->data() && buf->data()->size() > 0) {
    const auto* d = buf->data();
    if (ft.type() == kInt4) {  // kept packed: the IntegerGraph's Int4 layout is TFLite's
      if (d->size() != (count + 1) / 2)
        return fail("INT4 data of " + std::to_string(d->size()) + " bytes for " + std::to_string(count) + " values");
      t.data.assign(d->begin(), d->end());
    } else {
      size_t bytes = 0;
      if (!mulChecked(count, elementSize(t.type), bytes) || d->size() != bytes)
        return fail("data has " + std::to_string(d->size()) + " bytes, the shape needs " + std::to_string(bytes));
      t.data.assign(d->begin(), d->end());
    }
  }
  return t;
}

Expected<FusedActivation> activation(int8_t a) {
  switch (a) {
    case kActNone: return FusedActivation::None;
    case kActRelu: return FusedActivation::Relu;
    case kActRelu6: return FusedActivation::Relu6;
    case kActReluN1To1: return FusedActivation::ReluN1To1;
    default: return makeError("fused activation " + std::to_string(a) + " (TANH / SIGN_BIT) is not supported");
  }
}

// Builtin options of `op` (of kind info.kind) into the GraphOp fields.
Status readOptions(const FbOperator& fo, const OpInfo& info, GraphOp& op) {
  const FbOptions* o = fo.options();
  if (info.options == kNoOptions || !o) {
    // Ops whose options carry essential values must have them.
    switch (info.kind) {
      case OpKind::Conv2D: case OpKind::DepthwiseConv2D: case OpKind::AveragePool2D:
      case OpKind::MaxPool2D: case OpKind::Softmax: case OpKind::Concatenation: case OpKind::LeakyRelu:
        return makeError("has no builtin options");
      default:
        return {};
    }
  }
  if (fo.optionsType() != info.options)
    return makeError("carries builtin options of union type " + std::to_string(fo.optionsType()) +
                     ", expected " + std::to_string(info.options));
  auto padding = [&](int id) -> Status {
    const int8_t p = o->get<int8_t>(id, kSame);
    if (p != kSame && p != kValid) return makeError("padding " + std::to_string(p) + " is neither SAME nor VALID");
    op.padding = p == kSame ? PaddingKind::Same : PaddingKind::Valid;
    return {};
  };
  auto act = [&](int id) -> Status {
    auto a = activation(o->get<int8_t>(id, kActNone));
    if (!a) return a.error();
    op.activation = *a;
    return {};
  };
  switch (info.kind) {
    case OpKind::Conv2D:
      QAT_TRY(padding(0));
      op.strideW = o->get<int32_t>(1, 0);
      op.strideH = o->get<int32_t>(2, 0);
      QAT_TRY(act(3));
      op.dilationW = o->get<int32_t>(4, 1);
      op.dilationH = o->get<int32_t>(5, 1);
      if (o->get<int8_t>(6, kFloat32) != kFloat32) return makeError("a quantized_bias_type other than the default is not supported");
      break;
    case OpKind::DepthwiseConv2D:
      QAT_TRY(padding(0));
      op.strideW = o->get<int32_t>(1, 0);
      op.strideH = o->get<int32_t>(2, 0);
      op.depthMultiplier = o->get<int32_t>(3, 0);
      QAT_TRY(act(4));
      op.dilationW = o->get<int32_t>(5, 1);
      op.dilationH = o->get<int32_t>(6, 1);
      break;
    case OpKind::FullyConnected:
      QAT_TRY(act(0));
      if (o->get<int8_t>(1, 0) != 0) return makeError("shuffled weights (weights_format) are not supported");
      if (o->get<uint8_t>(2, 0) != 0) return makeError("keep_num_dims is not supported");
      if (o->get<int8_t>(4, kFloat32) != kFloat32) return makeError("a quantized_bias_type other than the default is not supported");
      break;
    case OpKind::AveragePool2D:
    case OpKind::MaxPool2D:
      QAT_TRY(padding(0));
      op.strideW = o->get<int32_t>(1, 0);
      op.strideH = o->get<int32_t>(2, 0);
      op.filterW = o->get<int32_t>(3, 0);
      op.filterH = o->get<int32_t>(4, 0);
      QAT_TRY(act(5));
      break;
    case OpKind::Add: case OpKind::Sub: case OpKind::Mul:
      QAT_TRY(act(0));
      break;
    case OpKind::Mean: op.keepDims = o->get<uint8_t>(0, 0) != 0; break;
    case OpKind::Softmax: op.beta = o->get<float>(0, 0.0f); break;
    case OpKind::Concatenation:
      op.axis = o->get<int32_t>(0, 0);
      QAT_TRY(act(1));
      break;
    case OpKind::LeakyRelu: op.alpha = o->get<float>(0, 0.0f); break;
    default: break;  // RESHAPE's new_shape is its output tensor's shape; the rest have no fields
  }
  return {};
}

}  // namespace

Expected<IntegerGraph> parseTflite(const std::vector<uint8_t>& bytes, const std::string& what) {
  auto fail = [&](const std::string& m) { return makeError(what + ": " + m); };
  if (bytes.size() < 8) return fail("too short to be a .tflite file (" + std::to_string(bytes.size()) + " bytes)");
  if (bytes.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) return fail("larger than a flatbuffer can be (2 GB)");
  if (!flatbuffers::BufferHasIdentifier(bytes.data(), kFileIdentifier))
    return fail("not a TFLite model (no 'TFL3' file identifier at byte 4)");
  Verifier verifier(bytes.data(), bytes.size());
  if (!verifier.VerifyBuffer<FbModel>(kFileIdentifier))
    return fail("the TFLite flatbuffer is damaged (offsets or sizes point outside the file)");
  const FbModel* m = flatbuffers::GetRoot<FbModel>(bytes.data());
  if (m->version() != kSchemaVersion)
    return fail("schema version " + std::to_string(m->version()) + ", only version 3 is read");
  if (!m->subgraphs() || m->subgraphs()->size() == 0) return fail("the model has no subgraph");
  const FbSubGraph* sg = m->subgraphs()->Get(0);

  IntegerGraph g;
  if (sg->name()) g.name = sg->name()->str();
  // Operators: every unsupported one is listed in one error ("SHAPE ×2, PACK ×1").
  std::map<std::string, int> unsupported;
  const auto* codes = m->operatorCodes();
  if (sg->operators())
    for (uoffset_t i = 0; i < sg->operators()->size(); ++i) {
      const FbOperator& fo = *sg->operators()->Get(i);
      if (!codes || fo.opcodeIndex() >= codes->size())
        return fail("operator " + std::to_string(i) + " has opcode index " + std::to_string(fo.opcodeIndex()) + " out of range");
      const FbOperatorCode& oc = *codes->Get(fo.opcodeIndex());
      // TFLite's rule: the larger of the two fields is the code.
      const int32_t code = std::max<int32_t>(oc.deprecatedCode(), oc.code());
      const OpInfo* info = opInfoForCode(code);
      if (!info) {
        std::string name(builtinName(code));
        if (code == 32) name = "CUSTOM '" + (oc.customCode() ? oc.customCode()->str() : std::string()) + "'";
        if (name.empty()) name = "builtin " + std::to_string(code);
        ++unsupported[name];
        continue;
      }
      GraphOp op;
      op.kind = info->kind;
      op.inputs = toVector(fo.inputs());
      op.outputs = toVector(fo.outputs());
      if (Status s = readOptions(fo, *info, op); !s)
        return fail("operator " + std::to_string(i) + " (" + std::string(info->name) + ") " + s.error().message);
      g.ops.push_back(std::move(op));
    }
  if (!unsupported.empty()) {
    std::string list;
    for (const auto& [name, n] : unsupported) list.append(list.empty() ? "" : ", ").append(name + " ×" + std::to_string(n));
    return fail("operators the studio cannot run: " + list);
  }
  if (sg->tensors())
    for (uoffset_t i = 0; i < sg->tensors()->size(); ++i) {
      auto t = readTensor(*sg->tensors()->Get(i), i, m->buffers());
      if (!t) return fail(t.error().message);
      g.tensors.push_back(std::move(*t));
    }
  g.inputs = toVector(sg->inputs());
  g.outputs = toVector(sg->outputs());

  if (Status s = validate(g); !s) return fail(s.error().message);
  return g;
}

Expected<IntegerGraph> readTflite(const std::string& path) {
  auto bytes = readFileBytes(path);
  if (!bytes) return bytes.error();
  return parseTflite(*bytes, path);
}

}  // namespace qat::deploy
