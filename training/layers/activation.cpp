#include "training/layers/activation.hpp"

#include <algorithm>

#include "training/eigen_types.hpp"

namespace fedhub::training {

template <typename T>
void add_bias_and_activate(T* y, int64_t rows, int64_t cols, const T* bias, Activation a) {
  MatrixMap<T> m(y, rows, cols);
  const bool relu = a == Activation::relu;
  if (bias) {
    ConstRowVectorMap<T> b(bias, cols);
    if (relu)
      m = (m.rowwise() + b).cwiseMax(T(0));
    else
      m.rowwise() += b;
  } else if (relu) {
    m = m.cwiseMax(T(0));
  }
}

template <typename T>
void activation_backward(Activation a, const T* y, T* dy, int64_t n) {
  if (a != Activation::relu) return;
  Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> out(y, n);
  Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> d(dy, n);
  d = (out > T(0)).select(d, T(0));
}

template <typename T>
void column_sums(const T* dy, int64_t rows, int64_t cols, T* grad) {
  // Row by row (contiguous, vectorised) in a fixed order.
  std::fill_n(grad, cols, T(0));
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = dy + r * cols;
    for (int64_t c = 0; c < cols; ++c) grad[c] += row[c];
  }
}

#define FEDHUB_INSTANTIATE(T)                                                         \
  template void add_bias_and_activate<T>(T*, int64_t, int64_t, const T*, Activation); \
  template void activation_backward<T>(Activation, const T*, T*, int64_t);            \
  template void column_sums<T>(const T*, int64_t, int64_t, T*);
FEDHUB_INSTANTIATE(float)
FEDHUB_INSTANTIATE(double)
#undef FEDHUB_INSTANTIATE

}  // namespace fedhub::training
