// ONNX QDQ reader: a file written by onnx_writer.cpp → the IntegerGraph it was written
// from, so export verification can run the integer interpreter on what the file holds.
//
// The writer's scheme read backwards (onnx_writer.cpp explains it forwards):
//  * QuantizeLinear → DequantizeLinear with the same per-tensor (scale, zero point) marks an
//    int8 tensor; on the uint8 grid the writer uses (zero point + 128) it is the same int8
//    tensor. A QuantizeLinear onto the grid a tensor already has (int8 I/O: int8 ↔ uint8)
//    is no op at all. The float chain feeding the QuantizeLinear — a compute node, then maybe a
//    Relu / Clip (fused activation), maybe a Reshape back to the output shape — is the op
//    producing it, run in int8. A QuantizeLinear reading an existing tensor (graph input,
//    dequantized int8 value) is a QUANTIZE op (float → int8, or int8 → int8 requantize).
//  * A compute node whose result is read without QuantizeLinear is a float op; where it
//    reads a dequantized int8 tensor a DEQUANTIZE op is inserted (the writer's DEQUANTIZE
//    is the identity on real values, so it only shows as a float graph output).
//    The QDQ format cannot tell "int8 kernel" from "float kernel, then QUANTIZE"; freeze
//    never puts float ops in an int8 graph, so the reader always reads the former.
//  * DequantizeLinear of an int8 / int32 initializer is a quantized constant (per-axis with
//    `axis`), a float initializer a float constant; both are turned back from the ONNX
//    layout (OIHW, (C·M, 1, kh, kw)) into TFLite's (OHWI, [1, kh, kw, C·M]).
//  * Layouts: every value carries the writer's permutation (ONNX dim i holds graph dim
//    perm[i]); Transpose only changes it. Conv and pooling must read NCHW, Gemm and
//    Reshape the graph's own order; Mean, Softmax, Concat and Pad map their axes back.
// An op is only "pending" (Val::Pending) until its consumer shows which of these it is;
// ops enter the graph in the order they are made, which keeps the ONNX topological order.
// Anything else is refused naming the node and its op type; the result passes validate().
#include <algorithm>

#include "engine/data/file_io.h"
#include "engine/deploy/onnx_builder.h"
#include "engine/deploy/onnx_file.h"
#include "engine/deploy/onnx_reader_impl.h"

