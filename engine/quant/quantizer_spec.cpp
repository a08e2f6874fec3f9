// QuantizerSpec ⇄ JSON, validation and the one-line description.
// JSON keys are the field names in snake_case: {"type": "LastValue", "bits": 8, "per_axis": true,
// "symmetric": true, "narrow_range": true, "pow2_scale": false, "ema_decay": 0.999,
// "init_min": -1, "init_max": 1, "tfmot_init": false}. Absent keys keep the defaults;
// initMin/initMax are omitted when unset. Any other key is a setting of the kind and goes
// to `extra` (written back at the top level); each kind rejects keys it does not know.
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>
#include <sstream>

#include "engine/quant/range_quantizers.h"

namespace qat::quant {
namespace {

std::string show(const nlohmann::json& v) { return v.dump(); }

std::string showFloat(float v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

Status validateSpec(const QuantizerSpec& spec) {
  if (spec.type.empty()) return makeError("quantizer type is empty");
  if (spec.bits < 2 || spec.bits > 16)
    return makeError("bits " + std::to_string(spec.bits) + " is outside 2..16");
  if (!(spec.emaDecay >= 0.0f && spec.emaDecay < 1.0f))
    return makeError("ema_decay " + showFloat(spec.emaDecay) + " is outside [0, 1)");
  if (spec.initMin.has_value() != spec.initMax.has_value())
    return makeError(spec.initMin ? "init_min is set but init_max is not" : "init_max is set but init_min is not");
  if (spec.initMin && !std::isfinite(*spec.initMin))
    return makeError("init_min " + showFloat(*spec.initMin) + " is not a finite number");
  if (spec.initMax && !std::isfinite(*spec.initMax))
    return makeError("init_max " + showFloat(*spec.initMax) + " is not a finite number");
  if (spec.initMin && *spec.initMin > *spec.initMax)
    return makeError("init_min " + showFloat(*spec.initMin) + " is greater than init_max " +
                     showFloat(*spec.initMax));
  if (!spec.extra.is_object()) return makeError("extra settings must be a JSON object");
  return {};
}

Status checkExtraKeys(const QuantizerSpec& spec, std::initializer_list<const char*> allowed) {
  for (auto it = spec.extra.begin(); it != spec.extra.end(); ++it) {
    bool known = false;
    for (const char* a : allowed) known = known || it.key() == a;
    if (!known) {
      std::string m = spec.type + " quantizer has no setting '" + it.key() + "' (value " + show(it.value()) + ")";
      if (allowed.size() == 0) {
        m += "; its settings are the standard keys only";
      } else {
        m += "; its own settings are:";
        for (const char* a : allowed) m.append(" ").append(a);
      }
      return makeError(std::move(m));
    }
  }
  return {};
}

namespace {

// The shortest decimal that reads back as the same float (0.999, not 0.9990000128746033).
double shortestDouble(float f) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, f);
  return r.ec == std::errc() ? std::strtod(std::string(buf, r.ptr).c_str(), nullptr) : static_cast<double>(f);
}

}  // namespace

nlohmann::json toJson(const QuantizerSpec& spec) {
  nlohmann::json j = spec.extra.is_object() ? spec.extra : nlohmann::json::object();
  j["type"] = spec.type;
  j["bits"] = spec.bits;
  j["per_axis"] = spec.perAxis;
  j["symmetric"] = spec.symmetric;
  j["narrow_range"] = spec.narrowRange;
  j["pow2_scale"] = spec.pow2Scale;
  j["ema_decay"] = shortestDouble(spec.emaDecay);
  if (spec.initMin) j["init_min"] = shortestDouble(*spec.initMin);
  if (spec.initMax) j["init_max"] = shortestDouble(*spec.initMax);
  j["tfmot_init"] = spec.tfmotInit;
  return j;
}

Expected<QuantizerSpec> quantizerSpecFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return makeError("a quantizer spec must be a JSON object, got " + show(j));
  QuantizerSpec s;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const nlohmann::json& v = it.value();
    auto wrongType = [&](const char* what) {
      return makeError("quantizer key '" + k + "' must be " + what + ", got " + show(v));
    };
    auto getBool = [&](bool& out) -> Status {
      if (!v.is_boolean()) return wrongType("true or false");
      out = v.get<bool>();
      return {};
    };
    auto getFloat = [&](float& out) -> Status {
      if (!v.is_number()) return wrongType("a number");
      out = v.get<float>();
      return {};
    };
    if (k == "type") {
      if (!v.is_string()) return wrongType("a string");
      s.type = v.get<std::string>();
    } else if (k == "bits") {
      if (!v.is_number_integer()) return wrongType("an integer");
      const auto b = v.get<long long>();
      if (b < 2 || b > 16) return makeError("bits " + std::to_string(b) + " is outside 2..16");
      s.bits = static_cast<int>(b);
    } else if (k == "per_axis") {
      QAT_TRY(getBool(s.perAxis));
    } else if (k == "symmetric") {
      QAT_TRY(getBool(s.symmetric));
    } else if (k == "narrow_range") {
      QAT_TRY(getBool(s.narrowRange));
    } else if (k == "pow2_scale") {
      QAT_TRY(getBool(s.pow2Scale));
    } else if (k == "tfmot_init") {
      QAT_TRY(getBool(s.tfmotInit));
    } else if (k == "ema_decay") {
      QAT_TRY(getFloat(s.emaDecay));
    } else if (k == "init_min" || k == "init_max") {
      if (v.is_null()) continue;  // unset
      float f = 0.0f;
      QAT_TRY(getFloat(f));
      (k == "init_min" ? s.initMin : s.initMax) = f;
    } else {
      s.extra[k] = v;
    }
  }
  QAT_TRY(validateSpec(s));
  return s;
}

std::string describe(const QuantizerSpec& spec) {
  std::string d = spec.type + " " + std::to_string(spec.bits) + "-bit";
  d += spec.perAxis ? " per-axis" : " per-tensor";
  d += spec.symmetric ? " symmetric" : " asymmetric";
  if (spec.narrowRange) d += " narrow";
  if (spec.pow2Scale) d += " pow2";
  if (spec.initMin && spec.initMax) d += " [" + showFloat(*spec.initMin) + ", " + showFloat(*spec.initMax) + "]";
  for (auto it = spec.extra.begin(); it != spec.extra.end(); ++it) d += " " + it.key() + "=" + show(it.value());
  return d;
}

}  // namespace qat::quant
