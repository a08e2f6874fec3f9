#include "reporter.h"

#include <cmath>
#include <iostream>

namespace qat::cli {

nlohmann::json toJson(const EvalResult& r) {
  nlohmann::json j{{"loss", r.loss}, {"accuracy", r.accuracy}, {"samples", r.samples}, {"seconds", r.seconds}};
  if (r.topK > 0) j["top_k_accuracy"] = r.topK;
  return j;
}

nlohmann::json toJson(const EpochEvent& e) {
  nlohmann::json j{{"epoch", e.epoch + 1}, {"loss", e.loss}, {"accuracy", e.accuracy},
                   {"samples_per_sec", e.samplesPerSec}, {"seconds", e.seconds}};
  if (e.validation) j["validation"] = toJson(*e.validation);
  return j;
}

void Reporter::onBatch(const BatchEvent& e) {
  // Progress at every 10% of an epoch: enough to watch, few enough lines to read.
  const int percent = static_cast<int>(100.0 * (e.batch + 1) / e.batchesPerEpoch) / 10 * 10;
  if (e.batch == 0) lastPrintedPercent_ = -1;
  if (percent == lastPrintedPercent_ || percent == 100) return;
  lastPrintedPercent_ = percent;
  if (json_) {
    std::cout << nlohmann::json{{"event", "batch"},       {"epoch", e.epoch + 1},
                                {"step", e.step + 1},     {"batch", e.batch + 1},
                                {"batches", e.batchesPerEpoch}, {"loss", e.loss},
                                {"accuracy", e.accuracy}, {"samples_per_sec", e.samplesPerSec},
                                {"eta_seconds", e.etaSeconds}, {"learning_rate", e.learningRate}}
                     .dump()
              << std::endl;
  }
}

void Reporter::onEpoch(const EpochEvent& e) {
  if (json_) {
    auto j = toJson(e);
    j["event"] = "epoch";
    std::cout << j.dump() << std::endl;
    return;
  }
  char line[256];
  std::snprintf(line, sizeof line, "epoch %d: loss %.4f  accuracy %.4f  %.0f samples/s  %.1f s",
                e.epoch + 1, e.loss, e.accuracy, e.samplesPerSec, e.seconds);
  std::cout << line;
  if (e.validation) {
    std::snprintf(line, sizeof line, "  val_loss %.4f  val_accuracy %.4f", e.validation->loss,
                  e.validation->accuracy);
    std::cout << line;
  }
  std::cout << std::endl;
}

void Reporter::info(const std::string& message) {
  if (json_) std::cout << nlohmann::json{{"event", "info"}, {"message", message}}.dump() << std::endl;
  else std::cout << message << std::endl;
}

void Reporter::event(const std::string& name, nlohmann::json fields, const std::string& text) {
  if (json_) {
    fields["event"] = name;
    std::cout << fields.dump() << std::endl;
  } else if (!text.empty()) {
    std::cout << text << std::endl;
  }
}

int Reporter::fail(const std::string& message) {
  if (json_) std::cout << nlohmann::json{{"event", "error"}, {"message", message}}.dump() << std::endl;
  else std::cerr << "qat-cli: error: " << message << std::endl;
  return kExitFailure;
}

void Reporter::summary(nlohmann::json fields) {
  if (!json_) return;
  fields["event"] = "summary";
  std::cout << fields.dump() << std::endl;
}

}  // namespace qat::cli
