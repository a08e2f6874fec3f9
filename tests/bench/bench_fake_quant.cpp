// Fake-quant kernels on 10M floats: forward, straight-through backward and the batch
// min/max a range quantizer takes, per-tensor and per-axis (3 and 64 channels), against
// a plain scalar loop of the same formula with a division and std::floor per element.
// Prints the median time, elements/s and GB/s (bytes read + written).
// Run by hand: bench_fake_quant [threads]   (default 1)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "engine/core/rng.h"
#include "engine/core/threading.h"
#include "engine/quant/quant_kernels.h"
#include "engine/quant/quantizer.h"

using namespace qat;
using namespace qat::quant;

template <class F>
static double medianMs(F&& f, int reps = 15) {
  std::vector<double> t;
  f();
  for (int i = 0; i < reps; ++i) {
    auto a = std::chrono::steady_clock::now();
    f();
    auto b = std::chrono::steady_clock::now();
    t.push_back(std::chrono::duration<double, std::milli>(b - a).count());
  }
  std::nth_element(t.begin(), t.begin() + reps / 2, t.end());
  return t[static_cast<size_t>(reps / 2)];
}

static void report(const char* what, size_t n, double ms, double bytesPerElement) {
  std::printf("  %-28s %8.2f ms  %7.1f Melem/s  %6.2f GB/s\n", what, ms, n / ms / 1e3,
              n * bytesPerElement / ms / 1e6);
}

// The formula with a division and floor per element (what the fast loop replaces).
static void naiveForward(const float* x, float* y, size_t n, const std::vector<Grid>& g) {
  const size_t C = g.size();
  for (size_t i = 0; i < n; ++i) {
    const Grid& q = g[i % C];
    const float c = std::min(std::max(x[i], q.nudgedMin), q.nudgedMax);
    y[i] = std::floor((c - q.nudgedMin) / q.scale + 0.5f) * q.scale + q.nudgedMin;
  }
}

int main(int argc, char** argv) {
  setThreadCount(argc > 1 ? std::atoi(argv[1]) : 1);
  std::printf("threads: %d\n", threadCount());
  const size_t n = 10'000'000;
  Rng rng(1);
  std::vector<float> x(n), y(n), dy(n), dx(n);
  for (size_t i = 0; i < n; ++i) {
    x[i] = rng.uniform(-1.2f, 2.2f);
    dy[i] = rng.uniform(-1.f, 1.f);
  }
  for (size_t C : {size_t(1), size_t(3), size_t(64)}) {
    std::vector<Grid> g;
    for (size_t c = 0; c < C; ++c) g.push_back(nudgedGrid(-1.f - 0.01f * c, 2.f + 0.02f * c, 8, false));
    std::printf("%s (%zu channel%s), 10M elements\n", C == 1 ? "per-tensor" : "per-axis", C, C == 1 ? "" : "s");
    report("forward", n, medianMs([&] { fakeQuantForward(x.data(), y.data(), n, g); }), 8);
    report("forward in place", n, medianMs([&] { fakeQuantForward(y.data(), y.data(), n, g); }), 8);
    report("backward (STE)", n, medianMs([&] { fakeQuantBackward(x.data(), dy.data(), dx.data(), n, g); }), 12);
    std::vector<float> mn(C), mx(C);
    report("batch min/max", n, medianMs([&] { channelMinMax(x.data(), n, C, mn.data(), mx.data()); }), 4);
    report("naive forward (div+floor)", n, medianMs([&] { naiveForward(x.data(), y.data(), n, g); }, 5), 8);
  }
  return 0;
}
