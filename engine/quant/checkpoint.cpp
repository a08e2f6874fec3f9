#include "engine/quant/checkpoint.h"

#include <filesystem>
#include <set>

#include "engine/data/file_io.h"
#include "engine/io/hdf5_util.h"
#include "engine/io/process_guard.h"

namespace qat::quant {
namespace {

constexpr const char* kVersionAttr = "qat_checkpoint_version";
constexpr const char* kConfigAttr = "qat_quantize_config";
constexpr const char* kStateGroup = "qat_state";

// Parameters of node `node` that are not float weights (no ParamLink): the state to store.
std::vector<int> stateParams(const QuantizedModel& q, int node) {
  std::set<int> linked;
  for (const ParamLink& l : q.links)
    if (l.node == node) linked.insert(l.param);
  std::vector<int> ids;
  const auto ps = std::as_const(*q.model.node(node).layer).params();
  for (int k = 0; k < static_cast<int>(ps.size()); ++k)
    if (!linked.count(k)) ids.push_back(k);
  return ids;
}

std::string datasetName(int index, const Param& p) { return std::to_string(index) + "_" + p.name; }

Status writeState(const h5::File& f, const QuantizedModel& q) {
  auto root = f.root();
  if (!root.ok()) return root.error();
  QAT_TRY(root->writeStringAttr(kVersionAttr, "1"));
  QAT_TRY(root->writeStringAttr(kConfigAttr, toJson(q.config).dump()));
  auto state = root->createGroup(kStateGroup);
  if (!state.ok()) return state.error();
  for (int i = 0; i < q.model.size(); ++i) {
    const std::vector<int> ids = stateParams(q, i);
    if (ids.empty()) continue;
    const Layer& layer = *q.model.node(i).layer;
    auto g = state->createGroup(layer.name());
    if (!g.ok()) return g.error();
    const auto ps = layer.params();
    for (int k : ids) {
      const Param& p = *ps[static_cast<size_t>(k)];
      const auto& d = p.value.shape().dims();
      std::vector<uint64_t> dims(d.begin(), d.end());
      if (dims.empty()) dims.push_back(1);
      QAT_TRY(g->writeFloats(datasetName(k, p), dims, p.value.data()));
    }
  }
  return {};
}

Status readState(const h5::File& f, QuantizedModel& q) {
  const std::string& path = f.path();
  auto root = f.root();
  if (!root.ok()) return root.error();
  if (!root->isGroup(kStateGroup))
    return makeError(path + ": the checkpoint has no '" + kStateGroup + "' group (damaged file?)");
  auto state = root->group(kStateGroup);
  if (!state.ok()) return state.error();
  for (int i = 0; i < q.model.size(); ++i) {
    const std::vector<int> ids = stateParams(q, i);
    if (ids.empty()) continue;
    Layer& layer = *q.model.node(i).layer;
    if (!state->isGroup(layer.name()))
      return makeError(path + ": no saved state for '" + layer.name() + "' (the checkpoint does not match its config)");
    auto g = state->group(layer.name());
    if (!g.ok()) return g.error();
    auto ps = layer.params();
    for (int k : ids) {
      Param& p = *ps[static_cast<size_t>(k)];
      const std::string name = datasetName(k, p);
      auto shape = g->datasetShape(name);
      if (!shape.ok()) return makeError(path + ": state '" + layer.name() + "/" + name + "': " + shape.error().message);
      uint64_t n = 1;
      for (uint64_t d : shape.value()) n *= d;
      if (n != p.value.size())
        return makeError(path + ": state '" + layer.name() + "/" + name + "' has " + std::to_string(n) +
                         " values, the model expects " + std::to_string(p.value.size()));
      QAT_TRY(g->readFloats(name, p.value.data(), n));
    }
  }
  return {};
}

}  // namespace

Status writeCheckpoint(const QuantizedModel& quantized, const Model& floatModel, const h5::File& file) {
  Model trained = floatModel.clone();
  QAT_TRY(copyFloatWeights(quantized, trained));
  QAT_TRY(writeKerasModel(trained, file));
  return writeState(file, quantized);
}

Status saveCheckpoint(const QuantizedModel& quantized, const Model& floatModel, const std::string& path) {
  const std::string head = "Cannot save the checkpoint '" + path + "': ";
  const std::string tmp = temporaryPathNextTo(path);
  auto fail = [&](const Error& e) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    return makeError(head + e.message);
  };
  {
    auto f = h5::File::create(tmp);
    if (!f.ok()) return fail(f.error());
    if (Status s = writeCheckpoint(quantized, floatModel, f.value()); !s.ok()) return fail(s.error());
    if (Status s = f->close(); !s.ok()) return fail(s.error());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return fail(makeError("cannot move the written file into place: " + ec.message()));
  return {};
}

bool isCheckpoint(const std::string& path) {
  auto f = h5::File::openRead(path);
  if (!f.ok()) return false;
  auto root = f->root();
  return root.ok() && root->hasAttr(kConfigAttr);
}

Expected<Checkpoint> readCheckpoint(const h5::File& file) {
  const std::string& path = file.path();
  std::string configText;
  {
    auto root = file.root();
    if (!root.ok()) return root.error();
    if (!root->hasAttr(kConfigAttr))
      return makeError(path + ": not a QAT checkpoint (no quantize config inside). If it is a Keras model, open "
                              "it as a model and quantize it.");
    auto text = root->stringAttr(kConfigAttr);
    if (!text.ok()) return text.error();
    configText = std::move(text.value());
  }
  const auto json = nlohmann::json::parse(configText, nullptr, false);
  if (json.is_discarded()) return makeError(path + ": the checkpoint's quantize config is not valid JSON");
  auto config = quantizeConfigFromJson(json);
  if (!config.ok()) return makeError(path + ": " + config.error().message);

  auto keras = readKerasFile(file);
  if (!keras.ok()) return keras.error();
  Checkpoint c;
  c.floatModel = std::move(keras->model);
  c.training = std::move(keras->training);
  c.warnings = std::move(keras->warnings);
  auto q = quantizeModel(c.floatModel, config.value());
  if (!q.ok()) return makeError(path + ": " + q.error().message);
  c.quantized = std::move(q.value());
  if (Status s = readState(file, c.quantized); !s.ok()) return s.error();
  return c;
}

Expected<Checkpoint> loadCheckpoint(const std::string& path) {
  auto read = [&]() -> Expected<Checkpoint> {
    auto f = h5::File::openRead(path);
    if (!f.ok()) return f.error();
    return readCheckpoint(f.value());
  };
  // A damaged file can crash libhdf5 itself (process_guard.h): the whole read runs in a
  // child first, then again here.
  Status probe = runIsolated(
      [&]() -> Status {
        auto c = read();
        return c.ok() ? Status() : Status(c.error());
      },
      path);
  if (!probe.ok()) return probe.error();
  return read();
}

}  // namespace qat::quant
