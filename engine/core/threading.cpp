#include "engine/core/threading.h"

#include <omp.h>

#include <Eigen/Core>
#include <thread>

namespace qat {

int hardwareThreads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

void setThreadCount(int n) {
  if (n <= 0) n = hardwareThreads();
  omp_set_num_threads(n);
  Eigen::setNbThreads(n);
}

int threadCount() { return omp_get_max_threads(); }

}  // namespace qat
