// The one parallel loop of the library (OpenMP), with progress reported
// between chunks on the calling thread.
#pragma once

#include <cstdint>
#include <functional>

namespace fedhub::datasets {

// Calls work(i) for every i in [0, n) on `threads` threads (0 = one per
// core), `chunk` items at a time; after each chunk calls after_chunk(done)
// on the calling thread. When work throws, the rest of the chunk still runs,
// then the exception of the lowest i is rethrown on the calling thread and
// no further chunk starts.
void parallel_chunks(int64_t n, int64_t chunk, int threads, const std::function<void(int64_t)>& work,
                     const std::function<void(int64_t done)>& after_chunk);

}  // namespace fedhub::datasets
