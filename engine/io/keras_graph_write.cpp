// Writing half of keras_graph.h: a built Model as a Keras model_config.
#include "engine/io/keras_graph.h"

#include "engine/io/keras_layers.h"

namespace qat::keras {

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
