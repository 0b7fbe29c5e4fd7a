#include "training/threads.hpp"

#include <omp.h>

#include <stdexcept>
#include <string>

namespace fedhub::training {

int resolve_threads(int requested) {
  if (requested < 0)
    throw std::invalid_argument("threads must be >= 0 (0: all cores), got " + std::to_string(requested));
  if (requested > 0) return requested;
  const int n = omp_get_num_procs();
  return n > 0 ? n : 1;
}

}  // namespace fedhub::training
