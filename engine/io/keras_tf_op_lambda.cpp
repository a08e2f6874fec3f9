#include "engine/io/keras_tf_op_lambda.h"

#include <optional>
#include <string>

#include "engine/io/keras_config.h"

namespace qat::keras {
namespace {

enum class BinaryOp { Add, Subtract, Multiply };

std::optional<BinaryOp> binaryOpOf(const std::string& function) {
  if (function == "__operators__.add" || function == "math.add") return BinaryOp::Add;
  if (function == "math.subtract") return BinaryOp::Subtract;
  if (function == "math.multiply") return BinaryOp::Multiply;
  return std::nullopt;
}

// A Keras 2 tensor reference: ["layer", node_index, tensor_index].
bool isTensorRef(const Json& j) {
  return j.is_array() && j.size() == 3 && j[0].is_string() && j[1].is_number_integer() &&
         j[2].is_number_integer();
}

// A scalar: a number, or a number wrapped in single-element lists ([[2.0]]).
std::optional<float> scalarOf(const Json& j) {
  const Json* v = &j;
  for (int depth = 0; depth < 8 && v->is_array() && v->size() == 1; ++depth) v = &(*v)[0];
  if (!v->is_number()) return std::nullopt;
  const double d = v->get<double>();
  if (!(d >= -3.4e38 && d <= 3.4e38)) return std::nullopt;  // also rejects NaN
  return static_cast<float>(d);
}

// One operand of the call: a tensor reference (as a Keras 2 inbound entry) or a scalar.
struct Operand {
  Json ref;  // ["layer", node, tensor, {}] when a tensor
  std::optional<float> scalar;
};

}  // namespace

Expected<Json> lowerTfOpLambda(const Json& entry) {
  const Json& cfg = entry.contains("config") ? entry["config"] : Json::object();
  std::string name = "?";
  if (cfg.is_object() && cfg.contains("name") && cfg["name"].is_string()) name = cfg["name"].get<std::string>();
  else if (entry.contains("name") && entry["name"].is_string()) name = entry["name"].get<std::string>();
  const std::string head = "Layer '" + name + "' (TFOpLambda";
  const std::string function = cfg.is_object() && cfg.contains("function") && cfg["function"].is_string()
                                   ? cfg["function"].get<std::string>()
                                   : std::string();
  const auto op = binaryOpOf(function);
  if (!op)
    return makeError(head + ") is the raw TensorFlow operation tf." + (function.empty() ? "?" : function) +
                     ", recorded in the model; it cannot be run outside TensorFlow. Only +, - and * between two "
                     "tensors or a tensor and a number (tf.__operators__.add, tf.math.add, tf.math.subtract, "
                     "tf.math.multiply) are understood. Use the equivalent Keras layer (e.g. layers.Add(), "
                     "layers.Rescaling) and save the model again.");
  const auto bad = [&](const std::string& what) {
    return makeError(head + ", tf." + function + "): " + what);
  };

  // The single call: ["x", node, tensor, {kwargs}], possibly wrapped in one more list.
  const Json& nodes = entry.contains("inbound_nodes") ? entry["inbound_nodes"] : Json();
  if (!nodes.is_array() || nodes.empty()) return bad("is not connected to any input (no inbound nodes)");
  if (nodes.size() > 1)
    return bad("is called " + std::to_string(nodes.size()) + " times, which is not supported");
  const Json* call = &nodes[0];
  if (call->is_array() && call->size() == 1 && (*call)[0].is_array()) call = &(*call)[0];
  if (!call->is_array() || call->size() < 3 || call->size() > 4 || !(*call)[0].is_string())
    return bad("unreadable inbound node " + call->dump().substr(0, 80));

  Operand x, y;
  if ((*call)[0].get<std::string>() == "_CONSTANT_VALUE") {
    x.scalar = scalarOf((*call)[2]);
    if (!x.scalar) return bad("the constant operand " + (*call)[2].dump().substr(0, 80) + " is not a single number");
  } else {
    if (!(*call)[1].is_number_integer() || !(*call)[2].is_number_integer())
      return bad("unreadable inbound node " + call->dump().substr(0, 80));
    x.ref = Json::array({(*call)[0], (*call)[1], (*call)[2], Json::object()});
  }
  const Json kwargs = call->size() == 4 ? (*call)[3] : Json::object();
  if (!kwargs.is_object()) return bad("unreadable call arguments " + kwargs.dump().substr(0, 80));
  for (const auto& [key, value] : kwargs.items())
    if (key != "y" && key != "name")
      return bad("the argument '" + key + "' is not supported (only x, y and name)");
  if (!kwargs.contains("y")) return bad("the second operand (y) is missing from the call arguments");
  const Json& yj = kwargs["y"];
  if (isTensorRef(yj)) {
    y.ref = Json::array({yj[0], yj[1], yj[2], Json::object()});
  } else {
    y.scalar = scalarOf(yj);
    if (!y.scalar)
      return bad("the operand y = " + yj.dump().substr(0, 80) +
                 " is a constant tensor; only a single number is supported (use a Rescaling layer for a scale and "
                 "offset, or a Keras merge layer between two tensors)");
  }
  if (x.scalar && y.scalar) return bad("both operands are constants; there is no tensor input");

  Json out = {{"name", name}, {"inbound_nodes", Json::array()}};
  Json config = {{"name", name}};
  if (!x.scalar && !y.scalar) {
    static constexpr const char* kClass[] = {"Add", "Subtract", "Multiply"};
    out["class_name"] = kClass[static_cast<int>(*op)];
    out["inbound_nodes"].push_back(Json::array({x.ref, y.ref}));
  } else {
    // One tensor t and a number c: t + c, t − c, c − t, t · c are all t · scale + offset.
    const float c = x.scalar ? *x.scalar : *y.scalar;
    const bool constantFirst = x.scalar.has_value();
    float scale = 1.0f, offset = 0.0f;
    switch (*op) {
      case BinaryOp::Add: offset = c; break;
      case BinaryOp::Subtract:
        if (constantFirst) {
          scale = -1.0f;
          offset = c;
        } else {
          offset = -c;
        }
        break;
      case BinaryOp::Multiply: scale = c; break;
    }
    out["class_name"] = "Rescaling";
    config["scale"] = jsonFloat(scale);
    config["offset"] = jsonFloat(offset);
    out["inbound_nodes"].push_back(Json::array({constantFirst ? y.ref : x.ref}));
  }
  out["config"] = std::move(config);
  return out;
}

}  // namespace qat::keras
