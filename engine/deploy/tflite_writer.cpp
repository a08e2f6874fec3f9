// .tflite writer: IntegerGraph → TFLite flatbuffer (schema version 3), built field by field
// with the flatbuffers library's builder API. Field ids, enum values and options-union
// indices are in tflite_schema.h (with the table of which options each op carries).
//
// File layout decisions (all matching what TF's converter writes):
//  * buffers[0] is the empty sentinel that every activation tensor points to; each
//    constant tensor gets its own buffer, its data vector aligned to 16 bytes;
//  * operator_codes are deduplicated per builtin code; deprecated_builtin_code (a byte)
//    carries the code when it is below 127 (PLACEHOLDER_FOR_GREATER_OP_CODES otherwise),
//    builtin_code (int32) always carries it; the version is the one TF's converter gives
//    the int8 or float variant of the op;
//  * activation tensors keep batch 1 in `shape` and −1 in `shape_signature` (dynamic batch);
//  * quantized tensors carry scale, zero_point (int64) and quantized_dimension;
//  * INT4 (TensorType 17, two values per byte, element 2i in the low nibble and 2i+1 in
//    the high nibble, TFLite's packing) only for constant tensors on the 4-bit grid and
//    only when TfliteWriteOptions::int4Weights asks for it.
#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "engine/data/file_io.h"
#include "engine/deploy/tflite_file.h"
#include "engine/deploy/tflite_schema.h"

