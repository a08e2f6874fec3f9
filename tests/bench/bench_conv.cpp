// Micro benchmark of the two convolutions of the reference Fashion-MNIST CNN at batch 64
// (3x3, same padding): conv1 28x28x1 -> 32 and conv2 14x14x32 -> 64, forward and
// backward, fast kernels against the reference ones. Also the 2x2 max pools that follow.
// Run by hand: OMP_NUM_THREADS=2 ./bench_conv [--no-ref]
#include <omp.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "engine/core/rng.h"
#include "engine/kernels/conv2d.h"
#include "engine/kernels/pool2d.h"

using namespace qat;

namespace {

// Process CPU time in ms (all threads). On a busy machine wall time is meaningless, but
// with OMP_NUM_THREADS=1 the CPU time still measures the kernel's own cost.
double cpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) * 1e-6;
}

// Warm: one untimed call, then the best of 20 rounds of `reps` calls (wall clock, ms per
// call). With QAT_BENCH_CPU=1 in the environment, CPU time instead.
double timeMs(int reps, const std::function<void()>& f) {
  static const bool useCpu = std::getenv("QAT_BENCH_CPU") != nullptr;
  f();
  double best = 1e30;
  for (int round = 0; round < 20; ++round) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpuMs();
    for (int i = 0; i < reps; ++i) f();
    const double c1 = cpuMs();
    const auto t1 = std::chrono::steady_clock::now();
    const double ms = useCpu ? c1 - c0 : std::chrono::duration<double, std::milli>(t1 - t0).count();
    best = std::min(best, ms / reps);
  }
  return best;
}

// One cold call (the reference kernels are slow; their time is only for scale).
double onceMs(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void fill(std::vector<float>& v, Rng& rng) {
  for (float& f : v) f = rng.uniform(-1.0f, 1.0f);
}

void benchConv(const char* name, int N, int H, int W, int Cin, int Cout, bool withRef,
               ConvAlgorithm algo) {
  ConvGeometry g;
  g.N = N; g.H = H; g.W = W; g.Cin = Cin; g.KH = 3; g.KW = 3; g.Cout = Cout;
  g.setPadding(Padding::Same);
  Rng rng(1);
  std::vector<float> x(g.inSize()), w(g.kernelSize()), b(std::size_t(Cout), 0.0f), y(g.outSize()),
      dy(g.outSize()), dx(g.inSize()), dw(g.kernelSize()), db(std::size_t(Cout), 0.0f);
  fill(x, rng); fill(w, rng); fill(b, rng); fill(dy, rng);
  ConvWorkspace ws;
  // One multiply-add = 2 FLOP; each of forward, dW and dX is one (M x K x Cout) product.
  const double gflop = 2.0 * double(g.outRows()) * g.colK() * Cout * 1e-9;
  const int reps = 5;
  const double fwd = timeMs(reps, [&] { conv2dForward(g, x.data(), w.data(), b.data(), y.data(), ws, algo); });
  const double bwdW = timeMs(reps, [&] {
    conv2dBackward(g, x.data(), w.data(), dy.data(), nullptr, dw.data(), db.data(), ws, algo);
  });
  const double bwdX = timeMs(reps, [&] {
    conv2dBackward(g, x.data(), w.data(), dy.data(), dx.data(), nullptr, nullptr, ws, algo);
  });
  const double bwd = timeMs(reps, [&] {
    conv2dBackward(g, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(), ws, algo);
  });
  // GFLOP/s counts the direct convolution's multiply-adds (the work Winograd avoids counts too).
  std::printf("%s %s: forward %.3f ms (%.1f GFLOP/s) | backward dW+db %.3f ms (%.1f) | "
              "backward dX %.3f ms (%.1f) | backward all %.3f ms (%.1f) | fwd+bwd %.3f ms\n",
              name, algo == ConvAlgorithm::Auto ? "fast  " : "im2col", fwd, gflop / fwd * 1e3, bwdW, gflop / bwdW * 1e3, bwdX, gflop / bwdX * 1e3,
              bwd, 2 * gflop / bwd * 1e3, fwd + bwd);
  if (!withRef) return;
  const double rf = onceMs([&] { conv2dForwardRef(g, x.data(), w.data(), b.data(), y.data()); });
  const double rw = onceMs([&] {
    conv2dBackwardFilterRef(g, x.data(), dy.data(), dw.data(), db.data());
  });
  const double rx = onceMs([&] { conv2dBackwardInputRef(g, dy.data(), w.data(), dx.data()); });
  std::printf("%s ref   : forward %.1f ms (%.2f GFLOP/s) | backward dW+db %.1f ms | backward dX "
              "%.1f ms | fwd+bwd %.1f ms\n",
              name, rf, gflop / rf * 1e3, rw, rx, rf + rw + rx);
}

void benchPool(const char* name, int N, int H, int W, int C) {
  PoolGeometry g;
  g.N = N; g.H = H; g.W = W; g.C = C; g.KH = 2; g.KW = 2; g.strideH = 2; g.strideW = 2;
  g.setPadding(Padding::Valid);
  Rng rng(2);
  std::vector<float> x(g.inSize()), y(g.outSize()), dy(g.outSize()), dx(g.inSize());
  std::vector<int32_t> arg(g.outSize());
  fill(x, rng); fill(dy, rng);
  const double f = timeMs(100, [&] { maxPool2dForward(g, x.data(), y.data(), arg.data()); });
  const double b = timeMs(100, [&] { maxPool2dBackward(g, dy.data(), arg.data(), dx.data()); });
  const double rf = onceMs([&] { maxPool2dForwardRef(g, x.data(), y.data()); });
  const double rb = onceMs([&] { maxPool2dBackwardRef(g, x.data(), dy.data(), dx.data()); });
  std::printf("%s fast: forward %.3f ms, backward %.3f ms | ref: forward %.3f ms, backward %.3f ms\n",
              name, f, b, rf, rb);
}

}  // namespace

int main(int argc, char** argv) {
  std::printf("threads: %d\n", omp_get_max_threads());
  const bool ref = argc < 2 || std::string(argv[1]) != "--no-ref";
  for (int rep = 0; rep < 2; ++rep) {  // the second round is the one to read (warm, settled)
    benchConv("conv1 64x28x28x1->32 ", 64, 28, 28, 1, 32, false, ConvAlgorithm::Auto);
    benchConv("conv2 64x14x14x32->64", 64, 14, 14, 32, 64, false, ConvAlgorithm::Auto);
  }
  benchConv("conv2 64x14x14x32->64", 64, 14, 14, 32, 64, false, ConvAlgorithm::Im2col);
  if (ref) {
    benchConv("conv1 64x28x28x1->32 ", 64, 28, 28, 1, 32, true, ConvAlgorithm::Auto);
    benchConv("conv2 64x14x14x32->64", 64, 14, 14, 32, 64, true, ConvAlgorithm::Auto);
  }
  benchPool("maxpool1 64x28x28x32", 64, 28, 28, 32);
  benchPool("maxpool2 64x14x14x64", 64, 14, 14, 64);
  return 0;
}
