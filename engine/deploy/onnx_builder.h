#pragma once
// Internal to the ONNX exporter (onnx_writer.cpp: values, layouts, Q/DQ, graph I/O;
// onnx_ops.cpp: one converter per OpKind). See onnx_writer.cpp for the scheme.
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "engine/deploy/integer_graph.h"
#include "engine/deploy/onnx_proto.h"

namespace qat::deploy::onnx_export {

using onnx::Attribute;
// Layout of a value: ONNX dim i holds graph (NHWC) dim perm[i].
using Perm = std::vector<int>;
inline const Perm kNchw = {0, 3, 1, 2};
Perm identity(int rank);
// Position of graph dim `d` in a value with layout `perm`.
int onnxAxis(const Perm& perm, int d);
// Constant data rearranged so that dst dim j is src dim perm[j] (numpy transpose).
std::vector<uint8_t> permuteData(const std::vector<uint8_t>& src, size_t elem, const std::vector<int>& shape,
                                 const Perm& perm);
// TFLite SAME padding: out = ceil(in / stride), the total padding split with the extra
// pixel after (bottom / right).
void samePads(int in, int filter, int stride, int dilation, int64_t& before, int64_t& after);
std::vector<int32_t> int32Values(const GraphTensor& t);

template <class T>
std::span<const uint8_t> rawBytes(const std::vector<T>& v) {
  return {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(T)};
}

struct Value {
  std::string name;  // the float ONNX value
  Perm perm;
};

class OnnxBuilder {
 public:
  explicit OnnxBuilder(const IntegerGraph& g) : g_(g), values_(g.tensors.size()) {}
  Expected<std::vector<uint8_t>> build();

 private:
  const GraphTensor& tensor(int t) const { return g_.tensors[static_cast<size_t>(t)]; }
  int rankOf(int t) const { return static_cast<int>(tensor(t).shape.size()); }
  std::string tensorBase(int t) const;
  std::string unique(const std::string& base);

  // A node with one output named after `outBase`; returns the output name.
  std::string node(const std::string& op, const std::vector<std::string>& inputs, const std::string& outBase,
                   const std::vector<Attribute>& attrs = {});
  void nodeNamed(const std::string& op, const std::vector<std::string>& inputs, const std::string& out,
                 const std::vector<Attribute>& attrs = {});
  std::string init(const std::string& base, onnx::DataType type, const std::vector<int64_t>& dims,
                   std::span<const uint8_t> raw);
  std::string floatScalar(const std::string& base, float v);
  std::string int64Vector(const std::string& base, const std::vector<int64_t>& v);

  struct QParams {
    std::string scale, zeroPoint;
    std::vector<Attribute> attrs;  // `axis` when per-axis
  };
  QParams qparams(int t, onnx::DataType zpType, int axis);
  Expected<std::string> constant(int t, const std::vector<int64_t>& dims, const std::vector<uint8_t>& data, int axis);
  // A weight or bias constant rearranged by `perm` (conv OHWI → OIHW ...).
  Expected<std::string> constantPermuted(int t, const Perm& perm);

  Expected<Value> value(int t);
  Expected<std::string> valueAs(int t, const Perm& want);
  Expected<std::string> valueNchw(int t);
  Status setResult(int t, const std::string& floatName, const Perm& perm);
  std::string activation(const std::string& x, FusedActivation act, const std::string& base);

  Status addGraphInput(int t, const std::string& name);
  Status addGraphOutput(int t, const std::string& name);

  // onnx_ops.cpp
  Status convert(const GraphOp& op);
  Status convertConv(const GraphOp& op);
  Status convertFullyConnected(const GraphOp& op);
  Status convertPool(const GraphOp& op);
  Status convertMean(const GraphOp& op);
  Status convertReshape(const GraphOp& op);
  Status convertSoftmax(const GraphOp& op);
  Status convertElementwise(const GraphOp& op);
  Status convertPad(const GraphOp& op);
  Status convertUnary(const GraphOp& op);

  const IntegerGraph& g_;
  std::vector<ProtoWriter> nodes_, inits_, inputs_, outputs_;
  std::set<std::string> used_;
  std::vector<std::optional<Value>> values_;  // per graph tensor, once produced
  std::map<std::pair<int, Perm>, std::string> transposed_;
};

}  // namespace qat::deploy::onnx_export
