#include "engine/io/keras_graph.h"

#include <algorithm>
#include <deque>
#include <map>
#include <queue>
#include <set>

#include "engine/io/keras_layers.h"
#include "engine/io/keras_tf_op_lambda.h"

namespace qat::keras {
namespace {

constexpr int kMaxNesting = 16;  // models inside models
constexpr int kMaxRefIndex = 1 << 20;

struct Ref {
  std::string layer;
  int node = 0;
  int tensor = 0;
};

std::string classOf(const Json& entry) {
  if (entry.is_object() && entry.contains("class_name") && entry["class_name"].is_string())
    return entry["class_name"].get<std::string>();
  return {};
}

std::string nameOf(const Json& entry) {
  if (!entry.is_object()) return {};
  if (entry.contains("name") && entry["name"].is_string()) return entry["name"].get<std::string>();
  if (entry.contains("config") && entry["config"].is_object() && entry["config"].contains("name") &&
      entry["config"]["name"].is_string())
    return entry["config"]["name"].get<std::string>();
  return {};
}

const Json& configOf(const Json& entry) {
  static const Json empty = Json::object();
  if (entry.is_object() && entry.contains("config")) return entry["config"];
  return empty;
}

bool trainableOf(const Json& entry) {
  const Json& c = configOf(entry);
  return !(c.is_object() && c.contains("trainable") && c["trainable"].is_boolean() && !c["trainable"].get<bool>());
}

std::string describe(const std::string& name, const std::string& cls) {
  return "Layer '" + name + "' (" + cls + ")";
}

// Keras 1/2 reference: ["name", node_index, tensor_index(, kwargs)].
Expected<Ref> parseRef(const Json& r, const std::string& where) {
  if (!r.is_array() || r.size() < 3 || !r[0].is_string() || !r[1].is_number_integer() || !r[2].is_number_integer())
    return makeError(where + ": unreadable connection " + r.dump().substr(0, 80));
  Ref ref{r[0].get<std::string>(), r[1].get<int>(), r[2].get<int>()};
  if (ref.node < 0 || ref.node > kMaxRefIndex || ref.tensor < 0 || ref.tensor > kMaxRefIndex)
    return makeError(where + ": invalid connection " + r.dump().substr(0, 80));
  return ref;
}

// Keras 3: every {"class_name": "__keras_tensor__", "config": {"keras_history": [...]}}
// inside a node's args, in order.
Status collectHistory(const Json& j, std::vector<Ref>& out, const std::string& where, int depth) {
  if (depth > 32) return makeError(where + ": call arguments nested too deeply");
  if (j.is_object()) {
    if (classOf(j) == "__keras_tensor__") {
      const Json& c = configOf(j);
      if (!c.is_object() || !c.contains("keras_history")) return makeError(where + ": tensor without keras_history");
      auto r = parseRef(c["keras_history"], where);
      if (!r.ok()) return r.error();
      out.push_back(std::move(r.value()));
      return {};
    }
    for (const auto& [k, v] : j.items()) QAT_TRY(collectHistory(v, out, where, depth + 1));
  } else if (j.is_array()) {
    for (const Json& v : j) QAT_TRY(collectHistory(v, out, where, depth + 1));
  }
  return {};
}

// inbound_nodes -> one list of input references per call of the layer.
Expected<std::vector<std::vector<Ref>>> parseInbound(const Json& entry, const std::string& where) {
  std::vector<std::vector<Ref>> nodes;
  if (!entry.contains("inbound_nodes") || entry["inbound_nodes"].is_null()) return nodes;
  const Json& in = entry["inbound_nodes"];
  if (!in.is_array()) return makeError(where + ": inbound_nodes should be a list");
  for (const Json& node : in) {
    std::vector<Ref> refs;
    if (node.is_object()) {  // Keras 3
      if (node.contains("args")) QAT_TRY(collectHistory(node["args"], refs, where, 0));
    } else if (node.is_array()) {  // Keras 1/2
      for (const Json& r : node) {
        auto ref = parseRef(r, where);
        if (!ref.ok()) return ref.error();
        refs.push_back(std::move(ref.value()));
      }
    } else {
      return makeError(where + ": unreadable inbound node " + node.dump().substr(0, 80));
    }
    nodes.push_back(std::move(refs));
  }
  return nodes;
}

// input_layers / output_layers: [["a", 0, 0], ...] or, in Keras 3, a single ["a", 0, 0].
Expected<std::vector<Ref>> parseEndpoints(const Json& cfg, const char* key, const std::string& where) {
  if (!cfg.contains(key) || !cfg[key].is_array())
    return makeError(where + ": the model config has no " + key);
  const Json& j = cfg[key];
  std::vector<Ref> out;
  if (!j.empty() && j[0].is_string()) {
    auto r = parseRef(j, where);
    if (!r.ok()) return r.error();
    out.push_back(std::move(r.value()));
    return out;
  }
  for (const Json& e : j) {
    auto r = parseRef(e, where);
    if (!r.ok()) return r.error();
    out.push_back(std::move(r.value()));
  }
  return out;
}

// TFOpLambda / SlicingOpLambda records that were not lowered: each inbound entry is one
// call ["layer", node, tensor, {kwargs}] whose kwargs (and list arguments) may hold more
// tensor references (keras_tf_op_lambda.h); "_CONSTANT_VALUE" marks a constant argument.
void collectOpLambdaRefs(const Json& j, std::vector<Ref>& out, int depth) {
  if (depth > 32) return;
  if (j.is_array() && j.size() >= 3 && j[0].is_string() && j[1].is_number_integer() && j[2].is_number_integer()) {
    Ref r{j[0].get<std::string>(), j[1].get<int>(), j[2].get<int>()};
    if (r.layer != "_CONSTANT_VALUE" && r.node >= 0 && r.node <= kMaxRefIndex && r.tensor >= 0 &&
        r.tensor <= kMaxRefIndex)
      out.push_back(std::move(r));
    for (size_t i = 3; i < j.size(); ++i) collectOpLambdaRefs(j[i], out, depth + 1);
  } else if (j.is_array()) {
    for (const Json& v : j) collectOpLambdaRefs(v, out, depth + 1);
  } else if (j.is_object()) {
    for (const auto& [k, v] : j.items()) collectOpLambdaRefs(v, out, depth + 1);
  }
}

std::vector<std::vector<Ref>> opLambdaCalls(const Json& entry) {
  std::vector<std::vector<Ref>> calls;
  if (!entry.contains("inbound_nodes") || !entry["inbound_nodes"].is_array()) return calls;
  for (const Json& call : entry["inbound_nodes"]) {
    std::vector<Ref> refs;
    collectOpLambdaRefs(call, refs, 0);
    calls.push_back(std::move(refs));
  }
  return calls;
}

std::string sharedLayerMessage(const std::string& name, const std::string& cls, size_t calls) {
  return describe(name, cls) + " is called " + std::to_string(calls) +
         " times (shared weights), which the studio does not support yet; give each call its own layer in "
         "Keras (a copy with its own weights), or cut the model before it";
}

class Builder {
 public:
  explicit Builder(GraphMode mode) : outline_(mode == GraphMode::Outline) {}
  KerasGraph g;

