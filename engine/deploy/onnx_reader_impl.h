#pragma once
// Internal to the ONNX QDQ reader (onnx_reader.cpp: values, Q/DQ, graph I/O;
// onnx_reader_constants.cpp: constants, quantization parameters, attributes;
// onnx_reader_ops.cpp: one converter per ONNX op type). See onnx_reader.cpp for the scheme.
#include <map>
#include <string>
#include <vector>

#include "engine/deploy/integer_graph.h"
#include "engine/deploy/onnx_decode.h"

// Binds `var` to the value of an Expected expression or returns its error.
#define QAT_ONNX_LET(var, expr)         \
  auto var##_result = (expr);           \
  if (!var##_result.ok()) return var##_result.error(); \
  auto var = std::move(var##_result.value())

namespace qat::deploy::onnx_import {

using onnx::DecodedNode;
using onnx::DecodedTensor;
// Layout of a value as in the writer: ONNX dim i holds graph (NHWC) dim perm[i].
using Perm = std::vector<int>;
inline const Perm kNchw = {0, 3, 1, 2};

// What an ONNX value name stands for.
struct Val {
  enum Kind {
    Tensor,       // a graph tensor: a float tensor, or an int8 tensor's dequantized view
    Int8Raw,      // an int8 tensor's raw values (QuantizeLinear output, int8 graph input)
    Pending,      // the float result of an op not yet given its output tensor
    Scaled,       // Mul(source, beta): only Softmax may read it
    HardSigmoid,  // HardSigmoid(source; 1/6, 1/2): only Mul(source, ·) may read it (HARD_SWISH)
  };
  Kind kind = Tensor;
  int tensor = -1;  // Tensor / Int8Raw
  bool uint8 = false;  // Int8Raw: the values are on the uint8 grid (q + 128, zero point + 128)
  int pending = -1;  // Pending: index into Reader::pending_
  Perm perm;
  std::string source;  // Scaled / HardSigmoid: the value they were computed from
  float param = 1.0f;  // Scaled: beta
};

// An op whose output tensor is made once its consumer shows whether the result is
// quantized (QuantizeLinear follows: an int8 op) or not (a float op).
struct PendingOp {
  GraphOp op;                       // kind and options; tensors filled in when made
  std::vector<int> acts;            // activation inputs, as read (float or int8 tensors)
  std::vector<GraphTensor> consts;  // constant inputs after the activations
  std::vector<int> shape;           // output shape in graph order
  Perm perm;                        // output layout
  std::string label;                // "node 'Conv_3' (Conv)"
  bool fusable = false;             // a fused activation may still be added
  std::vector<int64_t> target;      // Reshape: the shape input as written (−1 first)
  bool reshapeValid = true;         // Reshape: a valid RESHAPE of its input on its own
  int rowsPerSample = 1;            // FULLY_CONNECTED over several rows per sample
  int tensor = -1;                  // once made
};

// Attributes of the node being read: the default when absent, an error when present with
// another type; onlyAttributes refuses any attribute not listed.
Expected<int64_t> attrInt(const DecodedNode& n, const std::string& name, int64_t def);
Expected<float> attrFloat(const DecodedNode& n, const std::string& name, float def);
Expected<std::vector<int64_t>> attrInts(const DecodedNode& n, const std::string& name, std::vector<int64_t> def);
Expected<std::string> attrString(const DecodedNode& n, const std::string& name, const std::string& def);
Status onlyAttributes(const DecodedNode& n, std::initializer_list<const char*> allowed);
// Conv / pooling: strides and dilations (two values in [1, 4096], default 1), pads (four
// values in [0, 4096], default 0), auto_pad NOTSET.
Status windowAttrs(const DecodedNode& n, std::vector<int64_t>& strides, std::vector<int64_t>& dilations,
                   std::vector<int64_t>& pads);
GraphTensor int32Constant(const std::string& name, std::vector<int> shape, const std::vector<int32_t>& values);
Perm identityPerm(size_t rank);
std::string shapeText(const std::vector<int>& shape);

class Reader {
 public:
  Reader(const onnx::DecodedGraph& g, std::string what) : g_(g), what_(std::move(what)) {}
  Expected<IntegerGraph> run();

 private:
  // ---- onnx_reader.cpp, onnx_reader_constants.cpp ----
  Status setup();
  Status addGraphInputs();
  Status addGraphOutputs();
  Status convertNode(const DecodedNode& n);

  const GraphTensor& tensor(int t) const { return out_.tensors[static_cast<size_t>(t)]; }
  int consumers(const std::string& name) const;
  bool isGraphOutput(const std::string& name) const;
  const DecodedTensor* initializer(const std::string& name) const;
  const DecodedNode* constantDequantize(const std::string& name) const;

  // Constants: an initializer, or DequantizeLinear of an int8 / int32 initializer. `perm` is
  // the writer's layout of the constant (ONNX dim j holds graph dim perm[j]).
  Expected<std::vector<int64_t>> constantDims(const std::string& name) const;
  Expected<GraphTensor> constant(const std::string& name, const Perm& perm, const std::string& tensorName) const;
  Expected<float> floatScalar(const std::string& name) const;
  Expected<std::vector<int64_t>> int64Values(const std::string& name) const;
  Expected<QuantParams> quantParams(const DecodedNode& n, int zeroPointType, int rank) const;
  // A per-tensor activation QuantizeLinear / DequantizeLinear: INT8 or UINT8 zero point
  // (`uint8` tells which), returned as the int8 tensor's parameters (uint8 zero point − 128).
  Expected<QuantParams> activationParams(const DecodedNode& n, int rank, bool& uint8) const;

  // Values.
  Expected<Val> lookup(const std::string& name) const;
  // A value as a graph tensor (a pending op is made a float op, its output named
  // `nameIfMade` or else the value's name). Int8Raw values only when allowRaw.
  Expected<Val> tensorValue(const std::string& name, const std::string& nameIfMade = "", bool allowRaw = false);
  Expected<int> make(int pending, const QuantParams* quant, const std::string& name);
  int dequantized(int t, const std::string& name);
  Status addPending(PendingOp p, const std::string& output);
  bool fuse(const std::string& in, FusedActivation act, const std::string& out);

  Status convertQuantizeLinear(const DecodedNode& n);
  Status convertDequantizeLinear(const DecodedNode& n);
  Status convertLayout(const DecodedNode& n);  // Transpose, Identity

  // ---- onnx_reader_ops.cpp ----
  Status convertConv(const DecodedNode& n);
  Status convertGemm(const DecodedNode& n);
  Status convertPool(const DecodedNode& n);
  Status convertReduceMean(const DecodedNode& n);
  Status convertReshape(const DecodedNode& n);
  Status convertSoftmax(const DecodedNode& n);
  Status convertMul(const DecodedNode& n);
  Status convertElementwise(const DecodedNode& n);  // Add / Sub / Mul / Concat
  Status convertPad(const DecodedNode& n);
  Status convertActivation(const DecodedNode& n);   // Relu / Clip / Sigmoid / Tanh / LeakyRelu
  Status convertHardSigmoid(const DecodedNode& n);
  Status unaryOp(const DecodedNode& n, const std::string& input, OpKind kind, float alpha = 0.0f);

  const onnx::DecodedGraph& g_;
  std::string what_;
  IntegerGraph out_;
  const DecodedNode* node_ = nullptr;  // the node being converted, for messages
  std::map<std::string, const DecodedTensor*> inits_;
  std::map<std::string, const DecodedNode*> producers_;
  std::map<std::string, std::vector<const DecodedNode*>> consumers_;
  std::map<std::string, Val> values_;
  std::vector<PendingOp> pending_;
  std::map<int, int> dequantized_;  // int8 tensor → its DEQUANTIZE output
};

}  // namespace qat::deploy::onnx_import