namespace qat::deploy {
namespace onnx_import {

namespace {
constexpr int kFloat = 1, kInt8 = 3;

std::string nodeLabel(const DecodedNode& n) { return "node '" + n.name + "' (" + n.opType + ")"; }

}  // namespace

Perm identityPerm(size_t rank) { return onnx_export::identity(static_cast<int>(rank)); }

std::string shapeText(const std::vector<int>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// ---- setup, graph inputs and outputs -------------------------------------------------------

Status Reader::setup() {
  for (const auto& t : g_.initializers)
    if (!inits_.emplace(t.name, &t).second) return makeError("initializer '" + t.name + "' is defined twice");
  for (const auto& n : g_.nodes) {
    // Checked for every node before any is converted: a converter may look at a consumer's output.
    if (n.outputs.size() != 1 || n.outputs[0].empty()) return makeError(nodeLabel(n) + ": must have exactly one output");
    for (const auto& o : n.outputs) {
      if (o.empty()) continue;
      if (inits_.count(o) || !producers_.emplace(o, &n).second)
        return makeError(nodeLabel(n) + ": its output '" + o + "' is produced twice");
    }
    for (const auto& in : n.inputs)
      if (!in.empty()) consumers_[in].push_back(&n);
  }
  return {};
}

int Reader::consumers(const std::string& name) const {
  auto it = consumers_.find(name);
  return (it == consumers_.end() ? 0 : static_cast<int>(it->second.size())) + (isGraphOutput(name) ? 1 : 0);
}

bool Reader::isGraphOutput(const std::string& name) const {
  return std::any_of(g_.outputs.begin(), g_.outputs.end(), [&](const auto& v) { return v.name == name; });
}

const DecodedTensor* Reader::initializer(const std::string& name) const {
  auto it = inits_.find(name);
  return it == inits_.end() ? nullptr : it->second;
}

const DecodedNode* Reader::constantDequantize(const std::string& name) const {
  auto it = producers_.find(name);
  if (it == producers_.end() || it->second->opType != "DequantizeLinear" || it->second->inputs.empty()) return nullptr;
  return initializer(it->second->inputs[0]) ? it->second : nullptr;
}

Status Reader::addGraphInputs() {
  for (const auto& vi : g_.inputs) {
    if (initializer(vi.name)) continue;  // IR < 4 style: initializers listed as inputs
    const std::string what = "graph input '" + vi.name + "'";
    if (values_.count(vi.name)) return makeError(what + " is listed twice");
    if (producers_.count(vi.name)) return makeError(what + " is also produced by a node");
    if (!vi.hasShape || vi.dims.empty()) return makeError(what + " has no shape");
    GraphTensor t;
    t.name = vi.name;
    uint64_t count = 1;
    for (size_t i = 0; i < vi.dims.size(); ++i) {
      const int64_t d = vi.dims[i];
      if (i == 0 && (d == -1 || d == 1)) {
        t.shape.push_back(1);  // the batch: dynamic at run time
      } else if (i > 0 && d >= 1 && d <= (1 << 24) && (count *= static_cast<uint64_t>(d)) <= (uint64_t(1) << 31)) {
        t.shape.push_back(static_cast<int>(d));
      } else {
        return makeError(what + " has dimension " + std::to_string(i) + " = " + (d < 0 ? "unknown" : std::to_string(d)) +
                         "; the subset has a dynamic batch first and fixed other dimensions");
      }
    }
    Val v;
    if (vi.elemType == kFloat) {
      t.type = ElementType::Float32;
    } else if (vi.elemType == kInt8) {
      t.type = ElementType::Int8;  // scale and zero point come from its DequantizeLinear
      v.kind = Val::Int8Raw;
    } else {
      return makeError(what + " has element type " + onnx::dataTypeName(vi.elemType) + "; FLOAT or INT8 expected");
    }
    v.perm = identityPerm(t.shape.size());
    v.tensor = out_.addTensor(std::move(t));
    values_[vi.name] = v;
    out_.inputs.push_back(v.tensor);
  }
  if (out_.inputs.empty()) return makeError("the graph has no inputs");
  return {};
}

// Outputs are back in the graph's order. A float output read from an int8 tensor is its
// DEQUANTIZE; an int8 output is the int8 tensor itself (int8 I/O).
Status Reader::addGraphOutputs() {
  for (const auto& vi : g_.outputs) {
    const std::string what = "graph output '" + vi.name + "'";
    auto v = tensorValue(vi.name, vi.name, /*allowRaw=*/true);
    if (!v.ok()) return makeError(what + ": " + v.error().message);
    if (v->perm != identityPerm(v->perm.size())) return makeError(what + " is not in the graph's (NHWC) layout");
    int t = v->tensor;
    const bool int8 = tensor(t).type == ElementType::Int8;
    if (v->kind == Val::Int8Raw) {
      if (v->uint8) return makeError(what + " holds uint8 values; the subset's quantized outputs are INT8");
      if (vi.elemType != kInt8) return makeError(what + " is int8 but declared " + onnx::dataTypeName(vi.elemType));
    } else {
      if (vi.elemType != kFloat) return makeError(what + " is float but declared " + onnx::dataTypeName(vi.elemType));
      if (int8) t = dequantized(t, vi.name);
    }
    const auto& shape = tensor(t).shape;
    bool match = !vi.hasShape || vi.dims.size() == shape.size();
    for (size_t i = 1; match && vi.hasShape && i < shape.size(); ++i) match = vi.dims[i] < 0 || vi.dims[i] == shape[i];
    if (!match) {
      std::vector<int> declared(vi.dims.begin(), vi.dims.end());
      return makeError(what + " is declared " + shapeText(declared) + " but the graph computes " + shapeText(shape));
    }
    out_.outputs.push_back(t);
  }
  if (out_.outputs.empty()) return makeError("the graph has no outputs");
  return {};
}

// ---- values --------------------------------------------------------------------------------

Expected<Val> Reader::lookup(const std::string& name) const {
  if (name.empty()) return makeError("a required input is missing");
  auto it = values_.find(name);
  if (it != values_.end()) return it->second;
  if (initializer(name) || constantDequantize(name))
    return makeError("reads the constant '" + name + "' where the subset has an activation");
  return makeError("reads '" + name + "', which no earlier node produces");
}

Expected<Val> Reader::tensorValue(const std::string& name, const std::string& nameIfMade, bool allowRaw) {
  auto v = lookup(name);
  if (!v.ok()) return v.error();
  switch (v->kind) {
    case Val::Tensor:
      return v;
    case Val::Int8Raw:
      if (allowRaw) return v;
      return makeError("reads the int8 values of '" + name +
                       "' directly; QDQ models read int8 tensors through DequantizeLinear");
    case Val::Pending: {
      auto t = make(v->pending, nullptr, nameIfMade.empty() ? name : nameIfMade);
      if (!t.ok()) return t.error();
      Val r;
      r.tensor = t.value();
      r.perm = v->perm;
      return r;
    }
    case Val::Scaled:
      return makeError("reads '" + name + "', a Mul by a constant, which the subset only has before Softmax (beta)");
    case Val::HardSigmoid:
      return makeError("reads '" + name + "', a HardSigmoid, which the subset only has inside HardSwish");
  }
  return makeError("reads '" + name + "', a value of unknown kind");
}

// Gives pending op p its output tensor: int8 with `quant` (every activation input must be
// int8), or float (int8 inputs are dequantized first).
Expected<int> Reader::make(int p, const QuantParams* quant, const std::string& name) {
  if (pending_[static_cast<size_t>(p)].tensor >= 0) return pending_[static_cast<size_t>(p)].tensor;
  PendingOp& op = pending_[static_cast<size_t>(p)];
  const std::string label = op.label + ": ";
  if (op.op.kind == OpKind::Reshape && !op.reshapeValid)
    return makeError(label + "reshapes " + shapeText(tensor(op.acts[0]).shape) +
                     " across the batch dimension, which only a Gemm may read");
  if (op.op.kind == OpKind::FullyConnected && op.rowsPerSample > 1)
    return makeError(label + "runs over " + std::to_string(op.rowsPerSample) +
                     " rows per sample but is not reshaped back to the output shape");
  const bool weighted = op.op.kind == OpKind::Conv2D || op.op.kind == OpKind::DepthwiseConv2D ||
                        op.op.kind == OpKind::FullyConnected;
  if (weighted && (op.consts[0].type == ElementType::Float32) == (quant != nullptr))
    return makeError(label + (quant ? "has a quantized result but float weights"
                                    : "has quantized weights but a float result (weight-only quantization is "
                                      "outside the subset)"));
  std::vector<int> inputs;
  for (int t : op.acts) {
    const bool int8 = tensor(t).type == ElementType::Int8;
    if (quant && !int8)
      return makeError(label + "has a quantized result but reads the float tensor '" + tensor(t).name + "'");
    inputs.push_back(quant || !int8 ? t : dequantized(t, tensor(t).name + "/dequantized"));
  }
  for (auto& c : op.consts) inputs.push_back(out_.addTensor(std::move(c)));
  op.consts.clear();
  GraphTensor y;
  y.name = name;
  y.shape = op.shape;
  if (quant) {
    y.type = ElementType::Int8;
    y.quant = *quant;
  }
  op.tensor = out_.addTensor(std::move(y));
  GraphOp g = op.op;
  g.inputs = std::move(inputs);
  g.outputs = {op.tensor};
  g.sourceLayer = name;
  out_.ops.push_back(std::move(g));
  return op.tensor;
}

int Reader::dequantized(int t, const std::string& name) {
  if (auto it = dequantized_.find(t); it != dequantized_.end()) return it->second;
  GraphTensor f;
  f.name = name;
  f.shape = tensor(t).shape;
  const int y = out_.addTensor(std::move(f));
  GraphOp op;
  op.kind = OpKind::Dequantize;
  op.inputs = {t};
  op.outputs = {y};
  op.sourceLayer = name;
  out_.ops.push_back(std::move(op));
  dequantized_[t] = y;
  return y;
}

// Every output shape is checked here: dimensions ≥ 1 and at most 2^31 values per sample,
// so no size the interpreter computes from it overflows.
Status Reader::addPending(PendingOp p, const std::string& output) {
  if (p.shape.empty()) return makeError("computes a scalar; the subset's tensors have a batch dimension");
  uint64_t count = 1;
  for (int d : p.shape) {
    if (d < 1) return makeError("computes an empty shape " + shapeText(p.shape));
    count *= static_cast<uint64_t>(d);
    if (count > (uint64_t(1) << 31)) return makeError("computes " + shapeText(p.shape) + ", too large");
  }
  p.label = nodeLabel(*node_);
  Val v;
  v.kind = Val::Pending;
  v.perm = p.perm;
  v.pending = static_cast<int>(pending_.size());
  pending_.push_back(std::move(p));
  values_[output] = v;
  return {};
}

// A Relu / Clip right after a CONV / FC / pool / ADD / SUB / MUL that nothing else reads is
// its fused activation.
bool Reader::fuse(const std::string& in, FusedActivation act, const std::string& out) {
  auto it = values_.find(in);
  if (it == values_.end() || it->second.kind != Val::Pending) return false;
  PendingOp& p = pending_[static_cast<size_t>(it->second.pending)];
  if (p.tensor >= 0 || !p.fusable || p.op.activation != FusedActivation::None || consumers(in) != 1) return false;
  p.op.activation = act;
  values_[out] = it->second;
  return true;
}

// ---- Q / DQ and layout nodes ---------------------------------------------------------------

// The int8 tensor is named after the DequantizeLinear that reads it (the writer names that
// value after the graph tensor), else after the QuantizeLinear output without "_int8" / "_uint8".
Status Reader::convertQuantizeLinear(const DecodedNode& n) {
  const std::string& x = n.inputs.empty() ? std::string() : n.inputs[0];
  auto v = lookup(x);
  if (!v.ok()) return v.error();
  bool uint8 = false;
  auto q = activationParams(n, static_cast<int>(v->perm.size()), uint8);
  if (!q.ok()) return q.error();
  const std::string& out = n.outputs[0];
  std::string name = out;
  if (auto it = consumers_.find(out); it != consumers_.end() && it->second.size() == 1 &&
                                      it->second[0]->opType == "DequantizeLinear")
    name = it->second[0]->outputs[0];
  else
    for (const std::string suffix : {"_int8", "_uint8"})
      if (name.size() > suffix.size() && name.ends_with(suffix)) name.resize(name.size() - suffix.size());
  Val r;
  r.kind = Val::Int8Raw;
  r.uint8 = uint8;
  if (v->kind == Val::Tensor && tensor(v->tensor).type == ElementType::Int8 &&
      tensor(v->tensor).quant.scale == q->scale && tensor(v->tensor).quant.zeroPoint == q->zeroPoint) {
    r.tensor = v->tensor;  // onto the grid the tensor already has: int8 ↔ uint8, exact
    r.perm = v->perm;
  } else if (v->kind == Val::Pending && pending_[static_cast<size_t>(v->pending)].tensor < 0 && consumers(x) == 1) {
    auto t = make(v->pending, &q.value(), name);
    if (!t.ok()) return t.error();
    r.tensor = t.value();
    r.perm = v->perm;
  } else {
    auto in = tensorValue(x);
    if (!in.ok()) return in.error();
    GraphTensor y;
    y.name = name;
    y.shape = tensor(in->tensor).shape;
    y.type = ElementType::Int8;
    y.quant = std::move(q.value());
    r.tensor = out_.addTensor(std::move(y));
    r.perm = in->perm;
    GraphOp op;
    op.kind = OpKind::Quantize;
    op.inputs = {in->tensor};
    op.outputs = {r.tensor};
    op.sourceLayer = name;
    out_.ops.push_back(std::move(op));
  }
  values_[out] = r;
  return {};
}

Status Reader::convertDequantizeLinear(const DecodedNode& n) {
  if (n.inputs.empty()) return makeError("has no input");
  if (initializer(n.inputs[0])) return {};  // a constant, read by its consumer
  auto v = lookup(n.inputs[0]);
  if (!v.ok()) return v.error();
  if (v->kind != Val::Int8Raw)
    return makeError("dequantizes '" + n.inputs[0] +
                     "', which is neither an int8 initializer nor a QuantizeLinear output or int8 graph input");
  bool uint8 = false;
  auto q = activationParams(n, static_cast<int>(v->perm.size()), uint8);
  if (!q.ok()) return q.error();
  if (uint8 != v->uint8)
    return makeError("dequantizes '" + n.inputs[0] + "' as " + (uint8 ? "uint8" : "int8") + " but it holds " +
                     (v->uint8 ? "uint8" : "int8") + " values");
  GraphTensor& t = out_.tensors[static_cast<size_t>(v->tensor)];
  if (!t.quant.quantized()) {
    t.quant = q.value();  // an int8 graph input: its parameters are here
  } else if (t.quant.scale != q->scale || t.quant.zeroPoint != q->zeroPoint) {
    return makeError("dequantizes '" + n.inputs[0] + "' with a scale / zero point other than it was quantized with");
  }
  Val r;
  r.tensor = v->tensor;
  r.perm = v->perm;
  values_[n.outputs[0]] = r;
  return {};
}

// Identity and Transpose: the same tensor, in another layout for Transpose. (Identity names a
// float graph output, so a pending op it reads is made under the output's name.)
Status Reader::convertLayout(const DecodedNode& n) {
  if (n.inputs.size() != 1) return makeError("needs one input");
  const std::string& out = n.outputs[0];
  auto v = tensorValue(n.inputs[0], isGraphOutput(out) && consumers(n.inputs[0]) == 1 ? out : "", /*allowRaw=*/true);
  if (!v.ok()) return v.error();
  Val r = v.value();
  if (n.opType == "Transpose") {
    QAT_TRY(onlyAttributes(n, {"perm"}));
    auto a = attrInts(n, "perm", {});
    if (!a.ok()) return a.error();
    const size_t rank = r.perm.size();
    std::vector<bool> seen(rank, false);
    if (a->size() != rank) return makeError("perm has " + std::to_string(a->size()) + " entries for rank " + std::to_string(rank));
    Perm p(rank);
    for (size_t j = 0; j < rank; ++j) {
      const int64_t k = (*a)[j];
      if (k < 0 || k >= static_cast<int64_t>(rank) || seen[static_cast<size_t>(k)]) return makeError("perm is not a permutation");
      seen[static_cast<size_t>(k)] = true;
      p[j] = v->perm[static_cast<size_t>(k)];  // output dim j = input dim k = graph dim perm[k]
    }
    r.perm = p;
  } else {
    QAT_TRY(onlyAttributes(n, {}));
  }
  values_[out] = r;
  return {};
}

// ---- nodes ---------------------------------------------------------------------------------

Status Reader::convertNode(const DecodedNode& n) {
  node_ = &n;
  Status s = [&]() -> Status {
    if (!n.domain.empty() && n.domain != "ai.onnx")
      return makeError("is from operator domain '" + n.domain + "', outside the subset QAT Studio writes");
    const std::string& op = n.opType;
    if (op == "QuantizeLinear") return convertQuantizeLinear(n);
    if (op == "DequantizeLinear") return convertDequantizeLinear(n);
    if (op == "Transpose" || op == "Identity") return convertLayout(n);
    if (op == "Conv") return convertConv(n);
    if (op == "Gemm") return convertGemm(n);
    if (op == "MaxPool" || op == "AveragePool") return convertPool(n);
    if (op == "ReduceMean") return convertReduceMean(n);
    if (op == "Reshape") return convertReshape(n);
    if (op == "Softmax") return convertSoftmax(n);
    if (op == "Mul") return convertMul(n);
    if (op == "Add" || op == "Sub" || op == "Concat") return convertElementwise(n);
    if (op == "Pad") return convertPad(n);
    if (op == "Relu" || op == "Clip" || op == "Sigmoid" || op == "Tanh" || op == "LeakyRelu") return convertActivation(n);
    if (op == "HardSigmoid") return convertHardSigmoid(n);
    return makeError("op type '" + op + "' is outside the subset QAT Studio writes");
  }();
  if (!s.ok()) return makeError(nodeLabel(n) + ": " + s.error().message);
  return {};
}

Expected<IntegerGraph> Reader::run() {
  Status s = [&]() -> Status {
    QAT_TRY(setup());
    QAT_TRY(addGraphInputs());
    for (const auto& n : g_.nodes) QAT_TRY(convertNode(n));
    node_ = nullptr;
    QAT_TRY(addGraphOutputs());
    out_.name = g_.name;
    size_t start = 0;
    while (start < g_.docString.size()) {
      size_t end = g_.docString.find('\n', start);
      if (end == std::string::npos) end = g_.docString.size();
      if (end > start) out_.notes.push_back(g_.docString.substr(start, end - start));
      start = end + 1;
    }
    Status valid = validate(out_);
    if (!valid.ok()) return makeError("the graph read back is not valid: " + valid.error().message);
    return {};
  }();
  if (!s.ok()) return makeError(what_ + ": " + s.error().message);
  return std::move(out_);
}

}  // namespace onnx_import

Expected<IntegerGraph> parseOnnxQdq(const std::vector<uint8_t>& bytes, const std::string& what) {
  auto model = onnx::decodeModel(bytes);
  if (!model.ok()) return makeError(what + ": " + model.error().message);
  if (!model->hasGraph) return makeError(what + ": not an ONNX model (no graph; empty or truncated file?)");
  bool opset = false;
  for (const auto& [domain, version] : model->opsets) {
    if (!domain.empty() && domain != "ai.onnx") continue;
    if (version < onnx::kOpsetVersion || version > 17)
      return makeError(what + ": opset " + std::to_string(version) + "; the reader knows the ops of opsets 13 to 17");
    opset = true;
  }
  if (!opset) return makeError(what + ": the model imports no default-domain opset (truncated file?)");
  return onnx_import::Reader(model->graph, what).run();
}

Expected<IntegerGraph> readOnnxQdq(const std::string& path) {
  auto bytes = readFileBytes(path);
  if (!bytes.ok()) return bytes.error();
  return parseOnnxQdq(bytes.value(), path);
}

}  // namespace qat::deploy
