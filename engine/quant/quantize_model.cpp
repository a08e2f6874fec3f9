#include "engine/quant/quantize_model.h"

#include <map>
#include <set>
#include <utility>

#include "engine/layers/batch_normalization.h"
#include "engine/layers/conv2d.h"
#include "engine/layers/dense.h"
#include "engine/layers/depthwise_conv2d.h"
#include "engine/layers/separable_conv2d.h"
#include "engine/quant/fake_quant_layer.h"
#include "engine/quant/folded_batch_norm.h"
#include "engine/quant/quantize_wrapper.h"

namespace qat::quant {
namespace {

using QuantizerMap = std::map<std::string, std::unique_ptr<Quantizer>>;
// (float layer, Keras weight name) for the first params() of a quantized node, in order.
using FloatNames = std::vector<std::pair<std::string, std::string>>;

FloatNames paramNames(const Layer& l) {
  FloatNames names;
  for (const Param* p : l.params()) names.emplace_back(l.name(), p->name);
  return names;
}

bool isLinearFoldable(const Layer& l) {
  switch (l.op()) {
    case OpType::Conv2D: return static_cast<const Conv2D&>(l).options().activation == ActivationFn::Linear;
    case OpType::DepthwiseConv2D:
      return static_cast<const DepthwiseConv2D&>(l).options().activation == ActivationFn::Linear;
    case OpType::Dense: return static_cast<const Dense&>(l).options().activation == ActivationFn::Linear;
    default: return false;
  }
}

class Transform {
 public:
  Transform(const Model& f, const QuantizeConfig& cfg) : f_(f), cfg_(cfg) {
    for (int i = 0; i < f.size(); ++i) used_.insert(f.node(i).layer->name());
    out_.config = cfg;
    map_.assign(static_cast<size_t>(f.size()), -1);
    out_.nodeOf.assign(static_cast<size_t>(f.size()), -1);
  }

  Expected<QuantizedModel> run() {
    QAT_TRY(checkConfigNames());
    findFoldPairs();
    for (int i = 0; i < f_.size(); ++i) QAT_TRY(addNode(i));
    std::vector<int> outs;
    for (int o : f_.outputs()) outs.push_back(map_[static_cast<size_t>(o)]);
    out_.model.setOutputs(outs);
    out_.model.name = f_.name;
    if (Status s = out_.model.build(); !s.ok()) return makeError("Cannot quantize the model: " + s.error().message);
    for (const auto& [node, names] : pending_) {
      auto ps = out_.model.node(node).layer->params();
      for (size_t k = 0; k < names.size() && k < ps.size(); ++k)
        out_.links.push_back({node, static_cast<int>(k), names[k].first, names[k].second});
    }
    return std::move(out_);
  }

 private:
  Status checkConfigNames() const {
    for (const auto& entry : cfg_.layers)
      if (f_.find(entry.first) < 0)
        return makeError("The quantize config names layer '" + entry.first +
                         "', which this model does not have. Remove that entry or check the model.");
    return {};
  }

  const LayerQuantConfig* configOf(int i) const {
    auto it = cfg_.layers.find(f_.node(i).layer->name());
    return it == cfg_.layers.end() || !it->second.quantize ? nullptr : &it->second;
  }

  // Fold mode: a linear Conv/DepthwiseConv/Dense whose only consumer is a BatchNormalization,
  // both quantized, becomes one FoldedBatchNorm at the BN.
  void findFoldPairs() {
    if (cfg_.bnMode != BnMode::Fold) return;
    const auto consumers = f_.consumers();
    for (int i = 0; i < f_.size(); ++i) {
      const auto& cs = consumers[static_cast<size_t>(i)];
      if (cs.size() != 1 || !configOf(i) || !isLinearFoldable(*f_.node(i).layer)) continue;
      bool isOutput = false;
      for (int o : f_.outputs()) isOutput |= o == i;
      const int j = cs[0];
      if (isOutput || !configOf(j) || f_.node(j).layer->op() != OpType::BatchNormalization) continue;
      foldedConv_[j] = i;
      absorbed_.insert(i);
    }
  }

