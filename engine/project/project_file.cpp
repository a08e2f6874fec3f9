// The .qatproj file (layout in project.h): built as an HDF5 file in memory, then written
// with writeFileAtomic (temporary file next to the target, renamed over it), so a failed
// save never touches the last saved project. Loading reads the file on disk, first in a
// child process (process_guard.h), then here.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "engine/data/file_io.h"
#include "engine/io/hdf5_util.h"
#include "engine/io/keras_model.h"
#include "engine/io/process_guard.h"
#include "engine/project/project.h"

namespace qat::project {
namespace {

using Json = nlohmann::json;

constexpr const char* kVersionAttr = "qat_project_version";
constexpr const char* kProjectAttr = "project";
constexpr const char* kRunAttr = "run";
constexpr const char* kModelDataset = "model";
constexpr const char* kRunsGroup = "runs";

// ---------------------------------------------------------------- JSON

// JSON has no NaN/Inf: a non-finite metric is stored as null and read back as NaN.
Json number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

// Reads obj[key] as T; errors name `where` and the field.
template <class T>
Status field(const Json& obj, const char* key, T& out, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) return makeError(where + ": the field '" + key + "' is missing");
  try {
    if constexpr (std::is_same_v<T, double>) {
      if (it->is_null()) {
        out = std::nan("");
        return {};
      }
    }
    out = it->template get<T>();
  } catch (const Json::exception&) {
    return makeError(where + ": the field '" + key + "' has the wrong type (" + it->type_name() + ")");
  }
  return {};
}

Json toJson(const RunMetrics& m) {
  return {{"float_accuracy", number(m.floatAccuracy)},
          {"fake_quant_accuracy", number(m.fakeQuantAccuracy)},
          {"integer_accuracy", number(m.integerAccuracy)},
          {"loss", number(m.loss)},
          {"samples", m.samples},
          {"integer_error", m.integerError},
          {"weight_bytes", m.weightBytes},
          {"float_weight_bytes", m.floatWeightBytes}};
}

Status fromJson(const Json& j, RunMetrics& m, const std::string& where) {
  if (!j.is_object()) return makeError(where + ": 'metrics' is not an object");
  QAT_TRY(field(j, "float_accuracy", m.floatAccuracy, where));
  QAT_TRY(field(j, "fake_quant_accuracy", m.fakeQuantAccuracy, where));
  QAT_TRY(field(j, "integer_accuracy", m.integerAccuracy, where));
  QAT_TRY(field(j, "loss", m.loss, where));
  QAT_TRY(field(j, "samples", m.samples, where));
  QAT_TRY(field(j, "integer_error", m.integerError, where));
  QAT_TRY(field(j, "weight_bytes", m.weightBytes, where));
  return field(j, "float_weight_bytes", m.floatWeightBytes, where);
}

Json runToJson(const Run& r) {
  Json errors = Json::array();
  for (const LayerError& e : r.layerErrors) errors.push_back({{"layer", e.layer}, {"sqnr_db", number(e.sqnrDb)}});
  return {{"id", r.id},
          {"name", r.name},
          {"kind", runKindName(r.kind)},
          {"created", r.created},
          {"config", quant::toJson(r.config)},
          {"settings", r.settings},
          {"history", r.history},
          {"metrics", toJson(r.metrics)},
          {"layer_errors", errors},
          {"confusion", {{"classes", r.confusion.classes}, {"counts", r.confusion.counts}}}};
}

Status runFromJson(const Json& j, Run& r, const std::string& where) {
  if (!j.is_object()) return makeError(where + ": the run description is not a JSON object");
  QAT_TRY(field(j, "id", r.id, where));
  QAT_TRY(field(j, "name", r.name, where));
  std::string kind;
  QAT_TRY(field(j, "kind", kind, where));
  auto k = runKindFromName(kind);
  if (!k) return makeError(where + ": unknown run kind '" + kind + "' (float, ptq or qat)");
  r.kind = *k;
  QAT_TRY(field(j, "created", r.created, where));
  if (!j.contains("config")) return makeError(where + ": the field 'config' is missing");
  auto config = quant::quantizeConfigFromJson(j["config"]);
  if (!config.ok()) return makeError(where + ": config: " + config.error().message);
  r.config = std::move(config.value());
  QAT_TRY(field(j, "settings", r.settings, where));
  QAT_TRY(field(j, "history", r.history, where));
  if (!r.settings.is_object()) return makeError(where + ": 'settings' is not an object");
  if (!r.history.is_array()) return makeError(where + ": 'history' is not an array");
  if (!j.contains("metrics")) return makeError(where + ": the field 'metrics' is missing");
  QAT_TRY(fromJson(j["metrics"], r.metrics, where + ": metrics"));
  Json errors;
  QAT_TRY(field(j, "layer_errors", errors, where));
  if (!errors.is_array()) return makeError(where + ": 'layer_errors' is not an array");
  for (const Json& e : errors) {
    LayerError le;
    if (!e.is_object()) return makeError(where + ": a layer error is not an object");
    QAT_TRY(field(e, "layer", le.layer, where + ": layer_errors"));
    QAT_TRY(field(e, "sqnr_db", le.sqnrDb, where + ": layer_errors"));
    r.layerErrors.push_back(std::move(le));
  }
  Json confusion;
  QAT_TRY(field(j, "confusion", confusion, where));
  if (!confusion.is_object()) return makeError(where + ": 'confusion' is not an object");
  QAT_TRY(field(confusion, "classes", r.confusion.classes, where + ": confusion"));
  QAT_TRY(field(confusion, "counts", r.confusion.counts, where + ": confusion"));
  const size_t c = r.confusion.classes < 0 ? 1 : static_cast<size_t>(r.confusion.classes);
  if (r.confusion.classes < 0 || r.confusion.counts.size() != c * c)
    return makeError(where + ": the confusion matrix has " + std::to_string(r.confusion.counts.size()) +
                     " counts for " + std::to_string(r.confusion.classes) + " classes");
  return {};
}

Json projectToJson(const Project& p) {
  Json runIds = Json::array();
  for (const Run& r : p.runs) runIds.push_back(r.id);
  return {{"model_source", p.modelSource},
          {"model_name", p.modelName},
          {"config", quant::toJson(p.config)},
          {"data",
           {{"kind", p.data.kind},
            {"train_path", p.data.trainPath},
            {"test_path", p.data.testPath},
            {"options", p.data.options}}},
          {"ui_state", p.uiState},
          {"next_run_id", p.nextRunId},
          {"runs", runIds}};
}

// Everything but the model and the runs; returns the run ids in project order.
Expected<std::vector<int>> projectFromJson(const Json& j, Project& p, const std::string& where) {
  if (!j.is_object()) return makeError(where + ": not a JSON object");
  QAT_TRY(field(j, "model_source", p.modelSource, where));
  QAT_TRY(field(j, "model_name", p.modelName, where));
  if (!j.contains("config")) return makeError(where + ": the field 'config' is missing");
  auto config = quant::quantizeConfigFromJson(j["config"]);
  if (!config.ok()) return makeError(where + ": config: " + config.error().message);
  p.config = std::move(config.value());
  Json data;
  QAT_TRY(field(j, "data", data, where));
  if (!data.is_object()) return makeError(where + ": 'data' is not an object");
  QAT_TRY(field(data, "kind", p.data.kind, where + ": data"));
  QAT_TRY(field(data, "train_path", p.data.trainPath, where + ": data"));
  QAT_TRY(field(data, "test_path", p.data.testPath, where + ": data"));
  QAT_TRY(field(data, "options", p.data.options, where + ": data"));
  QAT_TRY(field(j, "ui_state", p.uiState, where));
  QAT_TRY(field(j, "next_run_id", p.nextRunId, where));
  std::vector<int> ids;
  QAT_TRY(field(j, "runs", ids, where));
  return ids;
}

// ---------------------------------------------------------------- HDF5

Status writeProject(const Project& p, const h5::File& f) {
  auto root = f.root();
  if (!root.ok()) return root.error();
  QAT_TRY(root->writeStringAttr(kVersionAttr, std::to_string(kProjectVersion)));
  QAT_TRY(root->writeStringAttr(kProjectAttr, projectToJson(p).dump()));
  auto model = kerasModelImage(p.model);
  if (!model.ok()) return model.error();
  QAT_TRY(root->writeBytes(kModelDataset, model.value()));
  auto runs = root->createGroup(kRunsGroup);
  if (!runs.ok()) return runs.error();
  std::set<int> seen;
  for (const Run& r : p.runs) {
    if (!seen.insert(r.id).second) return makeError("two runs have the id " + std::to_string(r.id));
    auto g = runs->createGroup(std::to_string(r.id));
    if (!g.ok()) return g.error();
    QAT_TRY(g->writeStringAttr(kRunAttr, runToJson(r).dump()));
    QAT_TRY(g->writeBytes(kModelDataset, r.modelImage));
  }
  return {};
}

// A uint8 dataset holding a file image; its size is checked against the file's before
// anything is allocated (the images are stored uncompressed, so they fit in the file).
Expected<std::vector<uint8_t>> readImage(const h5::Group& g, uint64_t fileSize) {
  auto shape = g.datasetShape(kModelDataset);
  if (!shape.ok()) return shape.error();
  if (shape->size() != 1) return g.error("the model image is not a 1-D byte array", kModelDataset);
  if (shape->front() > fileSize)
    return g.error("the model image claims " + std::to_string(shape->front()) + " bytes, more than the file holds",
                   kModelDataset);
  std::vector<uint8_t> bytes(static_cast<size_t>(shape->front()));
  QAT_TRY(g.readBytes(kModelDataset, bytes.data(), bytes.size()));
  return bytes;
}

// The HDF5 signature at one of the offsets HDF5 allows (0, 512, 1024, ...).
bool hasHdf5Signature(const std::string& path, uint64_t size) {
  static constexpr char kSignature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  std::ifstream in(path, std::ios::binary);
  for (uint64_t offset = 0; offset + 8 <= size; offset = offset == 0 ? 512 : offset * 2) {
    char buf[8] = {};
    in.seekg(static_cast<std::streamoff>(offset));
    if (!in.read(buf, 8)) return false;
    if (std::memcmp(buf, kSignature, 8) == 0) return true;
  }
  return false;
}

Expected<Project> readProject(const std::string& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) return makeError(path + ": file not found");
  if (!std::filesystem::is_regular_file(st)) return makeError(path + ": not a regular file");
  const uint64_t fileSize = std::filesystem::file_size(path, ec);
  if (ec) return makeError(path + ": cannot read the file size (" + ec.message() + ")");
  if (fileSize == 0) return makeError(path + ": the file is empty (0 bytes), not a QAT Studio project");
  if (!hasHdf5Signature(path, fileSize)) return makeError(path + ": not a QAT Studio project (not an HDF5 file)");