  Expected<std::vector<int>> expandModel(const Json& entry, const std::vector<int>* feed, int group,
                                         bool trainable, int depth) {
    if (depth > kMaxNesting) return makeError("models are nested more than " + std::to_string(kMaxNesting) + " deep");
    const std::string cls = classOf(entry);
    const Json& cfg = configOf(entry);
    if (cls == "Sequential") return expandSequential(cfg, nameOf(entry), feed, group, trainable, depth);
    if (!cfg.is_object() || !cfg.contains("layers"))
      return makeError(describe(nameOf(entry), cls) + ": the model config has no layer list");
    return expandFunctional(cfg, nameOf(entry), feed, group, trainable, depth);
  }

 private:
  const bool outline_;  // keep what cannot be loaded as nodes with a `problem` (GraphMode::Outline)
  std::set<std::string> used_;

  int addNode(GraphNode n, const std::string& scope) {
    if (n.kerasName.empty()) n.kerasName = n.name;
    if (used_.count(n.name)) {
      std::string base = (scope.empty() ? std::string("model") : scope) + "_" + n.name, name = base;
      for (int k = 2; used_.count(name); ++k) name = base + "_" + std::to_string(k);
      g.warnings.push_back(describe(n.name, n.className) + " inside nested model '" + scope +
                           "' is renamed to '" + name + "' (its name is already used)");
      n.name = name;
    }
    used_.insert(n.name);
    const int id = static_cast<int>(g.nodes.size());
    if (n.weightGroup >= 0) g.groups[static_cast<size_t>(n.weightGroup)].nodes.push_back(id);
    if (n.isInput) g.inputs.push_back(id);
    g.nodes.push_back(std::move(n));
    return id;
  }