namespace qat::deploy {

namespace {

using namespace tfl;
using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

struct TableTag {};  // Offsets to tables of any type
using TableOffset = Offset<TableTag>;

static_assert(
    [] {
      for (int i = 0; i < kOpCount; ++i)
        if (static_cast<int>(kOps[i].kind) != i) return false;
      return kOps[kOpCount - 1].kind == OpKind::Relu6;
    }(),
    "tfl::kOps must list every OpKind in enum order");

Error opError(const IntegerGraph& g, size_t i, const std::string& what) {
  std::string m = "op ";
  m.append(std::to_string(i)).append(" (").append(opInfo(g.ops[i].kind).name);
  if (!g.ops[i].sourceLayer.empty()) m.append(", layer '").append(g.ops[i].sourceLayer).append("'");
  return makeError(m.append("): ").append(what));
}

int8_t activationCode(FusedActivation a) {
  switch (a) {
    case FusedActivation::None: return kActNone;
    case FusedActivation::Relu: return kActRelu;
    case FusedActivation::Relu6: return kActRelu6;
    case FusedActivation::ReluN1To1: return kActReluN1To1;
  }
  return kActNone;
}

int8_t paddingCode(PaddingKind p) { return p == PaddingKind::Same ? kSame : kValid; }

bool carriesActivation(OpKind k) {
  switch (k) {
    case OpKind::Conv2D: case OpKind::DepthwiseConv2D: case OpKind::FullyConnected:
    case OpKind::AveragePool2D: case OpKind::MaxPool2D: case OpKind::Add: case OpKind::Sub:
    case OpKind::Mul: case OpKind::Concatenation:
      return true;
    default:
      return false;
  }
}

// INT4 in the file: packed Int4 tensors, or int8 constants on the 4-bit grid, when asked.
bool writesAsInt4(const GraphTensor& t, const TfliteWriteOptions& o) {
  if (!o.int4Weights || !t.isConstant()) return false;
  return t.type == ElementType::Int4 || (t.type == ElementType::Int8 && t.valueBits == 4);
}

int8_t tensorType(const GraphTensor& t, const TfliteWriteOptions& o) {
  if (writesAsInt4(t, o)) return kInt4;
  switch (t.type) {
    case ElementType::Float32: return kFloat32;
    case ElementType::Int32: return kInt32;
    case ElementType::Int8: case ElementType::Int4: return kInt8;  // Int4 without the flag: unpacked to int8
  }
  return kFloat32;
}

// TFLite's INT4 packing (also the IntegerGraph's for ElementType::Int4): element 2i in the
// low nibble, 2i+1 in the high nibble; an odd count leaves the last high nibble 0.
std::vector<uint8_t> packInt4(const std::vector<uint8_t>& values) {
  std::vector<uint8_t> packed((values.size() + 1) / 2, 0);
  for (size_t i = 0; i < values.size(); ++i)
    packed[i / 2] |= static_cast<uint8_t>((values[i] & 0x0F) << ((i % 2) * 4));
  return packed;
}
std::vector<uint8_t> unpackInt4(const std::vector<uint8_t>& packed, size_t count) {
  std::vector<uint8_t> values(count);
  for (size_t i = 0; i < count; ++i) {
    const int nibble = (packed[i / 2] >> ((i % 2) * 4)) & 0x0F;
    values[i] = static_cast<uint8_t>(static_cast<int8_t>(nibble >= 8 ? nibble - 16 : nibble));
  }
  return values;
}

// The bytes of a constant tensor's buffer in the file's element type.
std::vector<uint8_t> fileData(const GraphTensor& t, const TfliteWriteOptions& o) {
  const bool int4 = writesAsInt4(t, o);
  if (t.type == ElementType::Int4 && !int4) {
    size_t n = 1;
    for (int d : t.shape) n *= static_cast<size_t>(d);
    return unpackInt4(t.data, n);
  }
  if (t.type == ElementType::Int8 && int4) return packInt4(t.data);
  return t.data;
}

Status checkTensor(const GraphTensor& t, size_t index, const TfliteWriteOptions& o) {
  auto fail = [&](const std::string& what) {
    return makeError("tensor " + std::to_string(index) + " ('" + t.name + "'): " + what);
  };
  // Arm NN 20.08 aborts on a zero scale and no runtime accepts a negative or NaN one.
  for (float s : t.quant.scale)
    if (!(s > 0.0f) || !std::isfinite(s)) return fail("quantization scale " + std::to_string(s) + " is not a positive finite number");
  if (writesAsInt4(t, o) && t.type == ElementType::Int8) {
    for (uint8_t b : t.data) {
      const int v = static_cast<int8_t>(b);
      if (v < -8 || v > 7) return fail("value " + std::to_string(v) + " does not fit INT4 [-8, 7]");
    }
  }
  return {};
}

// The tensors' options tables; `outShape` is the op's output shape (RESHAPE's new_shape).
TableOffset buildOptions(FlatBufferBuilder& b, const GraphOp& op, const std::vector<int>& outShape) {
  const OpInfo& info = opInfo(op.kind);
  if (info.options == kNoOptions) return {};
  Offset<flatbuffers::Vector<int32_t>> newShape;
  if (op.kind == OpKind::Reshape) newShape = b.CreateVector(outShape);
  const auto start = b.StartTable();
  const int8_t act = activationCode(op.activation);
  switch (op.kind) {
    case OpKind::Conv2D:
      b.AddElement<int8_t>(vt(0), paddingCode(op.padding), 0);
      b.AddElement<int32_t>(vt(1), op.strideW, 0);
      b.AddElement<int32_t>(vt(2), op.strideH, 0);
      b.AddElement<int8_t>(vt(3), act, 0);
      b.AddElement<int32_t>(vt(4), op.dilationW, 1);
      b.AddElement<int32_t>(vt(5), op.dilationH, 1);
      break;
    case OpKind::DepthwiseConv2D:
      b.AddElement<int8_t>(vt(0), paddingCode(op.padding), 0);
      b.AddElement<int32_t>(vt(1), op.strideW, 0);
      b.AddElement<int32_t>(vt(2), op.strideH, 0);
      b.AddElement<int32_t>(vt(3), op.depthMultiplier, 0);
      b.AddElement<int8_t>(vt(4), act, 0);
      b.AddElement<int32_t>(vt(5), op.dilationW, 1);
      b.AddElement<int32_t>(vt(6), op.dilationH, 1);
      break;
    case OpKind::FullyConnected:  // weights_format DEFAULT, keep_num_dims false
    case OpKind::Add:             // pot_scale_int16 left at its default (int16 only)
    case OpKind::Sub:
    case OpKind::Mul:
      b.AddElement<int8_t>(vt(0), act, 0);
      break;
    case OpKind::AveragePool2D:
    case OpKind::MaxPool2D:
      b.AddElement<int8_t>(vt(0), paddingCode(op.padding), 0);
      b.AddElement<int32_t>(vt(1), op.strideW, 0);
      b.AddElement<int32_t>(vt(2), op.strideH, 0);
      b.AddElement<int32_t>(vt(3), op.filterW, 0);
      b.AddElement<int32_t>(vt(4), op.filterH, 0);
      b.AddElement<int8_t>(vt(5), act, 0);
      break;
    case OpKind::Mean:
      b.AddElement<uint8_t>(vt(0), op.keepDims ? 1 : 0, 0);
      break;
    case OpKind::Reshape:
      b.AddOffset(vt(0), newShape);
      break;
    case OpKind::Softmax:
      b.AddElement<float>(vt(0), op.beta, 0.0f);
      break;
    case OpKind::Concatenation:
      b.AddElement<int32_t>(vt(0), op.axis, 0);
      b.AddElement<int8_t>(vt(1), act, 0);
      break;
    case OpKind::LeakyRelu:
      b.AddElement<float>(vt(0), op.alpha, 0.0f);
      break;
    default:  // PadOptions, QuantizeOptions, DequantizeOptions, HardSwishOptions: no fields
      break;
  }
  return TableOffset(b.EndTable(start));
}

}  // namespace

Expected<std::vector<uint8_t>> tfliteBytes(const IntegerGraph& g, const TfliteWriteOptions& o) {
  QAT_TRY(validate(g));
  size_t dataBytes = 0;
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    QAT_TRY(checkTensor(g.tensors[i], i, o));
    dataBytes += g.tensors[i].data.size();
  }
  // A flatbuffer addresses at most 2 GiB; TFLite's external-buffer layout is not written.
  if (dataBytes > (size_t(1) << 31) - (size_t(64) << 20))
    return makeError("the model's constant data (" + formatBytes(dataBytes) + ") exceeds what a .tflite flatbuffer holds (2 GB)");
  for (size_t i = 0; i < g.ops.size(); ++i) {
    if (g.ops[i].outputs.empty()) return opError(g, i, "has no output tensor");
    if (g.ops[i].activation != FusedActivation::None && !carriesActivation(g.ops[i].kind))
      return opError(g, i, "TFLite has no fused activation for this operator");
  }