  auto file = h5::File::openRead(path);
  if (!file.ok()) return file.error();
  auto root = file->root();
  if (!root.ok()) return root.error();
  if (!root->hasAttr(kVersionAttr)) {
    if (root->hasAttr("qat_quantize_config"))
      return makeError(path + ": not a QAT Studio project but a QAT checkpoint; open it as a model instead");
    if (root->hasAttr("model_config"))
      return makeError(path + ": not a QAT Studio project but a Keras model; open it as a model instead");
    return makeError(path + ": not a QAT Studio project (an HDF5 file without a '" + kVersionAttr + "' attribute)");
  }
  auto versionText = root->stringAttr(kVersionAttr);
  if (!versionText.ok()) return versionText.error();
  int version = 0;
  try {
    size_t used = 0;
    version = std::stoi(versionText.value(), &used);
    if (used != versionText->size()) version = 0;
  } catch (const std::exception&) {
    version = 0;
  }
  if (version <= 0) return makeError(path + ": damaged project: the format version '" + *versionText + "' is not a number");
  if (version > kProjectVersion)
    return makeError(path + " was written by a newer QAT Studio (project format version " + std::to_string(version) +
                     "; this version reads up to " + std::to_string(kProjectVersion) +
                     "). Update QAT Studio to open it.");

