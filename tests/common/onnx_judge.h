#pragma once
// OnnxJudge: writes an IntegerGraph as ONNX QDQ, has Debian's python3-onnx check it
// (full_check) and onnxruntime run it at both optimization levels, and compares the outputs
// with a reference (the integer interpreter for int8 graphs, the float model for float
// ones). Also the op-by-op comparison: every op of a graph alone, fed the interpreter's own
// int8 inputs, so that what differs is that op's arithmetic and not propagation.
//
// onnxruntime levels: "disabled" executes the nodes as written (float ops between exact
// QuantizeLinear / DequantizeLinear, which rounds half to even where TFLite rounds half away
// from zero); "all" fuses QDQ groups into its integer kernels (QLinearConv ...), as deployed.
#include <QTemporaryDir>

#include <map>

#include "common/onnx_test_util.h"
#include "engine/deploy/interpreter.h"
#include "engine/deploy/onnx_file.h"

namespace qat::test {

using deploy::ElementType;
using deploy::GraphOp;
using deploy::IntegerGraph;
using deploy::OpKind;
using deploy::RoundingMode;

// The interpreter's rounding mode that computes what onnxruntime's fused QLinear* kernels
// (MLAS, x86-64) compute: int32 accumulators times a float multiplier, rounded half to even
// (optimization level "all", as deployed).
constexpr RoundingMode kOnnxMode = RoundingMode::FloatMultiplierHalfEven;
// ... and what it computes with graph optimizations disabled: float ops between
// DequantizeLinear and QuantizeLinear (bit for bit up to the float kernels' summation order).
constexpr RoundingMode kOnnxUnoptimizedMode = RoundingMode::FloatDequantizedHalfEven;

// The size of one step of output i: its DEQUANTIZE input's scale, 1 for raw int8, 0 float.
inline float outputStep(const IntegerGraph& g, size_t i) {
  const int t = g.outputs[i];
  if (g.tensors[size_t(t)].type == ElementType::Int8) return 1.0f;
  for (const auto& op : g.ops)
    if (op.outputs[0] == t && op.kind == OpKind::Dequantize) return g.tensors[size_t(op.inputs[0])].quant.scale[0];
  return 0.0f;
}

// Every op of `g` with an int8 output, isolated: all side by side in one graph, each
// reading graph inputs (one per activation tensor of `g` that an op reads: int8 I/O where
// it is int8) and writing a graph output of its own. Fed the values the whole graph
// computed, each output shows that op's arithmetic alone, not propagation.
struct IsolatedOps {
  IntegerGraph graph;
  std::vector<int> inputOf;   // tensor of `g` behind each graph input
  std::vector<size_t> opOf;   // op of `g` behind each graph output
};
inline IsolatedOps isolateOps(const IntegerGraph& g) {
  IsolatedOps r;
  r.graph.name = g.name + " (ops isolated)";
  std::map<int, int> copies;
  auto take = [&](int t) {
    if (t < 0) return t;
    auto it = copies.find(t);
    if (it != copies.end()) return it->second;
    deploy::GraphTensor x = g.tensors[size_t(t)];
    if (!x.isConstant()) x.name += "_in";
    const int n = r.graph.addTensor(std::move(x));
    copies[t] = n;
    if (!g.tensors[size_t(t)].isConstant()) {
      r.graph.inputs.push_back(n);
      r.inputOf.push_back(t);
    }
    return n;
  };
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const int out = g.ops[i].outputs[0];
    if (g.tensors[size_t(out)].type != ElementType::Int8) continue;  // DEQUANTIZE
    GraphOp op = g.ops[i];
    for (int& t : op.inputs) t = take(t);
    op.outputs = {r.graph.addTensor(g.tensors[size_t(out)])};
    r.graph.outputs.push_back(op.outputs[0]);
    r.opOf.push_back(i);
    r.graph.ops.push_back(std::move(op));
  }
  return r;
}

inline std::vector<Tensor> interpret(const IntegerGraph& g, const std::vector<Tensor>& inputs,
                                     RoundingMode mode = RoundingMode::TfliteReference) {
  auto interp = deploy::Interpreter::create(g, mode);
  if (!interp.ok()) qFatal("interpreter: %s", interp.error().message.c_str());
  auto y = interp->run(inputs);
  if (!y.ok()) qFatal("interpreter: %s", y.error().message.c_str());
  return std::move(y.value());
}

class OnnxJudge {
 public:
  static constexpr const char* kOpt[2] = {"disabled", "all"};

  OnnxJudge() {
    checkerMissing_ = onnxCheckerMissing();
    ortModules_ = onnxruntimeNodeModules();
    if (QStandardPaths::findExecutable(QStringLiteral("node")).isEmpty()) ortModules_.clear();
  }
  // Why the checker cannot run (empty: it can).
  const QString& checkerMissing() const { return checkerMissing_; }
  bool canRun() const { return !ortModules_.isEmpty(); }
  static QString runtimeMissing() {
    return QStringLiteral("node or npm onnxruntime-node not found (ONNXRUNTIME_NODE_INSTALL=skip npm install "
                          "--prefix /opt/qat-test-node onnxruntime-node, or set QAT_ONNXRUNTIME_NODE_MODULES)");
  }

  struct Run {
    Agreement agree[2];               // int8 outputs, per level
    std::vector<Tensor> outputs[2];   // per level, empty when onnxruntime is not available
    QJsonObject summary;              // from python3-onnx, empty when it is not available
    QStringList fusedOps;             // onnxruntime's optimized graph ("all"), "domain:op"
    bool ran = false;
  };