  std::string freshName(const std::string& base) {
    std::string name = base;
    for (int k = 1; !used_.insert(name).second; ++k) name = base + "_" + std::to_string(k);
    return name;
  }

  Expected<std::unique_ptr<Quantizer>> quantizer(const QuantizerSpec& spec, const std::string& where) {
    auto q = makeQuantizer(spec);
    if (!q.ok()) return makeError(where + ": " + q.error().message);
    return std::move(q.value());
  }

  Expected<QuantizerMap> weightQuantizers(const LayerQuantConfig& lc, const std::string& layer) {
    QuantizerMap m;
    for (const auto& [param, spec] : lc.weights) {
      auto q = quantizer(spec, "Layer '" + layer + "' weight '" + param + "'");
      if (!q.ok()) return q.error();
      m.emplace(param, std::move(q.value()));
    }
    return m;
  }

  std::vector<int> mappedInputs(int i) const {
    std::vector<int> in;
    for (int p : f_.node(i).inputs) in.push_back(map_[static_cast<size_t>(p)]);
    return in;
  }

  int add(std::unique_ptr<Layer> layer, std::vector<int> inputs, FloatNames names = {}) {
    const int id = out_.model.add(std::move(layer), std::move(inputs));
    if (!names.empty()) pending_.emplace_back(id, std::move(names));
    return id;
  }

  // Appends a FakeQuantLayer after node `id` when `spec` is set; returns the node to read.
  Expected<int> quantizeOutput(int id, const std::optional<QuantizerSpec>& spec, const std::string& layer,
                               const std::string& role) {
    if (!spec) return id;
    auto q = quantizer(*spec, "Layer '" + layer + "' " + role);
    if (!q.ok()) return q.error();
    auto fq = std::make_unique<FakeQuantLayer>(freshName(layer + "_quant"), std::move(q.value()), role);
    return add(std::move(fq), {id});
  }

  Status addNode(int i) {
    const Node& n = f_.node(i);
    const Layer& l = *n.layer;
    const size_t si = static_cast<size_t>(i);
    if (l.op() == OpType::Input) {
      const int id = out_.model.addInput(l.name(), n.shape);
      auto q = quantizeOutput(id, cfg_.input, l.name(), "input");
      if (!q.ok()) return q.error();
      map_[si] = out_.nodeOf[si] = q.value();
      return {};
    }
    if (absorbed_.count(i)) return {};  // built together with its BatchNormalization
    const LayerQuantConfig* lc = configOf(i);
    int id = -1;
    if (!lc) {
      id = add(l.clone(), mappedInputs(i), paramNames(l));
    } else if (auto fold = foldedConv_.find(i); fold != foldedConv_.end()) {
      auto r = addFolded(fold->second, i);
      if (!r.ok()) return r.error();
      id = r.value();
    } else if (l.op() == OpType::SeparableConv2D) {
      auto r = addSeparable(i, *lc);
      if (!r.ok()) return r.error();
      id = r.value();
    } else if (!lc->weights.empty()) {
      auto qs = weightQuantizers(*lc, l.name());
      if (!qs.ok()) return qs.error();
      id = add(std::make_unique<QuantizeWrapper>(l.clone(), std::move(qs.value())), mappedInputs(i), paramNames(l));
    } else {
      id = add(l.clone(), mappedInputs(i), paramNames(l));
    }
    auto q = quantizeOutput(id, lc ? lc->output : std::nullopt, l.name(), "output");
    if (!q.ok()) return q.error();
    map_[si] = out_.nodeOf[si] = q.value();
    return {};
  }

