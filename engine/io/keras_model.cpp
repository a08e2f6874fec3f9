#include "engine/io/keras_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "engine/data/file_io.h"
#include "engine/io/hdf5_util.h"
#include "engine/io/keras_file_internal.h"
#include "engine/io/keras_graph.h"
#include "engine/io/keras_layers.h"
#include "engine/io/process_guard.h"
#include "engine/layers/input_layer.h"

namespace qat {
namespace {

using keras::Json;

constexpr const char* kWriteKerasVersion = "2.13.1";
constexpr const char* kWriteBackend = "tensorflow";

Error inFile(const std::string& file, const Error& e) { return makeError(file + ": " + e.message); }

std::string describe(const keras::WeightGroup& g) { return "Layer '" + g.name + "' (" + g.className + ")"; }

std::string dimsStr(const std::vector<uint64_t>& d) {
  std::string s = "(";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + (d.size() == 1 ? ",)" : ")");
}

std::vector<uint64_t> dimsOf(const Shape& s) { return {s.dims().begin(), s.dims().end()}; }

Expected<std::string> optionalStringAttr(const h5::Group& g, const std::string& name) {
  if (!g.hasAttr(name)) return std::string();
  return g.stringAttr(name);
}

// The parameters a weight group holds, in the order Keras writes them: `layer.weights`
// is trainable_weights + non_trainable_weights, and for a nested model each list runs
// over its layers in order. For a single trainable layer this is its params() order
// (BatchNorm: gamma, beta, moving_mean, moving_variance); a frozen layer keeps it too.
std::vector<Param*> kerasWeightOrder(Model& m, const keras::KerasGraph& g, const keras::WeightGroup& grp) {
  std::vector<Param*> trainable, frozen;
  for (int id : grp.nodes)
    for (Param* p : m.node(id).layer->params())
      (p->trainable && g.nodes[static_cast<size_t>(id)].trainable ? trainable : frozen).push_back(p);
  trainable.insert(trainable.end(), frozen.begin(), frozen.end());
  return trainable;
}

Status loadWeights(const h5::File& file, const keras::KerasGraph& g, Model& m) {
  auto root = file.root();
  if (!root.ok()) return root.error();
  // Full model files keep weights under model_weights; save_weights files at the root.
  std::optional<h5::Group> sub;
  if (root->isGroup("model_weights")) {
    auto mw = root->group("model_weights");
    if (!mw.ok()) return mw.error();
    sub.emplace(std::move(mw.value()));
  }
  const h5::Group& w = sub ? *sub : root.value();
  if (!w.hasAttr("layer_names") && !w.hasAttr("layer_names0"))
    return w.error("no 'layer_names' attribute, so this file holds no Keras weights");
  auto layerNames = w.stringListAttr("layer_names");
  if (!layerNames.ok()) return layerNames.error();
  const std::set<std::string> inFileLayers(layerNames->begin(), layerNames->end());
  for (const keras::WeightGroup& grp : g.groups) {
    const std::vector<Param*> params = kerasWeightOrder(m, g, grp);
    const bool present = inFileLayers.count(grp.name) && w.isGroup(grp.name);
    if (!present) {
      if (params.empty()) continue;
      return makeError(file.path() + ": " + describe(grp) + " has no weights in the file (no group '" +
                       grp.name + "' listed in " + w.path() + " layer_names). Was the architecture JSON "
                       "saved from the same model as these weights?");
    }
    // HDF5 errors below already name the file and object; put the layer in front.
    auto inLayer = [&](const Error& e) {
      std::string m = e.message;
      if (m.rfind(file.path() + ": ", 0) == 0) m.erase(0, file.path().size() + 2);
      return makeError(file.path() + ": " + describe(grp) + ": " + m);
    };
    auto lg = w.group(grp.name);
    if (!lg.ok()) return inLayer(lg.error());
    auto names = lg->stringListAttr("weight_names");
    if (!names.ok()) return inLayer(names.error());
    if (names->size() != params.size()) {
      std::string need, have;
      for (const Param* p : params) need += (need.empty() ? "" : ", ") + p->name;
      for (const std::string& n : *names) have += (have.empty() ? "" : ", ") + n;
      return makeError(file.path() + ": " + describe(grp) + ": the file has " + std::to_string(names->size()) +
                       " weight(s) (" + (have.empty() ? "none" : have) + ") but the layer needs " +
                       std::to_string(params.size()) + " (" + (need.empty() ? "none" : need) +
                       "). Was the architecture saved from the same model as these weights?");
    }
    for (size_t k = 0; k < params.size(); ++k) {
      Param& p = *params[k];
      const std::string& wn = (*names)[k];
      auto shape = lg->datasetShape(wn);
      if (!shape.ok()) return inLayer(shape.error());
      if (shape.value() != dimsOf(p.value.shape()))
        return makeError(file.path() + ": " + describe(grp) + ": weight '" + wn + "' has shape " +
                         dimsStr(shape.value()) + " in the file but the layer's " + p.name + " needs " +
                         dimsStr(dimsOf(p.value.shape())) + ". Was the architecture saved from the same "
                         "model as these weights?");
      if (Status st = lg->readFloats(wn, p.value.data(), p.value.size()); !st.ok()) return inLayer(st.error());
      for (size_t i = 0; i < p.value.size(); ++i)
        if (!std::isfinite(p.value[i]))
          return makeError(file.path() + ": " + describe(grp) + ": weight '" + wn +
                           "' contains NaN or infinite values (damaged file, or a diverged training run)");
    }
  }
  // Weights for a layer the architecture does not have: the two do not belong together.
  std::set<std::string> inGraph;
  for (const keras::WeightGroup& grp : g.groups) inGraph.insert(grp.name);
  for (const std::string& name : *layerNames) {
    if (inGraph.count(name) || !w.isGroup(name)) continue;
    auto lg = w.group(name);
    if (!lg.ok()) return lg.error();
    auto names = lg->stringListAttr("weight_names");
    if (names.ok() && !names->empty())
      return makeError(file.path() + ": the file has weights for a layer '" + name + "' that the architecture "
                       "does not contain. Was the architecture saved from the same model as these weights?");
  }

  return {};
}

// Theano convolves (kernel flipped), TensorFlow correlates: Keras 2 flips the spatial
// axes of Conv2D kernels (kh, kw, in, out) from Theano-backend files on load.
void convertTheanoKernels(Model& m) {
  for (int i = 0; i < m.size(); ++i) {
    Layer& l = *m.node(i).layer;
    if (l.op() != OpType::Conv2D) continue;
    Tensor& k = l.params()[0]->value;
    const int kh = k.dim(0), kw = k.dim(1);
    const size_t inner = k.size() / (size_t(kh) * size_t(kw));
    Tensor flipped(k.shape());
    for (int h = 0; h < kh; ++h)
      for (int w = 0; w < kw; ++w)
        std::copy_n(k.data() + (size_t(h) * kw + w) * inner, inner,
                    flipped.data() + (size_t(kh - 1 - h) * kw + (kw - 1 - w)) * inner);
    k = std::move(flipped);
  }
}

// Builds the engine model from the flattened Keras graph.
Status buildModel(const keras::KerasGraph& g, Model& m, std::vector<std::string>& warnings) {
  m.name = g.name;
  for (const keras::GraphNode& n : g.nodes) {
    auto layer = layerFromKeras(n.className, n.config, n.name, &warnings);
    if (!layer.ok()) return layer.error();
    layer.value()->setTrainable(n.trainable);  // includes trainable=false of enclosing models
    if (n.isInput) {
      const auto* in = dynamic_cast<const InputLayer*>(layer->get());
      QAT_ASSERT(in != nullptr);
      m.addInput(n.name, in->shape());
    } else {
      m.add(std::move(layer.value()), n.inputs);
    }
  }
  m.setOutputs(g.outputs);
  return m.build();
}

// Reads the model from an open file (on disk or an in-memory image); messages name
// file.path().
Expected<KerasFile> readImpl(const h5::File& file, const std::string& jsonPath) {
  const std::string& h5Path = file.path();
  auto root = file.root();
  if (!root.ok()) return root.error();
  KerasFile out;
  auto version = optionalStringAttr(*root, "keras_version");
  if (!version.ok()) return version.error();
  auto backend = optionalStringAttr(*root, "backend");
  if (!backend.ok()) return backend.error();
  out.kerasVersion = version.value();
  out.backend = backend.value();

  auto architecture = keras::readArchitecture(root.value(), h5Path, jsonPath);
  if (!architecture.ok()) return architecture.error();
  const Json& model = architecture.value();
  if (out.kerasVersion.empty() && model.contains("keras_version") && model["keras_version"].is_string())
    out.kerasVersion = model["keras_version"].get<std::string>();
  if (out.backend.empty() && model.contains("backend") && model["backend"].is_string())
    out.backend = model["backend"].get<std::string>();

  auto graph = keras::parseModelConfig(model);
  if (!graph.ok()) return inFile(h5Path, graph.error());
  out.warnings = graph->warnings;
  if (Status s = buildModel(graph.value(), out.model, out.warnings); !s.ok()) return inFile(h5Path, s.error());
  QAT_TRY(loadWeights(file, graph.value(), out.model));
  if (out.backend == "theano") {
    convertTheanoKernels(out.model);
    out.warnings.push_back("saved with the Theano backend: Conv2D kernels were flipped to TensorFlow's "
                           "orientation, as Keras does when loading such a file");
  }

  if (root->hasAttr("training_config")) {
    auto tc = root->stringAttr("training_config");
    auto info = tc.ok() ? parseKerasTrainingConfig(tc.value()) : Expected<TrainingConfigInfo>(tc.error());
    if (info.ok()) out.training = std::move(info.value());
    else out.warnings.push_back("training_config ignored: " + info.error().message);
  }
  for (std::string& w : out.warnings) w = h5Path + ": " + w;
  return out;
}

Expected<KerasFile> loadImpl(const std::string& h5Path, const std::string& jsonPath) {
  QAT_TRY(keras::checkNotZipArchive(h5Path));
  auto file = h5::File::openRead(h5Path);
  if (!file.ok()) return file.error();
  return readImpl(file.value(), jsonPath);
}

Status writeContents(const h5::File& f, const Model& m, const Json& config, bool sequential) {
  auto root = f.root();
  if (!root.ok()) return root.error();
  QAT_TRY(root->writeStringAttr("backend", kWriteBackend));
  QAT_TRY(root->writeStringAttr("keras_version", kWriteKerasVersion));
  QAT_TRY(root->writeStringAttr("model_config", config.dump()));
  auto mw = root->createGroup("model_weights");
  if (!mw.ok()) return mw.error();
  // tf.keras' Sequential.layers leaves out its InputLayer; a Functional model lists it.
  std::vector<std::string> layerNames;
  for (int i = sequential ? 1 : 0; i < m.size(); ++i) layerNames.push_back(m.node(i).layer->name());
  QAT_TRY(mw->writeStringAttr("backend", kWriteBackend));
  QAT_TRY(mw->writeStringAttr("keras_version", kWriteKerasVersion));
  QAT_TRY(mw->writeStringListAttr("layer_names", layerNames));
  for (int i = sequential ? 1 : 0; i < m.size(); ++i) {
    const Layer& layer = *m.node(i).layer;
    auto lg = mw->createGroup(layer.name());
    if (!lg.ok()) return lg.error();
    const std::vector<const Param*> params = layer.params();
    std::vector<std::string> names;
    for (const Param* p : params) names.push_back(layer.name() + "/" + p->name + ":0");
    QAT_TRY(lg->writeStringListAttr("weight_names", names));
    for (size_t k = 0; k < params.size(); ++k)
      QAT_TRY(lg->writeFloats(names[k], dimsOf(params[k]->value.shape()), params[k]->value.data()));
  }
  return {};
}

// Runs `read`, turning the exceptions a damaged file can cause into Errors naming h5Path.
template <class Read>
Expected<KerasFile> guarded(const std::string& h5Path, Read&& read) {
  try {
    return read();
  } catch (const std::bad_alloc&) {
    return makeError(h5Path + ": out of memory while loading the model (damaged file or a model too large)");
  } catch (const std::length_error&) {
    return makeError(h5Path + ": a size in the file is too large (damaged file?)");
  } catch (const nlohmann::json::exception& e) {
    return makeError(h5Path + ": malformed model config: " + e.what());
  }
}

Expected<KerasFile> loadGuarded(const std::string& h5Path, const std::string& architectureJsonPath) {
  return guarded(h5Path, [&] { return loadImpl(h5Path, architectureJsonPath); });
}

// Checks that `model` can be written as a Keras file; returns its model_config.
Expected<Json> kerasConfigForSave(const Model& model) {
  if (model.size() == 0) return makeError("the model is empty");
  std::set<std::string> names;
  for (int i = 0; i < model.size(); ++i) {
    const Layer& l = *model.node(i).layer;
    if (l.name().empty() || l.name().find('/') != std::string::npos || l.name() == "." || l.name() == "..")
      return makeError("layer name '" + l.name() + "' cannot be a Keras/HDF5 name (empty or contains '/')");
    if (!names.insert(l.name()).second) return makeError("two layers are named '" + l.name() + "'");
    if (model.node(i).shape.rank() == 0) return makeError("the model is not built (call Model::build first)");
  }
  return keras::modelConfigFor(model);
}

}  // namespace

namespace keras {

Status checkNotZipArchive(const std::string& path) {
  // Keras 3's native .keras format is a zip archive (config.json + model.weights.h5).
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {0, 0, 0, 0};
  in.read(magic, 4);
  if (in.gcount() == 4 && std::memcmp(magic, "PK\x03\x04", 4) == 0)
    return makeError(path + ": this is a Keras 3 '.keras' archive (zip), not an HDF5 model. Save the model in "
                            "the HDF5 format instead: model.save('model.h5').");
  return {};
}

Expected<Json> readArchitecture(const h5::Group& root, const std::string& h5Path, const std::string& jsonPath) {
  std::string configText;
  if (!jsonPath.empty()) {
    auto bytes = readFileBytes(jsonPath);
    if (!bytes.ok()) return bytes.error();
    configText.assign(bytes->begin(), bytes->end());
  } else if (root.hasAttr("model_config")) {
    auto mc = root.stringAttr("model_config");
    if (!mc.ok()) return mc.error();
    configText = std::move(mc.value());
  } else if (root.hasAttr("layer_names") || root.hasAttr("layer_names0")) {
    return makeError(h5Path + ": this file holds only weights (saved with model.save_weights), not the model "
                              "architecture. Save the architecture in Keras with "
                              "open('model.json', 'w').write(model.to_json()) and pass it along with the "
                              "weights (qat-cli: --architecture model.json; QAT Studio asks for the file).");
  } else if (root.exists("layers") || root.exists("vars")) {
    return makeError(h5Path + ": this looks like a Keras 3 weights file (.weights.h5), which holds no "
                              "architecture. Save the whole model in Keras with model.save('model.h5').");
  } else {
    return makeError(h5Path + ": an HDF5 file, but not a Keras model (no 'model_config' attribute). Save the "
                              "model in Keras with model.save('model.h5').");
  }
  const std::string configSource = jsonPath.empty() ? h5Path + ": model_config" : jsonPath;
  Json model = Json::parse(configText, nullptr, false);
  if (model.is_discarded() || !model.is_object())
    return makeError(configSource + " is not valid JSON (expected what model.to_json() writes)");
  return model;
}

}  // namespace keras

Expected<KerasFile> loadKerasFile(const std::string& h5Path, const std::string& architectureJsonPath) {
  // A damaged file can crash libhdf5 itself (see process_guard.h): read it once in a
  // child process first; the in-process read below then repeats a read known to finish.
  Status probe = runIsolated(
      [&]() -> Status {
        auto r = loadGuarded(h5Path, architectureJsonPath);
        return r.ok() ? Status() : Status(r.error());
      },
      h5Path);
  if (!probe.ok()) return probe.error();
  return loadGuarded(h5Path, architectureJsonPath);
}

KerasFileKind kerasFileKind(const std::string& h5Path) {
  if (!keras::checkNotZipArchive(h5Path).ok()) return KerasFileKind::Other;
  // Attribute look-ups only, but on a file nobody has checked yet: in a child first
  // (process_guard.h), then again here.
  auto kind = [&]() -> KerasFileKind {
    auto file = h5::File::openRead(h5Path);
    if (!file.ok()) return KerasFileKind::Other;
    auto root = file->root();
    if (!root.ok()) return KerasFileKind::Other;
    if (root->hasAttr("model_config")) return KerasFileKind::FullModel;
    if (root->hasAttr("layer_names") || root->hasAttr("layer_names0")) return KerasFileKind::WeightsOnly;
    return KerasFileKind::Other;
  };
  Status probe = runIsolated([&]() -> Status { return kind() == KerasFileKind::Other ? makeError("") : Status(); },
                             h5Path);
  return probe.ok() ? kind() : KerasFileKind::Other;
}

Expected<Model> loadKerasModel(const std::string& h5Path, const std::string& architectureJsonPath) {
  auto f = loadKerasFile(h5Path, architectureJsonPath);
  if (!f.ok()) return f.error();
  return std::move(f.value().model);
}

Expected<KerasFile> readKerasFile(const h5::File& file, const std::string& architectureJsonPath) {
  return guarded(file.path(), [&] { return readImpl(file, architectureJsonPath); });
}

Status writeKerasModel(const Model& model, const h5::File& file) {
  auto config = kerasConfigForSave(model);
  if (!config.ok()) return config.error();
  return writeContents(file, model, config.value(), config.value()["class_name"] == "Sequential");
}

Status saveKerasModel(const Model& model, const std::string& h5Path) {
  const std::string head = "Cannot save '" + h5Path + "': ";
  // Checked before a temporary file is made.
  if (auto config = kerasConfigForSave(model); !config.ok()) return makeError(head + config.error().message);
  const std::string tmp = temporaryPathNextTo(h5Path);
  auto fail = [&](const Error& e) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    return makeError(head + e.message);
  };
  {
    auto f = h5::File::create(tmp);
    if (!f.ok()) return fail(f.error());
    if (Status s = writeKerasModel(model, f.value()); !s.ok()) return fail(s.error());
    if (Status s = f->close(); !s.ok()) return fail(s.error());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, h5Path, ec);
  if (ec) return fail(makeError("cannot move the written file into place: " + ec.message()));
  return {};
}

}  // namespace qat
