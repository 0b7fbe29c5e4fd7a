// Patch extraction for convolution and pooling over NHWC images.
//
// One row of the patch matrix per output position (oy, ox), holding the
// kernel_h * kernel_w * channels input values under the kernel in the order
// (ky, kx, c): the row order of a Keras conv kernel [kh, kw, in_c, out_c], so
// that convolution is one matrix product patches [positions, kh*kw*in_c] x
// kernel [kh*kw*in_c, out_c]. Positions outside the image ("same" padding) are 0.
#pragma once

#include <cstdint>

#include "model/architecture.hpp"

namespace fedhub::training {

struct ConvGeometry {
  int64_t in_h = 0, in_w = 0, channels = 0;
  int64_t kernel_h = 0, kernel_w = 0;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0;  // TensorFlow's "same": the odd pixel of padding goes bottom/right
  int64_t out_h = 0, out_w = 0;

  int64_t patch_size() const { return kernel_h * kernel_w * channels; }
  int64_t positions() const { return out_h * out_w; }
  int64_t input_size() const { return in_h * in_w * channels; }

  // From a conv2d (kernel, strides, padding) or maxpool2d (pool, strides) layer.
  static ConvGeometry of(const Layer& layer);
};

// cols [positions, patch_size] from one image [in_h, in_w, channels].
template <typename T>
void im2col(const ConvGeometry& g, const T* image, T* cols);

// The adjoint of im2col: image = 0, then every patch value is added back to
// the pixel it came from.
template <typename T>
void col2im(const ConvGeometry& g, const T* cols, T* image);

}  // namespace fedhub::training