  Expected<int> addFolded(int convId, int bnId) {
    const Layer& conv = *f_.node(convId).layer;
    const LayerQuantConfig& convCfg = *configOf(convId);
    std::unique_ptr<Quantizer> wq;
    for (const auto& [param, spec] : convCfg.weights) {
      if (param == "kernel" || param == "depthwise_kernel") {
        auto q = quantizer(spec, "Layer '" + conv.name() + "' weight '" + param + "'");
        if (!q.ok()) return q.error();
        wq = std::move(q.value());
      } else {
        out_.warnings.push_back("Layer '" + conv.name() + "': the quantizer for '" + param +
                                "' is not used, because BatchNorm folding quantizes only the folded kernel");
      }
    }
    if (convCfg.output)
      out_.warnings.push_back("Layer '" + conv.name() + "': its output quantizer is not used, because it is folded "
                              "into '" + f_.node(bnId).layer->name() + "' (fold mode has no tensor between them)");
    std::unique_ptr<BatchNormalization> bn(static_cast<BatchNormalization*>(f_.node(bnId).layer->clone().release()));
    FoldOptions opt;
    opt.freezeBnStep = cfg_.freezeBnStep;
    FloatNames names = paramNames(conv);
    for (auto& p : paramNames(*bn)) names.push_back(p);
    auto folded = std::make_unique<FoldedBatchNorm>(conv.clone(), std::move(bn), std::move(wq), opt);
    folded->setName(f_.node(bnId).layer->name());
    out_.nodeOf[static_cast<size_t>(convId)] = -1;
    return add(std::move(folded), mappedInputs(convId), std::move(names));
  }

  // SeparableConv2D → DepthwiseConv2D (no bias, linear) + 1×1 Conv2D with the bias and
  // activation, as tfmot's SeparableConv2D transform does; both wrapped.
  Expected<int> addSeparable(int i, const LayerQuantConfig& lc) {
    // Read only: its Params are copied into the two new layers.
    auto& sep = static_cast<SeparableConv2D&>(*f_.node(i).layer);
    const SeparableConv2DOptions& o = sep.options();
    DepthwiseConv2DOptions dwo;
    dwo.kernelH = o.kernelH;
    dwo.kernelW = o.kernelW;
    dwo.strideH = o.strideH;
    dwo.strideW = o.strideW;
    dwo.dilationH = o.dilationH;
    dwo.dilationW = o.dilationW;
    dwo.padding = o.padding;
    dwo.depthMultiplier = o.depthMultiplier;
    dwo.useBias = false;
    auto dw = std::make_unique<DepthwiseConv2D>(freshName(sep.name() + "_depthwise"), dwo);
    dw->depthwiseKernel().value = sep.depthwiseKernel().value;
    dw->setTrainable(sep.trainable());
    Conv2DOptions pwo;
    pwo.filters = o.filters;
    pwo.kernelH = pwo.kernelW = 1;
    pwo.useBias = o.useBias;
    pwo.activation = o.activation;
    auto pw = std::make_unique<Conv2D>(sep.name(), pwo);
    pw->kernel().value = sep.pointwiseKernel().value;
    if (o.useBias) pw->bias().value = sep.bias().value;
    pw->setTrainable(sep.trainable());

    QuantizerMap dq, pq;
    for (const auto& [param, spec] : lc.weights) {
      auto q = quantizer(spec, "Layer '" + sep.name() + "' weight '" + param + "'");
      if (!q.ok()) return q.error();
      if (param == "depthwise_kernel") dq.emplace(param, std::move(q.value()));
      else if (param == "pointwise_kernel") pq.emplace("kernel", std::move(q.value()));
      else pq.emplace(param, std::move(q.value()));
    }
    const std::string dwName = dw->name();
    std::unique_ptr<Layer> dwLayer = std::move(dw);
    if (!dq.empty()) dwLayer = std::make_unique<QuantizeWrapper>(std::move(dwLayer), std::move(dq));
    int id = add(std::move(dwLayer), mappedInputs(i), {{sep.name(), "depthwise_kernel"}});
    // The tensor between the two steps exists in the export, so it gets a quantizer.
    auto mid = quantizeOutput(id, lc.output, dwName, "output");
    if (!mid.ok()) return mid.error();
    FloatNames pwNames{{sep.name(), "pointwise_kernel"}};
    if (o.useBias) pwNames.emplace_back(sep.name(), "bias");
    std::unique_ptr<Layer> pwLayer = std::move(pw);
    if (!pq.empty()) pwLayer = std::make_unique<QuantizeWrapper>(std::move(pwLayer), std::move(pq));
    return add(std::move(pwLayer), {mid.value()}, std::move(pwNames));
  }

