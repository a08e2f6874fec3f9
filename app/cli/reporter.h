#pragma once
// Progress and result output of qat-cli: human-readable lines, or with --json one JSON
// object per line (progress events, then a final "summary" object) for scripts and CI.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/train/trainer.h"

namespace qat::cli {

enum ExitCode { kExitOk = 0, kExitFailure = 1, kExitUsage = 2 };

class Reporter : public TrainObserver {
 public:
  explicit Reporter(bool json) : json_(json) {}
  bool json() const { return json_; }

  void onBatch(const BatchEvent& e) override;
  void onEpoch(const EpochEvent& e) override;

  // A free-form status line (text) / {"event": "info", "message": ...} (JSON).
  void info(const std::string& message);
  // Emits {"event": name, ...fields} in JSON mode; in text mode prints `text` if given.
  void event(const std::string& name, nlohmann::json fields, const std::string& text = {});
  // Error to stderr (text) or {"event":"error"} on stdout (JSON); returns kExitFailure.
  int fail(const std::string& message);
  void summary(nlohmann::json fields);

 private:
  bool json_;
  int lastPrintedPercent_ = -1;
};

nlohmann::json toJson(const EvalResult& r);
nlohmann::json toJson(const EpochEvent& e);

}  // namespace qat::cli
