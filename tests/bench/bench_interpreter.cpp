// Integer evaluation of builtin:fashion-cnn (default 8-bit, calibrated on Fashion-MNIST
// when the Debian data set is installed, else on random images): 10,000 samples through
// the integer interpreter (fast kernels, then the scalar reference), against the float
// model and the fake-quant model evaluated in the same run. Prints samples/s and ratios;
// the integer result of fast and reference kernels must be identical (checked).
// Run by hand: bench_interpreter [threads]   (default 2)
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "engine/core/threading.h"
#include "engine/data/data_source.h"
#include "engine/deploy/freeze.h"
#include "engine/deploy/int_kernels.h"
#include "engine/deploy/interpreter.h"
#include "engine/models/builtin.h"
#include "engine/quant/scheme.h"
#include "engine/train/trainer.h"

using namespace qat;

template <class F>
static double seconds(F&& f) {
  const auto a = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  setThreadCount(threads);
  auto m = makeBuiltinModel("fashion-cnn", 1);
  if (!m.ok()) return 1;
  Dataset data;
  auto src = loadDataSource("fashion-mnist", DataSourceOptions{});
  const bool real = src.ok() && src->test;
  if (real) {
    data = subset(*src->test, 10000);
  } else {
    Rng rng(1);
    data.x = Tensor(Shape{10000, 28, 28, 1});
    for (size_t i = 0; i < data.x.size(); ++i) data.x[i] = rng.uniform(0.0f, 1.0f);
    for (int i = 0; i < 10000; ++i) data.labels.push_back(i % 10);
    data.numClasses = 10;
  }
  auto scheme = quant::schemeFromName("default8");
  auto cfg = quant::makeSchemeConfig(*m, *scheme);
  auto q = quant::quantizeModel(*m, cfg->config);
  if (!q.ok()) return 1;
  Trainer t(q->model, TrainConfig{});
  if (!t.calibrate(real ? src->train : data, 8).ok()) return 1;
  auto g = deploy::freezeQuantized(*q);
  if (!g.ok()) {
    std::printf("freeze failed: %s\n", g.error().message.c_str());
    return 1;
  }
  auto fast = deploy::Interpreter::create(*g);
  auto ref = deploy::Interpreter::create(*g);
  if (!fast.ok() || !ref.ok()) return 1;
  fast->setKeepTensors(false);
  ref->setKeepTensors(false);
  ref->setReferenceKernels(true);
  const int n = data.x.dim(0);
  std::printf("fashion-cnn, %d samples (%s), %d threads, AVX-VNNI %s\n", n, real ? "Fashion-MNIST test" : "random",
              threads, deploy::kernels::vnniAvailable() ? "yes" : "no");

  Expected<std::vector<Tensor>> yf = std::vector<Tensor>{}, yr = std::vector<Tensor>{};
  (void)fast->run({subset(data, 256).x});  // warm-up (workspaces)
  const double tFast = seconds([&] { yf = fast->run({data.x}); });
  const double tRef = seconds([&] { yr = ref->run({data.x}); });
  const double tFloat = seconds([&] { (void)predict(*m, data.x, 256, true); });
  const double tFake = seconds([&] { (void)predict(q->model, data.x, 256, true); });
  if (!yf.ok() || !yr.ok()) return 1;
  size_t differ = 0;
  for (size_t i = 0; i < (*yf)[0].size(); ++i) differ += (*yf)[0][i] != (*yr)[0][i];
  std::printf("  integer (fast)       %7.3f s  %8.0f samples/s\n", tFast, n / tFast);
  std::printf("  integer (reference)  %7.3f s  %8.0f samples/s  (fast is %.1fx)\n", tRef, n / tRef, tRef / tFast);
  std::printf("  float model          %7.3f s  %8.0f samples/s\n", tFloat, n / tFloat);
  std::printf("  fake-quant model     %7.3f s  %8.0f samples/s\n", tFake, n / tFake);
  std::printf("  fast vs reference outputs differing: %zu (must be 0)\n", differ);
  return differ == 0 ? 0 : 1;
}
