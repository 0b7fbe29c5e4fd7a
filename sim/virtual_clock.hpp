// Virtual time for simulations: a participant's speed is the virtual time at
// which its upload is delivered, not a sleep. Training runs as fast as the
// machine goes; the clock orders the deliveries by when they would have
// arrived, so a 10x spread of speeds costs no wall time.
//
// A participant that starts training at virtual time t on a recipe of S
// steps delivers at
//   t + S * seconds_per_step * speed * j,  j uniform in [1 - jitter, 1 + jitter]
// (speed: its compute-time multiplier, 1 = the reference machine). Each draw
// (jitter, dropout) comes from the simulation's seed, the participant and its
// round only: a run is the same whatever order the machine trains them in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <queue>
#include <vector>

namespace fedhub::sim {

// A number in [0, 1) fixed by (seed, participant, round, stream): the
// simulation's reproducible randomness (SplitMix64 of the four).
double draw(uint64_t seed, uint64_t participant, uint64_t round, uint64_t stream);

struct Speed {
  double speed = 1;   // compute-time multiplier, > 0
  double jitter = 0;  // in [0, 1)
};

// The virtual seconds one round of `steps` takes.
double compute_seconds(int64_t steps, double seconds_per_step, const Speed& s, double jitter_draw);

// Deliveries by virtual time; equal times leave in the order they were
// scheduled.
class DeliveryQueue {
 public:
  struct Delivery {
    double at = 0;
    uint64_t participant = 0;
    uint64_t order = 0;  // scheduling order: the tie-break
  };
  void schedule(double at, uint64_t participant);
  bool empty() const { return queue_.empty(); }
  size_t size() const { return queue_.size(); }
  const Delivery& next() const { return queue_.top(); }
  Delivery pop();

 private:
  struct Later {
    bool operator()(const Delivery& a, const Delivery& b) const {
      return a.at != b.at ? a.at > b.at : a.order > b.order;
    }
  };
  std::priority_queue<Delivery, std::vector<Delivery>, Later> queue_;
  uint64_t scheduled_ = 0;
};

}  // namespace fedhub::sim
