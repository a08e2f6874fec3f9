// Project bookkeeping (runs, ids) and the in-memory model images the project file holds.
// The file itself is read and written in project_file.cpp.
#include "engine/project/project.h"

#include <algorithm>
#include <chrono>
#include <ctime>

#include "engine/io/hdf5_util.h"
#include "engine/io/keras_model.h"
#include "engine/io/process_guard.h"

namespace qat::project {

std::string_view runKindName(RunKind k) {
  switch (k) {
    case RunKind::Float: return "float";
    case RunKind::PostTraining: return "ptq";
    case RunKind::Qat: return "qat";
  }
  return "qat";
}

std::optional<RunKind> runKindFromName(std::string_view name) {
  for (RunKind k : {RunKind::Float, RunKind::PostTraining, RunKind::Qat})
    if (runKindName(k) == name) return k;
  return std::nullopt;
}

Run& Project::addRun(Run run) {
  // Ids are never reused, also after a loaded project whose counter lags behind its runs.
  for (const Run& r : runs) nextRunId = std::max(nextRunId, r.id + 1);
  run.id = nextRunId++;
  if (run.name.empty()) run.name = std::string(runKindName(run.kind)) + " " + std::to_string(run.id);
  if (run.created.empty()) run.created = nowIso8601();
  runs.push_back(std::move(run));
  return runs.back();
}

Run* Project::findRun(int id) {
  auto it = std::find_if(runs.begin(), runs.end(), [id](const Run& r) { return r.id == id; });
  return it == runs.end() ? nullptr : &*it;
}

const Run* Project::findRun(int id) const { return const_cast<Project*>(this)->findRun(id); }

bool Project::removeRun(int id) {
  auto it = std::find_if(runs.begin(), runs.end(), [id](const Run& r) { return r.id == id; });
  if (it == runs.end()) return false;
  runs.erase(it);
  return true;
}

// ---------------------------------------------------------------- model images

namespace {

constexpr const char* kImageName = "model image";

// Reads an image in a child process first (a damaged HDF5 file can crash libhdf5 itself,
// see process_guard.h), then in this one.
template <class T, class Read>
Expected<T> readImageIsolated(const std::vector<uint8_t>& image, Read read) {
  auto once = [&]() -> Expected<T> {
    auto f = h5::File::openImage(image, kImageName);
    if (!f.ok()) return f.error();
    return read(f.value());
  };
  Status probe = runIsolated(
      [&]() -> Status {
        auto r = once();
        return r.ok() ? Status() : Status(r.error());
      },
      kImageName);
  if (!probe.ok()) return probe.error();
  return once();
}

}  // namespace

Expected<std::vector<uint8_t>> checkpointImage(const quant::QuantizedModel& quantized, const Model& floatModel) {
  auto f = h5::File::createInMemory(kImageName);
  if (!f.ok()) return f.error();
  if (Status s = quant::writeCheckpoint(quantized, floatModel, f.value()); !s.ok())
    return makeError("Cannot store the quantized model: " + s.error().message);
  return f->image();
}

Expected<std::vector<uint8_t>> kerasModelImage(const Model& model) {
  auto f = h5::File::createInMemory(kImageName);
  if (!f.ok()) return f.error();
  if (Status s = writeKerasModel(model, f.value()); !s.ok())
    return makeError("Cannot store the model: " + s.error().message);
  return f->image();
}

Expected<quant::Checkpoint> checkpointFromImage(const std::vector<uint8_t>& image) {
  return readImageIsolated<quant::Checkpoint>(image, [](const h5::File& f) { return quant::readCheckpoint(f); });
}

Expected<Model> kerasModelFromImage(const std::vector<uint8_t>& image) {
  return readImageIsolated<Model>(image, [](const h5::File& f) -> Expected<Model> {
    auto k = readKerasFile(f);
    if (!k.ok()) return k.error();
    return std::move(k->model);
  });
}

std::string nowIso8601() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

}  // namespace qat::project