  int newGroup(const Json& entry) {
    g.groups.push_back(WeightGroup{nameOf(entry), classOf(entry), {}, isKerasModelClass(classOf(entry))});
    return static_cast<int>(g.groups.size()) - 1;
  }

  int addInput(const Json& entry, int group, const std::string& scope) {
    return addNode(GraphNode{nameOf(entry), "InputLayer", configOf(entry), {}, group, true, true, {}, {}}, scope);
  }

  // A layer applied to `inputs`: one leaf node (named `callName` if given), or a nested
  // model expanded in place.
  Expected<std::vector<int>> apply(const Json& entry, std::vector<int> inputs, int group, bool trainable,
                                   int depth, const std::string& scope, const std::string& callName = {}) {
    const std::string cls = classOf(entry), name = nameOf(entry);
    if (cls.empty()) return makeError("a layer entry has no class_name: " + entry.dump().substr(0, 80));
    if (name.empty()) return makeError("a " + cls + " layer has no name");
    const bool tr = trainable && trainableOf(entry);
    if (isKerasModelClass(cls)) return expandModel(entry, &inputs, group, tr, depth + 1);
    if (cls == "InputLayer") return makeError(describe(name, cls) + " is used in the middle of the model");
    GraphNode n{callName.empty() ? name : callName, cls, configOf(entry), std::move(inputs), group, tr, false, name, {}};
    return std::vector<int>{addNode(std::move(n), scope)};
  }

  Expected<std::vector<int>> expandSequential(const Json& cfg, const std::string& modelName,
                                              const std::vector<int>* feed, int group, bool trainable, int depth) {
    const Json& layers = cfg.is_array() ? cfg : (cfg.is_object() && cfg.contains("layers") ? cfg["layers"] : Json());
    const std::string where = modelName.empty() ? "The Sequential model" : "Sequential model '" + modelName + "'";
    if (!layers.is_array() || layers.empty()) return makeError(where + " has no layers");
    if (depth == 0 && cfg.is_object() && cfg.contains("name") && cfg["name"].is_string())
      g.name = cfg["name"].get<std::string>();
    const bool top = depth == 0;
    std::vector<int> cur;
    size_t start = 0;
    const Json& first = layers[0];
    if (feed) {
      if (feed->size() != 1) return makeError(where + " is called on " + std::to_string(feed->size()) + " tensors");
      cur = *feed;
      if (classOf(first) == "InputLayer") start = 1;
    } else if (classOf(first) == "InputLayer") {
      cur = {addInput(first, top ? newGroup(first) : group, modelName)};
      start = 1;
    } else if (isKerasModelClass(classOf(first))) {
      auto outs = expandModel(first, nullptr, top ? newGroup(first) : group, trainable && trainableOf(first), depth + 1);
      if (!outs.ok()) return outs.error();
      cur = outs.value();
      start = 1;
    } else {
      // Keras 1 / 2 without an InputLayer: the first layer carries batch_input_shape.
      ConfigReader reader(configOf(first), nameOf(first), classOf(first), nullptr);
      auto declared = declaredInputShape(reader);
      if (!declared.ok()) return declared.error();
      std::optional<std::vector<int>> dims = declared.value();
      if (!dims && cfg.is_object() && cfg.contains("build_input_shape")) {
        auto d = perSampleShape(reader, cfg["build_input_shape"]);
        if (!d.ok()) return d.error();
        dims = d.value();
      }
      const std::string inName = nameOf(first) + "_input";  // Keras' own name for it
      Json inConfig = {{"name", inName}};
      std::string problem;
      if (dims) {
        Json shape = Json::array({nullptr});
        for (int d : *dims) shape.push_back(d);
        inConfig["batch_input_shape"] = shape;
      } else {
        problem = where + " does not record its input shape (" + describe(nameOf(first), classOf(first)) +
                  " has no batch_input_shape). Give the model an Input layer, or call model.build((None, ...)) "
                  "before saving it";
        if (!outline_) return makeError(problem);
      }
      cur = {addNode(GraphNode{inName, "InputLayer", inConfig, {}, -1, true, true, {}, problem}, modelName)};
    }
    for (size_t i = start; i < layers.size(); ++i) {
      const Json& e = layers[i];
      auto outs = apply(e, cur, top ? newGroup(e) : group, trainable, depth, modelName);
      if (!outs.ok()) return outs.error();
      if (outs->size() != 1)
        return makeError(where + ": " + describe(nameOf(e), classOf(e)) + " has " + std::to_string(outs->size()) +
                         " outputs; a Sequential model needs one");
      cur = outs.value();
    }
    return cur;
  }

