// qat-cli: the headless front end of QAT Studio. Links only the engine; needs no display.
#include <cstring>
#include <iostream>
#include <string>

#include "commands.h"
#include "reporter.h"

namespace {

constexpr const char* kUsage =
    "usage: qat-cli <command> [options]\n"
    "\n"
    "commands:\n"
    "  train     train a model (float) on a data set and report test accuracy\n"
    "  info      print the layer table of a model\n"
    "  predict   run a model over an .npy batch and write the outputs as .npy\n"
    "  quantize  post-training quantization and quantization-aware training\n"
    "  config-template  write the per-layer quantize config of a model (JSON)\n"
    "  export    write a QAT checkpoint as .tflite / ONNX QDQ / C header and verify the file\n"
    "  version   print the version\n"
    "\n"
    "Run 'qat-cli <command> --help' for the options of a command.\n"
    "Exit codes: 0 success, 1 failure (message on stderr, or an \"error\" event with --json),\n"
    "2 usage error.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace qat::cli;
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    std::cout << kUsage;
    return argc < 2 ? kExitUsage : kExitOk;
  }
  const std::string cmd = argv[1];
  if (cmd == "train") return runTrain(argc, argv, 2);
  if (cmd == "info") return runInfo(argc, argv, 2);
  if (cmd == "predict") return runPredict(argc, argv, 2);
  if (cmd == "quantize") return runQuantize(argc, argv, 2);
  if (cmd == "config-template") return runConfigTemplate(argc, argv, 2);
  if (cmd == "export") return runExport(argc, argv, 2);
  if (cmd == "version" || cmd == "--version") {
    std::cout << "qat-cli " << QAT_VERSION << std::endl;
    return kExitOk;
  }
  std::cerr << "qat-cli: unknown command '" << cmd << "'\n\n" << kUsage;
  return kExitUsage;
}
