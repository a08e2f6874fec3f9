// QAT throughput of the built-in models against float training of the same model in the
// same process: one epoch of Fashion-MNIST (batch 64, Adam) each for float training, QAT
// with the default 8-bit scheme in tfmot BN mode, and QAT in fold mode. Prints one JSON
// line per model with samples/s and the time ratios QAT / float.
// Usage: bench_qat [threads=2] [model ...] [--samples N]
// compare_qat.sh runs this and the PyTorch eager-QAT twin and prints studio / PyTorch.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/core/threading.h"
#include "engine/data/idx_reader.h"
#include "engine/models/builtin.h"
#include "engine/quant/quantize_model.h"
#include "engine/quant/scheme.h"
#include "engine/train/trainer.h"

using namespace qat;

namespace {

// One timed epoch after a 20-step warm-up (buffers allocated, caches warm).
Expected<double> samplesPerSec(Model& model, const Dataset& train) {
  TrainConfig cfg;
  cfg.epochs = 1;
  cfg.batchSize = 64;
  cfg.loss = {LossKind::SparseCategoricalCrossentropy, true};
  Trainer trainer(model, cfg);
  if (auto w = trainer.fit(subset(train, 64 * 20)); !w.ok()) return w.error();
  auto r = trainer.fit(train);
  if (!r.ok()) return r.error();
  return r->samplesPerSec;
}

Expected<quant::QuantizedModel> quantized(const Model& m, quant::BnMode mode) {
  auto s = quant::schemeFromName("default8");
  if (!s.ok()) return s.error();
  s->bnMode = mode;
  auto c = quant::makeSchemeConfig(m, *s);
  if (!c.ok()) return c.error();
  return quant::quantizeModel(m, c->config);
}

int fail(const Error& e) {
  std::fprintf(stderr, "bench_qat: %s\n", e.message.c_str());
  return 1;
}

}  // namespace

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
  if (!data.ok()) return fail(data.error());
  const Dataset train = samples ? subset(*data, samples) : std::move(data.value());

  for (const auto& name : models) {
    auto model = makeBuiltinModel(name, 1);
    if (!model.ok()) return fail(model.error());
    auto tfmot = quantized(*model, quant::BnMode::Tfmot);
    if (!tfmot.ok()) return fail(tfmot.error());
    auto fold = quantized(*model, quant::BnMode::Fold);
    if (!fold.ok()) return fail(fold.error());
    auto f = samplesPerSec(*model, train);
    if (!f.ok()) return fail(f.error());
    auto qt = samplesPerSec(tfmot->model, train);
    if (!qt.ok()) return fail(qt.error());
    auto qf = samplesPerSec(fold->model, train);
    if (!qf.ok()) return fail(qf.error());
    std::printf(
        "{\"model\": \"%s\", \"threads\": %d, \"samples\": %zu, \"float_samples_per_sec\": %.1f, "
        "\"qat_tfmot_samples_per_sec\": %.1f, \"qat_fold_samples_per_sec\": %.1f, "
        "\"qat_tfmot_time_ratio\": %.3f, \"qat_fold_time_ratio\": %.3f}\n",
        name.c_str(), threads, train.size(), *f, *qt, *qf, *f / *qt, *f / *qf);
    std::fflush(stdout);
  }
  return 0;
}