  // Writes, checks, runs and compares; int8 outputs are counted in output steps, float
  // outputs must be within 1e-4 relative (else the test aborts with the numbers).
  Run exportAndCompare(const IntegerGraph& g, const std::vector<Tensor>& inputs, const std::vector<Tensor>& reference) const {
    return exportAndCompare(g, inputs, reference, reference);
  }
  // The same with one reference per optimization level (kOpt order: disabled, all).
  Run exportAndCompare(const IntegerGraph& g, const std::vector<Tensor>& inputs,
                       const std::vector<Tensor>& referenceDisabled, const std::vector<Tensor>& referenceAll) const {
    Run run;
    QTemporaryDir dir;
    // QAT_KEEP_ONNX=1 keeps the exported and the optimized model for a look with onnx tools.
    if (qEnvironmentVariableIsSet("QAT_KEEP_ONNX")) {
      dir.setAutoRemove(false);
      qInfo("%s: ONNX files kept in %s", g.name.c_str(), qPrintable(dir.path()));
    }
    const QString path = dir.filePath(QStringLiteral("model.onnx"));
    Status st = deploy::writeOnnxQdq(g, path.toStdString());
    if (!st.ok()) qFatal("%s", st.error().message.c_str());
    if (checkerMissing_.isEmpty()) {
      run.summary = checkOnnx(path);
      if (run.summary.contains(QStringLiteral("error")))
        qFatal("onnx checker (%s): %s", g.name.c_str(), qPrintable(run.summary[QStringLiteral("error")].toString()));
    }
    if (!canRun()) return run;
    for (int k = 0; k < 2; ++k) {
      const QString optimized = k == 1 ? dir.filePath(QStringLiteral("optimized.onnx")) : QString();
      auto outs = runOnnxruntime(ortModules_, path, QString::fromLatin1(kOpt[k]), inputs, g.outputs.size(), dir.path(),
                                 optimized);
      if (!optimized.isEmpty() && checkerMissing_.isEmpty()) run.fusedOps = onnxOpTypes(optimized);
      if (!outs.ok()) qFatal("%s (%s): %s", g.name.c_str(), kOpt[k], outs.error().message.c_str());
      for (size_t i = 0; i < g.outputs.size(); ++i) {
        const Tensor& a = outs.value()[i];
        const Tensor& b = (k == 0 ? referenceDisabled : referenceAll)[i];
        if (a.shape() != b.shape())
          qFatal("%s output %zu: shape %s vs %s", g.name.c_str(), i, a.shape().str().c_str(), b.shape().str().c_str());
        const float step = outputStep(g, i);
        if (step > 0)
          run.agree[k].add(a, b, step);
        else if (relativeMaxDiff(a, b) > 1e-4)
          qFatal("%s float output %zu (%s): relative difference %g", g.name.c_str(), i, kOpt[k], relativeMaxDiff(a, b));
      }
      run.outputs[k] = std::move(outs.value());
    }
    run.ran = true;
    return run;
  }

  struct OpResult {
    size_t op = 0;
    std::string label;  // "CONV_2D (conv1)"
    Agreement agree[2];
  };
  // Every op with an int8 output, isolated (isolateOps), on the int8 values the whole
  // graph computed (kOnnxMode) for the first n samples of x (the graph's single input);
  // each optimization level is compared with the interpreter running the isolated ops in
  // its mode (kOnnxUnoptimizedMode, kOnnxMode).
  std::vector<OpResult> perOp(const IntegerGraph& g, const Tensor& x, int n) const {
    Tensor xs(x.shape().withoutBatch().withBatch(n));
    std::copy(x.data(), x.data() + xs.size(), xs.data());
    auto full = deploy::Interpreter::create(g, kOnnxMode);
    if (!full.ok() || !full->run({xs}).ok()) qFatal("interpreter failed on %s", g.name.c_str());
    auto int8Tensor = [&](int t) {
      Tensor v(Shape(g.tensors[size_t(t)].shape).withoutBatch().withBatch(n));
      const auto& q = full->int8Values(t);
      for (size_t k = 0; k < v.size(); ++k) v[k] = q[k];
      return v;
    };
    const IsolatedOps iso = isolateOps(g);
    std::vector<Tensor> ins;
    for (int t : iso.inputOf) ins.push_back(g.tensors[size_t(t)].type == ElementType::Int8 ? int8Tensor(t) : xs);
    const std::vector<Tensor> want[2] = {interpret(iso.graph, ins, kOnnxUnoptimizedMode),
                                         interpret(iso.graph, ins, kOnnxMode)};
    const Run run = exportAndCompare(iso.graph, ins, want[0], want[1]);
    std::vector<OpResult> results;
    for (size_t j = 0; j < iso.opOf.size() && run.ran; ++j) {
      const GraphOp& op = g.ops[iso.opOf[j]];
      OpResult o;
      o.op = iso.opOf[j];
      o.label = std::string(deploy::opKindName(op.kind)) + " (" + op.sourceLayer + ")";
      for (int k = 0; k < 2; ++k) o.agree[k].add(run.outputs[k][j], want[k][j], 1.0f);
      results.push_back(std::move(o));
    }
    return results;
  }

 private:
  QString checkerMissing_, ortModules_;
};

}  // namespace qat::test