  FlatBufferBuilder b(dataBytes + 4096 + 256 * (g.tensors.size() + g.ops.size()));

  // Buffers: [0] empty sentinel, then one per constant tensor.
  std::vector<TableOffset> buffers;
  buffers.push_back(TableOffset(b.EndTable(b.StartTable())));
  std::vector<uint32_t> bufferOf(g.tensors.size(), 0);
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const GraphTensor& t = g.tensors[i];
    if (!t.isConstant()) continue;
    const std::vector<uint8_t> bytes = fileData(t, o);
    b.ForceVectorAlignment(bytes.size(), 1, 16);  // schema: data:[ubyte] (force_align: 16)
    const auto data = b.CreateVector(bytes);
    const auto start = b.StartTable();
    b.AddOffset(vt(buffer::kData), data);
    bufferOf[i] = static_cast<uint32_t>(buffers.size());
    buffers.push_back(TableOffset(b.EndTable(start)));
  }

  std::vector<TableOffset> tensors;
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const GraphTensor& t = g.tensors[i];
    const auto shape = b.CreateVector(t.shape);
    Offset<flatbuffers::Vector<int32_t>> signature;
    if (!t.isConstant() && !t.shape.empty() && t.shape[0] == 1) {
      std::vector<int> sig = t.shape;
      sig[0] = -1;
      signature = b.CreateVector(sig);
    }
    const auto name = b.CreateString(t.name);
    TableOffset quant;
    if (t.quant.quantized()) {
      const auto scale = b.CreateVector(t.quant.scale);
      const auto zp = b.CreateVector(t.quant.zeroPoint);
      const auto start = b.StartTable();
      b.AddOffset(vt(tfl::quant::kScale), scale);
      b.AddOffset(vt(tfl::quant::kZeroPoint), zp);
      b.AddElement<int32_t>(vt(tfl::quant::kQuantizedDimension), t.quant.quantizedDimension, 0);
      quant = TableOffset(b.EndTable(start));
    }
    const auto start = b.StartTable();
    b.AddOffset(vt(tensor::kShape), shape);
    b.AddElement<int8_t>(vt(tensor::kType), tensorType(t, o), 0);
    b.AddElement<uint32_t>(vt(tensor::kBuffer), bufferOf[i], 0);
    b.AddOffset(vt(tensor::kName), name);
    b.AddOffset(vt(tensor::kQuantization), quant);
    b.AddOffset(vt(tensor::kShapeSignature), signature);
    tensors.push_back(TableOffset(b.EndTable(start)));
  }

  // Operator codes in first-use order; an op's version is the highest any use needs.
  std::map<int32_t, size_t> codeIndex;
  std::vector<std::pair<int32_t, int>> codes;  // (builtin code, version)
  std::vector<TableOffset> operators;
  for (const GraphOp& op : g.ops) {
    const OpInfo& info = opInfo(op.kind);
    const bool int8 = !op.inputs.empty() && op.inputs[0] >= 0 &&
                      g.tensors[static_cast<size_t>(op.inputs[0])].type != ElementType::Float32;
    int version = int8 ? info.versionInt8 : info.versionFloat;
    if (!int8 && (op.kind == OpKind::Conv2D || op.kind == OpKind::DepthwiseConv2D) &&
        (op.dilationH != 1 || op.dilationW != 1))
      version = 2;  // float conv with dilation
    auto [it, inserted] = codeIndex.emplace(info.code, codes.size());
    if (inserted) codes.emplace_back(info.code, version);
    codes[it->second].second = std::max(codes[it->second].second, version);

    const auto inputs = b.CreateVector(op.inputs);
    const auto outputs = b.CreateVector(op.outputs);
    const auto options = buildOptions(b, op, g.tensors[static_cast<size_t>(op.outputs.at(0))].shape);
    const auto start = b.StartTable();
    b.AddElement<uint32_t>(vt(tfl::op::kOpcodeIndex), static_cast<uint32_t>(it->second), 0);
    b.AddOffset(vt(tfl::op::kInputs), inputs);
    b.AddOffset(vt(tfl::op::kOutputs), outputs);
    if (!options.IsNull()) {
      b.AddElement<uint8_t>(vt(tfl::op::kOptionsType), info.options, 0);
      b.AddOffset(vt(tfl::op::kOptions), options);
    }
    operators.push_back(TableOffset(b.EndTable(start)));
  }
  std::vector<TableOffset> opcodes;
  for (const auto& [code, version] : codes) {
    const auto start = b.StartTable();
    b.AddElement<int8_t>(vt(opcode::kDeprecatedBuiltinCode),
                         static_cast<int8_t>(std::min(code, kPlaceholderForGreaterOpCodes)), 0);
    b.AddElement<int32_t>(vt(opcode::kVersion), version, 1);
    b.AddElement<int32_t>(vt(opcode::kBuiltinCode), code, 0);
    opcodes.push_back(TableOffset(b.EndTable(start)));
  }

  const auto tensorVec = b.CreateVector(tensors);
  const auto inputVec = b.CreateVector(g.inputs);
  const auto outputVec = b.CreateVector(g.outputs);
  const auto operatorVec = b.CreateVector(operators);
  const auto sgName = g.name.empty() ? Offset<flatbuffers::String>() : b.CreateString(g.name);
  auto start = b.StartTable();
  b.AddOffset(vt(subgraph::kTensors), tensorVec);
  b.AddOffset(vt(subgraph::kInputs), inputVec);
  b.AddOffset(vt(subgraph::kOutputs), outputVec);
  b.AddOffset(vt(subgraph::kOperators), operatorVec);
  b.AddOffset(vt(subgraph::kName), sgName);
  const TableOffset sg(b.EndTable(start));

  const auto opcodeVec = b.CreateVector(opcodes);
  const auto subgraphVec = b.CreateVector(std::vector<TableOffset>{sg});
  const auto description = b.CreateString(o.description);
  const auto bufferVec = b.CreateVector(buffers);
  start = b.StartTable();
  b.AddElement<uint32_t>(vt(model::kVersion), kSchemaVersion, 0);
  b.AddOffset(vt(model::kOperatorCodes), opcodeVec);
  b.AddOffset(vt(model::kSubgraphs), subgraphVec);
  b.AddOffset(vt(model::kDescription), description);
  b.AddOffset(vt(model::kBuffers), bufferVec);
  b.Finish(TableOffset(b.EndTable(start)), kFileIdentifier);
  return std::vector<uint8_t>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

Status writeTflite(const IntegerGraph& graph, const std::string& path, const TfliteWriteOptions& options) {
  auto bytes = tfliteBytes(graph, options);
  if (!bytes) return makeError(path + ": " + bytes.error().message);
  return writeFileAtomic(path, *bytes);
}

}  // namespace qat::deploy
