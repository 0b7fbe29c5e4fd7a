// Thread counts for training and evaluation.
#pragma once

namespace fedhub::training {

// requested > 0: itself; 0: the number of processors OpenMP sees.
// Throws std::invalid_argument for a negative count.
int resolve_threads(int requested);

}  // namespace fedhub::training
