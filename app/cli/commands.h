#pragma once
// One function per qat-cli subcommand: argv[first] is the first argument after the
// subcommand name. Each returns an ExitCode.
namespace qat::cli {

int runTrain(int argc, char** argv, int first);
int runInfo(int argc, char** argv, int first);
int runPredict(int argc, char** argv, int first);

}  // namespace qat::cli
