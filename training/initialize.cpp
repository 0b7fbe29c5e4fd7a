// initialize_weights (declared in trainer.hpp): Keras' defaults.
#include <cmath>

#include "training/random.hpp"
#include "training/trainer.hpp"

namespace fedhub::training {

// Glorot (Xavier) uniform: U(-limit, limit) with limit = sqrt(6 / (fan_in + fan_out));
// dense [in, out]: fan_in = in, fan_out = out; conv [kh, kw, in_c, out_c]:
// fan_in = kh*kw*in_c, fan_out = kh*kw*out_c (Keras' receptive-field rule).
// Biases are zero. One mt19937_64 seeded with `seed` draws the kernels in layer
// order; each value is limit * (2u - 1) with u the 53-bit uniform of Random.
Weights initialize_weights(const Architecture& arch, uint64_t seed) {
  Weights w = zeros_like(arch.parameters());
  Random rng(seed);
  for (auto& t : w) {
    if (t.shape.size() < 2) continue;  // biases stay zero
    int64_t receptive = 1;
    for (size_t i = 0; i + 2 < t.shape.size(); ++i) receptive *= t.shape[i];
    const double fan_in = static_cast<double>(receptive * t.shape[t.shape.size() - 2]);
    const double fan_out = static_cast<double>(receptive * t.shape.back());
    const double limit = std::sqrt(6.0 / (fan_in + fan_out));
    for (auto& v : t.values) v = static_cast<float>(rng.uniform(-limit, limit));
  }
  return w;
}

}  // namespace fedhub::training
