#pragma once
// Comparing an int8 graph in Arm NN (tests/armnn_runner) with the studio's integer
// interpreter: value agreement in int8 steps, rounding near-ties classified against a float
// reference of the op (float_reference.h), op-by-op runs (each operator alone, fed with the
// interpreter's values of its inputs), and test inputs. Used by test_tflite_armnn.
#include <QFile>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/armnn_run.h"
#include "common/float_reference.h"
#include "engine/core/rng.h"
#include "engine/data/npy.h"
#include "engine/deploy/interpreter.h"
#include "engine/deploy/tflite_file.h"

namespace test {

using qat::Expected;
using qat::Rng;
using qat::Shape;
using qat::Tensor;
using qat::deploy::ElementType;
using qat::deploy::GraphOp;
using qat::deploy::GraphTensor;
using qat::deploy::IntegerGraph;
using qat::deploy::Interpreter;
using qat::deploy::OpKind;
using qat::deploy::RoundingMode;

// The interpreter's rounding mode that computes what Arm NN 20.08's CpuRef backend computes
// (dequantize to float, float op, armnn::Quantize: round half away from zero).
constexpr RoundingMode kArmnnMode = RoundingMode::FloatDequantizedHalfAway;

struct Agreement {
  size_t values = 0, equal = 0;
  size_t nearTies = 0;  // differing values both runtimes put within 0.75 of the exact result
  double maxSteps = 0;
  int distinct = 0;  // distinct values in the interpreter's output (a check has teeth)
  double equalFraction() const { return values ? double(equal) / double(values) : 0.0; }
  // Issue 5's criterion, or every difference a rounding near-tie (see test::exactPositions).
  bool agrees() const { return maxSteps <= 1.0 && (equalFraction() >= 0.995 || nearTies == values - equal); }
};

// Values of a and b in units of `step` (1 for raw int8 outputs, the scale for dequantized
// ones); `exact`: the exact output positions, to classify differences.
inline Agreement compare(const Tensor& a, const Tensor& b, float step, const std::vector<double>& exact = {}) {
  Agreement r;
  std::set<float> seen;
  r.values = a.size();
  for (size_t i = 0; i < a.size(); ++i) {
    const double steps = std::fabs(double(a[i]) - double(b[i])) / step;
    r.maxSteps = std::max(r.maxSteps, std::round(steps * 1000) / 1000);
    r.equal += steps < 0.5;
    if (steps >= 0.5 && !exact.empty() && std::fabs(a[i] - exact[i]) <= 0.75 && std::fabs(b[i] - exact[i]) <= 0.75)
      ++r.nearTies;
    if (seen.size() < 1000) seen.insert(a[i]);
  }
  r.distinct = static_cast<int>(seen.size());
  return r;
}

// Runs the .tflite at `path` through Arm NN on the inputs (one per model input); the
// error text is the runner's.
inline Expected<Tensor> armnn(const QString& path, const std::vector<Tensor>& xs, const QTemporaryDir& dir) {
  QStringList args{path};
  for (size_t k = 0; k < xs.size(); ++k) {
    args << dir.filePath(QStringLiteral("x%1.npy").arg(k));
    if (auto s = qat::writeNpy(args.back().toStdString(), xs[k]); !s) return s.error();
  }
  const QString out = dir.filePath(QStringLiteral("y.npy"));
  QFile::remove(out);
  const test::ArmnnResult r = runArmnn(args << out);
  if (r.exitCode != 0) return qat::makeError("armnn_runner failed (" + r.err.toStdString() + ")");
  return qat::readNpy(out.toStdString());
}

inline Expected<Tensor> interpret(const IntegerGraph& g, const std::vector<Tensor>& xs,
                                  RoundingMode mode = RoundingMode::TfliteReference) {
  auto in = Interpreter::create(g, mode);
  if (!in) return in.error();
  in->setKeepTensors(false);
  auto y = in->run(xs);
  if (!y) return y.error();
  return std::move((*y)[0]);
}

// The graph of op k alone: its activation inputs become graph inputs, its output the graph
// output, constants come along; tensor indices renumbered.
inline IntegerGraph extractOp(const IntegerGraph& g, size_t k) {
  IntegerGraph r;
  r.name = g.name + "_op" + std::to_string(k);
  std::map<int, int> index;
  auto take = [&](int t) {
    if (t < 0) return t;
    auto [it, inserted] = index.emplace(t, int(r.tensors.size()));
    if (inserted) r.tensors.push_back(g.tensors[size_t(t)]);
    return it->second;
  };
  GraphOp op = g.ops[k];
  for (int& t : op.inputs) {
    const bool activation = t >= 0 && !g.tensors[size_t(t)].isConstant();
    const bool seen = index.count(t) > 0;
    t = take(t);
    if (activation && !seen) r.inputs.push_back(t);
  }
  op.outputs = {take(op.outputs[0])};
  r.outputs = op.outputs;
  r.ops.push_back(op);
  return r;
}

// Interpreter values of tensor t after a run, as an (N, ...) tensor of raw int8 values.
inline Tensor int8Tensor(const Interpreter& in, const IntegerGraph& g, int t, int n) {
  std::vector<int> dims{n};
  dims.insert(dims.end(), g.tensors[size_t(t)].shape.begin() + 1, g.tensors[size_t(t)].shape.end());
  Tensor r{Shape(dims)};
  const std::vector<int8_t>& v = in.int8Values(t);
  QAT_ASSERT(v.size() == r.size());
  for (size_t i = 0; i < r.size(); ++i) r[i] = v[i];
  return r;
}

// Smooth images (a few random sinusoids per channel) in [0, 1], (N, H, W, C).
inline Tensor smoothImages(const std::vector<int>& hwc, int n, uint64_t seed) {
  Tensor x(Shape{n, hwc[0], hwc[1], hwc[2]});
  Rng rng(seed);
  float* p = x.data();
  for (int s = 0; s < n; ++s) {
    std::vector<float> f(size_t(hwc[2]) * 6);
    for (float& v : f) v = rng.uniform(0.0f, 1.0f);
    for (int y = 0; y < hwc[0]; ++y)
      for (int xx = 0; xx < hwc[1]; ++xx)
        for (int c = 0; c < hwc[2]; ++c) {
          const float* k = &f[size_t(c) * 6];
          const float v = 0.5f + 0.25f * std::sin(6.0f * k[0] * float(y) / float(hwc[0]) + 6.3f * k[1]) +
                          0.25f * std::sin(6.0f * k[2] * float(xx) / float(hwc[1]) + 6.3f * k[3]) * k[4];
          *p++ = std::min(1.0f, std::max(0.0f, v + 0.1f * (rng.uniform() - 0.5f)));
        }
  }
  return x;
}

// Input for a graph with int8 or float input: images of the input's shape (rank 4) or
// uniform values, as raw int8 values for int8 inputs (quantized with the input's params).
inline Tensor inputFor(const IntegerGraph& g, int n, uint64_t seed) {
  const GraphTensor& t = g.tensors[size_t(g.inputs[0])];
  std::vector<int> dims(t.shape.begin() + 1, t.shape.end());
  Tensor x;
  if (dims.size() == 3) {
    x = smoothImages(dims, n, seed);
  } else {
    std::vector<int> full{n};
    full.insert(full.end(), dims.begin(), dims.end());
    x = Tensor(Shape(full));
    Rng rng(seed);
    for (size_t i = 0; i < x.size(); ++i) x[i] = rng.uniform();
  }
  if (t.type == ElementType::Int8) {  // [0, 1] spread over the whole int8 range, as raw values
    for (size_t i = 0; i < x.size(); ++i) x[i] = std::round(x[i] * 255.0f) - 128.0f;
  }
  return x;
}

// The int8 step of the graph's output: 1 for an int8 output, else the scale of the tensor
// the final DEQUANTIZE reads.
inline float outputStep(const IntegerGraph& g) {
  const int out = g.outputs[0];
  if (g.tensors[size_t(out)].type == ElementType::Int8) return 1.0f;
  for (const GraphOp& op : g.ops)
    if (op.outputs[0] == out && op.kind == OpKind::Dequantize) return g.tensors[size_t(op.inputs[0])].quant.scale[0];
  return 0.0f;
}

inline QString describe(const char* what, const Agreement& a) {
  QString s = QStringLiteral("%1: %2 values, %3% equal, max %4 int8 steps apart, %5 distinct values")
                  .arg(QLatin1String(what))
                  .arg(a.values)
                  .arg(100.0 * a.equalFraction(), 0, 'f', 3)
                  .arg(a.maxSteps)
                  .arg(a.distinct);
  if (a.equal < a.values && a.nearTies > 0)
    s += QStringLiteral(" (%1 of the %2 differences are rounding near-ties)").arg(a.nearTies).arg(a.values - a.equal);
  return s;
}


// Op by op: each operator of g alone (extractOp), fed with the interpreter's values of its
// inputs, in Arm NN against the interpreter's values of its output. Compared in int8 steps
// (a DEQUANTIZE's float output in steps of its input's scale).
struct OpByOp {
  Agreement worst;
  std::string worstOp, failures, error;
};
inline OpByOp opByOp(const IntegerGraph& g, const std::vector<Tensor>& inputs, RoundingMode mode = kArmnnMode) {
  OpByOp r;
  auto in = Interpreter::create(g, mode);
  if (!in) return {{}, {}, {}, in.error().message};
  auto out = in->run(inputs);
  if (!out) return {{}, {}, {}, out.error().message};
  const int n = inputs[0].dim(0);
  auto valuesOf = [&](int t) -> Tensor {
    for (size_t k = 0; k < g.inputs.size(); ++k)
      if (g.inputs[k] == t) return inputs[k];
    for (size_t k = 0; k < g.outputs.size(); ++k)
      if (g.outputs[k] == t) return (*out)[k];
    return int8Tensor(*in, g, t, n);
  };
  QTemporaryDir dir;
  for (size_t k = 0; k < g.ops.size(); ++k) {
    const GraphOp& op = g.ops[k];
    std::vector<Tensor> xs;
    std::set<int> seen;
    for (int t : op.inputs)
      if (t >= 0 && !g.tensors[size_t(t)].isConstant() && seen.insert(t).second) xs.push_back(valuesOf(t));
    const QString path = dir.filePath(QStringLiteral("op.tflite"));
    const IntegerGraph one = extractOp(g, k);
    const std::string what = "op " + std::to_string(k) + " " + std::string(qat::deploy::opKindName(op.kind));
    if (auto s = qat::deploy::writeTflite(one, path.toStdString()); !s) return {{}, {}, {}, what + ": " + s.error().message};
    auto arm = armnn(path, xs, dir);
    if (!arm) return {{}, {}, {}, what + ": " + arm.error().message};
    const Agreement a = compare(valuesOf(op.outputs[0]), *arm, outputStep(one), exactPositions(one, xs));
    if (!a.agrees()) r.failures += "\n  " + describe(what.c_str(), a).toStdString();
    if (r.worstOp.empty() || a.equalFraction() < r.worst.equalFraction() ||
        (a.equalFraction() == r.worst.equalFraction() && a.maxSteps > r.worst.maxSteps)) {
      r.worst = a;
      r.worstOp = what;
    }
  }
  return r;
}

// Samples whose top-1 class is the same in a and b (N, k); a shared maximum counts as the same.
inline double top1Agreement(const Tensor& a, const Tensor& b, int k) {
  const int n = a.dim(0);
  int agree = 0;
  for (int r = 0; r < n; ++r) {
    int ia = 0, ib = 0;
    for (int j = 1; j < k; ++j) {
      if (a[size_t(r) * k + j] > a[size_t(r) * k + ia]) ia = j;
      if (b[size_t(r) * k + j] > b[size_t(r) * k + ib]) ib = j;
    }
    agree += ia == ib || a[size_t(r) * k + ib] == a[size_t(r) * k + ia] || b[size_t(r) * k + ia] == b[size_t(r) * k + ib];
  }
  return double(agree) / n;
}

}  // namespace test

// Agreement by issue 5's criterion or near-ties only, and outputs that are not degenerate.
#define VERIFY_AGREES(a, minDistinct)                                                            \
  do {                                                                                           \
    QVERIFY2((a).agrees(), qPrintable(describe("disagree", (a))));                               \
    QVERIFY2((a).distinct >= (minDistinct), qPrintable(describe("degenerate outputs", (a))));    \
  } while (0)
