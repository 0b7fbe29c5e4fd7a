#include "sim/evaluation.hpp"

#include <limits>

namespace fedhub::sim {

training::Evaluation combine(const std::vector<training::Evaluation>& parts) {
  training::Evaluation all;
  double loss = 0, correct = 0;
  std::vector<double> class_correct;
  for (const auto& e : parts) {
    all.samples += e.samples;
    loss += e.loss * static_cast<double>(e.samples);
    correct += e.accuracy * static_cast<double>(e.samples);
    if (all.per_class_count.size() < e.per_class_count.size()) {
      all.per_class_count.resize(e.per_class_count.size(), 0);
      class_correct.resize(e.per_class_count.size(), 0);
    }
    for (size_t c = 0; c < e.per_class_count.size(); ++c) {
      all.per_class_count[c] += e.per_class_count[c];
      if (e.per_class_count[c] > 0) class_correct[c] += e.per_class_accuracy[c] * e.per_class_count[c];
    }
  }
  if (all.samples > 0) {
    all.loss = loss / static_cast<double>(all.samples);
    all.accuracy = correct / static_cast<double>(all.samples);
  }
  all.per_class_accuracy.resize(all.per_class_count.size());
  for (size_t c = 0; c < all.per_class_count.size(); ++c)
    all.per_class_accuracy[c] = all.per_class_count[c] > 0 ? class_correct[c] / all.per_class_count[c]
                                                           : std::numeric_limits<double>::quiet_NaN();
  return all;
}

}  // namespace fedhub::sim
