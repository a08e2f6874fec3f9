// ONNX QDQ reader: constants (initializers, DequantizeLinear of int8 / int32 initializers)
// and their quantization parameters, turned back from the ONNX layout into the graph's;
// node attributes. Part of onnx_reader.cpp's scheme.
#include <algorithm>
#include <bit>

#include "engine/data/file_io.h"
#include "engine/deploy/onnx_builder.h"
#include "engine/deploy/onnx_reader_impl.h"

namespace qat::deploy::onnx_import {

namespace {
constexpr int kFloat = 1, kUint8 = 2, kInt8 = 3, kInt32 = 6, kInt64 = 7;

size_t numelOf(const std::vector<int64_t>& dims) {
  size_t n = 1;
  for (int64_t d : dims) n *= static_cast<size_t>(d);  // dims checked by the decoder: no overflow
  return n;
}

constexpr int kAttrFloat = 1, kAttrInt = 2, kAttrString = 3, kAttrInts = 7;

Expected<const onnx::DecodedAttribute*> typed(const DecodedNode& n, const std::string& name, int type) {
  const onnx::DecodedAttribute* a = n.attribute(name);
  if (a && a->type != type)
    return makeError("attribute '" + name + "' has type " + std::to_string(a->type) + ", expected " + std::to_string(type));
  return a;
}

}  // namespace

// ---- attributes ----------------------------------------------------------------------------

Expected<int64_t> attrInt(const DecodedNode& n, const std::string& name, int64_t def) {
  QAT_ONNX_LET(a, typed(n, name, kAttrInt));
  return a ? a->i : def;
}

Expected<float> attrFloat(const DecodedNode& n, const std::string& name, float def) {
  QAT_ONNX_LET(a, typed(n, name, kAttrFloat));
  return a ? a->f : def;
}

Expected<std::vector<int64_t>> attrInts(const DecodedNode& n, const std::string& name, std::vector<int64_t> def) {
  QAT_ONNX_LET(a, typed(n, name, kAttrInts));
  if (!a && def.empty()) return makeError("needs the attribute '" + name + "'");
  return a ? a->ints : def;
}

Expected<std::string> attrString(const DecodedNode& n, const std::string& name, const std::string& def) {
  QAT_ONNX_LET(a, typed(n, name, kAttrString));
  return a ? a->s : def;
}

Status onlyAttributes(const DecodedNode& n, std::initializer_list<const char*> allowed) {
  for (const auto& a : n.attributes)
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* s) { return a.name == s; }))
      return makeError("attribute '" + a.name + "' is outside the subset");
  return {};
}

Status windowAttrs(const DecodedNode& n, std::vector<int64_t>& strides, std::vector<int64_t>& dilations,
                   std::vector<int64_t>& pads) {
  QAT_ONNX_LET(s, attrInts(n, "strides", {1, 1}));
  QAT_ONNX_LET(d, attrInts(n, "dilations", {1, 1}));
  QAT_ONNX_LET(p, attrInts(n, "pads", {0, 0, 0, 0}));
  if (s.size() != 2 || d.size() != 2 || p.size() != 4) return makeError("expects 2-D strides / dilations and 4 pads");
  for (int64_t v : s)
    if (v < 1 || v > 4096) return makeError("stride " + std::to_string(v));
  for (int64_t v : d)
    if (v < 1 || v > 4096) return makeError("dilation " + std::to_string(v));
  for (int64_t v : p)
    if (v < 0 || v > 4096) return makeError("pad " + std::to_string(v));
  QAT_ONNX_LET(autoPad, attrString(n, "auto_pad", "NOTSET"));
  if (autoPad != "NOTSET") return makeError("auto_pad " + autoPad + "; the subset writes explicit pads");
  strides = s;
  dilations = d;
  pads = p;
  return {};
}

// ---- constants -----------------------------------------------------------------------------

GraphTensor int32Constant(const std::string& name, std::vector<int> shape, const std::vector<int32_t>& values) {
  GraphTensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.type = ElementType::Int32;
  for (int32_t v : values)
    for (int k = 0; k < 4; ++k) t.data.push_back(static_cast<uint8_t>(static_cast<uint32_t>(v) >> (8 * k)));
  return t;
}

Expected<float> Reader::floatScalar(const std::string& name) const {
  const DecodedTensor* t = initializer(name);
  if (!t || t->dataType != kFloat || numelOf(t->dims) != 1)
    return makeError("'" + name + "' must be a FLOAT scalar initializer");
  return std::bit_cast<float>(loadLE32(t->raw.data()));
}

Expected<std::vector<int64_t>> Reader::int64Values(const std::string& name) const {
  const DecodedTensor* t = initializer(name);
  if (!t || t->dataType != kInt64 || t->dims.size() != 1)
    return makeError("'" + name + "' must be a 1-D INT64 initializer");
  std::vector<int64_t> v(t->raw.size() / 8);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int64_t>(loadLE64(t->raw.data() + 8 * i));
  return v;
}

