// Which samples a round trains on, and in which batches.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "training/random.hpp"

namespace fedhub::training {

// `count` distinct indices drawn uniformly from [0, population), in random
// order (partial Fisher-Yates); all of them when count is 0 or >= population.
std::vector<int64_t> draw_sample(int64_t population, int64_t count, Random& rng);

// Cuts the sample into batches: each pass over the sample is a fresh shuffle
// of it, cut into batches of batch_size; a pass's last batch_size - 1 or fewer
// left-over samples are skipped (they come first in some later shuffle), so
// every batch has exactly min(batch_size, sample size) distinct samples.
class BatchSchedule {
 public:
  BatchSchedule(std::vector<int64_t> sample, int64_t batch_size, Random& rng);

  int64_t batch_size() const { return batch_; }
  // The next batch (dataset indices), valid until the next call.
  std::span<const int64_t> next();
  // Distinct samples handed out so far.
  int64_t distinct_seen() const { return distinct_; }
  int64_t passes() const { return passes_; }

 private:
  std::vector<int64_t> sample_;
  std::vector<int64_t> order_;  // positions into sample_, shuffled every pass
  std::vector<int64_t> batch_indices_;
  std::vector<char> seen_;
  int64_t batch_ = 0, pos_ = 0, distinct_ = 0, passes_ = 0;
  Random& rng_;
};

}  // namespace fedhub::training
