#include "engine/deploy/integer_graph.h"

#include <cmath>
#include <string>

namespace qat::deploy {

std::string_view elementTypeName(ElementType t) {
  switch (t) {
    case ElementType::Float32: return "float32";
    case ElementType::Int8: return "int8";
    case ElementType::Int32: return "int32";
    case ElementType::Int4: return "int4";
  }
  return "?";
}

std::string_view opKindName(OpKind k) {
  switch (k) {
    case OpKind::Conv2D: return "CONV_2D";
    case OpKind::DepthwiseConv2D: return "DEPTHWISE_CONV_2D";
    case OpKind::FullyConnected: return "FULLY_CONNECTED";
    case OpKind::AveragePool2D: return "AVERAGE_POOL_2D";
    case OpKind::MaxPool2D: return "MAX_POOL_2D";
    case OpKind::Mean: return "MEAN";
    case OpKind::Reshape: return "RESHAPE";
    case OpKind::Softmax: return "SOFTMAX";
    case OpKind::Logistic: return "LOGISTIC";
    case OpKind::Tanh: return "TANH";
    case OpKind::Add: return "ADD";
    case OpKind::Sub: return "SUB";
    case OpKind::Mul: return "MUL";
    case OpKind::Concatenation: return "CONCATENATION";
    case OpKind::Pad: return "PAD";
    case OpKind::Quantize: return "QUANTIZE";
    case OpKind::Dequantize: return "DEQUANTIZE";
    case OpKind::LeakyRelu: return "LEAKY_RELU";
    case OpKind::HardSwish: return "HARD_SWISH";
    case OpKind::Relu: return "RELU";
    case OpKind::Relu6: return "RELU6";
  }
  return "?";
}

namespace {

// Inputs an op takes (optional ones counted in max; -1 marks an omitted optional input).
struct Arity {
  int minIn, maxIn;
};
Arity arityOf(OpKind k) {
  switch (k) {
    case OpKind::Conv2D:
    case OpKind::DepthwiseConv2D:
    case OpKind::FullyConnected: return {2, 3};  // input, weights[, bias]
    case OpKind::Mean:
    case OpKind::Reshape:
    case OpKind::Pad: return {2, 2};  // input, axes / shape / paddings (int32 constant)
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul: return {2, 2};
    case OpKind::Concatenation: return {1, 1 << 20};
    default: return {1, 1};
  }
}

size_t numel(const std::vector<int>& shape) {
  size_t n = 1;
  for (int d : shape) n *= static_cast<size_t>(d);
  return n;
}

size_t dataBytes(ElementType t, size_t n) {
  switch (t) {
    case ElementType::Float32:
    case ElementType::Int32: return 4 * n;
    case ElementType::Int8: return n;
    case ElementType::Int4: return (n + 1) / 2;
  }
  return 0;
}

std::string tensorLabel(const IntegerGraph& g, int t) {
  return "tensor " + std::to_string(t) + " '" + g.tensors[static_cast<size_t>(t)].name + "'";
}

std::string opLabel(const IntegerGraph& g, size_t i) {
  const GraphOp& op = g.ops[i];
  std::string s = "op " + std::to_string(i) + " (" + std::string(opKindName(op.kind));
  if (!op.sourceLayer.empty()) s += ", layer '" + op.sourceLayer + "'";
  return s + ")";
}

Status checkTensor(const IntegerGraph& g, int t) {
  const GraphTensor& x = g.tensors[static_cast<size_t>(t)];
  for (int d : x.shape)
    if (d < 0) return makeError("Integer graph: " + tensorLabel(g, t) + " has a negative dimension");
  const QuantParams& q = x.quant;
  if (q.scale.size() != q.zeroPoint.size())
    return makeError("Integer graph: " + tensorLabel(g, t) + " has " + std::to_string(q.scale.size()) +
                     " scales but " + std::to_string(q.zeroPoint.size()) + " zero points");
  for (float s : q.scale)
    if (!(s > 0.0f) || !std::isfinite(s))
      return makeError("Integer graph: " + tensorLabel(g, t) + " has a quantization scale " + std::to_string(s) +
                       " (scales must be positive and finite)");
  if (q.scale.size() > 1) {
    if (q.quantizedDimension < 0 || q.quantizedDimension >= static_cast<int>(x.shape.size()))
      return makeError("Integer graph: " + tensorLabel(g, t) + " has quantized dimension " +
                       std::to_string(q.quantizedDimension) + " outside its rank");
    if (x.shape[static_cast<size_t>(q.quantizedDimension)] != static_cast<int>(q.scale.size()))
      return makeError("Integer graph: " + tensorLabel(g, t) + " has " + std::to_string(q.scale.size()) +
                       " per-axis scales but dimension " + std::to_string(q.quantizedDimension) + " is " +
                       std::to_string(x.shape[static_cast<size_t>(q.quantizedDimension)]));
  }
  if ((x.type == ElementType::Int8 || x.type == ElementType::Int4) && !x.isConstant() && !q.quantized())
    return makeError("Integer graph: " + tensorLabel(g, t) + " is an int8 activation without quantization parameters");
  if (x.isConstant() && x.data.size() != dataBytes(x.type, numel(x.shape)))
    return makeError("Integer graph: constant " + tensorLabel(g, t) + " holds " + std::to_string(x.data.size()) +
                     " bytes, its shape and type (" + std::string(elementTypeName(x.type)) + ") need " +
                     std::to_string(dataBytes(x.type, numel(x.shape))));
  if (x.valueBits < 2 || x.valueBits > 8)
    return makeError("Integer graph: " + tensorLabel(g, t) + " has valueBits " + std::to_string(x.valueBits));
  return {};
}

}  // namespace

Status validate(const IntegerGraph& g) {
  const int nt = static_cast<int>(g.tensors.size());
  for (int t = 0; t < nt; ++t) QAT_TRY(checkTensor(g, t));
  // available[t]: the tensor has a value at this point of the execution order.
  std::vector<bool> available(static_cast<size_t>(nt), false), produced(static_cast<size_t>(nt), false);
  for (int t = 0; t < nt; ++t) available[static_cast<size_t>(t)] = g.tensors[static_cast<size_t>(t)].isConstant();
  if (g.inputs.empty()) return makeError("Integer graph: no inputs");
  if (g.outputs.empty()) return makeError("Integer graph: no outputs");
  for (int t : g.inputs) {
    if (t < 0 || t >= nt) return makeError("Integer graph: input index " + std::to_string(t) + " out of range");
    if (g.tensors[static_cast<size_t>(t)].isConstant())
      return makeError("Integer graph: input " + tensorLabel(g, t) + " is a constant");
    if (produced[static_cast<size_t>(t)]) return makeError("Integer graph: " + tensorLabel(g, t) + " is listed twice as an input");
    available[static_cast<size_t>(t)] = produced[static_cast<size_t>(t)] = true;
  }
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const GraphOp& op = g.ops[i];
    const Arity a = arityOf(op.kind);
    const int nin = static_cast<int>(op.inputs.size());
    if (nin < a.minIn || nin > a.maxIn)
      return makeError("Integer graph: " + opLabel(g, i) + " has " + std::to_string(nin) + " inputs");
    for (int k = 0; k < nin; ++k) {
      const int t = op.inputs[static_cast<size_t>(k)];
      const bool optional = k >= a.minIn;
      if (t == -1 && optional) continue;
      if (t < 0 || t >= nt)
        return makeError("Integer graph: " + opLabel(g, i) + " input " + std::to_string(k) + " is tensor index " +
                         std::to_string(t) + ", out of range");
      if (!available[static_cast<size_t>(t)])
        return makeError("Integer graph: " + opLabel(g, i) + " reads " + tensorLabel(g, t) + " before it is computed");
    }
    if (op.outputs.size() != 1)
      return makeError("Integer graph: " + opLabel(g, i) + " must have exactly one output");
    const int o = op.outputs[0];
    if (o < 0 || o >= nt) return makeError("Integer graph: " + opLabel(g, i) + " output index out of range");
    if (g.tensors[static_cast<size_t>(o)].isConstant())
      return makeError("Integer graph: " + opLabel(g, i) + " writes the constant " + tensorLabel(g, o));
    if (produced[static_cast<size_t>(o)])
      return makeError("Integer graph: " + tensorLabel(g, o) + " is produced twice (again by " + opLabel(g, i) + ")");
    available[static_cast<size_t>(o)] = produced[static_cast<size_t>(o)] = true;
    if (op.strideH < 1 || op.strideW < 1 || op.dilationH < 1 || op.dilationW < 1 || op.filterH < 1 ||
        op.filterW < 1 || op.depthMultiplier < 1)
      return makeError("Integer graph: " + opLabel(g, i) + " has a stride, dilation, filter size or depth multiplier below 1");
  }
  for (int t : g.outputs) {
    if (t < 0 || t >= nt) return makeError("Integer graph: output index " + std::to_string(t) + " out of range");
    if (!produced[static_cast<size_t>(t)])
      return makeError("Integer graph: output " + tensorLabel(g, t) + " is never computed");
  }
  return {};
}

}  // namespace qat::deploy