// Scale and zero point of a QuantizeLinear / DequantizeLinear: scalars (per tensor), or 1-D
// along `axis` (default 1, as in onnx.proto) of a value of rank `rank`. quantizedDimension
// is left as the ONNX axis; the caller maps it through the layout.
Expected<QuantParams> Reader::quantParams(const DecodedNode& n, int zeroPointType, int rank) const {
  if (n.inputs.size() != 3 || n.inputs[2].empty())
    return makeError("needs an explicit zero point (without one ONNX means uint8)");
  const DecodedTensor* s = initializer(n.inputs[1]);
  const DecodedTensor* z = initializer(n.inputs[2]);
  if (!s || s->dataType != kFloat || s->dims.size() > 1)
    return makeError("scale '" + n.inputs[1] + "' must be a FLOAT scalar or 1-D initializer");
  if (!z || z->dims != s->dims)
    return makeError("zero point '" + n.inputs[2] + "' must be an initializer shaped like the scale");
  if (z->dataType != zeroPointType)
    return makeError("zero point '" + n.inputs[2] + "' is " + onnx::dataTypeName(z->dataType) + ", expected " +
                     onnx::dataTypeName(zeroPointType));
  QuantParams q;
  const size_t count = numelOf(s->dims);
  for (size_t i = 0; i < count; ++i) {
    q.scale.push_back(std::bit_cast<float>(loadLE32(s->raw.data() + 4 * i)));
    q.zeroPoint.push_back(zeroPointType == kInt8    ? static_cast<int8_t>(z->raw[i])
                          : zeroPointType == kUint8 ? static_cast<int32_t>(z->raw[i])
                                                    : static_cast<int32_t>(loadLE32(z->raw.data() + 4 * i)));
  }
  if (count == 0) return makeError("scale '" + n.inputs[1] + "' is empty");
  if (!s->dims.empty()) {
    QAT_ONNX_LET(axis, attrInt(n, "axis", 1));
    if (axis < -rank || axis >= rank) return makeError("axis " + std::to_string(axis) + " is outside rank " + std::to_string(rank));
    q.quantizedDimension = static_cast<int>(axis < 0 ? axis + rank : axis);
  }
  return q;
}

Expected<QuantParams> Reader::activationParams(const DecodedNode& n, int rank, bool& uint8) const {
  const DecodedTensor* z = n.inputs.size() == 3 ? initializer(n.inputs[2]) : nullptr;
  uint8 = z && z->dataType == kUint8;
  QAT_ONNX_LET(q, quantParams(n, uint8 ? kUint8 : kInt8, rank));
  if (q.scale.size() != 1)
    return makeError(std::string(n.opType == "QuantizeLinear" ? "quantizes" : "dequantizes") +
                     " per axis; the subset's activations are quantized per tensor");
  if (uint8) q.zeroPoint[0] -= 128;
  return q;
}

Expected<std::vector<int64_t>> Reader::constantDims(const std::string& name) const {
  if (const DecodedTensor* t = initializer(name)) return t->dims;
  if (const DecodedNode* dq = constantDequantize(name)) return initializer(dq->inputs[0])->dims;
  return makeError("'" + name + "' must be a constant (an initializer, or DequantizeLinear of one)");
}

// ONNX dim j of the constant holds graph dim perm[j]: the graph shape and data are the ONNX
// ones permuted back (dst dim d = ONNX dim position-of-d-in-perm).
Expected<GraphTensor> Reader::constant(const std::string& name, const Perm& perm, const std::string& tensorName) const {
  const DecodedNode* dq = constantDequantize(name);
  const DecodedTensor* data = dq ? initializer(dq->inputs[0]) : initializer(name);
  if (!data) return makeError("'" + name + "' must be a constant (an initializer, or DequantizeLinear of one)");
  if (data->dims.size() != perm.size())
    return makeError("constant '" + name + "' has rank " + std::to_string(data->dims.size()) + ", expected " +
                     std::to_string(perm.size()));
  GraphTensor t;
  t.name = tensorName;
  t.shape.assign(perm.size(), 0);
  std::vector<int> onnxShape(data->dims.begin(), data->dims.end());
  Perm back(perm.size());
  for (size_t j = 0; j < perm.size(); ++j) {
    t.shape[static_cast<size_t>(perm[j])] = onnxShape[j];
    back[static_cast<size_t>(perm[j])] = static_cast<int>(j);
  }
  if (!dq) {
    if (data->dataType != kFloat)
      return makeError("constant '" + name + "' is " + onnx::dataTypeName(data->dataType) +
                       " without DequantizeLinear; the subset has FLOAT or dequantized INT8 / INT32 constants");
    t.type = ElementType::Float32;
    t.data = onnx_export::permuteData(data->raw, 4, onnxShape, back);
    return t;
  }
  if (data->dataType != kInt8 && data->dataType != kInt32)
    return makeError("constant '" + name + "' dequantizes " + onnx::dataTypeName(data->dataType) +
                     " data; INT8 weights or INT32 biases expected");
  auto q = quantParams(*dq, data->dataType, static_cast<int>(perm.size()));
  if (!q.ok()) return makeError("constant '" + name + "': " + q.error().message);
  t.type = data->dataType == kInt8 ? ElementType::Int8 : ElementType::Int32;
  t.quant = std::move(q.value());
  if (t.quant.scale.size() > 1) {
    const int axis = t.quant.quantizedDimension;
    if (static_cast<size_t>(onnxShape[static_cast<size_t>(axis)]) != t.quant.scale.size())
      return makeError("constant '" + name + "' has " + std::to_string(t.quant.scale.size()) +
                       " scales along axis " + std::to_string(axis) + " of size " +
                       std::to_string(onnxShape[static_cast<size_t>(axis)]));
    t.quant.quantizedDimension = perm[static_cast<size_t>(axis)];
  } else {
    t.quant.quantizedDimension = 0;
  }
  t.data = onnx_export::permuteData(data->raw, t.type == ElementType::Int8 ? 1 : 4, onnxShape, back);
  return t;
}

}  // namespace qat::deploy::onnx_import
