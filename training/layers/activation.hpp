// The activations fused into dense and conv2d layers.
//
// "softmax" on the last layer means its outputs are the logits of the softmax
// in the loss (training/loss.hpp), so it is the identity here, like "linear".
#pragma once

#include <cstdint>

#include "model/architecture.hpp"

namespace fedhub::training {

// y[rows, cols] (row-major) += bias (when not null), then the activation, in one pass.
template <typename T>
void add_bias_and_activate(T* y, int64_t rows, int64_t cols, const T* bias, Activation a);

// dy *= activation'(.) given the activation's output y (ReLU: dy = 0 where y <= 0).
template <typename T>
void activation_backward(Activation a, const T* y, T* dy, int64_t n);

// grad[cols] = column sums of dy[rows, cols] (the bias gradient).
template <typename T>
void column_sums(const T* dy, int64_t rows, int64_t cols, T* grad);

}  // namespace fedhub::training
