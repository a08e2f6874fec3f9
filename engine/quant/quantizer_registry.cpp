// The quantizer registry: type name → factory, the studio's quantize_scope.
// The built-in kinds are registered by an explicit call when the registry is first used
// (static self-registration objects would be dropped by the linker from a static
// library). A mutex guards the map: the GUI thread and a training worker may both use it.
#include <map>
#include <mutex>

#include "engine/quant/range_quantizers.h"

namespace qat::quant {
namespace {

struct Entry {
  QuantizerFactory factory;
  std::string description;
};

struct Registry {
  std::mutex mutex;
  std::map<std::string, Entry> kinds;  // sorted: error messages and menus list names in order
};

void registerBuiltins(std::map<std::string, Entry>& k) {
  k["LastValue"] = {makeLastValueQuantizer, "range = the batch's min/max (tfmot's weight quantizer)"};
  k["MovingAverage"] = {makeMovingAverageQuantizer,
                        "range = moving average of batch min/max (tfmot's activation quantizer)"};
  k["AllValues"] = {makeAllValuesQuantizer, "range = min/max over all batches seen (tfmot's input quantizer)"};
  k["Fixed"] = {makeFixedQuantizer, "a fixed range given by init_min/init_max"};
  k["LearnedRange"] = {makeLearnedRangeQuantizer, "trainable min/max (TensorFlow's range gradients)"};
  k["LSQ"] = {makeLsqQuantizer, "trainable step size (Learned Step Size Quantization, Esser et al. 2020)"};
  k["FixedRangeClip"] = {makeFixedRangeClipQuantizer,
                         "clip to [min, max] (extra keys, default [-1, 1]) without a grid (tfmot guide example)"};
}

Registry& registry() {
  static Registry* r = [] {
    auto* reg = new Registry;  // never destroyed: usable from other static destructors
    registerBuiltins(reg->kinds);
    return reg;
  }();
  return *r;
}

}  // namespace

void registerQuantizer(const std::string& type, QuantizerFactory factory, const std::string& description) {
  QAT_ASSERT(!type.empty() && factory);
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.kinds[type] = {std::move(factory), description};
}

Expected<std::unique_ptr<Quantizer>> makeQuantizer(const QuantizerSpec& spec) {
  QuantizerFactory factory;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    auto it = r.kinds.find(spec.type);
    if (it == r.kinds.end()) {
      std::string m = "unknown quantizer type '" + spec.type + "'; known types:";
      for (const auto& [name, e] : r.kinds) m.append(" ").append(name);
      return makeError(std::move(m));
    }
    factory = it->second.factory;
  }
  auto q = factory(spec);
  if (q.ok() && !q.value()) return makeError("the factory of quantizer type '" + spec.type + "' returned nothing");
  return q;
}

std::vector<std::string> quantizerTypes() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& [name, e] : r.kinds) names.push_back(name);
  return names;
}

std::string quantizerDescription(const std::string& type) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.kinds.find(type);
  return it == r.kinds.end() ? std::string() : it->second.description;
}

}  // namespace qat::quant
