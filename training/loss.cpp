#include "training/loss.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace fedhub::training {

template <typename T>
LossStats softmax_cross_entropy(const T* logits, const int32_t* labels, int64_t rows, int64_t classes, T* dlogits,
                                double divisor) {
  LossStats stats;
  for (int64_t r = 0; r < rows; ++r) {
    const T* z = logits + r * classes;
    const int32_t label = labels[r];
    if (label < 0 || label >= classes)
      throw std::out_of_range("softmax_cross_entropy: label " + std::to_string(label) + " of row " + std::to_string(r) +
                              " is outside [0, " + std::to_string(classes) + ")");
    int64_t best = 0;
    for (int64_t c = 1; c < classes; ++c)
      if (z[c] > z[best]) best = c;
    const double max = static_cast<double>(z[best]);
    double sum = 0;
    for (int64_t c = 0; c < classes; ++c) sum += std::exp(static_cast<double>(z[c]) - max);
    const double log_sum = std::log(sum);
    stats.loss_sum += log_sum - (static_cast<double>(z[label]) - max);
    stats.correct += best == label;
    if (dlogits) {
      T* d = dlogits + r * classes;
      for (int64_t c = 0; c < classes; ++c) {
        const double p = std::exp(static_cast<double>(z[c]) - max - log_sum);
        d[c] = static_cast<T>((p - (c == label ? 1.0 : 0.0)) / divisor);
      }
    }
  }
  return stats;
}

template LossStats softmax_cross_entropy<float>(const float*, const int32_t*, int64_t, int64_t, float*, double);
template LossStats softmax_cross_entropy<double>(const double*, const int32_t*, int64_t, int64_t, double*, double);

}  // namespace fedhub::training