  // One Keras layer of a Functional config. Each of its calls (inbound nodes) is a "unit"
  // of the topological sort: units firstUnit .. firstUnit + calls() - 1.
  struct Entry {
    const Json* json = nullptr;
    std::string name, cls;
    std::vector<std::vector<Ref>> inbound;  // the input references of each call
    std::string problem;    // outline mode: why it cannot be loaded (shared, raw TF op ...)
    int nodeOffset = 0;     // Keras' node index of the first call
    size_t firstUnit = 0;
    size_t calls() const { return std::max<size_t>(1, inbound.size()); }
  };

  Expected<std::vector<int>> expandFunctional(const Json& cfg, const std::string& modelName,
                                              const std::vector<int>* feed, int group, bool trainable, int depth) {
    const std::string where = modelName.empty() ? "The model" : "Model '" + modelName + "'";
    if (depth == 0 && cfg.contains("name") && cfg["name"].is_string()) g.name = cfg["name"].get<std::string>();
    const Json& layers = cfg["layers"];
    if (!layers.is_array() || layers.empty()) return makeError(where + " has no layers");
    const bool top = depth == 0;

    std::vector<Entry> entries;
    std::map<std::string, size_t> byName;
    std::deque<Json> lowered;  // TFOpLambda entries rewritten as Keras layers (stable addresses)
    for (const Json& layer : layers) {
      const Json* ep = &layer;
      std::string problem;
      bool opLambda = classOf(layer) == "SlicingOpLambda";
      if (classOf(layer) == "TFOpLambda") {
        auto low = lowerTfOpLambda(layer);
        if (low.ok()) {
          lowered.push_back(std::move(low.value()));
          ep = &lowered.back();
          g.warnings.push_back(describe(nameOf(*ep), "TFOpLambda") + " (tf." + configOf(layer).value("function", "") +
                               ") is imported as an equivalent " + classOf(*ep) + " layer, and saved as one");
        } else if (outline_) {
          problem = low.error().message;
          opLambda = true;
        } else {
          return low.error();
        }
      }
      const Json& e = *ep;
      Entry en{&e, nameOf(e), classOf(e), {}, std::move(problem), 0, 0};
      if (en.name.empty() || en.cls.empty())
        return makeError(where + ": a layer entry has no name or class: " + e.dump().substr(0, 80));
      if (opLambda) {
        en.inbound = opLambdaCalls(e);  // its own call-record format; refused later by class
      } else {
        auto in = parseInbound(e, describe(en.name, en.cls));
        if (!in.ok()) return in.error();
        en.inbound = std::move(in.value());
      }
      if (!byName.emplace(en.name, entries.size()).second)
        return makeError(where + " has two layers named '" + en.name + "'");
      entries.push_back(std::move(en));
    }
    auto inRefs = parseEndpoints(cfg, "input_layers", where);
    if (!inRefs.ok()) return inRefs.error();
    auto outRefs = parseEndpoints(cfg, "output_layers", where);
    if (!outRefs.ok()) return outRefs.error();

    // A layer called several times shares its weights between the calls: refused when
    // loading, each call its own (marked) node in an outline.
    for (Entry& e : entries) {
      if (e.inbound.size() <= 1) continue;
      const std::string msg = sharedLayerMessage(e.name, e.cls, e.inbound.size());
      if (!outline_) return makeError(msg);
      if (e.problem.empty()) e.problem = msg;
    }
    // Keras numbers a plain layer's calls from 0, a nested model's from 1 in Keras 2 (its
    // node 0 is its own construction): references past the last call tell them apart.
    std::vector<int> maxRef(entries.size(), -1);
    auto noteRef = [&](const Ref& r) {
      if (auto it = byName.find(r.layer); it != byName.end()) maxRef[it->second] = std::max(maxRef[it->second], r.node);
    };
    for (const Entry& e : entries)
      for (const auto& call : e.inbound)
        for (const Ref& r : call) noteRef(r);
    for (const Ref& r : *outRefs) noteRef(r);
    std::vector<size_t> unitEntry;
    for (size_t i = 0; i < entries.size(); ++i) {
      Entry& e = entries[i];
      e.nodeOffset = isKerasModelClass(e.cls) && maxRef[i] >= static_cast<int>(e.calls()) ? 1 : 0;
      e.firstUnit = unitEntry.size();
      unitEntry.insert(unitEntry.end(), e.calls(), i);
    }
    const size_t units = unitEntry.size();
    auto callOf = [&](size_t u) { return u - entries[unitEntry[u]].firstUnit; };
    // The unit a reference points at; `from` describes the referring side.
    auto unitOf = [&](const Ref& r, const std::string& from) -> Expected<size_t> {
      const Entry& p = entries[byName.at(r.layer)];
      const int k = isKerasModelClass(p.cls) ? std::max(0, r.node - p.nodeOffset) : r.node;
      if (k >= static_cast<int>(p.calls()))
        return makeError(from + " uses call " + std::to_string(r.node) + " of " + describe(p.name, p.cls) +
                         ", which does not exist");
      return p.firstUnit + static_cast<size_t>(k);
    };

    std::vector<int> groups(entries.size(), group);
    if (top)
      for (size_t i = 0; i < entries.size(); ++i) groups[i] = newGroup(*entries[i].json);
    std::vector<std::vector<int>> outputsOf(units);  // unit -> its output node ids
    std::vector<bool> done(units, false);

    // Model inputs first, in input_layers order.
    if (feed && feed->size() != inRefs->size())
      return makeError(where + " has " + std::to_string(inRefs->size()) + " inputs but is called on " +
                       std::to_string(feed->size()) + " tensors");
    for (size_t k = 0; k < inRefs->size(); ++k) {
      const Ref& r = (*inRefs)[k];
      auto it = byName.find(r.layer);
      if (it == byName.end() || entries[it->second].cls != "InputLayer")
        return makeError(where + ": input '" + r.layer + "' is not an InputLayer of the model");
      const size_t u = entries[it->second].firstUnit;
      if (done[u]) return makeError(where + ": input '" + r.layer + "' is listed twice");
      outputsOf[u] = {feed ? (*feed)[k] : addInput(*entries[it->second].json, groups[it->second], modelName)};
      done[u] = true;
    }

    // Kahn's algorithm over layer calls; among ready ones the earliest in the config goes first.
    std::vector<int> pending(units, 0);
    std::vector<std::vector<size_t>> consumers(units), producers(units);
    for (size_t u = 0; u < units; ++u) {
      const Entry& e = entries[unitEntry[u]];
      if (done[u]) continue;
      if (e.cls == "InputLayer") {
        if (feed) return makeError(where + ": " + describe(e.name, e.cls) + " is not one of the model's inputs");
        continue;  // an unlisted top-level input: created when popped
      }
      if (e.inbound.empty())
        return makeError(describe(e.name, e.cls) + " is not connected to any input (no inbound nodes)");
      std::set<size_t> deps;
      for (const Ref& r : e.inbound[callOf(u)]) {
        if (!byName.count(r.layer))
          return makeError(describe(e.name, e.cls) + " is connected to '" + r.layer + "', which is not in the model");
        auto p = unitOf(r, describe(e.name, e.cls));
        if (!p.ok()) return p.error();
        producers[u].push_back(p.value());
        if (!done[p.value()]) deps.insert(p.value());
      }
      if (producers[u].empty()) return makeError(describe(e.name, e.cls) + " has a call without tensor inputs");
      pending[u] = static_cast<int>(deps.size());
      for (size_t d : deps) consumers[d].push_back(u);
    }
    std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
    for (size_t u = 0; u < units; ++u)
      if (!done[u] && pending[u] == 0) ready.push(u);
    while (!ready.empty()) {
      const size_t u = ready.top();
      ready.pop();
      const size_t i = unitEntry[u];
      const Entry& e = entries[i];
      if (e.cls == "InputLayer") {
        outputsOf[u] = {addInput(*e.json, groups[i], modelName)};
      } else {
        std::vector<int> inputs;
        const std::vector<Ref>& refs = e.inbound[callOf(u)];
        for (size_t j = 0; j < refs.size(); ++j) {
          const std::vector<int>& outs = outputsOf[producers[u][j]];
          if (refs[j].tensor >= static_cast<int>(outs.size()))
            return makeError(describe(e.name, e.cls) + " uses output " + std::to_string(refs[j].tensor) + " of '" +
                             refs[j].layer + "', which has " + std::to_string(outs.size()));
          inputs.push_back(outs[static_cast<size_t>(refs[j].tensor)]);
        }
        const size_t before = g.nodes.size();
        const std::string callName = callOf(u) == 0 ? std::string() : e.name + " (call " + std::to_string(callOf(u) + 1) + ")";
        auto outs = apply(*e.json, std::move(inputs), groups[i], trainable, depth, modelName, callName);
        if (!outs.ok()) return outs.error();
        for (size_t n = before; n < g.nodes.size() && !e.problem.empty(); ++n)
          if (g.nodes[n].problem.empty()) g.nodes[n].problem = e.problem;
        outputsOf[u] = std::move(outs.value());
      }
      done[u] = true;
      for (size_t c : consumers[u])
        if (--pending[c] == 0) ready.push(c);
    }
    for (size_t u = 0; u < units; ++u)
      if (!done[u])
        return makeError(describe(entries[unitEntry[u]].name, entries[unitEntry[u]].cls) +
                         " is part of a cycle in the layer connections, so the model cannot be built");

    std::vector<int> result;
    for (const Ref& r : *outRefs) {
      if (!byName.count(r.layer)) return makeError(where + ": output '" + r.layer + "' is not a layer of the model");
      auto p = unitOf(r, where + " output");
      if (!p.ok()) return p.error();
      const std::vector<int>& outs = outputsOf[p.value()];
      if (r.tensor >= static_cast<int>(outs.size()))
        return makeError(where + ": output " + std::to_string(r.tensor) + " of '" + r.layer + "' does not exist");
      result.push_back(outs[static_cast<size_t>(r.tensor)]);
    }
    if (result.empty()) return makeError(where + " has no outputs");
    return result;
  }
};

}  // namespace

Expected<KerasGraph> parseModelConfig(const Json& model, GraphMode mode) {
  const std::string cls = classOf(model);
  if (!isKerasModelClass(cls))
    return makeError("the model config describes a '" + cls + "', not a Sequential or Functional model");
  try {
    Builder b(mode);
    b.g.name = cls == "Sequential" ? "sequential" : "model";
    auto outs = b.expandModel(model, nullptr, -1, trainableOf(model), 0);
    if (!outs.ok()) return outs.error();
    b.g.outputs = std::move(outs.value());
    return std::move(b.g);
  } catch (const nlohmann::json::exception& e) {
    return makeError(std::string("the model config is malformed: ") + e.what());
  }
}

}  // namespace qat::keras
