#include "sim/virtual_clock.hpp"

#include <cmath>
#include <stdexcept>

namespace fedhub::sim {
namespace {

uint64_t splitmix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

double draw(uint64_t seed, uint64_t participant, uint64_t round, uint64_t stream) {
  uint64_t h = splitmix(seed);
  h = splitmix(h ^ participant);
  h = splitmix(h ^ round);
  h = splitmix(h ^ stream);
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

double compute_seconds(int64_t steps, double seconds_per_step, const Speed& s, double jitter_draw) {
  if (steps < 0 || !(seconds_per_step >= 0) || !std::isfinite(seconds_per_step))
    throw std::invalid_argument("compute_seconds: steps and seconds_per_step must be >= 0");
  if (!(s.speed > 0) || !std::isfinite(s.speed)) throw std::invalid_argument("compute_seconds: speed must be > 0");
  if (!(s.jitter >= 0 && s.jitter < 1)) throw std::invalid_argument("compute_seconds: jitter must be in [0, 1)");
  const double j = 1 + s.jitter * (2 * jitter_draw - 1);
  return static_cast<double>(steps) * seconds_per_step * s.speed * j;
}

void DeliveryQueue::schedule(double at, uint64_t participant) {
  if (!std::isfinite(at)) throw std::invalid_argument("DeliveryQueue: a delivery time must be finite");
  queue_.push({at, participant, scheduled_++});
}

DeliveryQueue::Delivery DeliveryQueue::pop() {
  if (queue_.empty()) throw std::logic_error("DeliveryQueue::pop on an empty queue");
  auto d = queue_.top();
  queue_.pop();
  return d;
}

}  // namespace fedhub::sim
