#pragma once
// Helpers for the ONNX export tests: the two independent tools that judge an exported file
// (Debian's python3-onnx checker, onnxruntime through tests/onnxruntime_runner.js), a
// protobuf wire-format reader written apart from the engine's encoder, and output
// agreement counted in int8 steps.
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/data/npy.h"

namespace qat::test {

// ---- protobuf wire-format reader: every field of one message level --------------------
struct WireField {
  uint32_t number = 0;
  uint32_t type = 0;         // 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32
  uint64_t value = 0;        // varint / fixed payloads
  std::vector<uint8_t> bytes;  // length-delimited payload
  std::string str() const { return std::string(bytes.begin(), bytes.end()); }
};

// Empty result plus ok=false on malformed input.
inline std::vector<WireField> readWire(const std::vector<uint8_t>& b, bool& ok) {
  std::vector<WireField> out;
  size_t p = 0;
  ok = true;
  auto varint = [&](uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= b.size()) return false;
      const uint8_t byte = b[p++];
      v |= uint64_t(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return true;
    }
    return false;
  };
  while (p < b.size()) {
    uint64_t key = 0;
    if (!varint(key)) return ok = false, std::vector<WireField>{};
    WireField f;
    f.number = uint32_t(key >> 3);
    f.type = uint32_t(key & 7);
    if (f.type == 0) {
      if (!varint(f.value)) return ok = false, std::vector<WireField>{};
    } else if (f.type == 2) {
      uint64_t len = 0;
      if (!varint(len) || len > b.size() - p) return ok = false, std::vector<WireField>{};
      f.bytes.assign(b.begin() + long(p), b.begin() + long(p + len));
      p += len;
    } else if (f.type == 1 || f.type == 5) {
      const size_t n = f.type == 1 ? 8 : 4;
      if (n > b.size() - p) return ok = false, std::vector<WireField>{};
      for (size_t i = 0; i < n; ++i) f.value |= uint64_t(b[p + i]) << (8 * i);
      p += n;
    } else {
      return ok = false, std::vector<WireField>{};
    }
    out.push_back(std::move(f));
  }
  return out;
}

// ---- external tools --------------------------------------------------------------------
struct ProcessResult {
  bool started = false;
  int exitCode = -1;
  QString out, err;
};
inline ProcessResult runProcess(const QString& program, const QStringList& args, int timeoutMs = 120000) {
  QProcess p;
  p.start(program, args);
  ProcessResult r;
  r.started = p.waitForStarted(10000);
  if (!r.started) return r;
  if (!p.waitForFinished(timeoutMs)) {
    p.kill();
    p.waitForFinished(5000);
    r.err = QStringLiteral("timed out");
    return r;
  }
  r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput());
  r.err = QString::fromUtf8(p.readAllStandardError());
  return r;
}

inline const char* kPython = "/usr/bin/python3";

// Empty when Debian's python3-onnx can be used, else why not.
inline QString onnxCheckerMissing() {
  if (!QFileInfo::exists(QString::fromLatin1(kPython))) return QStringLiteral("/usr/bin/python3 is missing");
  auto r = runProcess(QString::fromLatin1(kPython), {QStringLiteral("-c"), QStringLiteral("import onnx.checker")});
  if (r.exitCode != 0) return QStringLiteral("python3-onnx is not installed (apt-get install python3-onnx)");
  return {};
}

// Runs onnx.checker.check_model(full_check=True) (strict shape inference included) and
// returns a summary of the model as JSON, or an error object {"error": message}.
inline QJsonObject checkOnnx(const QString& path) {
  static const char* script = R"PY(
import json, sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
g = m.graph
def dims(v):
    return [d.dim_param if d.dim_param else d.dim_value for d in v.type.tensor_type.shape.dim]
def attrs(n):
    return {a.name: (list(a.ints) if a.type == 7 else a.i if a.type == 2 else a.f) for a in n.attribute}
print(json.dumps({
    "ir_version": m.ir_version,
    "opset": {o.domain: o.version for o in m.opset_import},
    "producer": m.producer_name,
    "ops": [n.op_type for n in g.node],
    "nodes": [{"op": n.op_type, "inputs": list(n.input), "attrs": attrs(n)} for n in g.node],
    "inputs": [{"name": v.name, "type": v.type.tensor_type.elem_type, "dims": dims(v)} for v in g.input],
    "outputs": [{"name": v.name, "type": v.type.tensor_type.elem_type, "dims": dims(v)} for v in g.output],
    "initializers": {t.name: {"type": t.data_type, "dims": list(t.dims)} for t in g.initializer},
}))
)PY";
  auto r = runProcess(QString::fromLatin1(kPython), {QStringLiteral("-c"), QString::fromLatin1(script), path});
  if (r.exitCode != 0) return QJsonObject{{QStringLiteral("error"), r.err.isEmpty() ? QStringLiteral("python failed") : r.err}};
  return QJsonDocument::fromJson(r.out.toUtf8()).object();
}

