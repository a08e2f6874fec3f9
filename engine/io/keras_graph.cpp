#include "engine/io/keras_graph.h"

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

class Builder {
 public:
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
  std::set<std::string> used_;

  int addNode(GraphNode n, const std::string& scope) {
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
    return addNode(GraphNode{nameOf(entry), "InputLayer", configOf(entry), {}, group, true, true}, scope);
  }

  // A layer applied to `inputs`: one leaf node, or a nested model expanded in place.
  Expected<std::vector<int>> apply(const Json& entry, std::vector<int> inputs, int group, bool trainable,
                                   int depth, const std::string& scope) {
    const std::string cls = classOf(entry), name = nameOf(entry);
    if (cls.empty()) return makeError("a layer entry has no class_name: " + entry.dump().substr(0, 80));
    if (name.empty()) return makeError("a " + cls + " layer has no name");
    const bool tr = trainable && trainableOf(entry);
    if (isKerasModelClass(cls)) return expandModel(entry, &inputs, group, tr, depth + 1);
    if (cls == "InputLayer") return makeError(describe(name, cls) + " is used in the middle of the model");
    return std::vector<int>{addNode(GraphNode{name, cls, configOf(entry), std::move(inputs), group, tr, false}, scope)};
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
      if (!dims)
        return makeError(where + " does not record its input shape (" + describe(nameOf(first), classOf(first)) +
                         " has no batch_input_shape). Give the model an Input layer, or call "
                         "model.build((None, ...)) before saving it");
      Json shape = Json::array({nullptr});
      for (int d : *dims) shape.push_back(d);
      const std::string inName = nameOf(first) + "_input";  // Keras' own name for it
      cur = {addNode(GraphNode{inName, "InputLayer", Json{{"batch_input_shape", shape}, {"name", inName}}, {}, -1,
                               true, true},
                     modelName)};
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

  struct Entry {
    const Json* json = nullptr;
    std::string name, cls;
    std::vector<std::vector<Ref>> inbound;
    std::vector<size_t> deps;
  };

  // Which call of `e` a reference points at: shared layers (several calls) are refused.
  // Keras numbers the calls of a nested model from 1 (call 0 is its own construction).
  static Status checkCall(const Entry& e, const Ref& r, const std::string& from) {
    const bool ok = r.node == 0 || (r.node == 1 && isKerasModelClass(e.cls));
    if (ok && e.inbound.size() <= 1) return {};
    return makeError(from + " uses call " + std::to_string(r.node) + " of " + describe(e.name, e.cls) +
                     ": the layer is called several times (shared weights), which is not supported. Give each "
                     "call its own layer in Keras");
  }

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
      if (classOf(layer) == "TFOpLambda") {
        auto low = lowerTfOpLambda(layer);
        if (!low.ok()) return low.error();
        lowered.push_back(std::move(low.value()));
        ep = &lowered.back();
        g.warnings.push_back(describe(nameOf(*ep), "TFOpLambda") + " (tf." + configOf(layer).value("function", "") +
                             ") is imported as an equivalent " + classOf(*ep) +
                             " layer, and saved as one");
      }
      const Json& e = *ep;
      Entry en{&e, nameOf(e), classOf(e), {}, {}};
      if (en.name.empty() || en.cls.empty())
        return makeError(where + ": a layer entry has no name or class: " + e.dump().substr(0, 80));
      auto in = parseInbound(e, describe(en.name, en.cls));
      if (!in.ok()) return in.error();
      en.inbound = std::move(in.value());
      if (!byName.emplace(en.name, entries.size()).second)
        return makeError(where + " has two layers named '" + en.name + "'");
      entries.push_back(std::move(en));
    }
    auto inRefs = parseEndpoints(cfg, "input_layers", where);
    if (!inRefs.ok()) return inRefs.error();
    auto outRefs = parseEndpoints(cfg, "output_layers", where);
    if (!outRefs.ok()) return outRefs.error();

    std::vector<int> groups(entries.size(), group);
    if (top)
      for (size_t i = 0; i < entries.size(); ++i) groups[i] = newGroup(*entries[i].json);
    std::map<std::string, std::vector<int>> outputsOf;  // layer name -> its output node ids
    std::vector<bool> done(entries.size(), false);

    // Model inputs first, in input_layers order.
    if (feed && feed->size() != inRefs->size())
      return makeError(where + " has " + std::to_string(inRefs->size()) + " inputs but is called on " +
                       std::to_string(feed->size()) + " tensors");
    for (size_t k = 0; k < inRefs->size(); ++k) {
      const Ref& r = (*inRefs)[k];
      auto it = byName.find(r.layer);
      if (it == byName.end() || entries[it->second].cls != "InputLayer")
        return makeError(where + ": input '" + r.layer + "' is not an InputLayer of the model");
      if (done[it->second]) return makeError(where + ": input '" + r.layer + "' is listed twice");
      outputsOf[r.layer] = {feed ? (*feed)[k] : addInput(*entries[it->second].json, groups[it->second], modelName)};
      done[it->second] = true;
    }

