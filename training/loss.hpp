// Softmax cross-entropy on logits, numerically stable (log-sum-exp with the
// row maximum subtracted), the loss of every fedhub model.
#pragma once

#include <cstdint>

namespace fedhub::training {

struct LossStats {
  double loss_sum = 0;  // sum over the rows of -log softmax(logits)[label]
  int64_t correct = 0;  // rows whose first largest logit is the label
};

// logits [rows, classes] row-major, labels in [0, classes) (checked: throws
// std::out_of_range naming the row and label). When dlogits is not null it
// receives (softmax(logits) - onehot(label)) / divisor, the gradient of
// loss_sum / divisor (divisor: the whole step's batch size, so that the
// gradients of a batch split across threads add up to the batch mean).
template <typename T>
LossStats softmax_cross_entropy(const T* logits, const int32_t* labels, int64_t rows, int64_t classes, T* dlogits,
                                double divisor);

}  // namespace fedhub::training
