// training_config: the loss, optimizer and metrics a Keras model was compiled with.
// Keras 1/2 store loss and metrics as function names, tf.keras 2.x may serialise loss
// objects ({"class_name": "CategoricalCrossentropy", "config": {"from_logits": true}}),
// Keras 3 wraps everything in {"module", "class_name", "config"}.
#include <algorithm>
#include <cctype>

#include "engine/io/keras_config.h"
#include "engine/io/keras_model.h"

namespace qat {
namespace {

using keras::Json;

// "CategoricalCrossentropy" -> "categorical_crossentropy", "KLDivergence" -> "kl_divergence".
std::string snakeCase(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (std::isupper(c) && i > 0) {
      const bool prevLower = std::islower(static_cast<unsigned char>(s[i - 1]));
      const bool nextLower = i + 1 < s.size() && std::islower(static_cast<unsigned char>(s[i + 1]));
      if (prevLower || (nextLower && std::isupper(static_cast<unsigned char>(s[i - 1])))) out += '_';
    }
    out += static_cast<char>(std::tolower(c));
  }
  return out;
}

std::string canonicalLoss(std::string name) {
  if (name == "mse" || name == "MSE") return "mean_squared_error";
  if (name == "mae" || name == "MAE") return "mean_absolute_error";
  if (name == "mape" || name == "MAPE") return "mean_absolute_percentage_error";
  if (name == "msle" || name == "MSLE") return "mean_squared_logarithmic_error";
  if (name == "bce") return "binary_crossentropy";
  if (name == "kld" || name == "KLD") return "kl_divergence";
  return name;
}

// A function name, a serialised object's class, or Keras 3's {"class_name": "function",
// "config": "name"}.
std::string objectName(const Json& j) {
  if (j.is_string()) return j.get<std::string>();
  std::string cls = keras::serializedClassName(j);
  if (cls == "function" && j["config"].is_string()) return j["config"].get<std::string>();
  if (auto gt = cls.find('>'); gt != std::string::npos) cls = cls.substr(gt + 1);  // "Custom>Adam"
  return cls.empty() ? std::string() : snakeCase(cls);
}

void collectMetrics(const Json& j, std::vector<std::string>& out, int depth) {
  if (depth > 8) return;
  if (j.is_string()) {
    out.push_back(j.get<std::string>());
  } else if (j.is_array()) {
    for (const Json& e : j) collectMetrics(e, out, depth + 1);
  } else if (j.is_object()) {
    if (!keras::serializedClassName(j).empty()) {
      const Json& c = j["config"];
      if (c.is_object() && c.contains("name") && c["name"].is_string()) out.push_back(c["name"].get<std::string>());
      else if (std::string n = objectName(j); !n.empty()) out.push_back(n);
    } else {
      for (const auto& [k, v] : j.items()) collectMetrics(v, out, depth + 1);  // per-output dict
    }
  }
}

}  // namespace

Expected<TrainingConfigInfo> parseKerasTrainingConfig(const std::string& text) {
  const Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return makeError("training_config is not a JSON object");
  try {
    TrainingConfigInfo t;
    if (j.contains("loss")) {
      const Json* loss = &j["loss"];
      if (loss->is_array() && loss->size() == 1) loss = &(*loss)[0];
      if (loss->is_object() && keras::serializedClassName(*loss).empty() && loss->size() == 1)
        loss = &loss->begin().value();  // {"output_name": loss} with one output
      t.loss = canonicalLoss(objectName(*loss));
      if (loss->is_object() && loss->contains("config")) {
        const Json& lc = (*loss)["config"];
        if (lc.is_object() && lc.contains("from_logits") && lc["from_logits"].is_boolean())
          t.fromLogits = lc["from_logits"].get<bool>();
      }
    }
    if (j.contains("optimizer_config") && j["optimizer_config"].is_object()) {
      const Json& oc = j["optimizer_config"];
      // Keras' optimizer identifiers are the lower-cased class names: RMSprop -> rmsprop.
      t.optimizer = objectName(oc);
      t.optimizer.erase(std::remove(t.optimizer.begin(), t.optimizer.end(), '_'), t.optimizer.end());
      if (oc.contains("config") && oc["config"].is_object()) {
        for (const auto& [k, v] : oc["config"].items()) {
          if (k == "learning_rate" || k == "lr") {
            if (v.is_number()) t.learningRate = v.get<double>();
          } else if (v.is_number()) {
            t.optimizerParams[k] = v.get<double>();
          } else if (v.is_boolean()) {
            t.optimizerParams[k] = v.get<bool>() ? 1.0 : 0.0;
          }
        }
      }
    }
    if (j.contains("metrics")) collectMetrics(j["metrics"], t.metrics, 0);
    return t;
  } catch (const nlohmann::json::exception& e) {
    return makeError(std::string("training_config is malformed: ") + e.what());
  }
}

}  // namespace qat
