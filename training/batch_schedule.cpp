#include "training/batch_schedule.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

namespace fedhub::training {

std::vector<int64_t> draw_sample(int64_t population, int64_t count, Random& rng) {
  if (population < 0 || count < 0) throw std::invalid_argument("draw_sample: negative population or count");
  std::vector<int64_t> all(static_cast<size_t>(population));
  std::iota(all.begin(), all.end(), int64_t{0});
  const int64_t n = count == 0 ? population : std::min(count, population);
  for (int64_t i = 0; i < n; ++i)
    std::swap(all[i], all[i + static_cast<int64_t>(rng.below(static_cast<uint64_t>(population - i)))]);
  all.resize(static_cast<size_t>(n));
  return all;
}

BatchSchedule::BatchSchedule(std::vector<int64_t> sample, int64_t batch_size, Random& rng)
    : sample_(std::move(sample)), rng_(rng) {
  if (batch_size <= 0) throw std::invalid_argument("batch_size must be positive, got " + std::to_string(batch_size));
  if (sample_.empty()) throw std::invalid_argument("cannot make batches of an empty sample");
  batch_ = std::min<int64_t>(batch_size, static_cast<int64_t>(sample_.size()));
  order_.resize(sample_.size());
  std::iota(order_.begin(), order_.end(), int64_t{0});
  seen_.assign(sample_.size(), 0);
  batch_indices_.resize(static_cast<size_t>(batch_));
  pos_ = static_cast<int64_t>(order_.size());  // the first call starts a pass
}

std::span<const int64_t> BatchSchedule::next() {
  if (pos_ + batch_ > static_cast<int64_t>(order_.size())) {
    rng_.shuffle(std::span<int64_t>(order_));
    pos_ = 0;
    ++passes_;
  }
  for (int64_t i = 0; i < batch_; ++i) {
    const int64_t p = order_[static_cast<size_t>(pos_ + i)];
    batch_indices_[static_cast<size_t>(i)] = sample_[static_cast<size_t>(p)];
    if (!seen_[static_cast<size_t>(p)]) {
      seen_[static_cast<size_t>(p)] = 1;
      ++distinct_;
    }
  }
  pos_ += batch_;
  return batch_indices_;
}

}  // namespace fedhub::training