  const Model& f_;
  const QuantizeConfig& cfg_;
  QuantizedModel out_;
  std::set<std::string> used_;
  std::vector<int> map_;               // float node → quantized node its consumers read
  std::map<int, int> foldedConv_;      // BN node → the conv folded into it
  std::set<int> absorbed_;             // convs built inside a FoldedBatchNorm
  std::vector<std::pair<int, FloatNames>> pending_;  // links to resolve after build()
};

}  // namespace

Expected<QuantizedModel> quantizeModel(const Model& floatModel, const QuantizeConfig& config) {
  for (int i = 0; i < floatModel.size(); ++i) {
    if (floatModel.node(i).shape.rank() == 0 && floatModel.node(i).layer->op() != OpType::Input)
      return makeError("Cannot quantize: the model is not built");
    if (isQuantizationOp(floatModel.node(i).layer->op()))
      return makeError("Cannot quantize: layer '" + floatModel.node(i).layer->name() +
                       "' is already a quantization node (quantize the float model instead)");
  }
  return Transform(floatModel, config).run();
}

Status copyFloatWeights(const QuantizedModel& quantized, Model& floatModel) {
  const Model& q = quantized.model;
  for (const ParamLink& link : quantized.links) {
    const int fi = floatModel.find(link.floatLayer);
    if (fi < 0) return makeError("The float model has no layer '" + link.floatLayer + "' (a different model?)");
    Param* dst = nullptr;
    for (Param* p : floatModel.node(fi).layer->params())
      if (p->name == link.floatParam) dst = p;
    const auto src = std::as_const(*q.node(link.node).layer).params();
    if (!dst || link.param >= static_cast<int>(src.size()))
      return makeError("Layer '" + link.floatLayer + "' has no weight '" + link.floatParam + "' (a different model?)");
    const Tensor& v = src[static_cast<size_t>(link.param)]->value;
    if (v.shape() != dst->value.shape())
      return makeError("Layer '" + link.floatLayer + "' weight '" + link.floatParam + "': shape " +
                       v.shape().str() + " in the quantized model, " + dst->value.shape().str() + " in the float one");
    dst->value = v;
  }
  return {};
}

QuantSummary summarize(const QuantizedModel& q, const Model& floatModel) {
  QuantSummary s;
  for (int i = 0; i < q.model.size(); ++i)
    if (q.model.node(i).layer->op() == OpType::FakeQuant) ++s.fakeQuantNodes;
  for (int i = 0; i < floatModel.size(); ++i) {
    const Layer& l = *floatModel.node(i).layer;
    if (l.op() == OpType::Input) continue;
    auto it = q.config.layers.find(l.name());
    const bool quantized = it != q.config.layers.end() && it->second.quantize;
    ++(quantized ? s.quantizedLayers : s.floatLayers);
    for (const Param* p : l.params()) {
      size_t bits = 32;
      if (quantized)
        if (auto w = it->second.weights.find(p->name); w != it->second.weights.end())
          bits = static_cast<size_t>(w->second.bits);
      s.weightBits += bits * p->value.size();
      s.floatBits += 32 * p->value.size();
    }
  }
  return s;
}

}  // namespace qat::quant