    // Kahn's algorithm over layers; among ready layers the earliest in the config goes first.
    std::vector<int> pending(entries.size(), 0);
    std::vector<std::vector<size_t>> consumers(entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      Entry& e = entries[i];
      if (done[i]) continue;
      if (e.cls == "InputLayer") {
        if (feed) return makeError(where + ": " + describe(e.name, e.cls) + " is not one of the model's inputs");
        continue;  // an unlisted top-level input: created when popped
      }
      if (e.inbound.empty())
        return makeError(describe(e.name, e.cls) + " is not connected to any input (no inbound nodes)");
      if (e.inbound.size() > 1)
        return makeError(describe(e.name, e.cls) + " is called " + std::to_string(e.inbound.size()) +
                         " times (shared weights), which is not supported. Give each call its own layer in Keras");
      std::set<size_t> deps;
      for (const Ref& r : e.inbound[0]) {
        auto it = byName.find(r.layer);
        if (it == byName.end())
          return makeError(describe(e.name, e.cls) + " is connected to '" + r.layer + "', which is not in the model");
        QAT_TRY(checkCall(entries[it->second], r, describe(e.name, e.cls)));
        if (!done[it->second]) deps.insert(it->second);
      }
      if (e.inbound[0].empty()) return makeError(describe(e.name, e.cls) + " has a call without tensor inputs");
      pending[i] = static_cast<int>(deps.size());
      for (size_t d : deps) consumers[d].push_back(i);
    }
    std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
    for (size_t i = 0; i < entries.size(); ++i)
      if (!done[i] && pending[i] == 0) ready.push(i);
    while (!ready.empty()) {
      const size_t i = ready.top();
      ready.pop();
      const Entry& e = entries[i];
      if (e.cls == "InputLayer") {
        outputsOf[e.name] = {addInput(*e.json, groups[i], modelName)};
      } else {
        std::vector<int> inputs;
        for (const Ref& r : e.inbound[0]) {
          const std::vector<int>& outs = outputsOf[r.layer];
          if (r.tensor >= static_cast<int>(outs.size()))
            return makeError(describe(e.name, e.cls) + " uses output " + std::to_string(r.tensor) + " of '" +
                             r.layer + "', which has " + std::to_string(outs.size()));
          inputs.push_back(outs[static_cast<size_t>(r.tensor)]);
        }
        auto outs = apply(*e.json, std::move(inputs), groups[i], trainable, depth, modelName);
        if (!outs.ok()) return outs.error();
        outputsOf[e.name] = std::move(outs.value());
      }
      done[i] = true;
      for (size_t c : consumers[i])
        if (--pending[c] == 0) ready.push(c);
    }
    for (size_t i = 0; i < entries.size(); ++i)
      if (!done[i])
        return makeError(describe(entries[i].name, entries[i].cls) +
                         " is part of a cycle in the layer connections, so the model cannot be built");

    std::vector<int> result;
    for (const Ref& r : *outRefs) {
      auto it = byName.find(r.layer);
      if (it == byName.end()) return makeError(where + ": output '" + r.layer + "' is not a layer of the model");
      QAT_TRY(checkCall(entries[it->second], r, where + " output"));
      const std::vector<int>& outs = outputsOf[r.layer];
      if (r.tensor >= static_cast<int>(outs.size()))
        return makeError(where + ": output " + std::to_string(r.tensor) + " of '" + r.layer + "' does not exist");
      result.push_back(outs[static_cast<size_t>(r.tensor)]);
    }
    if (result.empty()) return makeError(where + " has no outputs");
    return result;
  }
};

}  // namespace

Expected<KerasGraph> parseModelConfig(const Json& model) {
  const std::string cls = classOf(model);
  if (!isKerasModelClass(cls))
    return makeError("the model config describes a '" + cls + "', not a Sequential or Functional model");
  try {
    Builder b;
    b.g.name = cls == "Sequential" ? "sequential" : "model";
    auto outs = b.expandModel(model, nullptr, -1, trainableOf(model), 0);
    if (!outs.ok()) return outs.error();
    b.g.outputs = std::move(outs.value());
    return std::move(b.g);
  } catch (const nlohmann::json::exception& e) {
    return makeError(std::string("the model config is malformed: ") + e.what());
  }
}

Expected<Json> modelConfigFor(const Model& model) {
  // A chain (node i consumes node i-1, one input, one output at the end) is a Sequential.
  bool chain = model.inputs() == std::vector<int>{0} && model.outputs() == std::vector<int>{model.size() - 1};
  for (int i = 1; chain && i < model.size(); ++i) chain = model.node(i).inputs == std::vector<int>{i - 1};

  Json layers = Json::array();
  for (int i = 0; i < model.size(); ++i) {
    const Node& n = model.node(i);
    auto lj = layerToKeras(*n.layer);
    if (!lj.ok()) return lj.error();
    Json entry = std::move(lj.value());
    if (!chain) {
      entry["name"] = n.layer->name();
      Json call = Json::array();
      for (int p : n.inputs)
        call.push_back(Json::array({model.node(p).layer->name(), 0, 0, Json::object()}));
      entry["inbound_nodes"] = n.inputs.empty() ? Json::array() : Json::array({call});
    }
    layers.push_back(std::move(entry));
  }
  if (chain) return Json{{"class_name", "Sequential"}, {"config", {{"name", model.name}, {"layers", layers}}}};
  auto endpoints = [&](const std::vector<int>& ids) {
    Json j = Json::array();
    for (int id : ids) j.push_back(Json::array({model.node(id).layer->name(), 0, 0}));
    return j;
  };
  return Json{{"class_name", "Functional"},
              {"config",
               {{"name", model.name},
                {"trainable", true},
                {"layers", layers},
                {"input_layers", endpoints(model.inputs())},
                {"output_layers", endpoints(model.outputs())}}}};
}

}  // namespace qat::keras
