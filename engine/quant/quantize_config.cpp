#include "engine/quant/quantize_config.h"

#include <fstream>
#include <sstream>

#include "engine/data/file_io.h"

namespace qat::quant {

using Json = nlohmann::json;

std::string_view bnModeName(BnMode m) { return m == BnMode::Fold ? "fold" : "tfmot"; }

std::optional<BnMode> bnModeFromName(std::string_view name) {
  if (name == "tfmot") return BnMode::Tfmot;
  if (name == "fold") return BnMode::Fold;
  return std::nullopt;
}

namespace {

Json specOrNull(const std::optional<QuantizerSpec>& s) { return s ? toJson(*s) : Json(nullptr); }

// Reads an optional quantizer at `path` (null or absent: none).
Expected<std::optional<QuantizerSpec>> optionalSpec(const Json& parent, const char* key, const std::string& path) {
  if (!parent.contains(key) || parent[key].is_null()) return std::optional<QuantizerSpec>();
  auto s = quantizerSpecFromJson(parent[key]);
  if (!s.ok()) return makeError(path + "." + key + ": " + s.error().message);
  return std::optional<QuantizerSpec>(std::move(s.value()));
}

Expected<LayerQuantConfig> layerFromJson(const Json& j, const std::string& path) {
  if (!j.is_object()) return makeError(path + ": should be an object with \"quantize\", \"weights\" and \"output\"");
  LayerQuantConfig c;
  if (j.contains("quantize")) {
    if (!j["quantize"].is_boolean()) return makeError(path + ".quantize: should be true or false");
    c.quantize = j["quantize"].get<bool>();
  }
  if (j.contains("weights") && !j["weights"].is_null()) {
    if (!j["weights"].is_object())
      return makeError(path + ".weights: should map parameter names (\"kernel\") to quantizers");
    for (const auto& [param, spec] : j["weights"].items()) {
      auto s = quantizerSpecFromJson(spec);
      if (!s.ok()) return makeError(path + ".weights." + param + ": " + s.error().message);
      c.weights.emplace(param, std::move(s.value()));
    }
  }
  auto out = optionalSpec(j, "output", path);
  if (!out.ok()) return out.error();
  c.output = std::move(out.value());
  for (const auto& [key, value] : j.items())
    if (key != "quantize" && key != "weights" && key != "output")
      return makeError(path + "." + key + ": unknown key (expected quantize, weights, output)");
  return c;
}

}  // namespace

Json toJson(const QuantizeConfig& config) {
  Json layers = Json::object();
  for (const auto& [name, l] : config.layers) {
    Json w = Json::object();
    for (const auto& [param, spec] : l.weights) w[param] = toJson(spec);
    layers[name] = Json{{"quantize", l.quantize}, {"weights", std::move(w)}, {"output", specOrNull(l.output)}};
  }
  return Json{{"schema_version", kQuantizeConfigSchemaVersion},
              {"scheme", config.scheme},
              {"bn_mode", std::string(bnModeName(config.bnMode))},
              {"freeze_bn_step", config.freezeBnStep},
              {"input", specOrNull(config.input)},
              {"layers", std::move(layers)}};
}

Expected<QuantizeConfig> quantizeConfigFromJson(const Json& j) {
  if (!j.is_object()) return makeError("a quantize config should be a JSON object");
  if (!j.contains("schema_version") || !j["schema_version"].is_number_integer())
    return makeError("schema_version: missing (this file was not written as a QAT Studio quantize config)");
  const int version = j["schema_version"].get<int>();
  if (version < 1 || version > kQuantizeConfigSchemaVersion)
    return makeError("schema_version " + std::to_string(version) + " is not supported (this build reads up to " +
                     std::to_string(kQuantizeConfigSchemaVersion) + "); update QAT Studio");
  QuantizeConfig c;
  if (j.contains("scheme")) {
    if (!j["scheme"].is_string()) return makeError("scheme: should be a string");
    c.scheme = j["scheme"].get<std::string>();
  }
  if (j.contains("bn_mode")) {
    const auto mode = j["bn_mode"].is_string() ? bnModeFromName(j["bn_mode"].get<std::string>()) : std::nullopt;
    if (!mode) return makeError("bn_mode: " + j["bn_mode"].dump() + " should be \"tfmot\" or \"fold\"");
    c.bnMode = *mode;
  }
  if (j.contains("freeze_bn_step")) {
    if (!j["freeze_bn_step"].is_number_integer()) return makeError("freeze_bn_step: should be an integer (-1: never)");
    c.freezeBnStep = j["freeze_bn_step"].get<long>();
  }
  auto input = optionalSpec(j, "input", "input");
  if (!input.ok()) return input.error();
  c.input = std::move(input.value());
  if (j.contains("layers")) {
    if (!j["layers"].is_object()) return makeError("layers: should map layer names to layer configs");
    for (const auto& [name, lj] : j["layers"].items()) {
      auto l = layerFromJson(lj, "layers." + name);
      if (!l.ok()) return l.error();
      c.layers.emplace(name, std::move(l.value()));
    }
  }
  return c;
}

Expected<QuantizeConfig> readQuantizeConfig(const std::string& path) {
  std::ifstream f(path);
  if (!f) return makeError(path + ": cannot open the quantize config (missing or unreadable)");
  std::stringstream ss;
  ss << f.rdbuf();
  Json j = Json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return makeError(path + ": not valid JSON");
  auto c = quantizeConfigFromJson(j);
  if (!c.ok()) return makeError(path + ": " + c.error().message);
  return c;
}

Status writeQuantizeConfig(const QuantizeConfig& config, const std::string& path) {
  const std::string text = toJson(config).dump(2) + "\n";
  return writeFileAtomic(path, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

}  // namespace qat::quant
