// BatchNormalization (and a ReLU activation for scale) on the CNN's hot shapes, N = 64:
// (28, 28, 32) and (14, 14, 64). Prints the median time of training forward, backward
// and inference forward. Run by hand: bench_batchnorm [threads]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "engine/core/threading.h"
#include "engine/layers/activation.h"
#include "engine/layers/batch_normalization.h"

using namespace qat;

template <class F>
static double medianMs(F&& f, int reps = 30) {
  std::vector<double> t;
  f();  // warm-up: buffers allocated, pages touched
  for (int i = 0; i < reps; ++i) {
    auto a = std::chrono::steady_clock::now();
    f();
    auto b = std::chrono::steady_clock::now();
    t.push_back(std::chrono::duration<double, std::milli>(b - a).count());
  }
  std::nth_element(t.begin(), t.begin() + reps / 2, t.end());
  return t[static_cast<size_t>(reps / 2)];
}

int main(int argc, char** argv) {
  setThreadCount(argc > 1 ? std::atoi(argv[1]) : 0);
  std::printf("threads: %d\n", threadCount());
  for (auto [hw, c] : {std::pair{28, 32}, std::pair{14, 64}}) {
    BatchNormalization bn("bn");
    if (!bn.build({Shape{hw, hw, c}}).ok()) return 1;
    Rng rng(1);
    bn.initialize(rng);
    Tensor x(Shape{64, hw, hw, c}), dy(x.shape()), y, dx(x.shape());
    for (size_t i = 0; i < x.size(); ++i) {
      x[i] = rng.uniform(-1, 1);
      dy[i] = rng.uniform(-1, 1);
    }
    const Tensor* xp = &x;
    Tensor* dxp = &dx;
    const RunContext train{true, nullptr}, infer{false, nullptr};
    const double fwd = medianMs([&] { bn.forward(TensorList(&xp, 1), y, train); });
    const double bwd = medianMs([&] {
      bn.backward(TensorList(&xp, 1), y, dy, GradList(&dxp, 1), train);
    });
    const double inf = medianMs([&] { bn.forward(TensorList(&xp, 1), y, infer); });
    Activation relu("relu", {ActivationFn::Relu});
    if (!relu.build({Shape{hw, hw, c}}).ok()) return 1;
    const double rf = medianMs([&] { relu.forward(TensorList(&xp, 1), y, train); });
    const double rb = medianMs([&] {
      relu.backward(TensorList(&xp, 1), y, dy, GradList(&dxp, 1), train);
    });
    const double mb = double(x.size()) * 4 / 1e6;
    std::printf("(64, %d, %d, %d) %.1f MB: BN train fwd %.3f ms, bwd %.3f ms, infer fwd %.3f ms;"
                " ReLU fwd %.3f ms, bwd %.3f ms\n",
                hw, hw, c, mb, fwd, bwd, inf, rf, rb);
  }
  return 0;
}
