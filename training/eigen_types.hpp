// Eigen views over the flat row-major buffers the layers work on.
//
// Activations are [batch * positions, channels] row-major: a dense layer's
// input is [batch, features], a conv layer's NHWC output is
// [batch * height * width, filters]. Kernels keep Keras' row-major layout, so
// a dense kernel [in, out] and a conv kernel [kh, kw, in_c, out_c] are both
// a row-major [rows, out] matrix without any copy.
#pragma once

#include <Eigen/Core>
#include <vector>

namespace fedhub::training {

template <typename T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using MatrixMap = Eigen::Map<RowMatrix<T>>;
template <typename T>
using ConstMatrixMap = Eigen::Map<const RowMatrix<T>>;
template <typename T>
using RowVectorMap = Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>;
template <typename T>
using ConstRowVectorMap = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>;

// A SIMD-aligned buffer; layers size theirs once (reserve) and reuse them.
template <typename T>
using Buffer = std::vector<T, Eigen::aligned_allocator<T>>;

}  // namespace fedhub::training
