// Training throughput of the built-in models: one full epoch of Fashion-MNIST (60,000
// samples, batch 64, Adam 1e-3, data pre-loaded) after a short warm-up. Prints one JSON
// line per model with samples/s and the achieved GFLOP/s as a fraction of the machine's
// FP32 peak. Usage: bench_train [threads=2] [model ...] [--samples N]
// compare_train.sh runs this and the PyTorch twin in the same run and prints the ratios.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/core/threading.h"
#include "engine/data/idx_reader.h"
#include "engine/graph/model_stats.h"
#include "engine/models/builtin.h"
#include "engine/train/trainer.h"

using namespace qat;

namespace {
// Measured FP32 FMA peak of this machine kind with 2 threads (shared/anchors.md).
constexpr double kPeakGflops2Threads = 445.0;
}

int main(int argc, char** argv) {
  int threads = 2;
  size_t samples = 0;
  std::vector<std::string> models;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--samples") && i + 1 < argc) samples = std::strtoul(argv[++i], nullptr, 10);
    else if (std::isdigit(static_cast<unsigned char>(argv[i][0]))) threads = std::atoi(argv[i]);
    else models.emplace_back(argv[i]);
  }
  if (models.empty()) models = {"fashion-cnn", "fashion-mlp"};
  setThreadCount(threads);

  auto data = loadFashionMnist(QAT_FASHION_MNIST_DIR, true, Normalization::scale01());
  if (!data.ok()) {
    std::fprintf(stderr, "bench_train: %s\n", data.error().message.c_str());
    return 3;
  }
  Dataset train = samples ? subset(*data, samples) : std::move(data.value());
  for (const auto& name : models) {
    auto model = makeBuiltinModel(name, 1);
    if (!model.ok()) {
      std::fprintf(stderr, "bench_train: %s\n", model.error().message.c_str());
      return 2;
    }
    TrainConfig cfg;
    cfg.epochs = 1;
    cfg.batchSize = 64;
    cfg.loss = {LossKind::SparseCategoricalCrossentropy, true};
    Trainer trainer(*model, cfg);
    // Warm-up: 20 steps, so buffers are allocated and caches warm before timing.
    if (auto w = trainer.fit(subset(train, 64 * 20)); !w.ok()) {
      std::fprintf(stderr, "bench_train: %s\n", w.error().message.c_str());
      return 1;
    }
    auto r = trainer.fit(train);
    if (!r.ok()) {
      std::fprintf(stderr, "bench_train: %s\n", r.error().message.c_str());
      return 1;
    }
    const double flops = trainingFlopsPerSample(*model);
    const double gflops = r->samplesPerSec * flops / 1e9;
    const double peak = kPeakGflops2Threads * threads / 2.0;
    std::printf(
        "{\"model\": \"%s\", \"threads\": %d, \"samples\": %zu, \"samples_per_sec\": %.1f, "
        "\"seconds\": %.3f, \"mflop_per_sample\": %.2f, \"gflops\": %.2f, \"peak_fraction\": %.4f, "
        "\"final_loss\": %.4f}\n",
        name.c_str(), threads, train.size(), r->samplesPerSec, r->seconds, flops / 1e6, gflops,
        gflops / peak, r->epochs.back().loss);
    std::fflush(stdout);
  }
  return 0;
}
