#pragma once
// One function per qat-cli subcommand: argv[first] is the first argument after the
// subcommand name. Each returns an ExitCode.
#include <optional>
#include <string>
#include <vector>

#include "args.h"
#include "engine/io/keras_model.h"
#include "engine/train/trainer.h"

namespace qat::cli {

int runTrain(int argc, char** argv, int first);
int runInfo(int argc, char** argv, int first);
int runPredict(int argc, char** argv, int first);
int runQuantize(int argc, char** argv, int first);
int runConfigTemplate(int argc, char** argv, int first);
int runExport(int argc, char** argv, int first);

// The training options shared by train and quantize (cmd_train.cpp), and how they fill a
// TrainConfig; returns a usage error message.
std::vector<OptionSpec> trainingOptions();
std::optional<std::string> readTrainConfig(const Args& a, const Model& model,
                                           const std::optional<TrainingConfigInfo>& fromFile, TrainConfig& cfg);

}  // namespace qat::cli
