// ONNX QDQ export of an IntegerGraph (QUANT_SPEC.md §6).
//
// Every graph tensor becomes a *float* ONNX value; the integer graph's quantization is
// expressed around float operators:
//  * an int8 activation t produced by an op: op → QuantizeLinear(scale_t, zp_t + 128) →
//    DequantizeLinear(scale_t, zp_t + 128) on *uint8* values; consumers read the
//    dequantized value, so what any consumer sees is real = scale·(q − zp) of an int8 q, as
//    in TFLite. uint8 with the zero point moved by 128 holds exactly the same grid
//    (q_u8 = q_i8 + 128, saturation at the same reals) and is onnxruntime's own activation
//    type (its quantizer writes uint8 activations; on x86 it converts int8 Q/DQ pairs to
//    uint8 itself, but only where a QuantizeLinear has a single consumer, so an int8 tensor
//    read by two ops would leave both ops, and its producer, unfused, in float);
//  * int8 weights: int8 initializers → DequantizeLinear, per-axis (`axis` + 1-D scales and
//    zero points) when they have one scale per output channel; int32 biases →
//    DequantizeLinear with scale = input_scale·weight_scale[c] (the bias tensor's own
//    parameters) and int32 zero points;
//  * int8 graph inputs / outputs (int8 I/O) stay INT8 and are converted exactly to / from
//    the uint8 grid: input → DequantizeLinear(int8) → QuantizeLinear(uint8) →
//    DequantizeLinear(uint8), and output ← QuantizeLinear(int8) of the dequantized value;
//  * float tensors (float graphs, float I/O edges) have no Q/DQ, so a float IntegerGraph
//    becomes a plain float ONNX model.
// QuantizeLinear rounds half to even where TFLite's requantization rounds half away from
// zero, so an ONNX runtime and the integer interpreter may differ by one step on ties.
//
// Layout. The IntegerGraph is NHWC like Keras; ONNX Conv and pooling want NCHW. Each value
// carries a permutation `perm` (ONNX dim i holds graph dim perm[i]). 4-D spatial ops ask
// for NCHW ({0, 3, 1, 2}) and produce NCHW; element-wise ops keep their input's layout;
// Reshape and FullyConnected ask for the graph's own order, so a flatten reads the values
// in Keras' NHWC order; Mean / Softmax / Concat / Pad map their axes through the
// permutation. A Transpose is inserted only where a consumer needs another layout, once
// per tensor and layout: the model input is transposed NHWC→NCHW once and the outputs are
// transposed back, so the ONNX model takes and returns the same tensors as the Keras one.
#include <algorithm>
#include <cstring>

#include "engine/data/file_io.h"
#include "engine/deploy/onnx_builder.h"
#include "engine/deploy/onnx_file.h"

