// The integer interpreter: validates and prepares a graph once, then runs batches.
//
// Threading: the batch is cut into chunks of kChunk samples; OpenMP threads take whole
// chunks and run every op of the graph on them with their own buffers (Workspace), so
// the kernels themselves are single-threaded and the result does not depend on the
// thread count or the chunking (each sample is computed independently).
#include "engine/deploy/interpreter.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/core/threading.h"
#include "engine/deploy/interpreter_ops.h"

namespace qat::deploy {

struct Interpreter::Impl {
  IntegerGraph graph;
  std::vector<detail::PreparedOp> ops;
  std::vector<size_t> perSample;  // elements per sample of each activation tensor
  std::vector<bool> isFloat;      // float32 activation (else int8)
  std::vector<bool> active;       // non-constant tensors the run touches
  bool keepTensors = true;
  bool reference = false;
  RoundingMode mode = RoundingMode::TfliteReference;
  std::vector<std::vector<int8_t>> kept;  // per tensor, all samples of the last run
  std::vector<detail::Workspace> workspaces;
  std::vector<int8_t> empty;
};

namespace {
constexpr int kChunk = 32;

size_t samplesOf(const GraphTensor& t) {
  size_t n = 1;
  for (size_t d = 1; d < t.shape.size(); ++d) n *= static_cast<size_t>(t.shape[d]);
  return n;
}

// The graph as onnxruntime runs our ONNX export at optimization level "all" (the
// FloatMultiplierHalfEven mode). Its DoubleQDQPairsRemover rewrites Q1 → DQ1 → Q2 → DQ2,
// which is how the export writes an int8 → int8 QUANTIZE (requantize) of a tensor nothing
// else reads, into one pair whose scale and zero point span the intersection of both
// ranges on the uint8 grid:
//   lo = max((0 − z1)·s1, (0 − z2)·s2), hi = min((255 − z1)·s1, (255 − z2)·s2),
//   s = (hi − lo) / 255, z = round(0 − lo / s)
// (z1, z2 the uint8 zero points). The producer then writes that grid directly and the
// QUANTIZE becomes a copy. Modelled for the one producer freeze puts before a requantize,
// AVERAGE_POOL_2D (TFLite's equal-scale rule); a requantized graph output is left alone.
IntegerGraph asOnnxruntimeRuns(const IntegerGraph& g) {
  IntegerGraph r = g;
  std::vector<int> readers(g.tensors.size(), 0), producer(g.tensors.size(), -1);
  for (size_t i = 0; i < g.ops.size(); ++i) {
    for (int t : g.ops[i].inputs) ++readers[static_cast<size_t>(t)];
    producer[static_cast<size_t>(g.ops[i].outputs[0])] = static_cast<int>(i);
  }
  auto isOutput = [&](int t) { return std::find(g.outputs.begin(), g.outputs.end(), t) != g.outputs.end(); };
  for (const GraphOp& op : g.ops) {
    if (op.kind != OpKind::Quantize) continue;
    const int t1 = op.inputs[0], t2 = op.outputs[0];
    GraphTensor &a = r.tensors[static_cast<size_t>(t1)], &b = r.tensors[static_cast<size_t>(t2)];
    const int p = producer[static_cast<size_t>(t1)];
    if (a.type != ElementType::Int8 || b.type != ElementType::Int8 || p < 0 ||
        g.ops[static_cast<size_t>(p)].kind != OpKind::AveragePool2D || readers[static_cast<size_t>(t1)] != 1 ||
        isOutput(t1) || isOutput(t2))
      continue;
    const float s1 = a.quant.scale[0], s2 = b.quant.scale[0];
    constexpr int32_t shift = kernels::kOnnxGridShift;
    const int32_t z1 = a.quant.zeroPoint[0] + shift, z2 = b.quant.zeroPoint[0] + shift;
    if (z1 == z2 && std::fabs(s1 - s2) < 1e-20f) continue;
    const float lo = std::max(static_cast<float>(0 - z1) * s1, static_cast<float>(0 - z2) * s2);
    const float hi = std::min(static_cast<float>(255 - z1) * s1, static_cast<float>(255 - z2) * s2);
    const float s = (hi - lo) / 255.0f;
    const auto z = static_cast<uint8_t>(std::round(0.0f - lo / s));
    for (GraphTensor* t : {&a, &b}) {
      t->quant.scale = {s};
      t->quant.zeroPoint = {int32_t(z) - shift};
    }
  }
  return r;
}
}  // namespace

const char* roundingModeName(RoundingMode mode) {
  switch (mode) {
    case RoundingMode::TfliteReference: return "tflite-reference";
    case RoundingMode::TfliteSingleRounding: return "tflite-single-rounding";
    case RoundingMode::FloatDequantizedHalfAway: return "float-dequantized-half-away";
    case RoundingMode::FloatMultiplierHalfEven: return "float-multiplier-half-even";
    case RoundingMode::FloatDequantizedHalfEven: return "float-dequantized-half-even";
  }
  return "?";
}

Expected<Interpreter> Interpreter::create(const IntegerGraph& graph, RoundingMode mode) {
  QAT_TRY(validate(graph));
  auto impl = std::make_shared<Impl>();
  impl->graph = graph;
  impl->mode = mode;
  const size_t nt = graph.tensors.size();
  impl->perSample.resize(nt);
  impl->isFloat.resize(nt);
  impl->active.assign(nt, false);
  for (size_t t = 0; t < nt; ++t) {
    const GraphTensor& x = graph.tensors[t];
    impl->perSample[t] = samplesOf(x);
    impl->isFloat[t] = x.type == ElementType::Float32;
    if (!x.isConstant() && x.type != ElementType::Float32 && x.type != ElementType::Int8)
      return makeError("Interpreter: tensor '" + x.name + "' has type " + std::string(elementTypeName(x.type)) +
                       "; activations must be float32 or int8");
    if (!x.isConstant() && !x.shape.empty() && x.shape[0] != 1)
      return makeError("Interpreter: tensor '" + x.name + "' must have batch dimension 1 in the graph (got " +
                       std::to_string(x.shape[0]) + ")");
  }
  for (int t : graph.inputs) impl->active[static_cast<size_t>(t)] = true;
  const IntegerGraph prepared = mode == RoundingMode::FloatMultiplierHalfEven ? asOnnxruntimeRuns(graph) : graph;
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    auto op = detail::prepareOp(prepared, i, mode);
    if (!op.ok()) return op.error();
    for (int t : op->in) impl->active[static_cast<size_t>(t)] = true;
    impl->active[static_cast<size_t>(op->out)] = true;
    impl->ops.push_back(std::move(op.value()));
  }
  Interpreter in;
  in.impl_ = std::move(impl);
  return in;
}

