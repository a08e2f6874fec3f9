#include "engine/quant/scheme.h"

#include <algorithm>
#include <set>

#include "engine/layers/activation.h"
#include "engine/layers/conv1d.h"
#include "engine/layers/conv2d.h"
#include "engine/layers/dense.h"
#include "engine/layers/depthwise_conv2d.h"
#include "engine/layers/separable_conv2d.h"

namespace qat::quant {

std::string_view quantRoleName(QuantRole r) {
  switch (r) {
    case QuantRole::Input: return "input";
    case QuantRole::Weighted: return "weighted";
    case QuantRole::Output: return "output";
    case QuantRole::Activation: return "activation";
    case QuantRole::PassThrough: return "pass-through";
    case QuantRole::BatchNorm: return "batch-norm";
    case QuantRole::Unsupported: return "unsupported";
  }
  return "?";
}

namespace {

// The in-layer `activation` of a weighted layer (Linear for every other layer).
ActivationFn inLayerActivation(const Layer& l) {
  switch (l.op()) {
    case OpType::Dense: return static_cast<const Dense&>(l).options().activation;
    case OpType::Conv2D: return static_cast<const Conv2D&>(l).options().activation;
    case OpType::DepthwiseConv2D: return static_cast<const DepthwiseConv2D&>(l).options().activation;
    case OpType::SeparableConv2D: return static_cast<const SeparableConv2D&>(l).options().activation;
    case OpType::Conv1D: return static_cast<const Conv1D&>(l).options().activation;
    default: return ActivationFn::Linear;
  }
}

// Activations after which TFLite keeps the integer output on a learned scale (→ quantize);
// linear passes values through, and softmax / sigmoid / tanh get fixed output parameters.
bool activationNeedsQuantizer(ActivationFn f) {
  return f != ActivationFn::Linear && f != ActivationFn::Softmax && f != ActivationFn::Sigmoid &&
         f != ActivationFn::Tanh;
}

// ReLU or Activation(relu/relu6): what TFLite fuses into the op before it.
bool isFusableRelu(const Layer& l) {
  if (l.op() == OpType::ReLU) return true;
  if (l.op() != OpType::Activation) return false;
  const ActivationFn f = static_cast<const Activation&>(l).options().activation;
  return f == ActivationFn::Relu || f == ActivationFn::Relu6;
}

// The weight parameters a weighted layer quantizes, and whether per-axis applies.
std::vector<std::pair<std::string, bool>> quantizedWeights(OpType op) {
  switch (op) {
    case OpType::Dense: return {{"kernel", false}};
    case OpType::Conv2D:
    case OpType::Conv1D: return {{"kernel", true}};
    case OpType::DepthwiseConv2D: return {{"depthwise_kernel", true}};
    case OpType::SeparableConv2D: return {{"depthwise_kernel", true}, {"pointwise_kernel", true}};
    default: return {};
  }
}

bool isWeighted(OpType op) { return !quantizedWeights(op).empty(); }

// Glob with * and ? over the whole name.
bool globMatch(std::string_view pattern, std::string_view s) {
  if (pattern.empty()) return s.empty();
  if (pattern[0] == '*')
    return globMatch(pattern.substr(1), s) || (!s.empty() && globMatch(pattern, s.substr(1)));
  return !s.empty() && (pattern[0] == '?' || pattern[0] == s[0]) && globMatch(pattern.substr(1), s.substr(1));
}

std::string someLayerNames(const Model& m) {
  std::string s;
  for (int i = 0, shown = 0; i < m.size() && shown < 6; ++i) {
    if (m.node(i).layer->op() == OpType::Input) continue;
    s += (shown++ ? ", " : "") + m.node(i).layer->name();
  }
  return s;
}

}  // namespace

NodeQuantInfo classifyNode(const Model& model, int node) {
  const Layer& l = *model.node(node).layer;
  switch (l.op()) {
    case OpType::Input: return {QuantRole::Input, {}};
    case OpType::Dense:
    case OpType::Conv2D:
    case OpType::DepthwiseConv2D:
    case OpType::SeparableConv2D:
    case OpType::Conv1D: return {QuantRole::Weighted, {}};
    case OpType::ReLU:
    case OpType::LeakyReLU:
    case OpType::Add:
    case OpType::Subtract:
    case OpType::Multiply:
    case OpType::Concatenate:
    case OpType::UpSampling2D:
    case OpType::AveragePooling2D:
    case OpType::AveragePooling1D:
    case OpType::GlobalAveragePooling2D:
    case OpType::GlobalAveragePooling1D:
    case OpType::Rescaling: return {QuantRole::Output, {}};
    case OpType::Activation: return {QuantRole::Activation, {}};
    case OpType::Cropping2D:
    case OpType::ZeroPadding2D:
    case OpType::Dropout:
    case OpType::Flatten:
    case OpType::Permute:
    case OpType::Reshape:
    case OpType::MaxPooling2D:
    case OpType::MaxPooling1D:
    case OpType::GlobalMaxPooling2D:
    case OpType::GlobalMaxPooling1D:
    case OpType::Softmax: return {QuantRole::PassThrough, {}};
    case OpType::BatchNormalization: return {QuantRole::BatchNorm, {}};
    case OpType::Conv2DTranspose:
    case OpType::PReLU: {
      std::string why = "Layer " + l.name() + ":" + std::string(opTypeName(l.op())) +
                        " is not supported by the quantization schemes (no integer kernel in the export "
                        "path yet). Leave it unticked (it then runs in float), or give it a config of "
                        "your own in the layer inspector or the config file (\"layers\": {\"" + l.name() +
                        "\": {...}}).";
      return {QuantRole::Unsupported, std::move(why)};
    }
    default:
      return {QuantRole::Unsupported, "Layer " + l.name() + ":" + std::string(opTypeName(l.op())) +
                                          " is already a quantization node."};
  }
}

Expected<SchemeOptions> schemeFromName(const std::string& name) {
  SchemeOptions s;
  s.name = name;
  if (name == "default8") return s;
  int w = 0, a = 0;
  char tail = 0;
  if (std::sscanf(name.c_str(), "w%da%d%c", &w, &a, &tail) == 2 && w >= 2 && w <= 16 && a >= 2 && a <= 16) {
    s.weightBits = w;
    s.activationBits = a;
    return s;
  }
  return makeError("unknown scheme '" + name + "': use default8 (W8A8, tfmot's default) or w<bits>a<bits> with "
                   "bits 2..16, e.g. w4a8 or w8a16");
}

QuantizerSpec schemeWeightSpec(const SchemeOptions& s, bool perAxis) {
  QuantizerSpec q;
  q.type = "LastValue";
  q.bits = s.weightBits;
  q.perAxis = perAxis;
  q.symmetric = true;
  q.narrowRange = true;
  return q;
}

std::vector<std::vector<int>> fusedGroups(const Model& model) {
  const auto consumers = model.consumers();
  auto onlyConsumer = [&](int node) { return consumers[size_t(node)].size() == 1 ? consumers[size_t(node)][0] : -1; };
  std::vector<std::vector<int>> groups;
  for (int n = 0; n < model.size(); ++n) {
    const Layer& l = *model.node(n).layer;
    if (!isWeighted(l.op()) || inLayerActivation(l) != ActivationFn::Linear) continue;
    std::vector<int> group{n};
    int next = onlyConsumer(n);
    if (next >= 0 && model.node(next).layer->op() == OpType::BatchNormalization) {
      group.push_back(next);
      next = onlyConsumer(next);
    }
    if (next >= 0 && isFusableRelu(*model.node(next).layer)) group.push_back(next);
    if (group.size() > 1) groups.push_back(std::move(group));
  }
  return groups;
}

QuantizerSpec schemeActivationSpec(const SchemeOptions& s) {
  QuantizerSpec q;
  q.type = "MovingAverage";
  q.bits = s.activationBits;
  return q;
}

LayerSelection parseLayerSelection(const std::string& commaSeparated) {
  LayerSelection sel;
  size_t start = 0;
  while (start <= commaSeparated.size()) {
    const size_t end = std::min(commaSeparated.find(',', start), commaSeparated.size());
    std::string item = commaSeparated.substr(start, end - start);
    const auto first = item.find_first_not_of(" \t"), last = item.find_last_not_of(" \t");
    if (first != std::string::npos) sel.entries.push_back(item.substr(first, last - first + 1));
    start = end + 1;
  }
  return sel;
}

Expected<std::vector<int>> selectNodes(const Model& model, const LayerSelection& selection) {
  std::set<int> picked;
  for (int i = 0; i < model.size(); ++i)
    if (selection.all() && model.node(i).layer->op() != OpType::Input) picked.insert(i);
  for (const std::string& e : selection.entries) {
    bool matched = false;
    std::optional<std::regex> re;
    if (e.rfind("re:", 0) == 0) {
      try {
        re.emplace(e.substr(3), std::regex::ECMAScript);
      } catch (const std::regex_error& err) {
        return makeError("layer selection '" + e + "': invalid regular expression (" + err.what() + ")");
      }
    }
    for (int i = 0; i < model.size(); ++i) {
      const Layer& l = *model.node(i).layer;
      if (l.op() == OpType::Input) continue;
      const bool hit = re ? std::regex_match(l.name(), *re)
                          : (l.name() == e || opTypeName(l.op()) == e || globMatch(e, l.name()));
      if (hit) {
        picked.insert(i);
        matched = true;
      }
    }
    if (!matched)
      return makeError("layer selection '" + e + "' matches no layer (give layer names such as " +
                       someLayerNames(model) + ", class names such as Conv2D, re:<regex> or a glob)");
  }
  return std::vector<int>(picked.begin(), picked.end());
}

Expected<SchemeResult> makeSchemeConfig(const Model& model, const SchemeOptions& scheme,
                                        const LayerSelection& selection, bool skipUnsupported) {
  auto picked = selectNodes(model, selection);
  if (!picked.ok()) return picked.error();
  std::vector<bool> selected(static_cast<size_t>(model.size()), false);
  for (int i : picked.value()) selected[static_cast<size_t>(i)] = true;
  const std::set<std::string> explicitNames(selection.entries.begin(), selection.entries.end());

  SchemeResult r;
  QuantizeConfig& c = r.config;
  c.scheme = scheme.name;
  c.bnMode = scheme.bnMode;
  c.freezeBnStep = scheme.freezeBnStep;
  c.input = QuantizerSpec{};
  c.input->type = "AllValues";
  c.input->bits = scheme.activationBits;

  const auto consumers = model.consumers();
  const QuantizerSpec act = schemeActivationSpec(scheme);
  // The only consumer of node i, or -1.
  auto soleConsumer = [&](int i) {
    const auto& cs = consumers[static_cast<size_t>(i)];
    return cs.size() == 1 && std::find(model.outputs().begin(), model.outputs().end(), i) == model.outputs().end()
               ? cs[0]
               : -1;
  };
  auto isSelected = [&](int i) { return i >= 0 && selected[static_cast<size_t>(i)]; };

  for (int i = 0; i < model.size(); ++i) {
    const Layer& l = *model.node(i).layer;
    if (l.op() == OpType::Input) continue;
    LayerQuantConfig lc;
    lc.quantize = selected[static_cast<size_t>(i)];
    const NodeQuantInfo info = classifyNode(model, i);
    if (lc.quantize && info.role == QuantRole::Unsupported) {
      if (explicitNames.count(l.name()) || !skipUnsupported) return makeError(info.reason);
      r.warnings.push_back(info.reason + " It stays float.");
      lc.quantize = false;
    }
    if (!lc.quantize) {
      c.layers.emplace(l.name(), std::move(lc));
      continue;
    }
    bool wantsOutput = false;
    switch (info.role) {
      case QuantRole::Weighted:
        for (const auto& [param, perAxis] : quantizedWeights(l.op()))
          lc.weights.emplace(param, schemeWeightSpec(scheme, perAxis));
        wantsOutput = activationNeedsQuantizer(inLayerActivation(l)) || inLayerActivation(l) == ActivationFn::Linear;
        break;
      case QuantRole::Output:
      case QuantRole::BatchNorm: wantsOutput = true; break;
      case QuantRole::Activation:
        wantsOutput = activationNeedsQuantizer(static_cast<const Activation&>(l).options().activation);
        break;
      default: break;
    }
    // Layout rules: the quantizer moves to where TFLite's fused op ends.
    const int next = soleConsumer(i);
    if (wantsOutput && isSelected(next)) {
      const Layer& n = *model.node(next).layer;
      const bool linear = inLayerActivation(l) == ActivationFn::Linear;
      if (n.op() == OpType::BatchNormalization && isWeighted(l.op()) && linear) wantsOutput = false;
      else if (isFusableRelu(n) && (isWeighted(l.op()) || info.role == QuantRole::BatchNorm ||
                                    l.op() == OpType::Add) && linear)
        wantsOutput = false;
      else if (n.op() == OpType::Concatenate) wantsOutput = false;
    }
    if (wantsOutput) lc.output = act;
    c.layers.emplace(l.name(), std::move(lc));
  }
  return r;
}

}  // namespace qat::quant