// "domain:op_type" (domain omitted for ONNX's own) of every node of an ONNX file, without
// checking it (onnxruntime's optimized graphs hold com.microsoft ops the checker rejects).
inline QStringList onnxOpTypes(const QString& path) {
  auto r = runProcess(QString::fromLatin1(kPython),
                      {QStringLiteral("-c"),
                       QStringLiteral("import onnx, sys\nfor n in onnx.load(sys.argv[1]).graph.node: "
                                      "print((n.domain + ':' if n.domain else '') + n.op_type)"),
                       path});
  return r.exitCode == 0 ? r.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts) : QStringList{};
}

// The node_modules directory holding onnxruntime-node: $QAT_ONNXRUNTIME_NODE_MODULES, then
// /opt/qat-test-node/node_modules and the global npm folders. Empty when not found.
inline QString onnxruntimeNodeModules() {
  QStringList candidates;
  const QString env = qEnvironmentVariable("QAT_ONNXRUNTIME_NODE_MODULES");
  if (!env.isEmpty()) candidates << env;
  candidates << QStringLiteral("/opt/qat-test-node/node_modules") << QStringLiteral("/usr/local/lib/node_modules")
             << QStringLiteral("/usr/lib/node_modules");
  for (const auto& c : candidates)
    if (QFileInfo::exists(c + QStringLiteral("/onnxruntime-node/package.json"))) return c;
  return {};
}

// Runs `model` in onnxruntime with graph optimizations `opt` ("all" or "disabled").
// With `optimizedModel` set, onnxruntime saves its rewritten graph there.
inline Expected<std::vector<Tensor>> runOnnxruntime(const QString& nodeModules, const QString& model, const QString& opt,
                                                    const std::vector<Tensor>& inputs, size_t numOutputs,
                                                    const QString& workDir, const QString& optimizedModel = {}) {
  QStringList args{QStringLiteral(QAT_SOURCE_DIR "/tests/onnxruntime_runner.js"), model, opt};
  for (size_t i = 0; i < inputs.size(); ++i) {
    const QString p = workDir + QStringLiteral("/in%1.npy").arg(i);
    QAT_TRY(writeNpy(p.toStdString(), inputs[i]));
    args << p;
  }
  args << QStringLiteral("--");
  for (size_t i = 0; i < numOutputs; ++i) args << workDir + QStringLiteral("/out%1.npy").arg(i);
  QProcess p;
  auto env = QProcessEnvironment::systemEnvironment();
  env.insert(QStringLiteral("NODE_PATH"), nodeModules);
  if (!optimizedModel.isEmpty()) env.insert(QStringLiteral("QAT_ORT_OPTIMIZED_MODEL"), optimizedModel);
  p.setProcessEnvironment(env);
  p.start(QStringLiteral("node"), args);
  if (!p.waitForStarted(10000)) return makeError("node could not be started");
  if (!p.waitForFinished(280000)) {
    p.kill();
    p.waitForFinished(5000);
    return makeError("onnxruntime did not finish within 280 s");
  }
  if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
    return makeError("onnxruntime failed: " + QString::fromUtf8(p.readAllStandardError()).toStdString());
  std::vector<Tensor> outs;
  for (size_t i = 0; i < numOutputs; ++i) {
    auto t = readNpy((workDir + QStringLiteral("/out%1.npy").arg(i)).toStdString());
    if (!t.ok()) return t.error();
    outs.push_back(std::move(t.value()));
  }
  return outs;
}

// ---- agreement --------------------------------------------------------------------------
// Values compared in units of `step` (an int8 output's scale; 1 for raw int8 values).
struct Agreement {
  size_t values = 0, equal = 0;
  long maxSteps = 0;
  double equalFraction() const { return values ? double(equal) / double(values) : 1.0; }
  void add(const Tensor& a, const Tensor& b, float step) {
    for (size_t i = 0; i < a.size(); ++i) {
      const long s = std::lround(std::fabs(double(a[i]) - double(b[i])) / double(step));
      ++values;
      equal += s == 0 ? 1 : 0;
      maxSteps = std::max(maxSteps, s);
    }
  }
};

// Rows (N, k) whose arg-max agrees.
inline size_t top1Agreeing(const Tensor& a, const Tensor& b) {
  const size_t n = size_t(a.dim(0)), k = a.size() / n;
  size_t same = 0;
  for (size_t r = 0; r < n; ++r) {
    size_t ia = 0, ib = 0;
    for (size_t j = 1; j < k; ++j) {
      if (a[r * k + j] > a[r * k + ia]) ia = j;
      if (b[r * k + j] > b[r * k + ib]) ib = j;
    }
    same += ia == ib ? 1 : 0;
  }
  return same;
}

// max |a − b| / (1 + max |b|)
inline double relativeMaxDiff(const Tensor& a, const Tensor& b) {
  double d = 0, m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    d = std::max(d, std::fabs(double(a[i]) - double(b[i])));
    m = std::max(m, std::fabs(double(b[i])));
  }
  return d / (1.0 + m);
}

}  // namespace qat::test
