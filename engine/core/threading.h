#pragma once
// One place that sets how many threads the engine uses: OpenMP loops and Eigen's GEMM
// (Eigen parallelises only when built with OpenMP, which qat_engine is).
namespace qat {

// n <= 0 means all cores.
void setThreadCount(int n);
int threadCount();
int hardwareThreads();

}  // namespace qat
