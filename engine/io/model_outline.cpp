#include "engine/io/model_outline.h"

#include <map>
#include <memory>

#include "engine/io/hdf5_util.h"
#include "engine/io/keras_file_internal.h"
#include "engine/io/keras_graph.h"
#include "engine/io/keras_layers.h"
#include "engine/io/process_guard.h"
#include "engine/layers/input_layer.h"

namespace qat {
namespace {

using keras::Json;

struct FileWeight {
  std::string name;  // weight_names entry
  uint64_t count = 0;
};
using FileWeights = std::map<std::string, std::vector<FileWeight>>;  // layer group -> weights

// The weights the file lists per top-level layer of weights group `w`. Best effort: a
// layer that cannot be read is left out, and its nodes then count what the engine would
// allocate.
void readLayerWeights(const h5::Group& w, FileWeights& out) {
  auto layerNames = w.stringListAttr("layer_names");
  if (!layerNames.ok()) return;
  for (const std::string& layer : *layerNames) {
    if (!w.isGroup(layer)) continue;
    auto lg = w.group(layer);
    if (!lg.ok()) continue;
    auto names = lg->stringListAttr("weight_names");
    if (!names.ok()) continue;
    std::vector<FileWeight> ws;
    for (const std::string& n : *names) {
      auto shape = lg->datasetShape(n);
      if (!shape.ok()) break;
      uint64_t count = 1;
      for (uint64_t d : *shape) count *= d;
      ws.push_back({n, count});
    }
    if (ws.size() == names->size()) out[layer] = std::move(ws);
  }
}

// Full model files keep the weights under model_weights, save_weights files at the root.
FileWeights readWeightSizes(const h5::Group& root) {
  FileWeights out;
  if (!root.isGroup("model_weights")) {
    readLayerWeights(root, out);
  } else if (auto mw = root.group("model_weights"); mw.ok()) {
    readLayerWeights(mw.value(), out);
  }
  return out;
}

// Which node of a nested model's weight group owns a weight: the layer named by a path
// component ("block/d1/kernel:0", Keras 2 "d1/kernel:0"), else the layer whose name
// prefixes it (Keras 1 "dense_1_W"), else the group's first unsupported node.
int ownerOf(const std::string& weight, const keras::KerasGraph& g, const keras::WeightGroup& grp,
            const std::vector<OutlineNode>& nodes) {
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t slash = weight.find('/', start);
    parts.push_back(weight.substr(start, slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  for (size_t k = parts.size() - 1; k-- > 0;)
    for (int id : grp.nodes)
      if (g.nodes[static_cast<size_t>(id)].kerasName == parts[k]) return id;
  int best = -1;
  size_t bestLen = 0;
  for (int id : grp.nodes) {
    const std::string& n = g.nodes[static_cast<size_t>(id)].kerasName;
    if (n.size() > bestLen && weight.rfind(n + "_", 0) == 0) best = id, bestLen = n.size();
  }
  if (best >= 0) return best;
  for (int id : grp.nodes)
    if (!nodes[static_cast<size_t>(id)].supported) return id;
  return grp.nodes.front();
}

// One node per graph node: the engine layer built where the graph allows it.
ModelOutline outlineGraph(const keras::KerasGraph& g, const FileWeights& file) {
  ModelOutline o;
  o.name = g.name;
  o.inputs = g.inputs;
  o.outputs = g.outputs;
  o.warnings = g.warnings;
  for (const keras::GraphNode& n : g.nodes) {
    OutlineNode on{n.name, n.className, n.inputs, std::nullopt, 0, n.trainable, n.problem.empty(), n.problem};
    if (on.supported) {
      auto layer = layerFromKeras(n.className, n.config, n.name, &o.warnings);
      if (!layer.ok()) {
        on.supported = false;
        on.reason = layer.error().message;
      } else if (n.isInput) {
        on.outputShape = static_cast<const InputLayer&>(**layer).shape();
      } else {
        std::vector<Shape> in;
        for (int p : n.inputs)
          if (const auto& s = o.nodes[static_cast<size_t>(p)].outputShape) in.push_back(*s);
        const int arity = (*layer)->arity();
        if (in.size() == n.inputs.size() && (arity < 0 ? in.size() >= 2 : static_cast<int>(in.size()) == arity)) {
          auto s = (*layer)->build(in);
          if (s.ok()) {
            on.outputShape = s.value();
            for (const Param* p : std::as_const(**layer).params()) on.params += p->value.size();
          } else {
            on.supported = false;
            on.reason = s.error().message;
          }
        } else if (in.size() == n.inputs.size()) {
          on.supported = false;
          on.reason = "Layer '" + n.name + "' (" + n.className + ") is connected to " +
                      std::to_string(in.size()) + " input(s), which it cannot take";
        }
      }
    }
    o.nodes.push_back(std::move(on));
  }
  // Parameter counts from the file where it has the layer's weights.
  for (const keras::WeightGroup& grp : g.groups) {
    auto it = file.find(grp.name);
    if (it == file.end() || grp.nodes.empty()) continue;
    for (int id : grp.nodes) o.nodes[static_cast<size_t>(id)].params = 0;
    for (const FileWeight& w : it->second) {
      const int id = grp.nodes.size() == 1 ? grp.nodes.front() : ownerOf(w.name, g, grp, o.nodes);
      o.nodes[static_cast<size_t>(id)].params += w.count;
    }
  }
  return o;
}

Expected<ModelOutline> outlineImpl(const std::string& h5Path, const std::string& jsonPath) {
  QAT_TRY(keras::checkNotZipArchive(h5Path));
  auto file = h5::File::openRead(h5Path);
  if (!file.ok()) return file.error();
  auto root = file->root();
  if (!root.ok()) return root.error();
  auto architecture = keras::readArchitecture(root.value(), h5Path, jsonPath);
  if (!architecture.ok()) return architecture.error();
  auto graph = keras::parseModelConfig(architecture.value(), keras::GraphMode::Outline);
  if (!graph.ok()) return makeError(h5Path + ": " + graph.error().message);
  ModelOutline o = outlineGraph(graph.value(), readWeightSizes(root.value()));
  for (std::string& w : o.warnings) w = h5Path + ": " + w;
  return o;
}

Expected<ModelOutline> outlineGuarded(const std::string& h5Path, const std::string& jsonPath) {
  try {
    return outlineImpl(h5Path, jsonPath);
  } catch (const std::bad_alloc&) {
    return makeError(h5Path + ": out of memory while reading the model (damaged file?)");
  } catch (const std::length_error&) {
    return makeError(h5Path + ": a size in the file is too large (damaged file?)");
  } catch (const nlohmann::json::exception& e) {
    return makeError(h5Path + ": malformed model config: " + e.what());
  }
}

}  // namespace

bool ModelOutline::allSupported() const {
  for (const OutlineNode& n : nodes)
    if (!n.supported) return false;
  return true;
}

uint64_t ModelOutline::paramCount() const {
  uint64_t total = 0;
  for (const OutlineNode& n : nodes) total += n.params;
  return total;
}

std::vector<std::string> ModelOutline::problems() const {
  std::vector<std::string> out;
  for (const OutlineNode& n : nodes)
    if (!n.supported) out.push_back(n.reason);
  return out;
}

Expected<ModelOutline> outlineKerasFile(const std::string& h5Path, const std::string& architectureJsonPath) {
  // As loadKerasFile: the read runs in a child first, so a damaged file cannot crash us.
  Status probe = runIsolated(
      [&]() -> Status {
        auto r = outlineGuarded(h5Path, architectureJsonPath);
        return r.ok() ? Status() : Status(r.error());
      },
      h5Path);
  if (!probe.ok()) return probe.error();
  return outlineGuarded(h5Path, architectureJsonPath);
}

ModelOutline outlineOf(const Model& model) {
  ModelOutline o;
  o.name = model.name;
  o.inputs = model.inputs();
  o.outputs = model.outputs();
  for (int i = 0; i < model.size(); ++i) {
    const Node& n = model.node(i);
    uint64_t params = 0;
    for (const Param* p : std::as_const(*n.layer).params()) params += p->value.size();
    std::optional<Shape> shape;
    if (n.shape.rank() > 0) shape = n.shape;
    o.nodes.push_back(OutlineNode{n.layer->name(), std::string(opTypeName(n.layer->op())), n.inputs, shape, params,
                                  n.layer->trainable(), true, {}});
  }
  return o;
}

}  // namespace qat
