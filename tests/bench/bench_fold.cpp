// Cost of the weight-quantizing layers against their float counterparts, one training
// step (forward + backward) each, best of several rounds:
//   conv → BN (float)      vs  FoldedBatchNorm live (batch statistics) and frozen, with a
//                              per-axis 8-bit LastValue weight quantizer
//   Conv2D / Dense (float) vs  QuantizeWrapper with the same quantizer
// Also counts heap allocations per steady-state step (global operator new): the float rows
// show the conv's own, the rest come from the weight quantizer (the fold and the wrapper
// reuse their scratch and allocate nothing). Usage: bench_fold [threads=2] [rounds=20]
// On a busy machine use 1 thread: OpenMP teams fighting other processes dominate.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <new>
#include <vector>

#include "engine/core/threading.h"
#include "engine/layers/batch_normalization.h"
#include "engine/layers/conv2d.h"
#include "engine/layers/dense.h"
#include "engine/quant/folded_batch_norm.h"
#include "engine/quant/quantize_wrapper.h"

namespace {
std::atomic<long> gAllocs{0};
}  // namespace

void* operator new(std::size_t n) {
  gAllocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a) {
  gAllocs.fetch_add(1, std::memory_order_relaxed);
  const std::size_t al = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using namespace qat;

namespace {

std::unique_ptr<quant::Quantizer> lastValue8() {
  quant::QuantizerSpec s;
  s.type = "LastValue";
  s.perAxis = s.symmetric = s.narrowRange = true;
  return std::move(quant::makeQuantizer(s).value());
}

struct Step {
  explicit Step(Layer* first, Layer* second = nullptr) : a(first), b(second) {}
  Layer* a;
  Layer* b;  // a → b chained (float conv → BN), or null
  Tensor mid, out, dmid, dx, dout;
};

// One forward + backward through the chain, from input x.
void runStep(Step& s, const Tensor& x, const RunContext& ctx) {
  const Tensor* xp = &x;
  Tensor* dxp = &s.dx;
  s.dx.resize(x.shape());
  if (!s.b) {
    s.a->forward(TensorList(&xp, 1), s.out, ctx);
    s.dout.resize(s.out.shape());
    s.dout.fill(0.01f);
    s.a->backward(TensorList(&xp, 1), s.out, s.dout, GradList(&dxp, 1), ctx);
    return;
  }
  const Tensor* mp = &s.mid;
  Tensor* dmp = &s.dmid;
  s.a->forward(TensorList(&xp, 1), s.mid, ctx);
  s.b->forward(TensorList(&mp, 1), s.out, ctx);
  s.dout.resize(s.out.shape());
  s.dout.fill(0.01f);
  s.dmid.resize(s.mid.shape());
  s.b->backward(TensorList(&mp, 1), s.out, s.dout, GradList(&dmp, 1), ctx);
  s.a->backward(TensorList(&xp, 1), s.mid, s.dmid, GradList(&dxp, 1), ctx);
}

struct Timing {
  double ms = 1e30;  // best over rounds
  long allocsPerStep = 0;
};

// Rounds interleave the configurations, so load from other processes hits them alike;
// each keeps its best round.
std::vector<Timing> timeAll(std::vector<Step*> steps, const Tensor& x, int rounds) {
  RunContext ctx;
  ctx.training = true;
  std::vector<Timing> t(steps.size());
  for (Step* s : steps)
    for (int i = 0; i < 3; ++i) runStep(*s, x, ctx);  // warm-up: buffers sized
  for (int r = 0; r < rounds; ++r)
    for (size_t k = 0; k < steps.size(); ++k) {
      const long a0 = gAllocs.load();
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < 3; ++i) runStep(*steps[k], x, ctx);
      const auto t1 = std::chrono::steady_clock::now();
      t[k].allocsPerStep = (gAllocs.load() - a0) / 3;
      t[k].ms = std::min(t[k].ms, std::chrono::duration<double, std::milli>(t1 - t0).count() / 3);
    }
  return t;
}

void fill(Layer& l, const Shape& in) {
  (void)l.build({in});
  Rng rng(1);
  l.initialize(rng);
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 20;
  setThreadCount(threads);
  Rng rng(3);

  {  // Conv 3×3 32 → 64 on 14×14, batch 64 (the second block of fashion-cnn), then BN.
    const Shape in{14, 14, 32};
    Tensor x(in.withBatch(64));
    for (size_t i = 0; i < x.size(); ++i) x[i] = rng.uniform(-1, 1);
    Conv2DOptions co;
    co.filters = 64;
    co.padding = Padding::Same;
    co.useBias = false;
    Conv2D conv("conv", co);
    BatchNormalization bn("bn");
    fill(conv, in);
    fill(bn, conv.outputShape());
    quant::FoldedBatchNorm fold(conv.clone(), std::make_unique<BatchNormalization>(bn), lastValue8());
    fill(fold, in);
    quant::FoldedBatchNorm frozen(fold);
    frozen.setFreezeBnStep(0);
    std::map<std::string, std::unique_ptr<quant::Quantizer>> q;
    q["kernel"] = lastValue8();
    quant::QuantizeWrapper wrap(conv.clone(), std::move(q));
    fill(wrap, in);
    Step fl(&conv, &bn), live(&fold), fz(&frozen), plain(&conv), wrapped(&wrap);
    const auto t = timeAll({&fl, &live, &fz, &plain, &wrapped}, x, rounds);
    std::printf("conv3x3 32->64 14x14 N64: conv+BN %.3f ms (%ld allocs/step) | fold live %.3f ms (x%.3f, %ld) | "
                "fold frozen %.3f ms (x%.3f, %ld) | conv %.3f ms (%ld) | wrapper %.3f ms (x%.3f, %ld)\n",
                t[0].ms, t[0].allocsPerStep, t[1].ms, t[1].ms / t[0].ms, t[1].allocsPerStep, t[2].ms,
                t[2].ms / t[0].ms, t[2].allocsPerStep, t[3].ms, t[3].allocsPerStep, t[4].ms, t[4].ms / t[3].ms,
                t[4].allocsPerStep);
  }
  {  // Dense 3136 → 128, batch 64 (fashion-cnn's hidden layer).
    const Shape in{3136};
    Tensor x(in.withBatch(64));
    for (size_t i = 0; i < x.size(); ++i) x[i] = rng.uniform(-1, 1);
    Dense d("dense", DenseOptions{128, true, ActivationFn::Relu});
    fill(d, in);
    std::map<std::string, std::unique_ptr<quant::Quantizer>> q;
    q["kernel"] = lastValue8();
    quant::QuantizeWrapper wrap(d.clone(), std::move(q));
    fill(wrap, in);
    Step plain(&d), wrapped(&wrap);
    const auto t = timeAll({&plain, &wrapped}, x, rounds);
    std::printf("dense 3136->128 N64: dense %.3f ms (%ld allocs/step) | wrapper %.3f ms (x%.3f, %ld)\n", t[0].ms,
                t[0].allocsPerStep, t[1].ms, t[1].ms / t[0].ms, t[1].allocsPerStep);
  }
  return 0;
}
