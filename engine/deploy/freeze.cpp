// freezeQuantized / freezeFloat: the walk over the model (see freeze_internal.h), graph
// inputs and outputs, and the materialization of pending ops.
#include <algorithm>
#include <cstring>

#include "engine/deploy/freeze_internal.h"
#include "engine/quant/fake_quant_layer.h"

namespace qat::deploy {
namespace detail {

bool soleConsumer(const Model& m, const std::vector<std::vector<int>>& consumers, int i) {
  if (consumers[static_cast<size_t>(i)].size() != 1) return false;
  return std::find(m.outputs().begin(), m.outputs().end(), i) == m.outputs().end();
}

namespace {
bool sameParams(const QuantParams& a, const QuantParams& b) { return a.scale == b.scale && a.zeroPoint == b.zeroPoint; }

// Layers that only move or select values: exact on int8 data whatever their
// quantize flag says (dropped or run as integer ops on the input's scale).
bool movesValuesOnly(OpType t) {
  return t == OpType::Dropout || t == OpType::Flatten || t == OpType::Reshape || t == OpType::MaxPooling2D ||
         t == OpType::ZeroPadding2D;
}
}  // namespace

Freezer::Freezer(const Model& model, const quant::QuantizedModel* quantized, FreezeOptions options)
    : m_(model), q_(quantized), opt_(options) {}

Error Freezer::refuse(int node, const std::string& what) const {
  const Layer& l = *m_.node(node).layer;
  std::string s = "Layer '";
  s.append(l.name()).append("' (").append(opTypeName(l.op())).append("): ").append(what);
  return makeError(std::move(s));
}

void Freezer::note(const std::string& s) {
  if (std::find(g_.notes.begin(), g_.notes.end(), s) == g_.notes.end()) g_.notes.push_back(s);
}

int Freezer::addActivation(const std::string& name, const std::vector<int>& shape, ElementType type, QuantParams q) {
  GraphTensor t;
  t.name = name;
  t.shape = shape;
  t.type = type;
  t.quant = std::move(q);
  return g_.addTensor(std::move(t));
}

int Freezer::addConstInt32(const std::string& name, const std::vector<int>& shape, const std::vector<int32_t>& v) {
  GraphTensor t;
  t.name = name;
  t.shape = shape;
  t.type = ElementType::Int32;
  t.data.resize(v.size() * 4);
  if (!v.empty()) std::memcpy(t.data.data(), v.data(), t.data.size());
  return g_.addTensor(std::move(t));
}

int Freezer::addOp(GraphOp op, const std::string& outName, const std::vector<int>& outShape, ElementType type,
                   QuantParams q) {
  const int out = addActivation(outName, outShape, type, std::move(q));
  op.outputs = {out};
  g_.ops.push_back(std::move(op));
  return out;
}

bool Freezer::isGraphInput(int t) const {
  return std::find(g_.inputs.begin(), g_.inputs.end(), t) != g_.inputs.end();
}

Expected<QuantParams> Freezer::gridParams(const quant::Quantizer& q, int node) const {
  const std::vector<quant::Grid> grids = q.grids();
  if (grids.empty())
    return refuse(node, "its quantizer (" + quant::describe(q.spec()) +
                            ") has no integer grid, so the int8 graph has no scale for this tensor; use a grid "
                            "quantizer (MovingAverage, AllValues, LastValue, Fixed, LearnedRange, LSQ)");
  if (grids.size() != 1)
    return refuse(node, "its output quantizer is per-axis; TFLite activations are per-tensor: set per_axis false");
  const quant::Grid& gr = grids[0];
  if (gr.qmax > 255)
    return refuse(node, "its output is quantized to " + std::to_string(q.spec().bits) +
                            " bits; the int8 export needs activations of 8 bits or fewer");
  QuantParams p;
  p.scale = {gr.scale};
  p.zeroPoint = {gr.zeroPoint - 128};  // the 0..qmax grid stored as int8: q − 128
  return p;
}

int Freezer::requantize(int t, const QuantParams& params, const std::string& name) {
  GraphOp op;
  op.kind = OpKind::Quantize;
  op.inputs = {t};
  op.sourceLayer = name;
  return addOp(op, name + "/requantized", tensor(t).shape, ElementType::Int8, params);
}

Expected<int> Freezer::emitPending(Pending& p, const std::optional<QuantParams>& params, int node) {
  if (p.emitted >= 0) return p.emitted;
  std::optional<QuantParams> out = params;
  if (quantMode()) {
    const bool inherits = !p.ownScale || p.op.kind == OpKind::Relu || p.op.kind == OpKind::Relu6;
    if (!out && p.op.kind == OpKind::Concatenation) {
      // No shared quantizer after the concatenation: its inputs must agree already.
      for (const Value& v : p.parts)
        if (v.isPending())
          return refuse(node, "the concatenation '" + p.name + "' has no output quantizer and input layer '" +
                                  v.pending->name + "' none either; give the concatenation an output quantizer");
      out = tensor(p.parts[0].resolved()).quant;
    } else if (!out && inherits) {
      out = tensor(p.op.inputs[0]).quant;
    } else if (!out) {
      return refuse(node, "reads the output of layer '" + p.name +
                              "', which has no quantizer (no FakeQuant after it), so the int8 graph has no scale "
                              "for it. Give '" + p.name + "' an output quantizer in the layer inspector (config: "
                              "\"output\": {...}) or quantize the layer that follows it.");
    }
  }
  const QuantParams q = out.value_or(QuantParams{});
  int t = -1;
  if (p.weighted) {
    auto r = emitWeighted(p, q);
    if (!r.ok()) return r.error();
    t = r.value();
  } else if (p.op.kind == OpKind::Concatenation) {
    GraphOp op = p.op;
    op.inputs.clear();
    for (const Value& v : p.parts) {
      auto r = quantMode() ? materializeTo(v, q, node) : materialize(v, std::nullopt, node);
      if (!r.ok()) return r.error();
      op.inputs.push_back(r.value());
    }
    t = addOp(op, p.name, p.shape, actType(), q);
  } else if (!p.ownScale) {
    // PAD: the output keeps the input's scale; a different target is a requantization.
    const QuantParams in = tensor(p.op.inputs[0]).quant;
    GraphOp op = p.op;
    op.inputs.push_back(addConstInt32(p.name + "/paddings", {4, 2},
                                      {0, 0, p.pad2d[0], p.pad2d[1], p.pad2d[2], p.pad2d[3], 0, 0}));
    t = addOp(op, p.name, p.shape, actType(), in);
    if (quantMode() && !sameParams(in, q)) t = requantize(t, q, p.name);
  } else {
    t = addOp(p.op, p.name, p.shape, actType(), q);
  }
  p.emitted = t;
  return t;
}

Expected<int> Freezer::materialize(const Value& v, const std::optional<QuantParams>& params, int node) {
  if (!v.isPending()) return v.resolved();
  return emitPending(*v.pending, params, node);
}

Expected<int> Freezer::materializeTo(const Value& v, const QuantParams& params, int node) {
  if (v.isPending() && v.pending->ownScale) return emitPending(*v.pending, params, node);
  auto t = materialize(v, std::nullopt, node);
  if (!t.ok()) return t;
  if (tensor(t.value()).type == ElementType::Float32) {
    // A float graph input quantized directly (QUANTIZE float → int8).
    GraphOp op;
    op.kind = OpKind::Quantize;
    op.inputs = {t.value()};
    op.sourceLayer = tensor(t.value()).name;
    return addOp(op, tensor(t.value()).name + "/quantized", tensor(t.value()).shape, ElementType::Int8, params);
  }
  if (sameParams(tensor(t.value()).quant, params)) return t;
  return requantize(t.value(), params, tensor(t.value()).name);
}

Expected<int> Freezer::tensorInput(const Value& v, int node) {
  auto t = materialize(v, std::nullopt, node);
  if (!t.ok()) return t;
  if (quantMode() && tensor(t.value()).type != ElementType::Int8)
    return refuse(node, "its input '" + tensor(t.value()).name +
                            "' is not quantized (a model input without an input quantizer, or a float layer); "
                            "set the config's \"input\" quantizer or quantize the layer before it");
  return t;
}

Status Freezer::addGraphInput(int node) {
  std::vector<int> shape = m_.node(node).shape.dims();
  shape.insert(shape.begin(), 1);
  const int t = addActivation(m_.node(node).layer->name(), shape, ElementType::Float32, {});
  g_.inputs.push_back(t);
  values_[static_cast<size_t>(node)] = Value{t, nullptr, shape};
  return {};
}

Status Freezer::visit(int node) {
  const Layer& l = *m_.node(node).layer;
  if (l.op() == OpType::Input) return addGraphInput(node);
  if (quantMode() && !isQuantizationOp(l.op()) && !movesValuesOnly(l.op())) {
    auto it = q_->config.layers.find(l.name());
    if (it == q_->config.layers.end() || !it->second.quantize)
      return refuse(node, "runs in float in this quantized model (quantize: false); the int8 export needs every "
                          "computing layer quantized. Tick it in the layer inspector (or set \"quantize\": true in "
                          "the config), or export a float .tflite instead.");
  }
  std::vector<Value> inputs;
  for (int p : m_.node(node).inputs) {
    Value& v = values_[static_cast<size_t>(p)];
    // A pending op read by several nodes (or a model output) cannot be changed by one of
    // them: emit it now.
    if (v.isPending() && !fusable(p)) {
      auto t = materialize(v, std::nullopt, node);
      if (!t.ok()) return t.error();
    }
    inputs.push_back(v);
  }
  auto v = visitLayer(node, inputs);
  if (!v.ok()) return v.error();
  values_[static_cast<size_t>(node)] = std::move(v.value());
  return {};
}

Status Freezer::finishOutputs() {
  for (int o : m_.outputs()) {
    const Value& v = values_[static_cast<size_t>(o)];
    if (v.isPending() && quantMode() && v.pending->ownScale && v.pending->op.kind != OpKind::Relu &&
        v.pending->op.kind != OpKind::Relu6)
      return refuse(o, "is a model output without an output quantizer, so the int8 graph has no scale for it; "
                       "give it an output quantizer in the layer inspector (config: \"output\": {...})");
    auto t = materialize(v, std::nullopt, o);
    if (!t.ok()) return t.error();
    int out = t.value();
    if (quantMode() && tensor(out).type == ElementType::Int8 && !opt_.int8Io) {
      GraphOp op;
      op.kind = OpKind::Dequantize;
      op.inputs = {out};
      op.sourceLayer = m_.node(o).layer->name();
      out = addOp(op, tensor(out).name + "/dequantized", tensor(out).shape, ElementType::Float32, {});
    }
    if (quantMode() && opt_.int8Io && tensor(out).type != ElementType::Int8)
      return refuse(o, "int8 I/O was asked for, but this output is float (it has no quantizer)");
    g_.outputs.push_back(out);
  }
  if (quantMode() && opt_.int8Io)
    for (int t : g_.inputs)
      if (tensor(t).type != ElementType::Int8)
        return makeError("Model input '" + tensor(t).name +
                         "' has no input quantizer, so it cannot be an int8 input; set the config's \"input\" "
                         "quantizer or export with float I/O");
  return {};
}

Expected<IntegerGraph> Freezer::run() {
  for (int i = 0; i < m_.size(); ++i)
    if (m_.node(i).shape.rank() == 0 && m_.node(i).layer->op() != OpType::Input)
      return makeError("Cannot freeze: the model is not built");
  g_.name = m_.name;
  consumers_ = m_.consumers();
  values_.assign(static_cast<size_t>(m_.size()), Value{});
  if (quantMode() && opt_.rangeSamples) QAT_TRY(measurePreActivationRanges());
  for (int i = 0; i < m_.size(); ++i) QAT_TRY(visit(i));
  QAT_TRY(finishOutputs());
  QAT_TRY(validate(g_));
  return std::move(g_);
}

}  // namespace detail

Expected<IntegerGraph> freezeQuantized(const quant::QuantizedModel& model, const FreezeOptions& options) {
  return detail::Freezer(model.model, &model, options).run();
}

Expected<IntegerGraph> freezeFloat(const Model& model) { return detail::Freezer(model, nullptr, {}).run(); }

}  // namespace qat::deploy