namespace qat::deploy {
namespace onnx_export {

Perm identity(int rank) {
  Perm p(static_cast<size_t>(rank));
  for (int i = 0; i < rank; ++i) p[static_cast<size_t>(i)] = i;
  return p;
}

int onnxAxis(const Perm& perm, int d) {
  auto it = std::find(perm.begin(), perm.end(), d);
  return static_cast<int>(it - perm.begin());
}

std::vector<uint8_t> permuteData(const std::vector<uint8_t>& src, size_t elem, const std::vector<int>& shape,
                                 const Perm& perm) {
  const size_t rank = shape.size();
  std::vector<size_t> srcStride(rank, 1);
  for (size_t i = rank; i-- > 1;) srcStride[i - 1] = srcStride[i] * static_cast<size_t>(shape[i]);
  std::vector<size_t> dstDim(rank), step(rank);
  for (size_t j = 0; j < rank; ++j) {
    dstDim[j] = static_cast<size_t>(shape[static_cast<size_t>(perm[j])]);
    step[j] = srcStride[static_cast<size_t>(perm[j])];
  }
  std::vector<uint8_t> dst(src.size());
  std::vector<size_t> idx(rank, 0);
  const size_t count = elem ? src.size() / elem : 0;
  for (size_t n = 0; n < count; ++n) {
    size_t off = 0;
    for (size_t j = 0; j < rank; ++j) off += idx[j] * step[j];
    std::memcpy(dst.data() + n * elem, src.data() + off * elem, elem);
    for (size_t j = rank; j-- > 0;) {  // odometer over dst indices, last dim fastest
      if (++idx[j] < dstDim[j]) break;
      idx[j] = 0;
    }
  }
  return dst;
}

void samePads(int in, int filter, int stride, int dilation, int64_t& before, int64_t& after) {
  const int out = (in + stride - 1) / stride;
  const int effective = (filter - 1) * dilation + 1;
  const int total = std::max((out - 1) * stride + effective - in, 0);
  before = total / 2;
  after = total - before;
}

std::vector<int32_t> int32Values(const GraphTensor& t) {
  std::vector<int32_t> v(t.data.size() / 4);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int32_t>(loadLE32(t.data.data() + 4 * i));
  return v;
}

std::string OnnxBuilder::tensorBase(int t) const {
  const auto& n = tensor(t).name;
  if (!n.empty()) return n;
  std::string name = "t";  // append(): GCC 12 warns falsely (-Wrestrict) on "t" + to_string
  return name.append(std::to_string(t));
}

std::string OnnxBuilder::unique(const std::string& base) {
  std::string name = base;
  for (int k = 1; used_.count(name); ++k) name = base + "_" + std::to_string(k);
  used_.insert(name);
  return name;
}

std::string OnnxBuilder::node(const std::string& op, const std::vector<std::string>& inputs,
                              const std::string& outBase, const std::vector<Attribute>& attrs) {
  std::string out = unique(outBase);
  nodeNamed(op, inputs, out, attrs);
  return out;
}

void OnnxBuilder::nodeNamed(const std::string& op, const std::vector<std::string>& inputs, const std::string& out,
                            const std::vector<Attribute>& attrs) {
  std::string name = op + "_" + std::to_string(nodes_.size());
  nodes_.push_back(onnx::nodeProto(op, inputs, {out}, name, attrs));
}

std::string OnnxBuilder::init(const std::string& base, onnx::DataType type, const std::vector<int64_t>& dims,
                              std::span<const uint8_t> raw) {
  std::string name = unique(base);
  inits_.push_back(onnx::tensorProto(name, type, dims, raw));
  return name;
}

std::string OnnxBuilder::floatScalar(const std::string& base, float v) {
  return init(base, onnx::Float, {}, rawBytes(std::vector<float>{v}));
}

std::string OnnxBuilder::int64Vector(const std::string& base, const std::vector<int64_t>& v) {
  return init(base, onnx::Int64, {static_cast<int64_t>(v.size())}, rawBytes(v));
}

// Scale / zero-point initializers of a quantized tensor: scalars when per-tensor, 1-D with
// `axis` (the quantized dimension in ONNX order) when per-axis.
OnnxBuilder::QParams OnnxBuilder::qparams(int t, onnx::DataType zpType, int axis) {
  const auto& q = tensor(t).quant;
  QParams p;
  std::vector<int64_t> dims;
  if (q.scale.size() > 1) {
    dims = {static_cast<int64_t>(q.scale.size())};
    p.attrs.push_back(Attribute::ofInt("axis", axis));
  }
  p.scale = init(tensorBase(t) + "_scale", onnx::Float, dims, rawBytes(q.scale));
  if (zpType == onnx::Int8) {
    std::vector<int8_t> zp(q.zeroPoint.begin(), q.zeroPoint.end());
    p.zeroPoint = init(tensorBase(t) + "_zero_point", onnx::Int8, dims, rawBytes(zp));
  } else if (zpType == onnx::Uint8) {
    std::vector<uint8_t> zp;
    for (int32_t z : q.zeroPoint) zp.push_back(static_cast<uint8_t>(z + 128));
    p.zeroPoint = init(tensorBase(t) + "_zero_point_uint8", onnx::Uint8, dims, zp);
  } else {
    std::vector<int32_t> zp(q.zeroPoint.begin(), q.zeroPoint.end());
    p.zeroPoint = init(tensorBase(t) + "_zero_point", onnx::Int32, dims, rawBytes(zp));
  }
  return p;
}

// A constant as a float value: float data directly, int8 / int32 data through
// DequantizeLinear. `data` is already in the ONNX layout `dims`; `axis` is where the
// quantized dimension ended up in it.
Expected<std::string> OnnxBuilder::constant(int t, const std::vector<int64_t>& dims, const std::vector<uint8_t>& data,
                                            int axis) {
  const GraphTensor& gt = tensor(t);
  const std::string base = tensorBase(t);
  switch (gt.type) {
    case ElementType::Float32:
      return init(base, onnx::Float, dims, data);
    case ElementType::Int8:
    case ElementType::Int32: {
      if (!gt.quant.quantized())
        return makeError("constant tensor '" + base + "' is integer but has no quantization parameters");
      const bool i8 = gt.type == ElementType::Int8;
      const auto type = i8 ? onnx::Int8 : onnx::Int32;
      std::string q = init(base + (i8 ? "_int8" : "_int32"), type, dims, data);
      QParams p = qparams(t, type, axis);
      return node("DequantizeLinear", {q, p.scale, p.zeroPoint}, base, p.attrs);
    }
    case ElementType::Int4:
      break;
  }
  return makeError("tensor '" + base +
                   "' is INT4, which ONNX opset 13 cannot hold; export the weights as int8 values on the 4-bit grid");
}

Expected<std::string> OnnxBuilder::constantPermuted(int t, const Perm& perm) {
  const GraphTensor& gt = tensor(t);
  if (!gt.isConstant()) return makeError("tensor '" + tensorBase(t) + "' must be a constant (weights / bias)");
  if (static_cast<int>(perm.size()) != rankOf(t))
    return makeError("tensor '" + tensorBase(t) + "' has rank " + std::to_string(rankOf(t)) + ", expected " +
                     std::to_string(perm.size()));
  const size_t elem = gt.type == ElementType::Int8 ? 1 : 4;
  std::vector<int64_t> dims;
  for (int d : perm) dims.push_back(gt.shape[static_cast<size_t>(d)]);
  return constant(t, dims, permuteData(gt.data, elem, gt.shape, perm), onnxAxis(perm, gt.quant.quantizedDimension));
}

Expected<Value> OnnxBuilder::value(int t) {
  auto& slot = values_[static_cast<size_t>(t)];
  if (slot) return *slot;
  const GraphTensor& gt = tensor(t);
  if (!gt.isConstant()) return makeError("tensor '" + tensorBase(t) + "' is read before it is produced");
  std::vector<int64_t> dims(gt.shape.begin(), gt.shape.end());
  auto name = constant(t, dims, gt.data, gt.quant.quantizedDimension);
  if (!name.ok()) return name.error();
  slot = Value{name.value(), identity(rankOf(t))};
  return *slot;
}

// The float value of tensor t in layout `want`, transposing once per tensor and layout.
Expected<std::string> OnnxBuilder::valueAs(int t, const Perm& want) {
  auto v = value(t);
  if (!v.ok()) return v.error();
  if (v->perm == want) return v->name;
  if (v->perm.size() != want.size())
    return makeError("tensor '" + tensorBase(t) + "' has rank " + std::to_string(v->perm.size()) + ", expected " +
                     std::to_string(want.size()));
  auto key = std::make_pair(t, want);
  if (auto it = transposed_.find(key); it != transposed_.end()) return it->second;
  // Output dim j holds graph dim want[j], which sits at the input's position of that dim.
  std::vector<int64_t> attr;
  for (int d : want) attr.push_back(onnxAxis(v->perm, d));
  std::string out = node("Transpose", {v->name}, v->name + (want == kNchw ? "_nchw" : "_nhwc"),
                         {Attribute::ofInts("perm", attr)});
  transposed_[key] = out;
  return out;
}

Expected<std::string> OnnxBuilder::valueNchw(int t) {
  if (rankOf(t) != 4) return makeError("tensor '" + tensorBase(t) + "' must be 4-D (N, H, W, C)");
  return valueAs(t, kNchw);
}

// Records the float result of the op producing tensor t. An int8 activation is wrapped in
// QuantizeLinear → DequantizeLinear on the uint8 grid with the tensor's scale and zero point.
Status OnnxBuilder::setResult(int t, const std::string& floatName, const Perm& perm) {
  const GraphTensor& gt = tensor(t);
  std::string name = floatName;
  if (gt.quant.quantized()) {
    if (gt.type != ElementType::Int8) return makeError("activation '" + tensorBase(t) + "' is quantized but not int8");
    if (gt.quant.scale.size() != 1)
      return makeError("activation '" + tensorBase(t) +
                       "' has per-axis quantization; ONNX QDQ activations are per-tensor");
    QParams p = qparams(t, onnx::Uint8, 0);
    std::string q = node("QuantizeLinear", {floatName, p.scale, p.zeroPoint}, tensorBase(t) + "_uint8");
    name = node("DequantizeLinear", {q, p.scale, p.zeroPoint}, tensorBase(t));
  } else if (gt.type != ElementType::Float32) {
    return makeError("activation '" + tensorBase(t) + "' is integer but has no quantization parameters");
  }
  values_[static_cast<size_t>(t)] = Value{name, perm};
  return {};
}

std::string OnnxBuilder::activation(const std::string& x, FusedActivation act, const std::string& base) {
  switch (act) {
    case FusedActivation::None:
      return x;
    case FusedActivation::Relu:
      return node("Relu", {x}, base + "_relu");
    case FusedActivation::Relu6:
      return node("Clip", {x, floatScalar(base + "_min", 0.0f), floatScalar(base + "_max", 6.0f)}, base + "_relu6");
    case FusedActivation::ReluN1To1:
      return node("Clip", {x, floatScalar(base + "_min", -1.0f), floatScalar(base + "_max", 1.0f)},
                  base + "_relu_n1_to_1");
  }
  return x;
}

Status OnnxBuilder::addGraphInput(int t, const std::string& name) {
  const GraphTensor& gt = tensor(t);
  std::vector<int64_t> dims(gt.shape.begin(), gt.shape.end());
  if (!dims.empty()) dims[0] = -1;  // symbolic batch "N"
  if (gt.type == ElementType::Float32) {
    inputs_.push_back(onnx::valueInfo(name, onnx::Float, dims));
    values_[static_cast<size_t>(t)] = Value{name, identity(rankOf(t))};
    return {};
  }
  if (gt.type != ElementType::Int8 || !gt.quant.quantized() || gt.quant.scale.size() != 1)
    return makeError("ONNX export: graph input '" + name + "' must be float32 or per-tensor int8");
  inputs_.push_back(onnx::valueInfo(name, onnx::Int8, dims));
  QParams in = qparams(t, onnx::Int8, 0), grid = qparams(t, onnx::Uint8, 0);
  std::string real = node("DequantizeLinear", {name, in.scale, in.zeroPoint}, name + "_real");
  std::string q = node("QuantizeLinear", {real, grid.scale, grid.zeroPoint}, name + "_uint8");
  std::string dq = node("DequantizeLinear", {q, grid.scale, grid.zeroPoint}, name + "_dequant");
  values_[static_cast<size_t>(t)] = Value{dq, identity(rankOf(t))};
  return {};
}

// Outputs go back to the graph's NHWC order; an int8 output (int8 I/O) is the INT8
// QuantizeLinear of its dequantized value (exact: the same scale, the zero point 128 lower).
Status OnnxBuilder::addGraphOutput(int t, const std::string& name) {
  const GraphTensor& gt = tensor(t);
  std::vector<int64_t> dims(gt.shape.begin(), gt.shape.end());
  if (!dims.empty()) dims[0] = -1;
  const Perm nhwc = identity(rankOf(t));
  auto x = valueAs(t, nhwc);
  if (!x.ok()) return makeError("ONNX export: graph output '" + name + "': " + x.error().message);
  if (gt.type == ElementType::Int8 && gt.quant.quantized()) {
    QParams p = qparams(t, onnx::Int8, 0);
    nodeNamed("QuantizeLinear", {x.value(), p.scale, p.zeroPoint}, name);
    outputs_.push_back(onnx::valueInfo(name, onnx::Int8, dims));
  } else {
    nodeNamed("Identity", {x.value()}, name);
    outputs_.push_back(onnx::valueInfo(name, onnx::Float, dims));
  }
  return {};
}

Expected<std::vector<uint8_t>> OnnxBuilder::build() {
  // Graph inputs and outputs keep the tensors' names; they are reserved first so no
  // generated name takes them.
  std::vector<std::string> inNames, outNames;
  for (int t : g_.inputs) inNames.push_back(unique(tensorBase(t)));
  for (int t : g_.outputs) outNames.push_back(unique(tensorBase(t)));
  for (size_t i = 0; i < g_.inputs.size(); ++i) QAT_TRY(addGraphInput(g_.inputs[i], inNames[i]));
  for (size_t i = 0; i < g_.ops.size(); ++i) {
    Status s = convert(g_.ops[i]);
    if (!s.ok()) {
      const GraphOp& op = g_.ops[i];
      std::string m = "ONNX export: op ";
      m.append(std::to_string(i)).append(" (").append(opKindName(op.kind));
      if (!op.sourceLayer.empty()) m.append(", layer '").append(op.sourceLayer).append("'");
      m.append("): ").append(s.error().message);
      return makeError(std::move(m));
    }
  }
  for (size_t i = 0; i < g_.outputs.size(); ++i) QAT_TRY(addGraphOutput(g_.outputs[i], outNames[i]));

  ProtoWriter graph;
  for (const auto& n : nodes_) graph.addMessage(1, n);
  graph.addString(2, g_.name.empty() ? std::string("qat_studio") : g_.name);
  for (const auto& t : inits_) graph.addMessage(5, t);
  std::string doc;
  for (const auto& note : g_.notes) doc.append(note).append("\n");
  if (!doc.empty()) graph.addString(10, doc);
  for (const auto& v : inputs_) graph.addMessage(11, v);
  for (const auto& v : outputs_) graph.addMessage(12, v);
  return onnx::modelProto(graph).take();
}

}  // namespace onnx_export

Expected<std::vector<uint8_t>> onnxQdqBytes(const IntegerGraph& graph) {
  Status valid = validate(graph);
  if (!valid.ok()) return makeError("ONNX export: " + valid.error().message);
  return onnx_export::OnnxBuilder(graph).build();
}

Status writeOnnxQdq(const IntegerGraph& graph, const std::string& path) {
  auto bytes = onnxQdqBytes(graph);
  if (!bytes.ok()) return bytes.error();
  return writeFileAtomic(path, bytes.value());
}

}  // namespace qat::deploy