  Project p;
  auto text = root->stringAttr(kProjectAttr);
  if (!text.ok()) return makeError(path + ": damaged project: " + text.error().message);
  const Json pj = Json::parse(text.value(), nullptr, false);
  if (pj.is_discarded()) return makeError(path + ": damaged project: its description is not valid JSON");
  auto ids = projectFromJson(pj, p, path + ": damaged project");
  if (!ids.ok()) return ids.error();

  {
    auto image = readImage(root.value(), fileSize);
    if (!image.ok()) return makeError(path + ": the project's model is damaged: " + image.error().message);
    auto f = h5::File::openImage(image.value(), path + ": model");
    if (!f.ok()) return makeError(path + ": the project's model is damaged: " + f.error().message);
    auto k = readKerasFile(f.value());
    if (!k.ok()) return makeError(path + ": the project's model is damaged: " + k.error().message);
    p.model = std::move(k->model);
  }

  for (int id : ids.value()) {
    const std::string rel = std::string(kRunsGroup) + "/" + std::to_string(id);
    const std::string runName = "run " + std::to_string(id);
    if (!root->isGroup(rel)) return makeError(path + ": " + runName + " is missing (damaged file)");
    auto g = root->group(rel);
    if (!g.ok()) return makeError(path + ": " + runName + " is damaged: " + g.error().message);
    Run r;
    auto rt = g->stringAttr(kRunAttr);
    if (!rt.ok()) return makeError(path + ": " + runName + " is damaged: " + rt.error().message);
    const Json rj = Json::parse(rt.value(), nullptr, false);
    if (rj.is_discarded()) return makeError(path + ": " + runName + " is damaged: its description is not valid JSON");
    const std::string named = rj.is_object() && rj.contains("name") && rj["name"].is_string()
                                  ? runName + " ('" + rj["name"].get<std::string>() + "')"
                                  : runName;
    if (Status s = runFromJson(rj, r, path + ": " + named + " is damaged"); !s.ok()) return s.error();
    if (r.id != id)
      return makeError(path + ": " + named + " is damaged: it is stored as run " + std::to_string(id) +
                       " but says it is run " + std::to_string(r.id));
    auto image = readImage(g.value(), fileSize);
    if (!image.ok()) return makeError(path + ": " + named + " is damaged: " + image.error().message);
    r.modelImage = std::move(image.value());
    p.runs.push_back(std::move(r));
  }
  return p;
}