const IntegerGraph& Interpreter::graph() const { return impl_->graph; }
RoundingMode Interpreter::roundingMode() const { return impl_->mode; }
void Interpreter::setKeepTensors(bool keep) { impl_->keepTensors = keep; }
void Interpreter::setReferenceKernels(bool reference) { impl_->reference = reference; }

const std::vector<int8_t>& Interpreter::int8Values(int tensor) const {
  if (tensor < 0 || static_cast<size_t>(tensor) >= impl_->kept.size()) return impl_->empty;
  return impl_->kept[static_cast<size_t>(tensor)];
}

Expected<std::vector<Tensor>> Interpreter::run(const std::vector<Tensor>& inputs) {
  Impl& m = *impl_;
  const IntegerGraph& g = m.graph;
  if (inputs.size() != g.inputs.size())
    return makeError("Interpreter: the graph takes " + std::to_string(g.inputs.size()) + " inputs, got " +
                     std::to_string(inputs.size()));
  int N = -1;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const int t = g.inputs[k];
    const Tensor& x = inputs[k];
    const int n = x.rank() > 0 ? x.dim(0) : 0;
    if (N >= 0 && n != N) return makeError("Interpreter: inputs have different batch sizes");
    N = n;
    if (x.size() != size_t(n) * m.perSample[static_cast<size_t>(t)])
      return makeError("Interpreter: input '" + g.tensors[static_cast<size_t>(t)].name + "' needs " +
                       std::to_string(m.perSample[static_cast<size_t>(t)]) + " values per sample, got shape " +
                       x.shape().str());
  }
  std::vector<Tensor> outputs;
  for (int t : g.outputs) {
    std::vector<int> dims = g.tensors[static_cast<size_t>(t)].shape;
    if (dims.empty()) dims.push_back(1);
    dims[0] = N;
    outputs.emplace_back(Shape(dims));
  }
  const size_t nt = g.tensors.size();
  m.kept.assign(nt, {});
  if (m.keepTensors)
    for (size_t t = 0; t < nt; ++t)
      if (m.active[t] && !m.isFloat[t]) m.kept[t].resize(size_t(N) * m.perSample[t]);
  if (N == 0) return outputs;

  const int chunks = (N + kChunk - 1) / kChunk;
  const int threads = std::max(1, std::min(threadCount(), chunks));
  if (m.workspaces.size() < size_t(threads)) m.workspaces.resize(size_t(threads));

#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int c = 0; c < chunks; ++c) {
    detail::Workspace& ws = m.workspaces[static_cast<size_t>(omp_get_thread_num())];
    const int start = c * kChunk, n = std::min(kChunk, N - start);
    ws.i8.resize(nt);
    ws.f.resize(nt);
    for (size_t t = 0; t < nt; ++t) {
      if (!m.active[t]) continue;
      const size_t count = size_t(n) * m.perSample[t];
      if (m.isFloat[t]) ws.f[t].resize(count);
      else ws.i8[t].resize(count);
    }
    // Graph inputs: float values, or int8 values carried as floats (int8 I/O).
    for (size_t k = 0; k < inputs.size(); ++k) {
      const size_t t = static_cast<size_t>(g.inputs[k]);
      const size_t count = size_t(n) * m.perSample[t];
      const float* src = inputs[k].data() + size_t(start) * m.perSample[t];
      if (m.isFloat[t]) {
        std::copy_n(src, count, ws.f[t].data());
      } else {
        for (size_t i = 0; i < count; ++i)
          ws.i8[t][i] = static_cast<int8_t>(std::min(127.0f, std::max(-128.0f, std::nearbyint(src[i]))));
      }
    }
    for (const detail::PreparedOp& op : m.ops) detail::executeOp(op, m.perSample, ws, n, m.reference);
    for (size_t k = 0; k < g.outputs.size(); ++k) {
      const size_t t = static_cast<size_t>(g.outputs[k]);
      const size_t count = size_t(n) * m.perSample[t];
      float* dst = outputs[k].data() + size_t(start) * m.perSample[t];
      if (m.isFloat[t]) std::copy_n(ws.f[t].data(), count, dst);
      else
        for (size_t i = 0; i < count; ++i) dst[i] = static_cast<float>(ws.i8[t][i]);
    }
    if (m.keepTensors)
      for (size_t t = 0; t < nt; ++t)
        if (!m.kept[t].empty())
          std::memcpy(m.kept[t].data() + size_t(start) * m.perSample[t], ws.i8[t].data(), size_t(n) * m.perSample[t]);
  }
  return outputs;
}

}  // namespace qat::deploy
