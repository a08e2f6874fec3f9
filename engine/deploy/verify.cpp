#include "engine/deploy/verify.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/deploy/interpreter.h"
#include "engine/train/trainer.h"

namespace qat::deploy {
namespace {

// The quantization step of the graph's first output: the scale of the int8 tensor that
// DEQUANTIZE turns into the float output, or of the output itself with int8 I/O.
double outputStep(const IntegerGraph& g) {
  const int out = g.outputs.at(0);
  const GraphTensor& t = g.tensors[static_cast<size_t>(out)];
  if (t.quant.quantized()) return t.quant.scale[0];
  for (const GraphOp& op : g.ops)
    if (op.kind == OpKind::Dequantize && !op.outputs.empty() && op.outputs[0] == out) {
      const GraphTensor& in = g.tensors[static_cast<size_t>(op.inputs.at(0))];
      if (in.quant.quantized()) return in.quant.scale[0];
    }
  return 0;  // a float graph
}

bool int8Io(const IntegerGraph& g) {
  return g.tensors[static_cast<size_t>(g.inputs.at(0))].type == ElementType::Int8;
}

size_t argmaxRow(const Tensor& t, size_t row, size_t width) {
  const float* p = t.data() + row * width;
  return static_cast<size_t>(std::max_element(p, p + width) - p);
}

}  // namespace

Expected<Tensor> runGraph(const IntegerGraph& graph, const Tensor& x) {
  if (graph.inputs.size() != 1 || graph.outputs.size() != 1)
    return makeError("The exported graph must have one input and one output");
  auto interp = Interpreter::create(graph);
  if (!interp.ok()) return interp.error();
  interp->setKeepTensors(false);
  Tensor input = x;
  if (int8Io(graph)) {  // feed the int8 values the graph expects
    const GraphTensor& in = graph.tensors[static_cast<size_t>(graph.inputs[0])];
    const float s = in.quant.scale.at(0);
    const float zp = static_cast<float>(in.quant.zeroPoint.at(0));
    for (size_t i = 0; i < input.size(); ++i) input[i] = std::clamp(std::round(input[i] / s) + zp, -128.0f, 127.0f);
  }
  auto outs = interp->run({input});
  if (!outs.ok()) return outs.error();
  Tensor y = std::move(outs.value()[0]);
  if (int8Io(graph)) {  // back to real values
    const GraphTensor& o = graph.tensors[static_cast<size_t>(graph.outputs[0])];
    for (size_t i = 0; i < y.size(); ++i)
      y[i] = o.quant.scale.at(0) * (y[i] - static_cast<float>(o.quant.zeroPoint.at(0)));
  }
  return y;
}

Expected<double> graphAccuracy(const IntegerGraph& graph, const Dataset& data) {
  if (!data.hasLabels() || data.size() == 0) return makeError("Integer accuracy needs labelled data");
  auto y = runGraph(graph, data.x);
  if (!y.ok()) return y.error();
  const size_t n = data.size(), width = y->size() / n;
  size_t hits = 0;
  for (size_t i = 0; i < n; ++i) hits += static_cast<int>(argmaxRow(*y, i, width)) == data.labels[i];
  return static_cast<double>(hits) / static_cast<double>(n);
}

std::string VerificationReport::summary() const {
  char buf[512];
  if (quantized)
    std::snprintf(buf, sizeof buf,
                  "%zu samples: top-1 agreement %.2f%%, max difference %.0f int8 step(s), %.2f%% of outputs "
                  "within one step.",
                  samples, 100 * top1Agreement, maxStepDifference, 100 * withinOneStep);
  else
    std::snprintf(buf, sizeof buf, "%zu samples: top-1 agreement %.2f%%, max difference %.2g of the output range.",
                  samples, 100 * top1Agreement, maxStepDifference);
  std::string s = buf;
  if (referenceAccuracy >= 0) {
    std::snprintf(buf, sizeof buf, " Accuracy: studio %s %.4f, exported file %.4f.", quantized ? "fake-quant" : "float",
                  referenceAccuracy, exportAccuracy);
    s += buf;
  }
  return s;
}

Expected<VerificationReport> verifyGraph(Model& reference, const IntegerGraph& exported, const Dataset& data,
                                         size_t maxSamples) {
  if (exported.inputs.size() != 1 || exported.outputs.size() != 1)
    return makeError("Verification needs a graph with one input and one output");
  if (data.size() == 0) return makeError("Verification needs data: the validation set is empty");
  const size_t n = maxSamples ? std::min(maxSamples, data.size()) : data.size();
  const Dataset d = subset(data, n);

  VerificationReport r;
  r.samples = n;
  const double step = outputStep(exported);
  r.quantized = step > 0;
  const Tensor a = predict(reference, d.x, 256, /*fakeQuant=*/true);
  auto run = runGraph(exported, d.x);
  if (!run.ok()) return run.error();
  const Tensor& b = run.value();
  if (a.size() != b.size())
    return makeError("The exported graph's output has " + std::to_string(b.size() / n) +
                     " values per sample, the model's " + std::to_string(a.size() / n));

  const size_t width = a.size() / n;
  float lo = a[0], hi = a[0];
  for (size_t i = 0; i < a.size(); ++i) {
    lo = std::min(lo, a[i]);
    hi = std::max(hi, a[i]);
  }
  const double unit = r.quantized ? step : std::max(1e-12, static_cast<double>(hi - lo));
  size_t agree = 0, within = 0, hitsA = 0, hitsB = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t pa = argmaxRow(a, i, width), pb = argmaxRow(b, i, width);
    agree += pa == pb;
    if (d.hasLabels()) {
      hitsA += static_cast<int>(pa) == d.labels[i];
      hitsB += static_cast<int>(pb) == d.labels[i];
    }
  }
  for (size_t i = 0; i < a.size(); ++i) {
    const double diff = std::abs(static_cast<double>(a[i]) - b[i]) / unit;
    r.maxStepDifference = std::max(r.maxStepDifference, r.quantized ? std::round(diff) : diff);
    within += diff <= 1.0 + 1e-3;
  }
  r.top1Agreement = static_cast<double>(agree) / n;
  r.withinOneStep = static_cast<double>(within) / a.size();
  if (d.hasLabels()) {
    r.referenceAccuracy = static_cast<double>(hitsA) / n;
    r.exportAccuracy = static_cast<double>(hitsB) / n;
  }
  return r;
}

}  // namespace qat::deploy