Expected<Project> readProjectGuarded(const std::string& path) {
  try {
    return readProject(path);
  } catch (const std::bad_alloc&) {
    return makeError(path + ": out of memory while loading the project (damaged file?)");
  } catch (const std::length_error&) {
    return makeError(path + ": a size in the file is too large (damaged file?)");
  }
}

}  // namespace

Status saveProject(const Project& project, const std::string& path) {
  const std::string head = "Cannot save the project '" + path + "': ";
  Expected<std::vector<uint8_t>> image = makeError("");
  {
    auto f = h5::File::createInMemory(path);
    if (!f.ok()) return makeError(head + f.error().message);
    if (Status s = writeProject(project, f.value()); !s.ok()) return makeError(head + s.error().message);
    image = f->image();
  }
  if (!image.ok()) return makeError(head + image.error().message);
  if (Status s = writeFileAtomic(path, image.value()); !s.ok())
    return makeError("Cannot save the project: " + s.error().message);
  return {};
}

Expected<Project> loadProject(const std::string& path) {
  Status probe = runIsolated(
      [&]() -> Status {
        auto p = readProjectGuarded(path);
        return p.ok() ? Status() : Status(p.error());
      },
      path);
  if (!probe.ok()) return probe.error();
  return readProjectGuarded(path);
}

bool isProjectFile(const std::string& path) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec || size == 0 || !hasHdf5Signature(path, size)) return false;
  auto f = h5::File::openRead(path);
  if (!f.ok()) return false;
  auto root = f->root();
  return root.ok() && root->hasAttr(kVersionAttr);
}

}  // namespace qat::project
