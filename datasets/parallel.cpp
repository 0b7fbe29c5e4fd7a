#include "datasets/parallel.hpp"

#include <omp.h>

#include <algorithm>
#include <exception>

namespace fedhub::datasets {

void parallel_chunks(int64_t n, int64_t chunk, int threads, const std::function<void(int64_t)>& work,
                     const std::function<void(int64_t done)>& after_chunk) {
  const int t = threads > 0 ? threads : omp_get_num_procs();
  for (int64_t begin = 0; begin < n; begin += chunk) {
    const int64_t end = std::min(n, begin + chunk);
    std::exception_ptr error;
    int64_t error_at = end;
#pragma omp parallel for num_threads(t) schedule(dynamic, 16)
    for (int64_t i = begin; i < end; ++i) {
      try {
        work(i);
      } catch (...) {
#pragma omp critical(fedhub_datasets_parallel_error)
        if (i < error_at) {
          error_at = i;
          error = std::current_exception();
        }
      }
    }
    if (error) std::rethrow_exception(error);
    if (after_chunk) after_chunk(end);
  }
}

}  // namespace fedhub::datasets
